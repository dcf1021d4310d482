"""The async SQLAlchemy engine of a service and helpers to create its database."""

from __future__ import annotations

import asyncpg
from sqlalchemy import Delete
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(database_url: str, *, pool_size: int = 20) -> AsyncEngine:
    """The service's engine. No pre-ping (it costs a round trip per checkout): when PostgreSQL
    restarts, the first statement on a stale connection fails, SQLAlchemy invalidates the whole
    pool, and the next request connects afresh; writes in that one request roll back whole.

    The pool is sized for the concurrency one process serves (DataLoaders of one request check
    out connections in parallel). It keeps ``pool_size`` connections and opens no more: a
    checkout beyond them waits for one to come back. With overflow connections (formerly half as
    many again) the dossier at concurrency 16 opened and closed a PostgreSQL connection every
    6–18 requests (four loader checkouts per request went past the pool, and overflow
    connections are closed when returned; a new backend costs PostgreSQL a fork and the service
    a handshake; issue 15). Waiting a moment for a kept connection is cheaper. ``pool_size``
    is per process: with ``WEB_CONCURRENCY`` workers a pod opens up to that many times
    ``DB_POOL_SIZE``.
    """
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"server_settings": {"application_name": "crm"}},
    )


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
