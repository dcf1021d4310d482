"""The platform as production runs it: the clients service and Hive Gateway as separate processes,
real PostgreSQL and RabbitMQ, real RS256 tokens. A database and an events exchange of its own, so
a running development stack or a parallel run is not disturbed."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm_common.devkeys import generate_key_pair, mint_token

ROOT = Path(__file__).resolve().parents[2]
RUN = uuid.uuid4().hex[:10]

_spec = importlib.util.spec_from_file_location("gateway_process",
                                               ROOT / "gateway" / "gateway_process.py")
assert _spec and _spec.loader
gateway_process = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gateway_process)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not ready\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@dataclass
class Platform:
    gateway: str
    subgraph: str
    private_key: str
    workdir: Path

    def token(self, role: str, subject: uuid.UUID | None = None, **kw: Any) -> str:
        return mint_token(self.private_key, subject=subject or uuid.uuid4(), roles=[role], **kw)

    def post(self, token: str | None, query: str, variables: dict[str, Any] | None = None,
             url: str | None = None) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.post(url or self.gateway, json={"query": query, "variables": variables or {}},
                          headers=headers, timeout=30)

    def data(self, token: str, query: str, variables: dict[str, Any] | None = None
             ) -> dict[str, Any]:
        response = self.post(token, query, variables)
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    workdir = Path(tempfile.mkdtemp(prefix="crm-e2e-"))
    private, public = generate_key_pair()
    (workdir / "jwt_public.pem").write_text(public)
    database_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_e2e_{RUN}"
    service_port, gateway_port = free_port(), free_port()
    env = {
        **os.environ,
        "CRM_ENV": "production",
        "DATABASE_URL": database_url,
        "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "EVENTS_EXCHANGE": f"crm.events.e2e.{RUN}",
        "JWT_PUBLIC_KEY_FILE": str(workdir / "jwt_public.pem"),
        "SERVICE_PORT": str(service_port),
        "LOG_LEVEL": "WARNING",
        # a low depth limit so that a real query of this schema can exceed it
        "GRAPHQL_MAX_DEPTH": "4",
    }
    subprocess.run([sys.executable, "-m", "crm_clients.cli", "migrate"], env=env, check=True)
    service_log = workdir / "clients.log"
    gateway_log = workdir / "gateway.log"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with open(service_log, "wb") as out:
            service = subprocess.Popen([sys.executable, "-m", "crm_clients.cli", "serve"],
                                       env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        procs.append(service)
        _wait_http(f"http://127.0.0.1:{service_port}/readyz", service, service_log)
        with open(gateway_log, "wb") as out:
            gateway = gateway_process.start_gateway(gateway_port, {
                "CRM_ENV": "production",
                "JWT_PUBLIC_KEY_FILE": str(workdir / "jwt_public.pem"),
                "CLIENTS_URL": f"http://127.0.0.1:{service_port}/graphql",
                "LOG_LEVEL": "warn",
                "GATEWAY_MAX_DEPTH": "4",
            }, stdout=out, stderr=subprocess.STDOUT)
        procs.append(gateway)
        _wait_http(f"http://127.0.0.1:{gateway_port}/readiness", gateway, gateway_log)
        yield Platform(f"http://127.0.0.1:{gateway_port}/graphql",
                       f"http://127.0.0.1:{service_port}/graphql", private, workdir)
    finally:
        for proc in reversed(procs):
            _stop(proc)
        subprocess.run([sys.executable, "-c", (
            "import asyncio; from crm_common.db import drop_database; "
            f"asyncio.run(drop_database('{database_url}'))")], check=False)
        subprocess.run([sys.executable, "-c", (
            "import asyncio, aio_pika\n"
            "async def main():\n"
            "    c = await aio_pika.connect('amqp://guest:guest@127.0.0.1:5672/')\n"
            "    async with c:\n"
            "        ch = await c.channel()\n"
            f"        await ch.queue_delete('crm.events.e2e.{RUN}.archive')\n"
            f"        await ch.exchange_delete('crm.events.e2e.{RUN}')\n"
            "asyncio.run(main())")], check=False)
