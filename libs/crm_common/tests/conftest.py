"""Fixtures for the messaging integration tests: a throw-away database and unique broker names.

Servers (DESIGN §8): PostgreSQL and RabbitMQ already running; override with
``CRM_TEST_PG_ADMIN_DSN`` (an asyncpg DSN of a database to connect to for CREATE/DROP DATABASE)
and ``CRM_TEST_AMQP_URL``. Every exchange and queue created here carries a random suffix and is
deleted at the end; nothing else on the broker is touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm_common.history import define_history_table
from crm_common.messaging import define_inbox_table, define_outbox_table

PG_ADMIN_DSN = os.environ.get(
    "CRM_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
AMQP_URL = os.environ.get("CRM_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")

metadata = sa.MetaData()
outbox = define_outbox_table(metadata)
inbox = define_inbox_table(metadata)
#: business rows written together with their events (test 1)
things = sa.Table(
    "things",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)
#: effects applied by consumer handlers (tests 3, 4); deliberately no unique constraint
applied = sa.Table(
    "applied",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.Text, nullable=False),
    sa.Column("consumer", sa.Text, nullable=False),
)
#: the history of many entity types, and the history of one (test_history)
history = define_history_table(metadata)
thing_history = define_history_table(
    metadata, sa.Column("note", sa.Text), name="thing_history", identity=True,
    entity=("thing", sa.Column("thing_id", sa.Uuid, nullable=False)))


@pytest.fixture(scope="session")
def suffix() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="session")
async def engine(suffix: str) -> AsyncIterator[AsyncEngine]:
    name = f"crm_common_test_{suffix}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = sa.make_url(PG_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://", 1))
    eng = create_async_engine(base.set(database=name), pool_size=10, pool_pre_ping=True)
    try:
        async with eng.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield eng
    finally:
        await eng.dispose()
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    """The session database, emptied before each test."""
    async with engine.begin() as conn:
        await conn.execute(sa.text("TRUNCATE outbox, inbox, things, applied"))
    return engine


@dataclass
class Rabbit:
    """Unique names for one test, a connection of the test's own, and clean-up bookkeeping."""

    prefix: str
    url: str = AMQP_URL
    queues: list[str] = field(default_factory=list)
    exchanges: list[str] = field(default_factory=list)
    _connection: aio_pika.abc.AbstractConnection | None = None

    @property
    def exchange(self) -> str:
        return f"{self.prefix}.events"

    @property
    def dlx(self) -> str:
        return f"{self.prefix}.dlx"

    def track(self, *queues: str) -> None:
        self.queues.extend(q for q in queues if q not in self.queues)

    async def channel(self) -> aio_pika.abc.AbstractChannel:
        if self._connection is None or self._connection.is_closed:
            self._connection = await aio_pika.connect(self.url)
        return await self._connection.channel()

    async def reset_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connection = None

    async def bind_queue(
        self, name: str, keys: list[str], arguments: dict[str, Any] | None = None
    ) -> None:
        """Declare a durable queue (quorum unless ``arguments`` say otherwise), bind it."""
        self.track(name)
        ch = await self.channel()
        ex = await ch.declare_exchange(self.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        q = await ch.declare_queue(
            name, durable=True, arguments=arguments or {"x-queue-type": "quorum"}
        )
        for key in keys:
            await q.bind(ex, routing_key=key)
        await ch.close()

    async def publish(self, body: bytes, routing_key: str, **props: Any) -> None:
        ch = await self.channel()
        ex = await ch.declare_exchange(self.exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        await ex.publish(aio_pika.Message(body, **props), routing_key)
        await ch.close()

    async def drain(
        self, queue: str, max_messages: int = 10_000
    ) -> list[aio_pika.abc.AbstractIncomingMessage]:
        """Get (and ack) every message currently ready in ``queue``."""
        ch = await self.channel()
        q = await ch.get_queue(queue)
        out = []
        while len(out) < max_messages:
            msg = await q.get(fail=False, timeout=5)
            if msg is None:
                break
            await msg.ack()
            out.append(msg)
        await ch.close()
        return out

    async def count(self, queue: str) -> int:
        ch = await self.channel()
        q = await ch.declare_queue(queue, passive=True)
        await ch.close()
        return q.declaration_result.message_count or 0

    async def cleanup(self) -> None:
        await self.reset_connection()
        conn = await aio_pika.connect(self.url)
        try:
            for name in self.queues:
                ch = await conn.channel()
                with contextlib.suppress(Exception):
                    await ch.queue_delete(name)
            for name in [self.exchange, self.dlx, *self.exchanges]:
                ch = await conn.channel()
                with contextlib.suppress(Exception):
                    await ch.exchange_delete(name)
        finally:
            await conn.close()


_counter = itertools.count()


@pytest.fixture
async def rabbit(suffix: str) -> AsyncIterator[Rabbit]:
    r = Rabbit(prefix=f"test.crm_common.{suffix}.{next(_counter)}")
    try:
        yield r
    finally:
        await r.cleanup()


async def wait_until(
    predicate: Callable[[], Awaitable[bool]], seconds: float, what: str, interval: float = 0.05
) -> None:
    """Poll ``predicate`` until true; fail the test after ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            while not await predicate():  # noqa: ASYNC110 - polling servers, not an in-process flag
                await asyncio.sleep(interval)
    except TimeoutError:
        pytest.fail(f"timed out after {seconds}s waiting for {what}")


@contextlib.asynccontextmanager
async def running(
    run: Callable[[asyncio.Event], Awaitable[None]],
) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``run(stop)`` in a task for the duration of the block; stop it and await it after."""
    stop = asyncio.Event()
    task = asyncio.ensure_future(run(stop))
    try:
        yield task
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, timeout=15)
        except TimeoutError:
            task.cancel()
            raise
    if task.done() and task.exception() is not None:
        raise task.exception()  # type: ignore[misc]


class Helpers:
    """What test modules need from here (``--import-mode=importlib`` forbids importing conftest)."""

    outbox = outbox
    inbox = inbox
    things = things
    applied = applied
    history = history
    thing_history = thing_history
    wait_until = staticmethod(wait_until)
    running = staticmethod(running)


@pytest.fixture(scope="session")
def h() -> Helpers:
    return Helpers()
