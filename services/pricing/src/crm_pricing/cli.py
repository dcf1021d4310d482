"""``crm-pricing serve | migrate | sdl``: the kit's command line."""

from __future__ import annotations

from pathlib import Path

from crm_common.cli import ServiceCli
from crm_pricing.app import DEFAULT_PORT, SERVICE, create_app
from crm_pricing.graphql.schema import build_schema

cli = ServiceCli(
    name=SERVICE, default_port=DEFAULT_PORT, migrations=Path(__file__).parent / "migrations",
    build_schema=build_schema, create_app=create_app,
    background_switches=("RUN_SCHEDULER",),
    serve_help="run the service (GraphQL, relay, ERP catalogue and event consumers)",
)
main = cli.main
migrate = cli.migrate

if __name__ == "__main__":
    raise SystemExit(main())
