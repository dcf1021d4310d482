"""``crm-clients serve | migrate | sdl | contracts-job``: the kit's command line, declared."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from crm_clients.app import DEFAULT_PORT, SERVICE, create_app
from crm_clients.graphql.schema import build_schema
from crm_clients.service_layer.contract_jobs import MaintenanceResult, run_standalone
from crm_common.cli import Command, ServiceCli


def _today(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--today", type=date.fromisoformat, default=None,
                        help="the day to run for, YYYY-MM-DD (default: today in Sofia)")


async def _contracts_job(args: argparse.Namespace) -> MaintenanceResult:
    return await run_standalone(cli.database_url(), args.today)


cli = ServiceCli(
    name=SERVICE, default_port=DEFAULT_PORT, migrations=Path(__file__).parent / "migrations",
    build_schema=build_schema, create_app=create_app,
    background_switches=("RUN_CONTRACT_JOB",),
    commands=[Command("contracts-job", "run the daily contract job once (renew, expire, expiry "
                      "notices); the relay of a running service publishes its events",
                      _contracts_job, arguments=_today)],
)
main = cli.main
migrate = cli.migrate

if __name__ == "__main__":
    raise SystemExit(main())
