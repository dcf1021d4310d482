"""``crm-analytics serve | migrate | sdl | import FILE``: the kit's command line, plus the history
import of DESIGN §9."""

from __future__ import annotations

from pathlib import Path

from crm_analytics.app import DEFAULT_PORT, SERVICE, create_app
from crm_analytics.graphql.schema import build_schema
from crm_analytics.importer import import_command
from crm_common.cli import ServiceCli

cli = ServiceCli(
    name=SERVICE, default_port=DEFAULT_PORT, migrations=Path(__file__).parent / "migrations",
    build_schema=build_schema, create_app=create_app,
    background_switches=("RUN_TURNOVER_EVENTS", "RUN_REPORT_JOBS", "RUN_REPORT_SWEEPER"),
    serve_help="run the service (GraphQL, relay, ERP feed and event consumers, turnover events)",
    commands=[import_command],
)
main = cli.main
migrate = cli.migrate

if __name__ == "__main__":
    raise SystemExit(main())
