"""The async SQLAlchemy engine of a service and helpers to create its database."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar, cast

import asyncpg
import asyncpg.exceptions
from sqlalchemy import Delete, Executable, RowMapping, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_, greenlet_spawn

T = TypeVar("T")

#: how many times :func:`read_retrying` runs a read whose connection was lost (and
#: :func:`begin_checked` tries a connection)
READ_ATTEMPTS = 3
#: the pause before trying again after a lost connection
LOST_PAUSE_SECONDS = 0.01


def make_engine(database_url: str, *, pool_size: int = 20) -> AsyncEngine:
    """The service's engine. A pooled connection the server closed (a restart, a failover, an
    idle timeout, ``pg_terminate_backend``) is replaced at checkout (:func:`_replace_closed`):
    without that, a committed change was answered as an error when the read of its payload drew
    a stale connection, and the caller's retry created the object twice (issue 14).

    This is the equivalent of ``pool_pre_ping`` without its round trip on every checkout:
    asyncpg already knows a connection whose socket the server closed, so the check costs no
    statement. Pre-ping took ~95 µs of CPU per checkout (+70 % over a checkout and ``SELECT
    1``) and a round trip, and every DataLoader checks out: docs/benchmarks.md, "Pre-ping or
    not". What the check cannot see (a connection the server terminated a moment ago, whose
    end asyncpg has not read yet) is covered for reads by :func:`read_retrying` (every
    DataLoader uses it, ``crm_common.graphql.context``) and for writes by the unit of work's
    BEGIN, sent at once (:func:`begin_checked`, one round trip per change); a write that loses its
    connection later rolls back whole, and its retry with the ``Idempotency-Key`` is safe
    (``crm_common.idempotency``).

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
    from crm_common.messaging.envelope import loads  # here: messaging imports this module

    engine = create_async_engine(
        database_url,
        # JSON and JSONB read through orjson (the envelope's ``loads``, which keeps ``json``'s
        # reading of integers beyond 64 bits): the relay reads every outbox envelope, a command
        # its row's JSON columns; ``json.loads`` was ~2 % of an update's CPU (issue 15)
        json_deserializer=lambda text: loads(text.encode()),
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={"server_settings": {"application_name": "crm"}},
    )
    event.listen(engine.sync_engine, "checkout", _replace_closed)
    return engine


def _replace_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout hook: a connection the server has closed is discarded and the pool opens a
    new one in its place (SQLAlchemy's ``DisconnectionError`` protocol)."""
    raw = getattr(dbapi_connection, "_connection", None)  # asyncpg's Connection
    if raw is not None and raw.is_closed():
        raise DisconnectionError("the database closed this pooled connection")


#: what a connection that died under a statement raises (asyncpg's own classes; SQLAlchemy wraps
#: them, and does not recognise all of them as a disconnect: a connection terminated while idle
#: can answer "cannot switch to state ...; another operation is in progress")
_LOST = (asyncpg.exceptions.InterfaceError, asyncpg.exceptions.InternalClientError,
         asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.AdminShutdownError,
         asyncpg.exceptions.CrashShutdownError, asyncpg.exceptions.CannotConnectNowError,
         ConnectionError)


def connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` says the database connection was lost (closed by the server, or left
    unusable by it), as opposed to an error of the statement itself."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    seen: BaseException | None = exc
    for _ in range(6):  # SQLAlchemy's error -> the adapter's -> asyncpg's
        if seen is None:
            return False
        if isinstance(seen, _LOST):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


async def read_retrying(read: Callable[[], Awaitable[T]], *,
                        attempts: int = READ_ATTEMPTS) -> T:
    """Run ``read`` (a query that changes nothing) and, when its connection was lost under it
    (:func:`connection_lost`), run it again on a fresh connection, up to ``attempts`` times in
    all. Any other error is raised at once. Used for what is read after a change committed, so
    that the committed change is not answered as an error."""
    for attempt in range(1, attempts + 1):
        try:
            return await read()
        except Exception as exc:
            if attempt == attempts or not connection_lost(exc):
                raise
        await _let_asyncpg_notice()
    raise AssertionError("unreachable")


async def _let_asyncpg_notice() -> None:
    """A connection was found dead: the server probably closed its siblings at the same moment
    (a restart, a failover). Yield to the event loop briefly so that asyncpg reads their end
    too, and the checkout check (``make_engine``) discards them instead of handing the next
    one out."""
    await asyncio.sleep(LOST_PAUSE_SECONDS)


def _begin_on_server(sync_connection: Connection) -> None:
    """Send the transaction's BEGIN now, as the round trip that shows the connection alive
    (raises when it is dead).

    SQLAlchemy's asyncpg adapter sends BEGIN lazily, with the first statement, and its
    ``ping()`` on a connection with no transaction open is BEGIN, an empty statement and
    ROLLBACK: three round trips, and then the first statement sent BEGIN again: four before
    the command's first statement (issue 15). Beginning the transaction itself is one, and the
    command's statements then run in it. When the adapter is not the one this knows (no
    ``_start_transaction``, or a transaction already open), its ``ping()`` is used instead."""
    adapted = cast(Any, sync_connection.connection.dbapi_connection)
    start = getattr(adapted, "_start_transaction", None)
    if start is None or getattr(adapted, "_transaction", True) is not None:
        adapted.ping()
        return
    await_(start())


async def begin_checked(factory: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session with its transaction begun on a connection that answered: a write never
    starts on a connection the database dropped (another is tried when one is found dead,
    :data:`READ_ATTEMPTS` in all). The check is the transaction's own BEGIN, sent at once
    (:func:`_begin_on_server`): one round trip per unit of work, not per read
    (``make_engine``), and none added to the command's."""
    for attempt in range(1, READ_ATTEMPTS + 1):
        session = factory()
        try:
            await session.begin()
            conn = await session.connection()
            await conn.run_sync(_begin_on_server)
            return session
        except Exception as exc:
            lost = connection_lost(exc)
            if lost:
                with contextlib.suppress(Exception):
                    await (await session.connection()).invalidate()
            with contextlib.suppress(Exception):
                await session.close()
            if attempt == READ_ATTEMPTS or not lost:
                raise
        await _let_asyncpg_notice()
    raise AssertionError("unreachable")


def make_reader(engine: AsyncEngine) -> AsyncEngine:
    """The same pool in autocommit mode, for read queries: one statement, one round trip, no
    BEGIN/ROLLBACK around it. Reads that need a consistent snapshot use a session instead."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


class _Prepared:
    """A statement built once, compiled once: its SQL for asyncpg, the order of its bind
    parameters with their processors, and the values of the ones it carries itself."""

    __slots__ = ("sql", "order", "defaults", "required")

    def __init__(self, engine: AsyncEngine, statement: Executable) -> None:
        compiled = statement.compile(dialect=engine.dialect)  # type: ignore[attr-defined]
        if compiled.positiontup is None:
            raise TypeError("fetch_rows needs a dialect with positional parameters (asyncpg)")
        if "POSTCOMPILE" in compiled.string:
            raise TypeError("fetch_rows cannot send an expanding IN list (rendered per call): "
                            "write `column == any_(array)` instead")
        processors = compiled._bind_processors
        self.sql: str = compiled.string
        self.order = [(key, processors.get(key)) for key in compiled.positiontup]
        #: the values the statement carries itself; the others the caller must give
        self.defaults: dict[str, Any] = {
            key: value for key, value in compiled.construct_params(_check=False).items()
            if not compiled.binds[key].required}
        self.required = [key for key, _ in self.order if key not in self.defaults]

    def arguments(self, params: Mapping[str, Any] | None) -> list[Any]:
        given = params or {}
        missing = [key for key in self.required if key not in given]
        if missing:
            raise KeyError(f"fetch_rows: no value for bind parameter(s) {', '.join(missing)}")
        values = {**self.defaults, **given}
        return [values[key] if process is None else process(values[key])
                for key, process in self.order]


_PREPARED: weakref.WeakKeyDictionary[Executable, _Prepared] = weakref.WeakKeyDictionary()
_SET_CONFIG = "SELECT set_config($1, $2, false)"


async def fetch_rows(reader: AsyncEngine, statement: Executable,
                     params: Mapping[str, Any] | None = None, *,
                     settings: Mapping[str, str] | None = None) -> list[RowMapping]:
    """The rows of a read statement that is built once (a module constant or ``lru_cache``d),
    sent through asyncpg on a connection of ``reader``'s pool: asyncpg's records, read as
    ``row["column"]`` like SQLAlchemy's ``RowMapping``, the same values (asyncpg decodes every
    type the services use, JSON included: ``test_fetch_rows.py`` compares them column by
    column).

    The DataLoaders' hot reads use it. SQLAlchemy's ``Connection.execute`` and its result
    wrapping cost ~110–140 µs of CPU per statement more (343–352 against 213–238 µs for a
    client's addresses, ``bench/fetch_rows.py``), and the rep's morning sends 11 statements
    (issue 15). The statement is compiled at its first use and kept while it lives; the pool,
    its checkout check (``make_engine``) and its return are SQLAlchemy's. A connection that
    fails under the statement other than by the statement's own error (lost, cancelled) is
    discarded, not returned to the pool. Errors are asyncpg's (``read_retrying`` knows the
    lost-connection ones). Listeners of SQLAlchemy's ``before_cursor_execute`` are called with the
    SQL and the arguments (no connection, cursor or context): the tests' statement counters.
    Only statements built once belong here: each new statement object is compiled anew.

    ``settings`` are run-time settings the statement depends on (pg_trgm's thresholds, which
    its operators read): each is set on the same connection just before the statement
    (``set_config(name, value, false)``, one round trip each) and left so, the reader being in
    autocommit mode; a statement that depends on a setting sets it itself."""
    prepared = _PREPARED.get(statement)
    if prepared is None:
        prepared = _PREPARED[statement] = _Prepared(reader, statement)
    args = prepared.arguments(params)
    seen = reader.sync_engine.dispatch.before_cursor_execute
    if seen:  # statement counters (crm_common.testing.statements_sent) see these reads too
        seen(None, None, prepared.sql, tuple(args), None, False)
    pooled = await reader.raw_connection()
    try:
        driver = pooled.driver_connection
        for name, value in (settings or {}).items():
            await driver.execute(_SET_CONFIG, name, value)  # type: ignore[union-attr]
        records = await driver.fetch(prepared.sql, *args)  # type: ignore[union-attr]
        # typed as RowMapping, which callers read alike (``row["c"]``, ``get``, ``keys``,
        # ``items``, ``in``); unlike it, iterating a record gives its values, not its keys
        return cast(list[RowMapping], records)
    except asyncpg.PostgresError as exc:
        if isinstance(exc, _LOST):
            await greenlet_spawn(pooled.invalidate, exc)
        raise
    except BaseException as exc:
        # lost, cancelled mid-statement, or a bug: the connection's state is unknown
        await asyncio.shield(greenlet_spawn(pooled.invalidate, exc if isinstance(exc, Exception)
                                            else None))
        raise
    finally:
        await asyncio.shield(greenlet_spawn(pooled.close))


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
