"""``./crm up``: the whole platform on this machine, in the foreground, until Ctrl-C / SIGTERM."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import NoReturn

import httpx

from crm_dev import compose, infra, mongo, procs
from crm_dev.tokens import ensure_keys
from crm_dev.workspace import (
    AMQP_URL,
    GATEWAY_PORT,
    JWT_AUDIENCE,
    JWT_ISSUER,
    SERVICES,
    Service,
    logs_dir,
    state_dir,
    venv_script,
)

READY_TIMEOUT = 90.0
MIGRATE_TIMEOUT = 300.0


class Shutdown(Exception):
    """SIGINT / SIGTERM / SIGHUP arrived: stop everything."""


#: what stops ``./crm up``: Ctrl-C, ``./crm down`` (SIGTERM), a closed terminal. SIGINT is
#: handled explicitly: started in the background by a non-interactive shell, ``up`` inherits
#: SIGINT ignored, and Python then never raises KeyboardInterrupt.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: how long ``./crm down`` waits for a running ``up`` to stop everything
DOWN_TIMEOUT = 120.0


class UpError(RuntimeError):
    """A start-up failure; the message says what and where to look."""


def say(message: str = "") -> None:
    print(message, flush=True)


@contextlib.contextmanager
def single_instance(run_dir: Path) -> Iterator[None]:
    """An exclusive lock on ``.crm/run/up.lock`` for as long as this ``up`` runs."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "up.lock"
    fh = path.open("a+")
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            other = fh.read().strip() or "?"
            raise UpError(f"another `./crm up` is already running (pid {other}); stop it first "
                          "(Ctrl-C in its terminal, or ./crm down)") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield
    finally:
        with contextlib.suppress(OSError):
            fh.truncate(0)
        fh.close()


def _say_demo_data(root: Path, url: str) -> None:
    """The demo employees' token commands once ``./crm seed`` has created them; before that,
    how to create them (a token for an employee that does not exist finds nothing)."""
    from crm_dev.seed import SeedError, missing_employees, print_employees

    try:
        missing = missing_employees(root, url)
    except (httpx.HTTPError, SeedError) as exc:
        say(f"Demo data: could not ask the gateway whether it is there ({exc}); ./crm seed "
            "creates it")
        return
    if missing:
        say("Demo data: none yet. Run ./crm seed (re-runnable, in another terminal): it creates "
            "the demo")
        say("  employees and clients and prints a token command for each employee.")
        return
    from crm_dev import seed_data

    say("Demo data: there (./crm seed again is harmless).")
    print_employees(seed_data.EMPLOYEES)


def down(root: Path, *, timeout: float = DOWN_TIMEOUT) -> int:
    """``./crm down``: stop the ``./crm up`` of this checkout from another terminal. The running
    ``up`` holds the lock on ``.crm/run/up.lock`` and wrote its pid there; it gets SIGTERM and
    stops everything it started, as after Ctrl-C. The exit code: 0 when it stopped (or nothing
    was running), 1 when it was still running after ``timeout`` seconds."""
    path = state_dir(root) / "run" / "up.lock"
    if not path.is_file():
        say("crm down: no `./crm up` is running here")
        return 0
    with path.open("r") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: an up is running
        else:
            say("crm down: no `./crm up` is running here")
            return 0
        raw = fh.read().strip()
    if not raw.isdigit():
        say(f"crm down: {path} holds no process id ({raw!r}); stop `./crm up` with Ctrl-C")
        return 1
    pid = int(raw)
    say(f"crm down: stopping `./crm up` (pid {pid})")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        say("crm down: it had already stopped")
        return 0
    deadline = time.monotonic() + timeout
    with path.open("r") as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() > deadline:
                    say(f"crm down: pid {pid} is still stopping after {timeout:.0f} s; see "
                        ".crm/logs/")
                    return 1
                time.sleep(0.1)
            else:
                say("crm down: everything stopped")
                return 0


def check_ports(gateway_port: int) -> None:
    wanted = [(s.port, f"the {s.name} service") for s in SERVICES]
    wanted.append((gateway_port, "the gateway"))
    for port, what in wanted:
        if procs.port_in_use(port):
            raise UpError(
                f"port {port} (for {what}) is already in use on 127.0.0.1; is another `./crm up` "
                f"or the service itself running? See who holds it: ss -ltnp 'sport = :{port}'"
            )


def gateway_launch(root: Path, port: int, env: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """The gateway's command line and environment, as gateway/gateway_process.py defines them."""
    gateway_dir = root / "gateway"
    binary = gateway_dir / "node_modules" / ".bin" / "hive-gateway"
    if not binary.exists():
        raise UpError(f"{binary.relative_to(root)} is missing: run ./crm again (it runs `npm ci` "
                      "in gateway/) or `npm ci` in gateway/ yourself")
    spec = importlib.util.spec_from_file_location("crm_gateway_process",
                                                  gateway_dir / "gateway_process.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.gateway_command(), module.gateway_env(port, env)


def service_env(root: Path, service: Service, mongodb_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "CRM_ENV": "development",
        "SERVICE_HOST": "127.0.0.1",
        "SERVICE_PORT": str(service.port),
        "DATABASE_URL": service.database_url,
        "AMQP_URL": AMQP_URL,
        "JWT_PUBLIC_KEY_FILE": str(state_dir(root) / "keys" / "jwt_public.pem"),
        "JWT_ISSUER": JWT_ISSUER,
        "JWT_AUDIENCE": JWT_AUDIENCE,
        "MONGODB_URL": mongodb_url,
        # the tasks service signs attachment URLs with it; derived from the dev key so that URLs
        # survive a restart of `./crm up` (production sets its own, docs/tasks.md)
        "ATTACHMENT_URL_SECRET": dev_url_secret(root),
    }


def dev_url_secret(root: Path) -> str:
    """A stable development secret: a hash of the development JWT private key."""
    key = state_dir(root) / "keys" / "jwt_private.pem"
    material = key.read_bytes() if key.is_file() else b"crm-dev-no-key"
    return hashlib.sha256(b"crm-dev-attachment-urls\n" + material).hexdigest()


def _fail_with_log(child: procs.Child, root: Path, headline: str) -> UpError:
    where = child.log.relative_to(root) if child.log else "no log"
    text = procs.tail(child.log, 40)
    return UpError(f"{headline}\n--- last lines of {where} ---\n{text}\n--- end of {where} ---")


def _ignore_stop_signals() -> None:
    """From here on, no further signal cuts the clean-up short (no traceback, no process left
    behind)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def _raise_shutdown(signum: int, frame: FrameType | None) -> NoReturn:
    _ignore_stop_signals()  # before anything else: a second signal lands nowhere
    raise Shutdown(signal.Signals(signum).name)


def run(root: Path, *, gateway_port: int = GATEWAY_PORT) -> int:
    """Start everything, watch it, stop it all; the exit code (0 after Ctrl-C / SIGTERM)."""
    state = state_dir(root)
    previous = {s: signal.signal(s, _raise_shutdown) for s in STOP_SIGNALS}
    supervisor = procs.Supervisor()
    try:
        with single_instance(state / "run"):
            try:
                check_ports(gateway_port)
                infra.ensure_servers(say)
                ensure_keys(root)
                logs_dir(root).mkdir(parents=True, exist_ok=True)
                return _start_and_watch(root, supervisor, gateway_port)
            except (KeyboardInterrupt, Shutdown) as exc:
                _ignore_stop_signals()
                say(f"\ncrm up: got {exc or 'SIGINT'}, stopping")
                return 0
            finally:
                _stop(supervisor)
    except (KeyboardInterrupt, Shutdown):  # a signal before the lock was taken
        return 0
    except (UpError, infra.InfraError, compose.ComposeError, FileNotFoundError, OSError) as exc:
        say(f"crm up: {exc}")
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(supervisor: procs.Supervisor) -> None:
    # No second Ctrl-C may cut the clean-up short and leave processes behind.
    _ignore_stop_signals()
    if supervisor.children:
        names = ", ".join(c.name for c in reversed(supervisor.children))
        say(f"crm up: stopping {names}")
        supervisor.stop_all()
        say("crm up: everything stopped")


def _start_and_watch(root: Path, supervisor: procs.Supervisor, gateway_port: int) -> int:
    state = state_dir(root)
    logs = logs_dir(root)

    say("crm up: starting the MongoDB-wire server (nx-27017)")
    try:
        server = mongo.start(state / "mongo", log=logs / "mongo.log", run_dir=state / "run",
                             supervisor=supervisor)
    except procs.ChildDied as exc:
        raise _fail_with_log(exc.child, root, f"the MongoDB-wire server failed: {exc}") from None
    except TimeoutError as exc:
        raise UpError(f"the MongoDB-wire server did not start: {exc} (log: .crm/logs/mongo.log)") \
            from None

    started: list[tuple[Service, procs.Child]] = []
    for service in SERVICES:
        env = service_env(root, service, server.url)
        log = logs / f"{service.name}.log"
        say(f"crm up: migrating {service.name} (crm_{service.name})")
        rc = supervisor.run(f"{service.name}-migrate", [venv_script(service.script), "migrate"],
                            env=env, log=log, cwd=root, timeout=MIGRATE_TIMEOUT)
        if rc != 0:
            raise UpError(f"`{service.script} migrate` failed with code {rc}\n--- last lines of "
                          f"{log.relative_to(root)} ---\n{procs.tail(log, 40)}")
        say(f"crm up: starting {service.name} on :{service.port}")
        child = supervisor.spawn(service.name, [venv_script(service.script), "serve"], env=env,
                                 log=log, cwd=root)
        started.append((service, child))

    for service, child in started:
        # everything up, its consumers' queues declared (/readyz is the database alone)
        url = f"http://127.0.0.1:{service.port}/healthz/details"
        try:
            procs.wait_http(url, timeout=READY_TIMEOUT, child=child)
        except procs.ChildDied as exc:
            raise _fail_with_log(exc.child, root, f"{service.name} exited while starting: {exc}") \
                from None
        except TimeoutError as exc:
            raise _fail_with_log(child, root, f"{service.name} is not ready: {exc}") from None
        say(f"crm up: {service.name} ready")

    say("crm up: composing the supergraph")
    rc = compose.compose(root)
    if rc != 0:
        raise UpError(f"composing the supergraph failed (compose.mjs exit code {rc})")

    gateway_env = {
        "CRM_ENV": "development",
        "GATEWAY_PORT": str(gateway_port),
        "JWT_PUBLIC_KEY_FILE": str(state / "keys" / "jwt_public.pem"),
        "JWT_ISSUER": JWT_ISSUER,
        "JWT_AUDIENCE": JWT_AUDIENCE,
        **{service.url_env: service.graphql_url for service in SERVICES},
    }
    argv, env = gateway_launch(root, gateway_port, gateway_env)
    say(f"crm up: starting the gateway on :{gateway_port}")
    gateway = supervisor.spawn("gateway", argv, env=env, log=logs / "gateway.log",
                               cwd=root / "gateway")
    ready = f"http://127.0.0.1:{gateway_port}/readiness"
    try:
        procs.wait_http(ready, timeout=READY_TIMEOUT, child=gateway)
    except procs.ChildDied as exc:
        raise _fail_with_log(exc.child, root, f"the gateway exited while starting: {exc}") from None
    except TimeoutError as exc:
        raise _fail_with_log(gateway, root, f"the gateway is not ready: {exc}") from None

    _banner(root, gateway_port, server.url)

    while True:
        time.sleep(0.5)
        dead = supervisor.dead()
        if dead is not None:
            say(str(_fail_with_log(dead, root,
                                   f"crm up: {dead.name} exited unexpectedly with code "
                                   f"{dead.proc.returncode}; stopping the rest")))
            return 1


def _banner(root: Path, gateway_port: int, mongodb_url: str) -> None:
    logs = logs_dir(root).relative_to(root)
    say("")
    say("=" * 78)
    say(f"CRM is up.  GraphQL endpoint: http://127.0.0.1:{gateway_port}/graphql")
    for service in SERVICES:
        say(f"  {service.name:<10} {service.graphql_url}  (log: {logs}/{service.name}.log)")
    say(f"  gateway    log: {logs}/gateway.log")
    say(f"  mongo      {mongodb_url}  (data: .crm/mongo/, log: {logs}/mongo.log)")
    say("A token:   ./crm token --role manager --employee <uuid> [--name NAME]")
    say("           then send it as  Authorization: Bearer <token>")
    _say_demo_data(root, f"http://127.0.0.1:{gateway_port}/graphql")
    say("Stop with Ctrl-C (or ./crm down from another terminal).")
    say("=" * 78)
    sys.stdout.flush()
