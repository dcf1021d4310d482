"""The command line of every service: ``crm-<service> serve | migrate | sdl`` plus the service's
own sub-commands, declared once in the service's ``cli.py``::

    cli = ServiceCli(name="clients", default_port=8101, migrations=HERE / "migrations",
                     build_schema=build_schema, create_app=create_app,
                     commands=[Command("contracts-job", "run the daily contract job once",
                                       run_contracts_job, arguments=add_today)])
    main = cli.main        # the console script: crm-clients = "crm_clients.cli:main"

``serve`` reads the settings (``Settings.from_env``) and runs the app under uvicorn; ``migrate``
needs only ``DATABASE_URL``; ``sdl`` prints the subgraph SDL. A command's ``run(args)`` may be
a coroutine function (run with ``asyncio.run``); what it returns is printed: a string as it is,
a mapping or a list as JSON, anything else through ``str``, None not at all. Bad arguments exit
with status 2 (argparse), a bad setting with status 2 and one line naming the variable.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_common.settings import Settings, SettingsError, database_url

Runner = Callable[[argparse.Namespace], Any]


@dataclass(frozen=True)
class Command:
    """A sub-command of a service's own (``contracts-job``, ``reminders``)."""

    name: str
    help: str
    run: Runner
    #: adds the command's options to its parser
    arguments: Callable[[argparse.ArgumentParser], None] | None = None


@dataclass(frozen=True)
class ServiceCli:
    #: the service's name: ``crm-<name>``, its database ``crm_<name>``, ``Settings.service_name``
    name: str
    default_port: int
    #: the Alembic folder (``<package>/migrations``)
    migrations: Path
    build_schema: Callable[[], Any]
    create_app: Callable[[Settings], Any]
    commands: Sequence[Command] = ()
    #: the help of ``serve`` (what the process runs)
    serve_help: str = "run the service (GraphQL, outbox relay, consumers)"
    environ: Mapping[str, str] | None = field(default=None, compare=False)

    @property
    def prog(self) -> str:
        return f"crm-{self.name}"

    def settings(self) -> Settings:
        """The service's settings from the environment (what ``serve`` runs with)."""
        return Settings.from_env(self.name, self.default_port, self.environ)

    def database_url(self) -> str:
        return database_url(self.name, self.environ)

    def migrate(self, url: str | None = None) -> None:
        """Create the database if missing and migrate it to head."""
        from crm_common.migrations import upgrade

        upgrade(url or self.database_url(), self.migrations)

    def sdl(self) -> str:
        return str(self.build_schema().as_str()) + "\n"

    def serve(self) -> None:
        import uvicorn

        settings = self.settings()
        uvicorn.run(self.create_app(settings), host=settings.host, port=settings.port,
                    log_config=None, access_log=False, lifespan="on")

    def parser(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog=self.prog)
        sub = parser.add_subparsers(dest="command", required=True)
        sub.add_parser("serve", help=self.serve_help)
        sub.add_parser("migrate", help="create the database if missing and migrate it to head")
        sub.add_parser("sdl", help="print the subgraph SDL")
        for command in self.commands:
            if command.name in {"serve", "migrate", "sdl"}:
                raise ValueError(f"{command.name} is a command of every service")
            own = sub.add_parser(command.name, help=command.help)
            if command.arguments is not None:
                command.arguments(own)
        return parser

    def main(self, argv: Sequence[str] | None = None) -> int:
        args = self.parser().parse_args(argv)
        try:
            return self._run(args)
        except SettingsError as exc:
            sys.stderr.write(f"{self.prog}: {exc}\n")
            return 2

    def _run(self, args: argparse.Namespace) -> int:
        if args.command == "serve":
            self.serve()
            return 0
        if args.command == "migrate":
            self.migrate()
            return 0
        if args.command == "sdl":
            sys.stdout.write(self.sdl())
            return 0
        command = next(c for c in self.commands if c.name == args.command)
        result = command.run(args)
        if inspect.isawaitable(result):
            result = asyncio.run(_awaited(result))
        _print(result)
        return 0


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _print(result: Any) -> None:
    if result is None:
        return
    if isinstance(result, str):
        text = result
    elif isinstance(result, Mapping | list | tuple):
        text = json.dumps(result)
    else:
        text = str(result)
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
