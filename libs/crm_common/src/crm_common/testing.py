"""Checks every service's test suite runs the same way (imported by tests, not by services)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import asyncpg
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from crm_common.correlation import correlation_id
from crm_common.db import drop_database
from crm_common.messaging.catalogue import Catalogue
from crm_common.messaging.envelope import DomainEvent, dumps, to_cloudevent
from crm_common.migrations import alembic_config, upgrade


@contextlib.asynccontextmanager
async def migrated_database(service: str, migrate: Callable[[str], None],
                            run: str) -> AsyncIterator[str]:
    """The URL of a new database ``crm_<service>_test_<run>`` that ``migrate`` (the service's
    ``cli.migrate``) brings to head; dropped on leaving."""
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_{service}_test_{run}"
    await asyncio.to_thread(migrate, url)
    yield url
    await drop_database(url)


async def check_migrations(service: str, migrations: Path, metadata: sa.MetaData) -> None:
    """On a fresh database: the migrations build exactly the tables the code describes, go down
    to nothing and up again, and a second upgrade is a no-op. Raises ``AssertionError``."""
    url = (f"postgresql+asyncpg://postgres@127.0.0.1:5432/"
           f"crm_{service}_mig_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url, migrations)
    engine = create_async_engine(url)
    try:
        await asyncio.to_thread(upgrade, url, migrations)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata))
        assert diff == [], f"tables.py and the migrations differ: {diff}"
        await asyncio.to_thread(command.downgrade, config, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
        assert tables == ["alembic_version"], f"left after downgrading to base: {tables}"
        await asyncio.to_thread(command.upgrade, config, "head")
        await asyncio.to_thread(upgrade, url, migrations)  # a second run is a no-op
    finally:
        await engine.dispose()
        await drop_database(url)


# -- the events exchange of a test run ---------------------------------------------------------

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass
class CaughtEvents:
    """Every event a tap received, and those that did not match the catalogue."""

    received: list[dict[str, Any]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def of_type(self, type_: str, subject: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.received
                if e["type"] == type_ and (subject is None or e["subject"] == subject)]

    async def wait_for(self, predicate: Callable[[dict[str, Any]], bool],
                       within: float = 15.0) -> list[dict[str, Any]]:
        """The events matching ``predicate`` once there is at least one (AssertionError after
        ``within`` seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            found = [e for e in self.received if predicate(e)]
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError("expected event did not arrive in time")

    async def wait_for_type(self, type_: str, subject: str | None = None, count: int = 1,
                            within: float = 15.0) -> list[dict[str, Any]]:
        """The events of ``type_`` (about ``subject``) once there are ``count`` of them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(self.of_type(type_, subject)) < count:
            if loop.time() >= deadline:
                raise AssertionError(f"{count} × {type_} did not arrive in time")
            await asyncio.sleep(0.05)
        return self.of_type(type_, subject)

    def assert_all_valid(self) -> None:
        assert not self.invalid, "events that do not match events/asyncapi.yaml:\n" + \
            "\n".join(self.invalid[:5])


def client_snapshot(client_id: uuid.UUID, *, owner: uuid.UUID | None, version: int = 1,
                    name: str = "Тракия Дистрибуция АД", status: str = "active",
                    eik: str | None = None, group: uuid.UUID | None = None,
                    payment_term_days: int | None = None, code: str | None = None,
                    now: str | None = None) -> dict[str, Any]:
    """A client as the clients service's ``crm.clients.client.*`` events carry it (a company,
    no dossier), for a test that publishes them in that service's stead; ``code`` is a random
    one and ``now`` (``createdAt``, ``updatedAt``) the present unless told."""
    now = now or dt.datetime.now(dt.UTC).isoformat()
    return {
        "id": str(client_id), "code": code or f"C{uuid.uuid4().int % 10**6:06d}",
        "kind": "company", "legalName": name, "tradeName": None, "eik": eik,
        "vatNumber": None, "status": status, "ownerId": str(owner) if owner else None,
        "phones": [], "emails": [], "website": None, "notes": None, "tags": [],
        "version": version, "createdAt": now, "updatedAt": now, "archivedAt": None,
        "addresses": [], "contactPersons": [], "bankAccounts": [],
        "groupId": str(group) if group else None, "paymentTermDays": payment_term_days,
        "currency": "EUR", "creditLimit": None, "documentDescriptions": {},
    }


def employee_snapshot(employee_id: uuid.UUID, *, role: str = "sales_rep",
                      name: str = "Иван Петров", active: bool = True, version: int = 1,
                      now: str | None = None) -> dict[str, Any]:
    """An employee as the clients service's ``crm.clients.employee.*`` events carry it."""
    now = now or dt.datetime.now(dt.UTC).isoformat()
    return {"id": str(employee_id), "fullName": name, "email": None, "phone": None,
            "role": role, "managerId": None, "active": active, "version": version,
            "createdAt": now, "updatedAt": now}


async def open_tap(exchange_name: str, caught: CaughtEvents, binding: str = "#",
                   amqp_url: str = AMQP_URL) -> aio_pika.abc.AbstractConnection:
    """Bind an exclusive queue to the run's exchange (declaring it) and record every event that
    arrives in ``caught``, each validated against the catalogue. Close the connection to stop."""
    catalogue = Catalogue()
    conn = await aio_pika.connect(amqp_url)
    channel = await conn.channel()
    exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC,
                                              durable=True)
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(exchange, binding)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            envelope = json.loads(message.body)
            caught.received.append(envelope)
            try:
                catalogue.validate(envelope)
            except Exception as exc:  # noqa: BLE001 - collected, reported by the caller
                caught.invalid.append(f"{envelope.get('type')}: {exc}")

    await queue.consume(on_message)
    return conn


def event_message(type_: str, subject: str, data: dict[str, Any], *, source: str,
                  correlation_id: str | None = None) -> tuple[dict[str, Any], aio_pika.Message]:
    """An event as another service's relay would send it (CloudEvent, persistent), checked
    against the catalogue: the envelope and the message to publish with routing key ``type_``."""
    envelope = to_cloudevent(DomainEvent(type=type_, subject=subject, data=data),
                             source=source, actor_id="system", correlation_id=correlation_id)
    Catalogue().validate(envelope)
    return envelope, aio_pika.Message(
        dumps(envelope), message_id=envelope["id"], type=type_,
        content_type="application/cloudevents+json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT)


class RunPublisher:
    """Publishes onto a run's exchanges what the other services would (``platform``: CloudEvents
    checked against the catalogue) and what the ERP would (``erp``: bodies as its connector
    sends them); a service's conftest subclasses it with the events its tests need."""

    #: where :meth:`erp_raw` sends a body unless told
    erp_routing_key = "erp.sales.invoice.posted"

    def __init__(self, platform: aio_pika.abc.AbstractExchange,
                 erp: aio_pika.abc.AbstractExchange) -> None:
        self.platform = platform
        self.erp = erp

    async def event(self, type_: str, subject: str, data: dict[str, Any],
                    source: str = "crm/clients") -> dict[str, Any]:
        """Publish an :func:`event_message` on the platform's exchange; the envelope."""
        envelope, message = event_message(type_, subject, data, source=source)
        await self.platform.publish(message, routing_key=type_)
        return envelope

    async def erp_raw(self, body: bytes, routing_key: str | None = None,
                      message_id: str | None = None) -> None:
        """Publish ``body`` as it is on the ERP's exchange (persistent, a CloudEvent's content
        type), whatever it holds."""
        await self.erp.publish(aio_pika.Message(
            body, message_id=message_id, content_type="application/cloudevents+json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
            routing_key=routing_key or self.erp_routing_key)


async def publish_event(exchange_name: str, type_: str, subject: str, data: dict[str, Any], *,
                        source: str, amqp_url: str = AMQP_URL) -> dict[str, Any]:
    """Publish one :func:`event_message` on its own confirmed connection; returns the envelope."""
    envelope, message = event_message(type_, subject, data, source=source)
    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(exchange_name)
        await exchange.publish(message, routing_key=type_)
    return envelope


async def queue_depth(name: str, amqp_url: str = AMQP_URL) -> int:
    """The messages waiting in queue ``name`` (a passive declare: the queue must exist)."""
    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel()
        queue = await channel.declare_queue(name, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def delete_broker_objects(exchange_name: str, queues: list[str],
                                amqp_url: str = AMQP_URL) -> None:
    """Remove a run's exchange, the relay's archive queue of it, and the given queues."""
    conn = await aio_pika.connect(amqp_url)
    async with conn:
        channel = await conn.channel()
        for queue in [f"{exchange_name}.archive", *queues]:
            await channel.queue_delete(queue)
        await channel.exchange_delete(exchange_name)


# -- a service under test ------------------------------------------------------------------------


async def start_server(app: Any, port: int, name: str) -> tuple[Any, asyncio.Task[None]]:
    """Serve ``app`` with uvicorn on 127.0.0.1:``port`` inside the running event loop (its
    lifespan on); returns once it listens: the server and the task serving it."""
    import uvicorn  # a service dependency; imported here to keep this module light

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, f"{name} did not start"
    return server, task


async def stop_server(server: Any, task: asyncio.Task[None]) -> None:
    """Stop what :func:`start_server` started (its lifespan's shutdown included)."""
    server.should_exit = True
    await asyncio.wait_for(task, timeout=20)


@dataclass
class ServiceUnderTest:
    """A service's ASGI app served by uvicorn on a free port inside the test's event loop, and an
    HTTP client speaking GraphQL to it with real tokens (the integration tests of every service).
    ``make_app`` builds the app afresh for each :meth:`start` (a test may stop and start it)."""

    name: str
    url: str
    private_key: str
    settings: Any
    client: Any  # httpx.AsyncClient
    database_url: str
    make_app: Callable[[], Any]
    server: Any = None
    task: asyncio.Task[None] | None = None
    #: how long :meth:`start` waits for ``/healthz/details`` to say everything is up
    ready_within: float = 15.0

    def token(self, role: str, subject: uuid.UUID | None = None, **claims: Any) -> str:
        from crm_common.devkeys import mint_token
        return mint_token(self.private_key, subject=subject or uuid.uuid4(), roles=[role],
                          **claims)

    async def gql(self, token: str | None, query: str,
                  variables: dict[str, Any] | None = None,
                  headers: dict[str, str] | None = None) -> Any:
        """POST a GraphQL request with ``token``; ``headers`` are sent besides (an
        ``idempotency-key``, an ``x-correlation-id``)."""
        headers = dict(headers or {})
        if token:
            headers["authorization"] = f"Bearer {token}"
        return await self.client.post(f"{self.url}/graphql",
                                      json={"query": query, "variables": variables or {}},
                                      headers=headers)

    async def data(self, token: str, query: str,
                   variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The ``data`` of a request that must succeed without GraphQL errors."""
        response = await self.gql(token, query, variables)
        body = response.json()
        assert response.status_code == 200, body
        assert "errors" not in body, body
        return dict(body["data"])

    async def errors(self, token: str, query: str,
                     variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The GraphQL ``errors`` of a request that must fail."""
        body = (await self.gql(token, query, variables)).json()
        assert body.get("errors"), body
        return list(body["errors"])

    async def start(self) -> None:
        """Serve, then wait until ``/healthz/details`` says everything is up: the relay
        connected and the consumers attached, their queues declared (``/readyz`` is the
        database alone)."""
        self.server, self.task = await start_server(self.make_app(), self.settings.port,
                                                    f"{self.name} service")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ready_within
        while True:
            ready = await self.client.get(f"{self.url}/healthz/details")
            if ready.status_code == 200:
                return
            if loop.time() >= deadline:
                raise AssertionError(f"{self.name} service not ready: {ready.text}")
            await asyncio.sleep(0.05)

    async def sql(self, statement: str, **params: object) -> list[dict[str, Any]]:
        """Run ``statement`` on the service's database (a connection of its own); the rows."""
        import sqlalchemy as sa
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(self.database_url)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(sa.text(statement), params)
                return [dict(r) for r in result.mappings()] if result.returns_rows else []
        finally:
            await engine.dispose()

    async def stop(self) -> None:
        assert self.server is not None and self.task is not None
        await stop_server(self.server, self.task)
        self.server = self.task = None


S = TypeVar("S", bound=ServiceUnderTest)


def service_environ(port: int, database_url: str, exchange_name: str, public_key: str,
                    queue_prefix: str, amqp_url: str = AMQP_URL) -> dict[str, str]:
    """The environment a service under test reads its settings from (``Settings.from_env``):
    the test environment, its port, database, broker, the run's exchange and queue prefix, and
    the public key of the run's tokens."""
    return {
        "CRM_ENV": "test",
        "SERVICE_PORT": str(port),
        "DATABASE_URL": database_url,
        "AMQP_URL": amqp_url,
        "EVENTS_EXCHANGE": exchange_name,
        "QUEUE_PREFIX": queue_prefix,
        "JWT_PUBLIC_KEY": public_key,
    }


@contextlib.asynccontextmanager
async def running_service(kind: type[S], name: str, private_key: str, settings: Any,
                          make_app: Callable[[], Any], *, request_timeout: float = 30
                          ) -> AsyncIterator[S]:
    """A ``kind`` (:class:`ServiceUnderTest` or a subclass) serving ``make_app()`` on
    ``settings.port``, started and ready, with its own HTTP client (``request_timeout`` seconds a
    request); stopped on leaving unless a test stopped it."""
    import httpx

    # idle connections dropped before uvicorn closes them (5 s): no request on a closing socket
    async with httpx.AsyncClient(timeout=request_timeout,
                                 limits=httpx.Limits(keepalive_expiry=2)) as client:
        svc = kind(name, f"http://127.0.0.1:{settings.port}", private_key, settings, client,
                   settings.database_url, make_app=make_app)
        await svc.start()
        yield svc
        if svc.server is not None:
            await svc.stop()


@contextlib.contextmanager
def statements_sent() -> Iterator[list[str]]:
    """The SQL statements every engine of this process sends while the block runs, in order: a
    service under test runs in this process, so they are its requests' and whatever its relay
    and consumers send meanwhile (:func:`request_statements` leaves those out)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def request_statements(seen: list[str]) -> list[str]:
    """``seen`` (:func:`statements_sent`) without what a service sends in the background: pool
    pings, the relay's LISTEN and NOTIFY and its outbox polls, the consumers' inbox."""
    return [s for s in seen
            if not s.lstrip().upper().startswith(("SELECT 1", "LISTEN", "NOTIFY"))
            and "outbox" not in s and "inbox" not in s]


async def wait_until(check: Callable[[], Any], within: float = 15.0,
                     interval: float = 0.05) -> Any:
    """Poll an async ``check`` until it returns something truthy (events are asynchronous);
    AssertionError after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


# -- database connections dropped under a request (issue 14) ----------------------------------

_TERMINATE_OTHERS = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                     "AND application_name = 'crm'")


async def terminate_service_connections(database_url: str) -> int:
    """``pg_terminate_backend`` every connection a service process (application name ``crm``)
    holds to the database of ``database_url``, as a database restart or a failover would; returns
    how many there were."""
    url = sa.make_url(database_url).set(drivername="postgresql")
    conn = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        return int(await conn.fetchval(_TERMINATE_OTHERS))
    finally:
        await conn.close()


@contextlib.contextmanager
def connections_dropped_at_commit(correlation: str, *, which: str) -> Iterator[list[str]]:
    """While inside: at the commit of the first transaction of the request whose
    ``x-correlation-id`` is ``correlation`` (the service runs in this process), the database
    connections are terminated:

    - ``which="own"``: the transaction's own connection, just before COMMIT: the commit fails
      and the change is lost, the caller gets an error (a connection dropped mid-request);
    - ``which="others"``: every other connection of the service, just before COMMIT: the commit
      succeeds and whatever is read after it draws dead pooled connections;
    - ``which="after"``: the commit succeeds, then an error is raised as if the answer were lost
      on the way (the caller gets an error for a committed change).

    Yields a list that records what happened (``"own"``, ``"others"``, ``"after"``)."""
    if which not in ("own", "others", "after"):
        raise ValueError(which)
    fired: list[str] = []

    def mine(session: Session) -> bool:  # a SAVEPOINT's release is no commit
        return (not fired and correlation_id.get() == correlation
                and not session.in_nested_transaction())

    def before_commit(session: Session) -> None:
        if which == "after" or not mine(session):
            return
        fired.append(which)
        if which == "own":
            session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
        else:
            session.connection().exec_driver_sql(_TERMINATE_OTHERS)

    def after_commit(session: Session) -> None:
        if which == "after" and mine(session):
            fired.append(which)
            raise ConnectionResetError("the answer was lost on its way to the caller (test)")

    event.listen(Session, "before_commit", before_commit)
    event.listen(Session, "after_commit", after_commit)
    try:
        yield fired
    finally:
        event.remove(Session, "before_commit", before_commit)
        event.remove(Session, "after_commit", after_commit)


async def lost_and_retried(service: Any, token: str, query: str,
                           variables: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The drill of issue 14 for one mutation of a service running in this process: the first
    attempt, sent with an Idempotency-Key, loses its database connection at commit (the caller
    gets GraphQL errors, nothing is stored); then the same request with the same key is sent
    twice. Returns the two retries' payloads (``data[field]``), each checked free of errors.
    ``service`` has ``gql(token, query, variables, headers=...)`` (``ServiceUnderTest``)."""
    key = str(uuid.uuid4())
    cid = f"drill-{uuid.uuid4().hex}"
    with connections_dropped_at_commit(cid, which="own") as fired:
        first = (await service.gql(token, query, variables,
                                   headers={"idempotency-key": key, "x-correlation-id": cid})
                 ).json()
    assert fired == ["own"], "the drill's commit never happened"
    assert first.get("errors"), first
    payloads = []
    for _ in range(2):
        body = (await service.gql(token, query, variables,
                                  headers={"idempotency-key": key})).json()
        assert "errors" not in body, body
        payload = body["data"][field]
        assert payload["userErrors"] == [], payload
        payloads.append(payload)
    return payloads


@contextlib.asynccontextmanager
async def serving(app: Any, port: int) -> AsyncIterator[str]:
    """``app`` under a real uvicorn server in this process (its lifespan on), for the test's
    block; yields its base URL."""
    server, task = await start_server(app, port, "the server")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await stop_server(server, task)
