"""A real tasks service for the integration tests: its own database (created and dropped), its
own MongoDB-wire database (``MONGODB_URL`` if set, else an nx-27017 started here), its own
events exchange and queue prefix, real PostgreSQL and RabbitMQ, served by uvicorn on a free
port. Other services' events are published by the tests themselves (``Publisher``), validated
against the catalogue like every event the service publishes (``EventTap``)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm_common.attachments import AttachmentStore
from crm_common.db import drop_database
from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.settings import Settings
from crm_common.testing import CaughtEvents, delete_broker_objects, event_message, open_tap
from crm_dev import mongo, procs
from crm_tasks.app import create_app
from crm_tasks.cli import migrate
from crm_tasks.config import TasksSettings

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
RUN = uuid.uuid4().hex[:10]
QUEUE_PREFIX = f"test.{RUN}."
SECRET = "integration-test-secret-" + "x" * 16
QUEUES = ("tasks.access-clients", "tasks.access-meetings", "tasks.access-employees",
          "tasks.asset-audits")

pytestmark = pytest.mark.integration


async def wait_until(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture(scope="session")
def keys() -> tuple[str, str]:
    return generate_key_pair()


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_tasks_test_{RUN}"
    await asyncio.to_thread(migrate, url)
    yield url
    await drop_database(url)


@pytest.fixture(scope="session")
async def db(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def mongodb_url() -> Iterator[str]:
    """``MONGODB_URL`` of the run (./crm test exports one), else an nx-27017 of our own."""
    with mongo.url_for_tests("crm-tasks-mongo-") as url:
        yield url


@pytest.fixture(scope="session")
async def mongodb_database(mongodb_url: str) -> AsyncIterator[str]:
    name = f"crm_tasks_test_{RUN}"
    yield name
    await mongo.drop_test_database(mongodb_url, name)


@pytest.fixture(scope="session")
async def store(mongodb_url: str, mongodb_database: str) -> AsyncIterator[AttachmentStore]:
    """The test's own view of the service's GridFS bucket."""
    s = AttachmentStore.connect(mongodb_url, mongodb_database)
    yield s
    await s.close()


#: every event published on the run's exchange, validated against the catalogue
EventTap = CaughtEvents


@pytest.fixture(scope="session")
async def exchange_name() -> AsyncIterator[str]:
    name = f"crm.events.test.{RUN}"
    yield name
    await delete_broker_objects(name, [QUEUE_PREFIX + q + suffix for q in QUEUES
                                       for suffix in ("", ".retry", ".dlq")])


@pytest.fixture(scope="session")
async def tap(exchange_name: str) -> AsyncIterator[EventTap]:
    tap = EventTap()
    conn = await open_tap(exchange_name, tap, binding="crm.tasks.#")
    yield tap
    await conn.close()
    tap.assert_all_valid()  # every event published during the run matches the catalogue


@dataclass
class Publisher:
    """Publishes the clients and activities services' events onto the test exchange."""

    exchange: aio_pika.abc.AbstractExchange
    versions: dict[uuid.UUID, int] = field(default_factory=dict)

    async def publish(self, type_: str, subject: uuid.UUID, data: dict[str, Any],
                      source: str) -> None:
        _, message = event_message(type_, str(subject), data, source=source)
        await self.exchange.publish(message, routing_key=type_)

    def _next(self, key: uuid.UUID) -> int:
        self.versions[key] = self.versions.get(key, 0) + 1
        return self.versions[key]

    async def employee(self, employee_id: uuid.UUID, *, role: str = "sales_rep",
                       name: str = "Иван Петров", active: bool = True) -> None:
        version = self._next(employee_id)
        now = "2026-11-27T10:00:00+00:00"
        kind = "created" if version == 1 else "deactivated" if not active else "updated"
        await self.publish(f"crm.clients.employee.{kind}", employee_id, {"employee": {
            "id": str(employee_id), "fullName": name, "email": None, "phone": None,
            "role": role, "managerId": None, "active": active, "version": version,
            "createdAt": now, "updatedAt": now}}, "crm/clients")

    async def client(self, client_id: uuid.UUID, *, owner: uuid.UUID | None,
                     name: str = "Тракия Дистрибуция АД", status: str = "active") -> None:
        version = self._next(client_id)
        now = "2026-11-27T10:00:00+00:00"
        await self.publish(
            "crm.clients.client.created" if version == 1 else "crm.clients.client.updated",
            client_id, {"client": {
                "id": str(client_id), "code": f"C{version:06d}", "kind": "company",
                "legalName": name, "tradeName": None, "eik": None, "vatNumber": None,
                "status": status, "ownerId": str(owner) if owner else None, "phones": [],
                "emails": [], "website": None, "notes": None, "tags": [], "version": version,
                "createdAt": now, "updatedAt": now, "archivedAt": None, "groupId": None,
                "paymentTermDays": None, "currency": "EUR", "creditLimit": None,
                "documentDescriptions": {}, "addresses": [],
                "contactPersons": [], "bankAccounts": []},
                **({} if version == 1 else {"changed": ["ownerId"]})}, "crm/clients")


@pytest.fixture(scope="session")
async def publisher(exchange_name: str) -> AsyncIterator[Publisher]:
    conn = await aio_pika.connect(AMQP_URL)
    channel = await conn.channel(publisher_confirms=True)
    exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC,
                                              durable=True)
    yield Publisher(exchange)
    await conn.close()


@dataclass
class Service:
    url: str
    private_key: str
    settings: Settings
    tasks_settings: TasksSettings
    client: httpx.AsyncClient
    db: AsyncEngine
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None

    def token(self, role: str, subject: uuid.UUID | None = None) -> str:
        return mint_token(self.private_key, subject=subject or uuid.uuid4(), roles=[role])

    async def gql(self, token: str | None, query: str, variables: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> httpx.Response:
        headers = dict(headers or {})
        if token:
            headers["authorization"] = f"Bearer {token}"
        return await self.client.post(f"{self.url}/graphql",
                                      json={"query": query, "variables": variables or {}},
                                      headers=headers)

    async def data(self, token: str, query: str, variables: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        response = await self.gql(token, query, variables)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body
        return body["data"]

    async def sql(self, statement: str, **params: Any) -> list[dict[str, Any]]:
        """Run one statement in its own committed transaction."""
        async with self.db.begin() as conn:
            result = await conn.execute(sa.text(statement), params)
            return [dict(r) for r in result.mappings()] if result.returns_rows else []

    async def start(self) -> None:
        app = create_app(self.settings, self.tasks_settings)
        self.server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=self.settings.port, log_config=None, access_log=False,
            lifespan="on"))
        self.task = asyncio.create_task(self.server.serve())
        for _ in range(200):
            if self.server.started:
                break
            await asyncio.sleep(0.05)
        assert self.server.started, "tasks service did not start"

        async def ready() -> bool:  # consumers attached: their queues exist and are bound
            return (await self.client.get(f"{self.url}/healthz/details")).status_code == 200

        await wait_until(ready, within=30)

    async def stop(self) -> None:
        assert self.server is not None and self.task is not None
        self.server.should_exit = True
        await asyncio.wait_for(self.task, timeout=20)
        self.server = self.task = None


def service_environ(port: int, database_url: str, public_key: str, exchange: str,
                    mongodb_url: str, mongodb_database: str) -> dict[str, str]:
    return {
        "CRM_ENV": "test",
        "SERVICE_PORT": str(port),
        "DATABASE_URL": database_url,
        "AMQP_URL": AMQP_URL,
        "EVENTS_EXCHANGE": exchange,
        "JWT_PUBLIC_KEY": public_key,
        "QUEUE_PREFIX": QUEUE_PREFIX,
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
    settings = Settings.from_env("tasks", port, environ=environ)
    tasks_settings = TasksSettings.from_env(settings, environ)
    # idle connections dropped before uvicorn closes them (5 s): no request on a closing socket
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(keepalive_expiry=2)) as client:
        svc = Service(f"http://127.0.0.1:{port}", private, settings, tasks_settings, client, db)
        await svc.start()
        yield svc
        if svc.server is not None:
            await svc.stop()


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
