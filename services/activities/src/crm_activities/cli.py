"""``crm-activities serve | migrate | sdl``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from crm_activities.app import DEFAULT_PORT, SERVICE

HERE = Path(__file__).resolve().parent


def _database_url() -> str:
    return os.environ.get("DATABASE_URL",
                          f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_{SERVICE}")


def migrate(database_url: str) -> None:
    """Create the database if missing and migrate it to head."""
    from crm_common.migrations import upgrade

    upgrade(database_url, HERE / "migrations")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-activities")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the service (GraphQL, calendar feeds, relay, consumers)")
    sub.add_parser("migrate", help="create the database if missing and migrate it to head")
    sub.add_parser("sdl", help="print the subgraph SDL")
    args = parser.parse_args(argv)
    if args.command == "sdl":
        from crm_activities.graphql.schema import build_schema
        sys.stdout.write(build_schema().as_str() + "\n")
        return 0
    if args.command == "migrate":
        migrate(_database_url())
        return 0
    import uvicorn

    from crm_activities.app import create_app
    from crm_common.settings import Settings

    settings = Settings.from_env(SERVICE, DEFAULT_PORT)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_config=None, access_log=False, lifespan="on")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
