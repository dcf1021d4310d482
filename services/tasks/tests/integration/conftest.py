"""A real tasks service for the integration tests: its own database (created and dropped), its
own MongoDB-wire database (``MONGODB_URL`` if set, else an nx-27017 started here), its own
events exchange and queue prefix, real PostgreSQL and RabbitMQ, served by uvicorn on a free
port. Other services' events are published by the tests themselves (``Publisher``), validated
against the catalogue like every event the service publishes (``EventTap``)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm_common import testing
from crm_common import testing_fixtures as fixtures
from crm_common.attachments import AttachmentStore
from crm_common.settings import Settings
from crm_common.testing import CaughtEvents, ServiceUnderTest
from crm_common.testing import wait_until as wait_until  # re-exported for the tests
from crm_dev import mongo, procs
from crm_tasks.app import create_app
from crm_tasks.cli import migrate
from crm_tasks.config import TasksSettings

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
RUN = uuid.uuid4().hex[:10]
QUEUE_PREFIX = f"test.{RUN}."
SECRET = "integration-test-secret-" + "x" * 16
QUEUES = fixtures.queue_names(QUEUE_PREFIX, "tasks", ("access-clients", "access-meetings",
                                                      "access-employees", "asset-audits"))

pytestmark = pytest.mark.integration


#: the moment of the snapshots the publisher sends
NOW = "2026-11-27T10:00:00+00:00"


keys = fixtures.keys()
database_url = fixtures.database("tasks", migrate, run=RUN)


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


mongodb_url, mongodb_database = mongo.mongodb_fixtures("tasks", RUN)


@pytest.fixture(scope="session")
async def store(mongodb_url: str, mongodb_database: str) -> AsyncIterator[AttachmentStore]:
    """The test's own view of the service's GridFS bucket."""
    s = AttachmentStore.connect(mongodb_url, mongodb_database)
    yield s
    await s.close()


exchange_name = fixtures.exchange(QUEUES, run=RUN)
#: every event published on the run's exchange, validated against the catalogue
EventTap = CaughtEvents
tap = fixtures.tap("crm.tasks.#")


@dataclass
class Publisher:
    """Publishes the clients and activities services' events onto the test exchange."""

    exchange: aio_pika.abc.AbstractExchange
    versions: dict[uuid.UUID, int] = field(default_factory=dict)

    async def publish(self, type_: str, subject: uuid.UUID, data: dict[str, Any],
                      source: str) -> None:
        _, message = testing.event_message(type_, str(subject), data, source=source)
        await self.exchange.publish(message, routing_key=type_)

    def _next(self, key: uuid.UUID) -> int:
        self.versions[key] = self.versions.get(key, 0) + 1
        return self.versions[key]

    async def employee(self, employee_id: uuid.UUID, *, role: str = "sales_rep",
                       name: str = "Иван Петров", active: bool = True) -> None:
        version = self._next(employee_id)
        kind = "created" if version == 1 else "deactivated" if not active else "updated"
        await self.publish(f"crm.clients.employee.{kind}", employee_id, {"employee": (
            testing.employee_snapshot(employee_id, role=role, name=name, active=active,
                                      version=version, now=NOW))}, "crm/clients")

    async def client(self, client_id: uuid.UUID, *, owner: uuid.UUID | None,
                     name: str = "Тракия Дистрибуция АД", status: str = "active") -> None:
        version = self._next(client_id)
        await self.publish(
            "crm.clients.client.created" if version == 1 else "crm.clients.client.updated",
            client_id, {"client": testing.client_snapshot(
                client_id, owner=owner, version=version, name=name, status=status,
                code=f"C{version:06d}", now=NOW),
                **({} if version == 1 else {"changed": ["ownerId"]})}, "crm/clients")


@pytest.fixture(scope="session")
async def publisher(exchange_name: str) -> AsyncIterator[Publisher]:
    async with fixtures.declared_exchanges(exchange_name) as (exchange,):
        yield Publisher(exchange)


class Service(ServiceUnderTest):
    """The running tasks service (crm_common.testing.ServiceUnderTest) with its own settings
    and the test's engine on its database (``sql`` runs there)."""

    tasks_settings: TasksSettings
    db: AsyncEngine
    ready_within = 30.0  # consumers attached: their queues exist and are bound

    async def sql(self, statement: str, **params: Any) -> list[dict[str, Any]]:
        """Run one statement in its own committed transaction."""
        async with self.db.begin() as conn:
            result = await conn.execute(sa.text(statement), params)
            return [dict(r) for r in result.mappings()] if result.returns_rows else []


@contextlib.asynccontextmanager
async def serving(settings: Settings, environ: dict[str, str], private_key: str,
                  db: AsyncEngine) -> AsyncIterator[Service]:
    """The tasks service with ``settings`` (read from ``environ``), started and ready."""
    tasks_settings = TasksSettings.from_env(settings, environ)
    async with testing.running_service(Service, "tasks", private_key, settings,
                                       lambda: create_app(settings, tasks_settings),
                                       request_timeout=60) as svc:
        svc.tasks_settings, svc.db = tasks_settings, db
        yield svc


def service_environ(port: int, database_url: str, public_key: str, exchange: str,
                    mongodb_url: str, mongodb_database: str) -> dict[str, str]:
    return {
        **testing.service_environ(port, database_url, exchange, public_key, QUEUE_PREFIX),
        "MONGODB_URL": mongodb_url,
        "MONGODB_DATABASE": mongodb_database,
        "ATTACHMENT_URL_SECRET": SECRET,
        "ATTACHMENT_MAX_BYTES": str(50 * 1024 * 1024),
        # the tests drive reminders and the sweeper themselves, with a chosen "now"
        "RUN_SCHEDULER": "false",
    }


@pytest.fixture(scope="session")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str, tap: EventTap,
                  mongodb_url: str, mongodb_database: str, db: AsyncEngine
                  ) -> AsyncIterator[Service]:
    private, public = keys
    port = procs.free_port()
    environ = service_environ(port, database_url, public, exchange_name, mongodb_url,
                              mongodb_database)
    async with serving(Settings.from_env("tasks", port, environ=environ), environ, private,
                       db) as svc:
        yield svc


@dataclass
class World:
    manager: uuid.UUID
    rep: uuid.UUID
    other_rep: uuid.UUID
    inactive: uuid.UUID
    rep_client: uuid.UUID  # owned by rep
    other_client: uuid.UUID  # owned by other_rep
    archived_client: uuid.UUID


@pytest.fixture(scope="session")
async def world(service: Service, publisher: Publisher) -> World:
    """Employees and clients the service knows through its projections."""
    w = World(*(uuid.uuid4() for _ in range(7)))
    await publisher.employee(w.manager, role="manager", name="Мария Манева")
    await publisher.employee(w.rep, name="Иван Петров")
    await publisher.employee(w.other_rep, name="Петър Иванов")
    await publisher.employee(w.inactive, name="Бивш Служител")
    await publisher.employee(w.inactive, name="Бивш Служител", active=False)
    await publisher.client(w.rep_client, owner=w.rep, name="Тракия Дистрибуция АД")
    await publisher.client(w.other_client, owner=w.other_rep, name="Родопа Трейд ООД")
    await publisher.client(w.archived_client, owner=w.rep, name="Стара Фирма ООД",
                           status="archived")

    async def known() -> bool:
        clients = await service.sql("SELECT count(*) AS n FROM access_clients WHERE client_id "
                                    "IN (:a, :b, :c)", a=w.rep_client, b=w.other_client,
                                    c=w.archived_client)
        employees = await service.sql(
            "SELECT count(*) AS n FROM access_employees WHERE employee_id IN (:a, :b, :c) "
            "OR (employee_id = :d AND NOT active)", a=w.manager, b=w.rep, c=w.other_rep,
            d=w.inactive)
        return clients[0]["n"] == 3 and employees[0]["n"] == 4

    await wait_until(known)
    return w
