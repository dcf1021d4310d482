"""The platform as production runs it: every service and Hive Gateway as separate processes,
real PostgreSQL and RabbitMQ, real RS256 tokens. A database and an events exchange of its own, so
a running development stack or a parallel run is not disturbed (databases, exchange and queue
names carry the run's id)."""

from __future__ import annotations

import os
import shutil
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
from crm_dev import mongo, procs
from crm_dev.up import gateway_launch
from crm_dev.workspace import SERVICES, Service

ROOT = Path(__file__).resolve().parents[2]
RUN = uuid.uuid4().hex[:10]
CREATE_EMPLOYEE = """mutation($input: CreateEmployeeInput!) {
  createEmployee(input: $input) { employee { id } userErrors { field code message } } }"""

@dataclass
class Platform:
    gateway: str
    subgraphs: dict[str, str]
    private_key: str
    workdir: Path
    database_urls: dict[str, str]
    #: the ERP's exchange of this run (analytics and pricing consume it)
    erp_exchange: str

    @property
    def subgraph(self) -> str:
        """The clients service's own GraphQL endpoint (reached directly, not via the gateway)."""
        return self.subgraphs["clients"]

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

    def employee(self, role: str = "sales_rep", name: str | None = None) -> uuid.UUID:
        """A new active employee in the clients service's staff directory (made by an admin),
        so that it can own clients; other services learn of it from its event."""
        employee_id = uuid.uuid4()
        payload = self.data(self.token("admin"), CREATE_EMPLOYEE, {"input": {
            "id": str(employee_id), "fullName": name or f"Служител {employee_id.hex[:6]}",
            "role": role.upper()}})["createEmployee"]
        assert payload["userErrors"] == [], payload
        return employee_id


def _module(service: Service) -> str:
    return f"crm_{service.name}.cli"


@pytest.fixture(scope="session")
def platform() -> Iterator[Platform]:
    """Every service of the registry (``crm_dev.workspace.SERVICES``) and the gateway."""
    workdir = Path(tempfile.mkdtemp(prefix="crm-e2e-"))
    private, public = generate_key_pair()
    (workdir / "jwt_public.pem").write_text(public)
    exchange = f"crm.events.e2e.{RUN}"
    erp_exchange = f"erp.events.e2e.{RUN}"
    queue_prefix = f"e2e.{RUN}."
    common = {
        **os.environ,
        "CRM_ENV": "production",
        "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "EVENTS_EXCHANGE": exchange,
        "QUEUE_PREFIX": queue_prefix,
        "ATTACHMENT_URL_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,  # the tasks service's
        "EXPORT_URL_SECRET": uuid.uuid4().hex + uuid.uuid4().hex,  # the pricing service's
        "ERP_EXCHANGE": erp_exchange,
        "JWT_PUBLIC_KEY_FILE": str(workdir / "jwt_public.pem"),
        "LOG_LEVEL": "WARNING",
        # a low depth limit so that a real query of this schema can exceed it (6: a client's
        # tasks with their assignee, client > tasks > edges > node > assignee > fullName, passes)
        "GRAPHQL_MAX_DEPTH": "6",
    }
    children: list[procs.Child] = []
    mongo_server: mongo.MongoServer | None = None
    if not common.get("MONGODB_URL"):
        mongo_server = mongo.start(workdir / "mongo", log=workdir / "mongo.log", run_dir=workdir)
        common["MONGODB_URL"] = mongo_server.url
    database_urls = {
        s.name: f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_{s.name}_e2e_{RUN}"
        for s in SERVICES
    }
    ports = {s.name: procs.free_port() for s in SERVICES}
    gateway_port = procs.free_port()

    def start(name: str, argv: list[str], child_env: dict[str, str], ready_url: str) -> None:
        child = procs.spawn(name, argv, env=child_env, log=workdir / f"{name}.log")
        children.append(child)
        try:
            procs.wait_http(ready_url, timeout=60, child=child)
        except (procs.ChildDied, TimeoutError) as exc:
            raise RuntimeError(f"{exc}\n{procs.tail(child.log, 60)}") from None

    gateway_env = {
        "CRM_ENV": "production",
        "JWT_PUBLIC_KEY_FILE": str(workdir / "jwt_public.pem"),
        "LOG_LEVEL": "warn",
        "GATEWAY_MAX_DEPTH": "6",
    }
    try:
        for service in SERVICES:
            env = {**common, "DATABASE_URL": database_urls[service.name],
                   "SERVICE_PORT": str(ports[service.name])}
            subprocess.run([sys.executable, "-m", _module(service), "migrate"], env=env,
                           check=True)
            start(service.name, [sys.executable, "-m", _module(service), "serve"], env,
                  # all of it up, consumers attached: their queues exist before the tests
                  f"http://127.0.0.1:{ports[service.name]}/healthz/details")
            gateway_env[service.url_env] = f"http://127.0.0.1:{ports[service.name]}/graphql"
        start("gateway", *gateway_launch(ROOT, gateway_port, gateway_env),
              f"http://127.0.0.1:{gateway_port}/readiness")
        yield Platform(
            f"http://127.0.0.1:{gateway_port}/graphql",
            {name: f"http://127.0.0.1:{port}/graphql" for name, port in ports.items()},
            private, workdir, database_urls, erp_exchange,
        )
    finally:
        procs.stop(list(reversed(children)))
        if mongo_server is not None:
            mongo_server.stop()
        for url in database_urls.values():
            subprocess.run([sys.executable, "-c", (
                "import asyncio; from crm_common.db import drop_database; "
                f"asyncio.run(drop_database('{url}'))")], check=False)
        _delete_broker_objects(exchange, queue_prefix)
        _delete_broker_objects(erp_exchange, queue_prefix)


def _delete_broker_objects(exchange: str, queue_prefix: str) -> None:
    """The run's exchange, its archive queue and every queue named with the run's prefix."""
    queues = [f"{exchange}.archive"]
    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "name"], capture_output=True,
                            text=True, check=False) if shutil.which("rabbitmqctl") else None
    if listed is not None and listed.returncode == 0:
        queues += [q.strip() for q in listed.stdout.splitlines() if q.startswith(queue_prefix)]
    subprocess.run([sys.executable, "-c", (
        "import asyncio, aio_pika, sys\n"
        "async def main():\n"
        "    c = await aio_pika.connect('amqp://guest:guest@127.0.0.1:5672/')\n"
        "    async with c:\n"
        "        ch = await c.channel()\n"
        "        for q in sys.argv[2:]:\n"
        "            await ch.queue_delete(q)\n"
        "        await ch.exchange_delete(sys.argv[1])\n"
        "asyncio.run(main())"), exchange, *queues], check=False)
