"""``crm-tasks serve | migrate | sdl | reminders | sweep``: the kit's command line, declared."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from crm_common.attachments import AttachmentStore, sweeper
from crm_common.cli import Command, ServiceCli
from crm_common.db import make_engine
from crm_tasks.adapters.tables import attachments
from crm_tasks.app import DEFAULT_PORT, SERVICE, create_app
from crm_tasks.config import TasksSettings
from crm_tasks.graphql.schema import build_schema
from crm_tasks.service_layer import reminder


def _moment(value: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-12-01T08:00:00+02:00")
    return moment


def _now(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--now", type=_moment, default=None,
                        help="act as if it were this moment (ISO 8601 with a time zone)")


async def _reminders(args: argparse.Namespace) -> dict[str, int]:
    settings = cli.settings()
    tasks_settings = TasksSettings.from_env(settings)
    engine = make_engine(settings.database_url, pool_size=2)
    try:
        sent = await reminder.send_due_reminders(
            engine, source=settings.source, tz=tasks_settings.timezone,
            lead=tasks_settings.reminder_lead, now=args.now or dt.datetime.now(dt.UTC))
        return {"dueSoon": sent.due_soon, "overdue": sent.overdue}
    finally:
        await engine.dispose()


async def _sweep(args: argparse.Namespace) -> dict[str, int]:
    settings = cli.settings()
    store_settings = TasksSettings.from_env(settings).store
    engine = make_engine(settings.database_url, pool_size=2)
    store = AttachmentStore.connect(store_settings.mongodb_url, store_settings.mongodb_database)
    try:
        swept = await sweeper.sweep(engine, attachments, store,
                                    now=args.now or dt.datetime.now(dt.UTC),
                                    stale_after=store_settings.stale_upload_after)
        return swept.as_dict()
    finally:
        await store.close()
        await engine.dispose()


cli = ServiceCli(
    name=SERVICE, default_port=DEFAULT_PORT, migrations=Path(__file__).parent / "migrations",
    build_schema=build_schema, create_app=create_app,
    serve_help="run the service (GraphQL, uploads, relay, consumers, scheduler)",
    commands=[
        Command("reminders", "publish due-soon and overdue reminders once, now", _reminders,
                arguments=_now),
        Command("sweep", "delete the files of unfinished or removed attachments once", _sweep,
                arguments=_now),
    ],
)
main = cli.main
migrate = cli.migrate

if __name__ == "__main__":
    raise SystemExit(main())
