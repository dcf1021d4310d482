"""PostgreSQL and RabbitMQ: check they answer, start them with the machine's commands if not.

On the project's machines both already run (DESIGN §8). What this starts is a system server meant to
keep running: it is not stopped when ``./crm`` ends.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from crm_dev import procs
from crm_dev.workspace import AMQP_HOST, AMQP_PORT, PG_HOST, PG_PORT


class InfraError(RuntimeError):
    pass


def _run(argv: list[str], timeout: float) -> tuple[bool, str]:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return result.returncode == 0, (result.stdout + result.stderr).strip()


def _wait_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if procs.port_open(host, port):
            return True
        time.sleep(0.25)
    return procs.port_open(host, port)


def ensure_postgres(say: Callable[[str], object] = print) -> None:
    if procs.port_open(PG_HOST, PG_PORT):
        return
    say(f"PostgreSQL does not answer at {PG_HOST}:{PG_PORT}; trying to start it")
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*") if p.is_dir()) \
        if Path("/etc/postgresql").is_dir() else []
    notes = []
    if shutil.which("pg_ctlcluster") and versions:
        argv = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
        ok, out = _run(argv, timeout=60)
        notes.append(out)
        if _wait_port(PG_HOST, PG_PORT, 30):
            say("PostgreSQL started")
            return
    else:
        notes.append("pg_ctlcluster or /etc/postgresql/<version> not found")
    raise InfraError(
        f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} and could not be started "
        f"({'; '.join(n for n in notes if n) or 'no output'}). Start it (trust auth for user "
        "postgres) and retry."
    )


def ensure_rabbitmq(say: Callable[[str], object] = print) -> None:
    if procs.port_open(AMQP_HOST, AMQP_PORT):
        return
    say(f"RabbitMQ does not answer at {AMQP_HOST}:{AMQP_PORT}; trying to start it")
    notes = []
    if shutil.which("rabbitmq-server") and shutil.which("rabbitmqctl"):
        ok, out = _run(["rabbitmq-server", "-detached"], timeout=60)
        notes.append(out)
        if ok:
            ok, out = _run(["rabbitmqctl", "await_startup", "--timeout", "60"], timeout=90)
            notes.append(out)
        if _wait_port(AMQP_HOST, AMQP_PORT, 30):
            say("RabbitMQ started")
            return
    else:
        notes.append("rabbitmq-server / rabbitmqctl not found")
    raise InfraError(
        f"RabbitMQ is not reachable at {AMQP_HOST}:{AMQP_PORT} and could not be started "
        f"({'; '.join(n for n in notes if n) or 'no output'}). Start it (user guest/guest) and "
        "retry."
    )


def ensure_servers(say: Callable[[str], object] = print) -> None:
    ensure_postgres(say)
    ensure_rabbitmq(say)
