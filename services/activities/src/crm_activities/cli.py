"""``crm-activities serve | migrate | sdl``: the kit's command line, declared."""

from __future__ import annotations

from pathlib import Path

from crm_activities.app import DEFAULT_PORT, SERVICE, create_app
from crm_activities.graphql.schema import build_schema
from crm_common.cli import ServiceCli

cli = ServiceCli(
    name=SERVICE, default_port=DEFAULT_PORT, migrations=Path(__file__).parent / "migrations",
    build_schema=build_schema, create_app=create_app,
    serve_help="run the service (GraphQL, calendar feeds, relay, consumers)",
)
main = cli.main
migrate = cli.migrate

if __name__ == "__main__":
    raise SystemExit(main())
