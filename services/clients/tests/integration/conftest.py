"""A real clients service for the integration tests: its own database (created and dropped),
its own events exchange, real PostgreSQL and RabbitMQ, served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from crm_clients.app import create_app
from crm_clients.cli import migrate
from crm_common.db import drop_database
from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.settings import Settings
from crm_common.testing import CaughtEvents, delete_broker_objects, open_tap
from crm_dev import procs

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
RUN = uuid.uuid4().hex[:10]
QUEUE_PREFIX = f"test.{RUN}."

pytestmark = pytest.mark.integration

CREATE_EMPLOYEE = """
mutation($input: CreateEmployeeInput!) {
  createEmployee(input: $input) { employee { id } userErrors { field code message } }
}"""


@pytest.fixture(scope="session")
def keys() -> tuple[str, str]:
    return generate_key_pair()


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_test_{RUN}"
    await asyncio.to_thread(migrate, url)
    yield url
    await drop_database(url)


#: every event published on the run's exchange, validated against the catalogue
EventTap = CaughtEvents


@pytest.fixture(scope="session")
async def exchange_name() -> AsyncIterator[str]:
    name = f"crm.events.test.{RUN}"
    yield name
    await delete_broker_objects(name, [QUEUE_PREFIX + "clients.access-meetings" + suffix
                                       for suffix in ("", ".retry", ".dlq")])


@pytest.fixture(scope="session")
async def tap(exchange_name: str) -> AsyncIterator[EventTap]:
    tap = EventTap()
    conn = await open_tap(exchange_name, tap, binding="#")
    yield tap
    await conn.close()
    tap.assert_all_valid()  # every event published during the run matches the catalogue


@dataclass
class Service:
    url: str
    private_key: str
    settings: Settings
    client: httpx.AsyncClient

    def token(self, role: str, subject: uuid.UUID | None = None, **kw: Any) -> str:
        return mint_token(self.private_key, subject=subject or uuid.uuid4(), roles=[role], **kw)

    async def gql(self, token: str | None, query: str, variables: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> httpx.Response:
        h = dict(headers or {})
        if token:
            h["authorization"] = f"Bearer {token}"
        return await self.client.post(f"{self.url}/graphql",
                                      json={"query": query, "variables": variables or {}},
                                      headers=h)

    async def employee(self, role: str = "sales_rep", name: str | None = None,
                       **extra: Any) -> uuid.UUID:
        """A new active employee of the staff directory (created by an admin)."""
        employee_id = uuid.uuid4()
        payload = (await self.data(self.token("admin"), CREATE_EMPLOYEE, {"input": {
            "id": str(employee_id), "fullName": name or f"Служител {employee_id.hex[:6]}",
            "role": role.upper(), **extra}}))["createEmployee"]
        assert payload["userErrors"] == [], payload
        return employee_id

    async def data(self, token: str, query: str, variables: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        response = await self.gql(token, query, variables)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="session")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str,
                  tap: EventTap) -> AsyncIterator[Service]:
    private, public = keys
    port = procs.free_port()
    settings = Settings.from_env("clients", port, environ={
        "CRM_ENV": "test",
        "SERVICE_PORT": str(port),
        "DATABASE_URL": database_url,
        "AMQP_URL": AMQP_URL,
        "EVENTS_EXCHANGE": exchange_name,
        "JWT_PUBLIC_KEY": public,
        "QUEUE_PREFIX": QUEUE_PREFIX,
    })
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_config=None, access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "clients service did not start"
    # idle connections dropped before uvicorn closes them (5 s): no request on a closing socket
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(keepalive_expiry=2)) as client:
        yield Service(f"http://127.0.0.1:{port}", private, settings, client)
    server.should_exit = True
    await asyncio.wait_for(task, timeout=20)
