"""A real clients service for the integration tests: its own database (created and dropped),
its own events exchange, real PostgreSQL and RabbitMQ, served by uvicorn on a free port."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
import pytest
import uvicorn

from crm_clients.app import create_app
from crm_clients.cli import migrate
from crm_common.db import drop_database
from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.messaging.catalogue import Catalogue
from crm_common.settings import Settings
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


@dataclass
class EventTap:
    """A queue bound to the test exchange that records every event the service publishes."""

    received: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.received if e["type"] == type_]

    async def wait_for(self, predicate: Any, within: float = 15.0) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            found = [e for e in self.received if predicate(e)]
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError("expected event did not arrive in time")


@pytest.fixture(scope="session")
async def exchange_name() -> AsyncIterator[str]:
    name = f"crm.events.test.{RUN}"
    yield name
    conn = await aio_pika.connect(AMQP_URL)
    async with conn:
        channel = await conn.channel()
        await channel.queue_delete(f"{name}.archive")  # declared by the outbox relay
        await channel.exchange_delete(name)


@pytest.fixture(scope="session")
async def tap(exchange_name: str) -> AsyncIterator[EventTap]:
    tap = EventTap()
    conn = await aio_pika.connect(AMQP_URL)
    channel = await conn.channel()
    exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC,
                                              durable=True)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, "#")

    catalogue = Catalogue()

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            envelope = json.loads(message.body)
            tap.received.append(envelope)
            try:
                catalogue.validate(envelope)
            except Exception as exc:  # noqa: BLE001 - collected and reported at teardown
                tap.invalid.append(f"{envelope.get('type')}: {exc}")

    await queue.consume(on_message)
    yield tap
    await conn.close()
    # every event the service published during the run matches the AsyncAPI catalogue
    # (test_concurrency_and_events makes sure each type of the catalogue is published)
    assert not tap.invalid, "events that do not match events/asyncapi.yaml:\n" + "\n".join(
        tap.invalid[:5])


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
    async with httpx.AsyncClient(timeout=30) as client:
        yield Service(f"http://127.0.0.1:{port}", private, settings, client)
    server.should_exit = True
    await asyncio.wait_for(task, timeout=20)
    conn = await aio_pika.connect(AMQP_URL)
    async with conn:
        channel = await conn.channel()
        for name in ("clients.access-meetings", "clients.access-meetings.dlq"):
            await channel.queue_delete(QUEUE_PREFIX + name)
