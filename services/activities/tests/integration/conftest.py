"""A real activities service for the integration tests: its own database (created and dropped),
its own events exchange and queue prefix, real PostgreSQL and RabbitMQ, served by uvicorn on a
free port. The other services' events (clients, employees) are published by the tests themselves
onto the test exchange, as CloudEvents checked against the catalogue."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import httpx
import pytest

from crm_activities.app import create_app
from crm_activities.cli import migrate
from crm_common.db import drop_database
from crm_common.devkeys import generate_key_pair
from crm_common.settings import Settings
from crm_common.testing import (
    CaughtEvents,
    ServiceUnderTest,
    delete_broker_objects,
    event_message,
    open_tap,
)
from crm_common.testing import wait_until as wait_until  # re-exported for the tests
from crm_dev import procs

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
RUN = uuid.uuid4().hex[:10]
QUEUE_PREFIX = f"test.{RUN}."
QUEUES = [f"{QUEUE_PREFIX}activities.{name}{suffix}"
          for name in ("access-clients", "access-meetings", "access-employees")
          for suffix in ("", ".retry", ".dlq")]

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def keys() -> tuple[str, str]:
    return generate_key_pair()


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_activities_test_{RUN}"
    await asyncio.to_thread(migrate, url)
    yield url
    await drop_database(url)


#: every event published on the run's exchange, validated against the catalogue
EventTap = CaughtEvents


@pytest.fixture(scope="session")
async def exchange_name() -> AsyncIterator[str]:
    name = f"crm.events.test.{RUN}"
    yield name
    await delete_broker_objects(name, QUEUES)


@pytest.fixture(scope="session")
async def tap(exchange_name: str) -> AsyncIterator[EventTap]:
    tap = EventTap()
    conn = await open_tap(exchange_name, tap, binding="#")
    yield tap
    await conn.close()
    tap.assert_all_valid()  # every event published during the run matches the catalogue


class Publisher:
    """Publishes the events other services would (client and employee snapshots)."""

    def __init__(self, exchange: aio_pika.abc.AbstractExchange) -> None:
        self.exchange = exchange

    async def publish(self, type_: str, subject: str, data: dict[str, Any],
                      source: str = "crm/clients") -> dict[str, Any]:
        envelope, message = event_message(type_, subject, data, source=source,
                                          correlation_id="test")
        await self.exchange.publish(message, routing_key=type_)
        return envelope

    async def client(self, client_id: uuid.UUID, *, owner: uuid.UUID | None, version: int = 1,
                     name: str = "Тракия Дистрибуция АД", status: str = "active",
                     type_: str = "crm.clients.client.created") -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC).isoformat()
        snapshot = {
            "id": str(client_id), "code": f"C{uuid.uuid4().int % 10**6:06d}",
            "kind": "company", "legalName": name, "tradeName": None, "eik": None,
            "vatNumber": None, "status": status, "ownerId": str(owner) if owner else None,
            "phones": [], "emails": [], "website": None, "notes": None, "tags": [],
            "version": version, "createdAt": now, "updatedAt": now, "archivedAt": None,
            "addresses": [], "contactPersons": [], "bankAccounts": [], "groupId": None,
            "paymentTermDays": None, "currency": "EUR", "creditLimit": None,
            "documentDescriptions": {},
        }
        data: dict[str, Any] = {"client": snapshot}
        if type_.endswith(".updated"):
            data["changed"] = ["ownerId"]
        if type_.endswith(".archived"):
            data["reason"] = None
        return await self.publish(type_, str(client_id), data)

    async def employee(self, employee_id: uuid.UUID, *, role: str = "sales_rep",
                       active: bool = True, version: int = 1,
                       name: str = "Иван Петров") -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC).isoformat()
        type_ = "crm.clients.employee.created" if active else "crm.clients.employee.deactivated"
        return await self.publish(type_, str(employee_id), {"employee": {
            "id": str(employee_id), "fullName": name, "email": None, "phone": None, "role": role,
            "managerId": None, "active": active, "version": version, "createdAt": now,
            "updatedAt": now}})


@pytest.fixture(scope="session")
async def publisher(exchange_name: str) -> AsyncIterator[Publisher]:
    conn = await aio_pika.connect(AMQP_URL)
    channel = await conn.channel(publisher_confirms=True)
    exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC,
                                              durable=True)
    yield Publisher(exchange)
    await conn.close()


#: the running activities service (crm_common.testing.ServiceUnderTest)
Service = ServiceUnderTest


@pytest.fixture(scope="session")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str,
                  tap: EventTap) -> AsyncIterator[Service]:
    private, public = keys
    port = procs.free_port()
    settings = Settings.from_env("activities", port, environ={
        "CRM_ENV": "test",
        "SERVICE_PORT": str(port),
        "DATABASE_URL": database_url,
        "AMQP_URL": AMQP_URL,
        "EVENTS_EXCHANGE": exchange_name,
        "QUEUE_PREFIX": QUEUE_PREFIX,
        "JWT_PUBLIC_KEY": public,
    })
    # idle connections dropped before uvicorn closes them (5 s): no request on a closing socket
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(keepalive_expiry=2)) as client:
        svc = Service("activities", f"http://127.0.0.1:{port}", private, settings, client,
                      database_url, make_app=lambda: create_app(settings))
        await svc.start()
        yield svc
        if svc.server is not None:
            await svc.stop()
