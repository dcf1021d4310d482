"""The command line of every service: ``crm-<service> serve | relay | migrate | sdl | dlq`` plus
the service's own sub-commands, declared once in the service's ``cli.py``::

    cli = ServiceCli(name="clients", default_port=8101, migrations=HERE / "migrations",
                     build_schema=build_schema, create_app=create_app,
                     commands=[Command("contracts-job", "run the daily contract job once",
                                       run_contracts_job, arguments=add_today)])
    main = cli.main        # the console script: crm-clients = "crm_clients.cli:main"

``serve`` reads the settings (``Settings.from_env``) and runs the app under uvicorn, in
``WEB_CONCURRENCY`` worker processes (default 1; see :meth:`ServiceCli.serve` for how the relay,
the consumers and the scheduled jobs stay in one of them); ``relay`` runs the outbox relay
alone, with ``/healthz``, ``/readyz``, ``/healthz/details`` and ``/metrics`` on ``SERVICE_PORT``
(``crm_common.service.create_relay_app``; the API replicas then run with ``RUN_RELAY=false``);
``migrate`` needs only ``DATABASE_URL``; ``sdl`` prints the subgraph SDL; ``dlq list [--limit N]``
prints (JSON) what the service's dead-letter queues hold and ``dlq replay [--id ID ...]`` sends
all of it, or the events with those ids, back to their queues through the dead-letter exchange of
the settings (``DEAD_LETTER_EXCHANGE``) — ``crm_common.messaging.dlq``; an id that is in no DLQ
exits with status 1. A command's ``run(args)`` may be a coroutine function (run with
``asyncio.run``); what it returns is printed: a string as it is, a mapping or a list as JSON,
anything else through ``str``, None not at all. Bad arguments exit
with status 2 (argparse), a bad setting with status 2 and one line naming the variable.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import importlib
import inspect
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_common.settings import Settings, SettingsError, database_url

Runner = Callable[[argparse.Namespace], Any]
#: the commands of every service (a service's own may not take these names)
BUILT_IN = frozenset({"serve", "relay", "migrate", "sdl", "dlq"})


def _positive(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value

#: set by ``serve`` for its worker processes: the ``module:attribute`` of the ServiceCli, and the
#: directory of the lock that elects the one worker running the background work
SERVICE_CLI_ENV = "CRM_SERVICE_CLI"
WORKER_LOCK_ENV = "CRM_WORKER_LOCK_DIR"
#: the switches of the kit's background work (a service adds its own: ``background_switches``)
KIT_BACKGROUND_SWITCHES = ("RUN_RELAY", "RUN_CONSUMERS")


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
    #: the service's own switches of background work (scheduled jobs, publishers) that only one
    #: worker process runs when ``WEB_CONCURRENCY`` > 1, e.g. ``("RUN_CONTRACT_JOB",)``
    background_switches: Sequence[str] = ()
    #: where a worker process finds this object (``module:attribute``); default
    #: ``crm_<name>.cli:cli``
    import_name: str = ""
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
        """Run the app under uvicorn: in this process when ``WEB_CONCURRENCY`` is 1, else in that
        many worker processes (uvicorn's supervisor restarts a worker that dies).

        With several workers, every worker serves HTTP and exactly one runs the background work
        (outbox relay, event consumers and the service's ``background_switches``): the first to
        take an exclusive ``flock`` on a file in a directory this process creates (inherited
        through ``CRM_WORKER_LOCK_DIR``). The others start with those switches forced to false
        (a switch the operator set to false stays false). The kernel drops the lock when its
        holder dies; the worker uvicorn starts in its place takes it. Correctness does not rest
        on this (the relay's ``SKIP LOCKED`` batches, the consumers' inbox and the jobs' advisory
        locks make several runners safe, as across replicas); it saves the CPU of duplicate
        runners (a relay woken by every NOTIFY in every worker)."""
        import uvicorn

        settings = self.settings()
        options: dict[str, Any] = {"host": settings.host, "port": settings.port,
                                   "log_config": None, "access_log": False, "lifespan": "on"}
        if settings.web_concurrency == 1:
            uvicorn.run(self.create_app(settings), **options)
            return
        os.environ[SERVICE_CLI_ENV] = self.import_name or f"crm_{self.name}.cli:cli"
        os.environ[WORKER_LOCK_ENV] = tempfile.mkdtemp(prefix=f"crm-{self.name}-workers-")
        uvicorn.run("crm_common.cli:worker_app", factory=True,
                    workers=settings.web_concurrency, **options)

    def relay(self) -> None:
        import uvicorn

        from crm_common.service import create_relay_app

        settings = self.settings()
        # workers=1: uvicorn reads WEB_CONCURRENCY itself, and with more than one worker it
        # refuses an app object (exit 3); the relay is one process whatever the API runs
        uvicorn.run(create_relay_app(settings), host=settings.host, port=settings.port,
                    workers=1, log_config=None, access_log=False, lifespan="on")

    def work_queues(self, settings: Settings) -> list[str]:
        """The queues the service's consumers declare (from the consumer set-up the app was
        built with; nothing is connected)."""
        from crm_common.db import make_engine, make_reader, make_session_factory
        from crm_common.service import Runtime, consumer_runner

        app = self.create_app(settings)
        setup = getattr(getattr(getattr(app, "app", app), "state", None), "consumer_setup", None)
        if setup is None:
            return []
        engine = make_engine(settings.database_url)  # never connects: nothing runs
        runtime = Runtime(settings, engine, make_session_factory(engine), make_reader(engine))
        runner = consumer_runner(settings, engine)
        setup(runner, runtime)
        return runner.work_queue_names()

    async def dlq(self, args: argparse.Namespace) -> int:
        from crm_common.messaging.dlq import list_dead_letters, replay_dead_letters

        settings = self.settings()
        queues = self.work_queues(settings)
        if args.dlq_command == "list":
            _print(await list_dead_letters(settings.amqp_url, queues, limit=args.limit))
            return 0
        ids = args.ids or None
        replayed = await replay_dead_letters(settings.amqp_url, queues,
                                             settings.dead_letter_exchange, ids=ids)
        _print(replayed)
        missing = sorted(set(ids or ()) - {m["id"] for m in replayed})
        if missing:
            sys.stderr.write(f"{self.prog}: not in any dead-letter queue: {', '.join(missing)}\n")
            return 1
        return 0

    def parser(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog=self.prog)
        sub = parser.add_subparsers(dest="command", required=True)
        sub.add_parser("serve", help=self.serve_help)
        sub.add_parser("relay", help="run the outbox relay alone (API replicas: RUN_RELAY=false)")
        sub.add_parser("migrate", help="create the database if missing and migrate it to head")
        sub.add_parser("sdl", help="print the subgraph SDL")
        dlq = sub.add_parser("dlq", help="list or replay the dead-letter queues' messages")
        dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)
        listing = dlq_sub.add_parser("list", help="print the dead-lettered messages (JSON)")
        listing.add_argument("--limit", type=_positive, default=1000,
                             help="at most this many per queue (1000)")
        replay = dlq_sub.add_parser("replay", help="send dead-lettered messages back")
        replay.add_argument("--id", dest="ids", action="append", metavar="EVENT_ID",
                            help="only this event (repeatable); all of them without it")
        for command in self.commands:
            if command.name in BUILT_IN:
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
        if args.command == "relay":
            self.relay()
            return 0
        if args.command == "dlq":
            return asyncio.run(self.dlq(args))
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


#: the open lock file of the worker that runs the background work (held for the process's life)
_held: list[int] = []


def claim_background(lock_dir: str) -> bool:
    """Whether this process is the one worker that runs the background work: it is if it takes
    the exclusive lock on ``<lock_dir>/background.lock`` (kept until the process ends)."""
    fd = os.open(os.path.join(lock_dir, "background.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return False
    _held.append(fd)
    return True


def worker_app() -> Any:
    """The app of one uvicorn worker process (``serve`` with ``WEB_CONCURRENCY`` > 1): the
    ServiceCli named by ``CRM_SERVICE_CLI``, its background work switched off unless this worker
    holds the background lock."""
    module_name, _, attribute = os.environ[SERVICE_CLI_ENV].partition(":")
    cli = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(cli, ServiceCli):
        raise TypeError(f"{SERVICE_CLI_ENV} names {type(cli).__name__}, not a ServiceCli")
    if not claim_background(os.environ[WORKER_LOCK_ENV]):
        for name in (*KIT_BACKGROUND_SWITCHES, *cli.background_switches):
            os.environ[name] = "false"
    return cli.create_app(cli.settings())


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
