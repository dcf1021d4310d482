"""The platform as production runs it: the clients service and Hive Gateway as separate processes,
real PostgreSQL and RabbitMQ, real RS256 tokens. A database and an events exchange of its own, so
a running development stack or a parallel run is not disturbed."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm_common.devkeys import generate_key_pair, mint_token
from crm_dev import procs
from crm_dev.up import gateway_launch

ROOT = Path(__file__).resolve().parents[2]
RUN = uuid.uuid4().hex[:10]

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
    service_port, gateway_port = procs.free_port(), procs.free_port()
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
    children: list[procs.Child] = []

    def start(name: str, argv: list[str], child_env: dict[str, str], ready_url: str) -> None:
        child = procs.spawn(name, argv, env=child_env, log=workdir / f"{name}.log")
        children.append(child)
        try:
            procs.wait_http(ready_url, timeout=60, child=child)
        except (procs.ChildDied, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{procs.tail(child.log, 60)}") from None

    try:
        start("clients", [sys.executable, "-m", "crm_clients.cli", "serve"], env,
              f"http://127.0.0.1:{service_port}/readyz")
        start("gateway", *gateway_launch(ROOT, gateway_port, {
            "CRM_ENV": "production",
            "JWT_PUBLIC_KEY_FILE": str(workdir / "jwt_public.pem"),
            "CLIENTS_URL": f"http://127.0.0.1:{service_port}/graphql",
            "LOG_LEVEL": "warn",
            "GATEWAY_MAX_DEPTH": "4",
        }), f"http://127.0.0.1:{gateway_port}/readiness")
        yield Platform(f"http://127.0.0.1:{gateway_port}/graphql",
                       f"http://127.0.0.1:{service_port}/graphql", private, workdir)
    finally:
        procs.stop(list(reversed(children)))
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
