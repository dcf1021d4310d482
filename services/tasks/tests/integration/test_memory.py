"""The service's memory does not grow with the size of the files it streams: the service runs
as its own process, and its peak resident set (VmHWM) is compared after moving 5 MB and after
moving 30 MB up and down. A service that held a file whole would grow by at least 30 MB."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from crm_dev import procs

from .conftest import Service, World, service_environ
from .helpers import GET, REQUEST_UPLOAD, commitment, nodes
from .test_attachments import MB, expected_digest

pytestmark = pytest.mark.integration


def _hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.fixture
def process(service: Service, keys: tuple[str, str], exchange_name: str, mongodb_url: str,
            mongodb_database: str, tmp_path: Path) -> Iterator[tuple[str, int]]:
    port = procs.free_port()
    env = {**os.environ, **service_environ(port, service.settings.database_url, keys[1],
                                           exchange_name, mongodb_url, mongodb_database),
           "RUN_RELAY": "false", "RUN_CONSUMERS": "false", "LOG_LEVEL": "WARNING"}
    child = procs.spawn("tasks-memory", [sys.executable, "-m", "crm_tasks.cli", "serve"],
                        env=env, log=tmp_path / "tasks.log")
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60, child=child)
        yield f"http://127.0.0.1:{port}", child.pid
    finally:
        procs.stop([child])


def _round_trip(base: str, token: str, task_id: str, size: int, seed: bytes) -> None:
    with httpx.Client(timeout=120) as client:
        body = client.post(f"{base}/graphql", headers={"authorization": f"Bearer {token}"},
                           json={"query": REQUEST_UPLOAD, "variables": {"input": {
                               "taskId": task_id, "fileName": f"{seed.decode()}.bin"}}}).json()
        url = body["data"]["requestAttachmentUpload"]["uploadUrl"]
        response = client.put(url, content=_lazy(size, seed))  # streamed, never whole
        assert response.status_code == 201, response.text
        attachment_id = response.json()["id"]
        task = client.post(f"{base}/graphql", headers={"authorization": f"Bearer {token}"},
                           json={"query": GET, "variables": {"id": task_id}}).json()
        (att,) = [a for a in nodes(task["data"]["task"]["attachments"])
                  if a["id"] == attachment_id]
        digest = hashlib.sha256()
        with client.stream("GET", att["downloadUrl"]) as download:
            for piece in download.iter_bytes():
                digest.update(piece)
        assert digest.hexdigest() == expected_digest(size, seed)


def _lazy(total: int, seed: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    """The same bytes as ``test_attachments.chunks``, for a synchronous client."""
    sent = block = 0
    while sent < total:
        piece = (hashlib.sha256(seed + block.to_bytes(8, "big")).digest() * (size // 32))
        piece = piece[: total - sent]
        sent += len(piece)
        block += 1
        yield piece


async def test_memory_does_not_grow_with_file_size(service: Service, world: World,
                                                   process: tuple[str, int]) -> None:
    base, pid = process
    task = await commitment(service, world)
    token = service.token("manager", world.manager)
    await asyncio.to_thread(_round_trip, base, token, task["id"], 2 * MB, b"warm")
    start = _hwm_kib(pid)
    await asyncio.to_thread(_round_trip, base, token, task["id"], 5 * MB, b"five")
    after_5 = _hwm_kib(pid)
    await asyncio.to_thread(_round_trip, base, token, task["id"], 30 * MB, b"thirty")
    after_30 = _hwm_kib(pid)
    growth_5, growth_30 = after_5 - start, after_30 - after_5
    print(f"VmHWM: start {start} KiB, +{growth_5} KiB for 5 MB, +{growth_30} KiB for 30 MB")
    # 25 MB more data moved; a service buffering files would grow by ≥ 25 MB more
    assert growth_30 < growth_5 + 8 * 1024, (start, growth_5, growth_30)
