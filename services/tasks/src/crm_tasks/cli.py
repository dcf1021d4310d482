"""``crm-tasks serve | migrate | sdl | reminders | sweep``."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from pathlib import Path

from crm_tasks.app import DEFAULT_PORT, SERVICE

HERE = Path(__file__).resolve().parent


def _database_url() -> str:
    return os.environ.get("DATABASE_URL",
                          f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_{SERVICE}")


def migrate(database_url: str) -> None:
    """Create the database if missing and migrate it to head."""
    from crm_common.migrations import upgrade

    upgrade(database_url, HERE / "migrations")


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-12-01T08:00:00+02:00")
    return moment


async def _once(kind: str, now: dt.datetime | None) -> dict[str, int]:
    from crm_common.db import make_engine
    from crm_common.settings import Settings
    from crm_tasks.adapters.files import AttachmentStore
    from crm_tasks.config import TasksSettings
    from crm_tasks.service_layer import reminders, sweeper

    settings = Settings.from_env(SERVICE, DEFAULT_PORT)
    tasks_settings = TasksSettings.from_env(settings)
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        if kind == "reminders":
            sent = await reminders.send_due_reminders(
                engine, source=settings.source, tz=tasks_settings.timezone,
                lead=tasks_settings.reminder_lead, now=now or dt.datetime.now(dt.UTC))
            return {"dueSoon": sent.due_soon, "overdue": sent.overdue}
        store = AttachmentStore.connect(tasks_settings.mongodb_url,
                                        tasks_settings.mongodb_database)
        try:
            swept = await sweeper.sweep(engine, store, now=now or dt.datetime.now(dt.UTC),
                                        upload_ttl=tasks_settings.upload_url_ttl,
                                        stale_after=tasks_settings.stale_upload_after)
        finally:
            await store.close()
        return swept.as_dict()
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-tasks")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the service (GraphQL, uploads, relay, consumers, scheduler)")
    sub.add_parser("migrate", help="create the database if missing and migrate it to head")
    sub.add_parser("sdl", help="print the subgraph SDL")
    for name, text in (("reminders", "publish due-soon and overdue reminders once, now"),
                       ("sweep", "delete the files of unfinished or removed attachments once")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("--now", type=_moment, default=None,
                         help="act as if it were this moment (ISO 8601 with a time zone)")
    args = parser.parse_args(argv)
    if args.command == "sdl":
        from crm_tasks.graphql.schema import build_schema
        sys.stdout.write(build_schema().as_str() + "\n")
        return 0
    if args.command == "migrate":
        migrate(_database_url())
        return 0
    if args.command in {"reminders", "sweep"}:
        result = asyncio.run(_once(args.command, args.now))
        sys.stdout.write(json.dumps(result) + "\n")
        return 0
    import uvicorn

    from crm_common.settings import Settings
    from crm_tasks.app import create_app

    settings = Settings.from_env(SERVICE, DEFAULT_PORT)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_config=None, access_log=False, lifespan="on")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
