"""A real activities service for the integration tests: its own database (created and dropped),
its own events exchange and queue prefix, real PostgreSQL and RabbitMQ, served by uvicorn on a
free port. The other services' events (clients, employees) are published by the tests themselves
onto the test exchange, as CloudEvents checked against the catalogue."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest

from crm_activities.app import create_app
from crm_activities.cli import migrate
from crm_common import testing
from crm_common import testing_fixtures as fixtures
from crm_common.settings import Settings
from crm_common.testing import CaughtEvents, ServiceUnderTest
from crm_common.testing import wait_until as wait_until  # re-exported for the tests
from crm_dev import procs

RUN = uuid.uuid4().hex[:10]
QUEUE_PREFIX = f"test.{RUN}."
QUEUES = fixtures.queue_names(QUEUE_PREFIX, "activities",
                              ("access-clients", "access-meetings", "access-employees"))

pytestmark = pytest.mark.integration

keys = fixtures.keys()
database_url = fixtures.database("activities", migrate, run=RUN)
exchange_name = fixtures.exchange(QUEUES, run=RUN)
#: every event published on the run's exchange, validated against the catalogue
EventTap = CaughtEvents
tap = fixtures.tap("#")


class Publisher:
    """Publishes the events other services would (client and employee snapshots)."""

    def __init__(self, exchange: aio_pika.abc.AbstractExchange) -> None:
        self.exchange = exchange

    async def publish(self, type_: str, subject: str, data: dict[str, Any],
                      source: str = "crm/clients") -> dict[str, Any]:
        envelope, message = testing.event_message(type_, subject, data, source=source,
                                                  correlation_id="test")
        await self.exchange.publish(message, routing_key=type_)
        return envelope

    async def client(self, client_id: uuid.UUID, *, owner: uuid.UUID | None, version: int = 1,
                     name: str = "Тракия Дистрибуция АД", status: str = "active",
                     type_: str = "crm.clients.client.created") -> dict[str, Any]:
        data: dict[str, Any] = {"client": testing.client_snapshot(
            client_id, owner=owner, version=version, name=name, status=status)}
        if type_.endswith(".updated"):
            data["changed"] = ["ownerId"]
        if type_.endswith(".archived"):
            data["reason"] = None
        return await self.publish(type_, str(client_id), data)

    async def employee(self, employee_id: uuid.UUID, *, role: str = "sales_rep",
                       active: bool = True, version: int = 1,
                       name: str = "Иван Петров") -> dict[str, Any]:
        type_ = "crm.clients.employee.created" if active else "crm.clients.employee.deactivated"
        return await self.publish(type_, str(employee_id), {"employee": testing.employee_snapshot(
            employee_id, role=role, name=name, active=active, version=version)})


@pytest.fixture(scope="session")
async def publisher(exchange_name: str) -> AsyncIterator[Publisher]:
    async with fixtures.declared_exchanges(exchange_name) as (exchange,):
        yield Publisher(exchange)


#: the running activities service (crm_common.testing.ServiceUnderTest)
Service = ServiceUnderTest


@pytest.fixture(scope="session")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str,
                  tap: EventTap) -> AsyncIterator[Service]:
    private, public = keys
    port = procs.free_port()
    settings = Settings.from_env("activities", port, environ=testing.service_environ(
        port, database_url, exchange_name, public, QUEUE_PREFIX))
    async with testing.running_service(Service, "activities", private, settings,
                                       lambda: create_app(settings)) as svc:
        yield svc
