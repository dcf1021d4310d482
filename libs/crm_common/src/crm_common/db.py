"""The async SQLAlchemy engine of a service and helpers to create its database."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy import Delete
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

T = TypeVar("T")

#: how many times :func:`read_retrying` runs a read whose connection was lost
READ_ATTEMPTS = 3


def make_engine(database_url: str, *, pool_size: int = 20) -> AsyncEngine:
    """The service's engine. Pre-ping on: every checkout first tests the pooled connection (an
    empty statement, one round trip) and replaces it when the server dropped it (a restart, an
    idle timeout, ``pg_terminate_backend``). Without it a committed change was answered as an
    error when the read of its payload drew a stale connection, and the caller's retry created
    the object twice (issue 14). A connection that dies between the ping and the statement is
    what :func:`read_retrying` (and every DataLoader, ``crm_common.graphql.context``) covers.

    The pool is sized for the concurrency one process serves (DataLoaders of one request check
    out connections in parallel): connections beyond ``pool_size`` are closed when returned, and
    opening them again under load cost a third of the throughput (docs/benchmarks.md)."""
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size // 2,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"server_settings": {"application_name": "crm"}},
    )


async def read_retrying(read: Callable[[], Awaitable[T]], *,
                        attempts: int = READ_ATTEMPTS) -> T:
    """Run ``read`` (a query that changes nothing) and, when its connection was lost under it
    (SQLAlchemy invalidated it: the server closed it), run it again on a fresh connection, up to
    ``attempts`` times in all. Any other error is raised at once. Used for what is read after a
    change committed, so that the committed change is not answered as an error."""
    for attempt in range(1, attempts + 1):
        try:
            return await read()
        except DBAPIError as exc:
            if not exc.connection_invalidated or attempt == attempts:
                raise
    raise AssertionError("unreachable")


def make_reader(engine: AsyncEngine) -> AsyncEngine:
    """The same pool in autocommit mode, for read queries: one statement, one round trip, no
    BEGIN/ROLLBACK around it. Reads that need a consistent snapshot use a session instead."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


async def delete_in_batches(engine: AsyncEngine, statement: Delete, batch_size: int) -> int:
    """Run a DELETE whose victims are limited to ``batch_size`` rows (``... IN (SELECT ... LIMIT
    n FOR UPDATE SKIP LOCKED)``) again and again, each time in its own short transaction, until
    a run deletes fewer than ``batch_size``; return how many rows went in all."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total = 0
    while True:
        async with engine.begin() as conn:
            deleted = (await conn.execute(statement)).rowcount or 0
        total += deleted
        if deleted < batch_size:
            return total


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _server_dsn(database_url: str, database: str = "postgres") -> tuple[str, str]:
    url = make_url(database_url)
    name = url.database or ""
    server = url.set(drivername="postgresql", database=database)
    return server.render_as_string(hide_password=False), name


async def create_database_if_missing(database_url: str) -> bool:
    """Create the database named in ``database_url``; returns True when it was created."""
    dsn, name = _server_dsn(database_url)
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


async def drop_database(database_url: str) -> None:
    dsn, name = _server_dsn(database_url)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
