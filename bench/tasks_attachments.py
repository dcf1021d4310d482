"""Attachment throughput of the tasks service: upload and download in MB/s, one at a time and
eight at once, through the signed HTTP URLs (GridFS behind them).

    uv run python bench/tasks_attachments.py [--size-mb 30] [--rounds 3]

Starts what it needs and stops it again: an nx-27017 (the MongoDB-wire server of the tests; set
``MONGODB_URL`` to use another server), a bench database ``crm_tasks_bench_files`` (dropped at the
end) and the tasks service as its own process (no relay, consumers or scheduler). Each file is
generated on the fly by the client and checked by SHA-256 after download. MB = 2^20 bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlalchemy import text

from crm_common.db import drop_database, make_engine
from crm_common.devkeys import generate_key_pair, mint_token
from crm_dev import mongo, procs
from crm_tasks.cli import migrate

MB = 1024 * 1024
DB = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_tasks_bench_files"
REQUEST = """mutation($input: RequestAttachmentUploadInput!) { requestAttachmentUpload(
  input: $input) { uploadUrl attachment { id } userErrors { code message } } }"""
GET = """query($id: ID!, $after: String) { task(id: $id) { attachments(first: 100, after: $after) {
  edges { node { id downloadUrl } } pageInfo { hasNextPage endCursor } } } }"""


async def download_urls(client: httpx.AsyncClient, base: str, token: str, task_id: str
                        ) -> list[str]:
    """Every stored attachment's download URL, oldest first (the connection, page by page)."""
    urls: list[str] = []
    after = None
    while True:
        data = (await client.post(
            f"{base}/graphql", headers={"authorization": f"Bearer {token}"},
            json={"query": GET, "variables": {"id": task_id, "after": after}})).json()
        page = data["data"]["task"]["attachments"]
        urls += [e["node"]["downloadUrl"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return urls
        after = page["pageInfo"]["endCursor"]


def piece(seed: bytes, n: int) -> bytes:
    return hashlib.sha256(seed + n.to_bytes(8, "big")).digest() * 8192  # 256 KiB


async def body(size: int, seed: bytes) -> AsyncIterator[bytes]:
    sent = n = 0
    while sent < size:
        chunk = piece(seed, n)[: size - sent]
        sent += len(chunk)
        n += 1
        yield chunk


def digest_of(size: int, seed: bytes) -> str:
    h = hashlib.sha256()
    sent = n = 0
    while sent < size:
        chunk = piece(seed, n)[: size - sent]
        h.update(chunk)
        sent += len(chunk)
        n += 1
    return h.hexdigest()


async def upload(client: httpx.AsyncClient, base: str, token: str, task_id: str, size: int,
                 seed: bytes) -> str:
    grant = (await client.post(f"{base}/graphql", headers={"authorization": f"Bearer {token}"},
                               json={"query": REQUEST, "variables": {"input": {
                                   "taskId": task_id, "fileName": f"{seed.hex()}.bin"}}})
             ).json()["data"]["requestAttachmentUpload"]
    response = await client.put(grant["uploadUrl"], content=body(size, seed))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def download(client: httpx.AsyncClient, url: str) -> str:
    h = hashlib.sha256()
    async with client.stream("GET", url) as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            h.update(chunk)
    return h.hexdigest()


async def bench(base: str, token: str, task_id: str, size: int, rounds: int) -> None:
    async with httpx.AsyncClient(timeout=600) as client:
        await upload(client, base, token, task_id, MB, b"warm")
        print(f"file {size // MB} MB, {rounds} rounds; MB/s = total bytes / wall time")
        print("| operation | concurrency | MB/s (per round) | median MB/s |\n|---|---|---|---|")
        for concurrency in (1, 8):
            for op in ("upload", "download"):
                rates = []
                for r in range(rounds):
                    seeds = [f"{concurrency}-{r}-{i}".encode() for i in range(concurrency)]
                    if op == "upload":
                        started = time.perf_counter()
                        await asyncio.gather(*(upload(client, base, token, task_id, size, s)
                                               for s in seeds))
                        elapsed = time.perf_counter() - started
                    else:
                        urls = (await download_urls(client, base, token, task_id))[
                            -concurrency:]
                        started = time.perf_counter()
                        got = await asyncio.gather(*(download(client, u) for u in urls))
                        elapsed = time.perf_counter() - started
                        wanted = {digest_of(size, f"{concurrency}-{rounds - 1}-{i}".encode())
                                  for i in range(concurrency)}
                        assert set(got) == wanted, "downloaded bytes differ"
                    rates.append(concurrency * size / MB / elapsed)
                rates_text = ", ".join(f"{x:.1f}" for x in rates)
                median = sorted(rates)[len(rates) // 2]
                print(f"| {op} | {concurrency} | {rates_text} | {median:.1f} |")


async def make_task(manager: uuid.UUID) -> str:
    engine = make_engine(DB, pool_size=1)
    task_id = uuid.uuid4()
    async with engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO tasks (id, number, title, kind, assignee_id, assigned_by, due_date, "
            "priority, status) VALUES (:id, 'T900001', 'bench', 'general', :m, :m, "
            "DATE '2026-12-31', 'normal', 'assigned')"), {"id": task_id, "m": manager})
    await engine.dispose()
    return str(task_id)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="crm-bench-files-"))
    asyncio.run(drop_database(DB))
    migrate(DB)
    server = None
    mongodb_url = os.environ.get("MONGODB_URL")
    if not mongodb_url:
        server = mongo.start(workdir / "mongo", log=workdir / "mongo.log", run_dir=workdir)
        mongodb_url = server.url
    private, public = generate_key_pair()
    port = procs.free_port()
    env = {**os.environ, "CRM_ENV": "production", "SERVICE_PORT": str(port),
           "DATABASE_URL": DB, "JWT_PUBLIC_KEY": public, "MONGODB_URL": mongodb_url,
           "MONGODB_DATABASE": f"crm_tasks_bench_{uuid.uuid4().hex[:6]}",
           "ATTACHMENT_URL_SECRET": "bench-" + "s" * 40, "RUN_RELAY": "false",
           "RUN_CONSUMERS": "false", "RUN_SCHEDULER": "false", "LOG_LEVEL": "WARNING"}
    child = procs.spawn("tasks", [sys.executable, "-m", "crm_tasks.cli", "serve"], env=env,
                        log=workdir / "tasks.log")
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/readyz", timeout=60, child=child)
        manager = uuid.uuid4()
        task_id = asyncio.run(make_task(manager))
        token = mint_token(private, subject=manager, roles=["manager"])
        asyncio.run(bench(f"http://127.0.0.1:{port}", token, task_id, args.size_mb * MB,
                          args.rounds))
        rss = subprocess.run(["grep", "VmHWM", f"/proc/{child.pid}/status"],
                             capture_output=True, text=True).stdout.strip()
        print(f"\ntasks service peak memory: {rss}")
    finally:
        procs.stop([child])
        if server is not None:
            server.stop()
        asyncio.run(drop_database(DB))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
