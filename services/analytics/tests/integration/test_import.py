"""``crm-analytics import FILE``: history through the live feed's code path — the same figures as
the reference, a second run changes nothing, an interrupted run resumes where it stopped, bad
lines are parked with their line number, ``.gz`` is read compressed."""

from __future__ import annotations

import gzip
import json
import random
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from crm_analytics.importer import import_file

from .conftest import Publisher, Service, wait_until
from .test_feed import eik, expected_rollups, rollups

pytestmark = pytest.mark.integration


def write_feed(path: Path, feed: list[Any]) -> int:
    lines = []
    for item in feed:
        if isinstance(item, bytes):
            lines.append(item.replace(b"\n", b" "))
        else:
            lines.append(json.dumps(item, ensure_ascii=False).encode())
    body = b"\n".join(lines) + b"\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(body))
    else:
        path.write_bytes(body)
    return len(lines)


async def known_clients(service: Service, publisher: Publisher, n: int,
                        rng: random.Random) -> dict[str, str]:
    clients = {str(uuid.uuid4()): eik(rng) for _ in range(n)}
    for client_id, client_eik in clients.items():
        await publisher.client(uuid.UUID(client_id), eik=client_eik)
    last = uuid.UUID(list(clients)[-1])
    await wait_until(lambda: service.sql("SELECT 1 FROM client_profiles WHERE client_id = :c",
                                         c=last))
    return clients


class Interrupting:
    """A session factory whose ``fail_at``-th session fails on entry (a crash mid-import)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], fail_at: int) -> None:
        self.sessions = sessions
        self.fail_at = fail_at
        self.opened = 0

    def __call__(self) -> AsyncSession:
        self.opened += 1
        if self.opened == self.fail_at:
            raise ConnectionError("the database went away")
        return self.sessions()


async def test_an_import_gives_the_reference_figures_and_resumes(
        service: Service, publisher: Publisher, reference: ModuleType, tmp_path: Path) -> None:
    rng = random.Random(4242)
    clients = await known_clients(service, publisher, 3, rng)
    feed = reference.hostile_feed(rng, list(clients), clients)
    path = tmp_path / "history.ndjson"
    lines = write_feed(path, feed)
    engine = create_async_engine(service.database_url)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    try:
        # a crash after a few batches: what was committed stays, the next run resumes there
        crashing = Interrupting(sessions, fail_at=4)
        with pytest.raises(ConnectionError):
            await import_file(crashing, path, batch=10, progress=False)  # type: ignore[arg-type]
        done = (await service.sql("SELECT lines_done, finished_at FROM erp_imports"
                                  " WHERE path = :p", p=str(path)))[0]
        assert done["finished_at"] is None and 0 < done["lines_done"] < lines
        resumed = await import_file(sessions, path, batch=10, progress=False)
        assert resumed.skipped == done["lines_done"]
        assert resumed.lines == lines - done["lines_done"]
        expected = reference.compute(feed, clients)
        got = await rollups(service, set(clients))
        assert got == expected_rollups(expected)
        # bad lines are parked with their line number
        sources = {r["source"] for r in await service.sql(
            "SELECT source FROM erp_parked WHERE source LIKE :s", s=f"import {path.name}:%")}
        assert sources, "raw bodies that are no CloudEvents are parked with their line"
        # a second run of the finished file reads nothing; --again changes nothing
        second = await import_file(sessions, path, progress=False)
        assert (second.lines, second.applied, second.skipped) == (0, 0, lines)
        again = await import_file(sessions, path, again=True, progress=False)
        assert again.lines == lines and again.applied == 0
        assert await rollups(service, set(clients)) == expected_rollups(expected)
    finally:
        await engine.dispose()


async def test_a_compressed_file_imports_the_same(
        service: Service, publisher: Publisher, reference: ModuleType, tmp_path: Path) -> None:
    rng = random.Random(777)
    clients = await known_clients(service, publisher, 2, rng)
    feed = [item for item in reference.hostile_feed(rng, list(clients), clients)
            if not isinstance(item, bytes)]
    path = tmp_path / "history.ndjson.gz"
    lines = write_feed(path, feed)
    engine = create_async_engine(service.database_url)
    try:
        result = await import_file(async_sessionmaker(engine, expire_on_commit=False), path,
                                   progress=False)
    finally:
        await engine.dispose()
    assert result.lines == lines and result.applied > 0
    assert await rollups(service, set(clients)) == expected_rollups(
        reference.compute(feed, clients))


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_analytics.cli", "import", *args], capture_output=True,
        text=True, timeout=120, env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"})


async def test_the_command_line(service: Service, tmp_path: Path) -> None:
    missing = run_cli(str(tmp_path / "nope.ndjson"), database_url=service.database_url)
    assert missing.returncode != 0 and "no such file" in missing.stderr
    path = tmp_path / "empty.ndjson"
    path.write_text("\n\n")
    bad_batch = run_cli(str(path), "--batch", "0", database_url=service.database_url)
    assert bad_batch.returncode != 0 and "--batch" in bad_batch.stderr
    ok = run_cli(str(path), "--quiet", database_url=service.database_url)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["lines"] == 0
    garbage = tmp_path / "garbage.ndjson"
    garbage.write_bytes(b'{"not": "an event"}\n\xff\xfe\n[1, 2]\n')
    result = run_cli(str(garbage), database_url=service.database_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["parked"] == 3
    assert "import:" in result.stderr or "%" in result.stderr  # progress on stderr
