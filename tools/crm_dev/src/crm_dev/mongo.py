"""The MongoDB-wire server for development and tests: ``nx-27017`` (PyPI) on a free loopback port.

DESIGN §8: no MongoDB build is installable on these machines, so GridFS runs against nx-27017, a
MongoDB wire-protocol server backed by SQLite. One logical database is one ``<db>.db`` file under
the data directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_dev import procs
from crm_dev.workspace import venv_script

HOST = "127.0.0.1"


@dataclass
class MongoServer:
    child: procs.Child
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"mongodb://{HOST}:{self.port}/"

    @property
    def pid(self) -> int:
        return self.child.pid

    def stop(self) -> None:
        procs.stop([self.child])

    def __enter__(self) -> MongoServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def command(data_dir: Path, port: int, run_dir: Path) -> list[str]:
    return [
        venv_script("nx-27017"),
        "--host", HOST,
        "--port", str(port),
        "--data-dir", str(data_dir),
        # Its own pid file (it refuses to start while the default /tmp one names a live process) and
        # no separate log file: its log goes to stderr, which is our log file.
        "--pid-file", str(run_dir / f"nx-27017-{port}.pid"),
        "--log-file", "/dev/null",
    ]


def ping(url: str, timeout: float = 1.0) -> bool:
    from pymongo import MongoClient
    from pymongo.errors import PyMongoError

    ms = int(timeout * 1000)
    client: MongoClient[dict[str, Any]] = MongoClient(
        url, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms, socketTimeoutMS=ms
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def start(
    data_dir: Path,
    *,
    port: int | None = None,
    log: Path | None = None,
    run_dir: Path | None = None,
    supervisor: procs.Supervisor | None = None,
    timeout: float = 30.0,
) -> MongoServer:
    """Start nx-27017 with its data under ``data_dir``; returns once it answers ``ping``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    run_dir = run_dir or data_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    if port is None:
        port = procs.free_port(HOST)
    elif procs.port_in_use(port, HOST):
        raise OSError(f"port {port} for the MongoDB-wire server is already in use")
    argv = command(data_dir, port, run_dir)
    if supervisor is not None:
        child = supervisor.spawn("mongo", argv, log=log, cwd=data_dir)
    else:
        child = procs.spawn("mongo", argv, log=log, cwd=data_dir)
    server = MongoServer(child, port, data_dir)
    url = server.url
    try:
        procs.wait_for(lambda: procs.port_open(HOST, port, 0.2), timeout=timeout, child=child,
                       what=f"nx-27017 listening on {HOST}:{port}")
        deadline = time.monotonic() + timeout
        while not ping(url):
            if not child.alive():
                raise procs.ChildDied(child)
            if time.monotonic() > deadline:
                raise TimeoutError(f"nx-27017 on port {port} does not answer ping")
            time.sleep(0.1)
    except BaseException:
        procs.stop([child])
        if supervisor is not None and child in supervisor.children:
            supervisor.children.remove(child)
        raise
    return server


@contextlib.contextmanager
def url_for_tests(prefix: str) -> Iterator[str]:
    """The MongoDB-wire server of a test session: ``MONGODB_URL`` when the run set one
    (``./crm test`` does), else an nx-27017 of its own in a temporary directory (the services'
    integration conftests)."""
    if os.environ.get("MONGODB_URL"):
        yield os.environ["MONGODB_URL"]
        return
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        with start(workdir / "data", log=workdir / "mongo.log", run_dir=workdir) as server:
            yield server.url
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def drop_test_database(url: str, name: str) -> None:
    """Drop a test run's database (the stand-in may refuse: the name is unique anyway)."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
    try:
        await client.drop_database(name)
    except Exception:  # noqa: BLE001 - best effort: the database name is the run's own
        pass
    finally:
        await client.close()


def mongodb_fixtures(service: str, run: str) -> tuple[Any, Any]:
    """The ``mongodb_url`` and ``mongodb_database`` fixtures of a service's integration tests
    (session-scoped), for its conftest to bind: the run's server (:func:`url_for_tests`) and a
    database ``crm_<service>_test_<run>`` on it, dropped at the end."""
    import pytest

    def mongodb_url() -> Iterator[str]:
        """``MONGODB_URL`` of the run (./crm test exports one), else an nx-27017 of our own."""
        with url_for_tests(f"crm-{service}-mongo-") as url:
            yield url

    async def mongodb_database(mongodb_url: str) -> AsyncIterator[str]:
        name = f"crm_{service}_test_{run}"
        yield name
        await drop_test_database(mongodb_url, name)

    return (pytest.fixture(scope="session", name="mongodb_url")(mongodb_url),
            pytest.fixture(scope="session", name="mongodb_database")(mongodb_database))
