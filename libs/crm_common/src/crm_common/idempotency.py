"""Idempotent mutations: the ``Idempotency-Key`` header (issue 14).

Mobile apps on field networks retry. A caller sends ``Idempotency-Key: <key>`` with a mutation;
the kit's mutation helper (``crm_common.graphql.mutations.mutate``) then

- looks for a stored outcome of ``(principal, key, field)`` (``field`` is the mutation's
  response key: its alias, else its name, so one request may carry several mutations under one
  key), then runs the command under that claim. The first unit of work the command opens
  (``crm_common.uow``) takes a transaction-level advisory lock on the claim and looks again; a
  concurrent request with the same key waits at the lock until the first one ends, and so finds
  the first one's outcome;
- finds one made from the same input (a SHA-256 of the field's name and its arguments): the
  command stops there (``Replay``) and the stored outcome is the answer, the work not done again;
- finds one made from another input: the userError ``IDEMPOTENCY_KEY_REUSED``;
- finds none: the command runs. Its ``commit()`` is handed over to the helper, which writes the
  outcome into ``idempotency_keys`` in **the same transaction** as the change, then commits: a
  committed change always has its stored outcome, and a change that rolled back has none.
  Four statements more than without a key: a look before, then lock, look and store in the
  command's transaction.

What is stored is the command's outcome (the id of the changed object, a grant, a job's counts),
not the HTTP response: a retry gets the same object, shown as it is now. A command refused with
``userErrors`` changed nothing and stores nothing, so its retry runs again. Rows live for
:data:`KEEP` (24 hours); :func:`sweep` deletes expired ones (every service runs it periodically,
``crm_common.service``), and an expired row is never answered.

Keys: 1–255 visible ASCII characters (``!``–``~``: a UUID is the usual choice). An empty, longer
or otherwise malformed key is the userError ``INVALID_IDEMPOTENCY_KEY`` and nothing runs. Queries
ignore the header.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import datetime as dt
import enum
import hashlib
import importlib
import json
import logging
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm_common.db import delete_in_batches
from crm_common.problems import problem

TABLE = "idempotency_keys"
HEADER = "Idempotency-Key"
#: how long an outcome is kept and answered
KEEP = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255
#: rows deleted per statement by the sweeper
SWEEP_BATCH_SIZE = 5_000
#: how often each service process sweeps expired keys
SWEEP_INTERVAL_SECONDS = 3600.0

log = logging.getLogger("crm.idempotency")

_KEY = re.compile(rf"[!-~]{{1,{MAX_KEY_LENGTH}}}")
_FIELD = ("Idempotency-Key",)

#: the raw ``Idempotency-Key`` header of the current request (set by the kit's middleware)
requested_key: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "idempotency_key", default=None)


def define_idempotency_table(metadata: sa.MetaData) -> sa.Table:
    """Add (or return the already defined) ``idempotency_keys`` table to ``metadata``."""
    if TABLE in metadata.tables:
        return metadata.tables[TABLE]
    return sa.Table(
        TABLE,
        metadata,
        sa.Column("principal", UUID(as_uuid=True), primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("operation", sa.Text, primary_key=True),
        sa.Column("request_hash", sa.Text, nullable=False),
        sa.Column("outcome", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
    )


_META = sa.MetaData()
_TABLE = define_idempotency_table(_META)

# The statements of a claim, written once (built per call they cost ~0.3 ms of CPU each).
_LOCK = sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))")
_FIND = sa.text(
    f"SELECT request_hash, outcome FROM {TABLE} WHERE principal = :principal AND key = :key "
    "AND operation = :operation AND expires_at > now()"
).columns(request_hash=sa.Text, outcome=JSONB)
#: the outcome's row; it replaces an expired one the sweeper has not reached yet, never an
#: unexpired one (the first outcome stored for the key stays)
_UPSERT = sa.text(
    f"INSERT INTO {TABLE} AS k (principal, key, operation, request_hash, outcome, expires_at) "
    "VALUES (:principal, :key, :operation, :request_hash, CAST(:outcome AS jsonb), "
    "now() + :keep) "
    "ON CONFLICT (principal, key, operation) DO UPDATE SET request_hash = "
    "excluded.request_hash, outcome = excluded.outcome, created_at = now(), "
    "expires_at = excluded.expires_at WHERE k.expires_at <= now()")


def create_table_in_migration() -> None:
    """The ``upgrade()`` of each service's migration that adds the table (Alembic's ``op``);
    the table is the same in every service. A later change to it is a new function here and a
    new migration in each service, never an edit of this one."""
    from alembic import op
    from sqlalchemy.dialects import postgresql

    op.create_table(
        TABLE,
        sa.Column("principal", sa.UUID(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("outcome", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("principal", "key", "operation"),
    )
    op.create_index("ix_idempotency_keys_expires_at", TABLE, ["expires_at"], unique=False)


def drop_table_in_migration() -> None:
    """The matching ``downgrade()``."""
    from alembic import op

    op.drop_index("ix_idempotency_keys_expires_at", table_name=TABLE)
    op.drop_table(TABLE)


def check_key(raw: str) -> str:
    """The key as sent, when it is 1–255 visible ASCII characters; else ``Problems``
    (``INVALID_IDEMPOTENCY_KEY``, field ``Idempotency-Key``)."""
    if _KEY.fullmatch(raw):
        return raw
    if raw == "" or raw.isspace():
        why = "is empty"
    elif len(raw) > MAX_KEY_LENGTH:
        why = f"is longer than {MAX_KEY_LENGTH} characters"
    else:
        why = "may hold only visible ASCII characters (no spaces or control characters)"
    raise problem(_FIELD, "INVALID_IDEMPOTENCY_KEY",
                  f"The Idempotency-Key header {why}; send a UUID or another token of 1 to "
                  f"{MAX_KEY_LENGTH} visible ASCII characters")


def reused() -> Exception:
    return problem(_FIELD, "IDEMPOTENCY_KEY_REUSED",
                   "This Idempotency-Key was already used for a different input; send a new "
                   "key for a new request")


# -- the fingerprint of a request -------------------------------------------------------------

def _plain(value: Any) -> Any:
    """Input values as JSON for fingerprinting: input objects by their fields, enums by value,
    anything else by ``str``; an unset optional field differs from an explicit null."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if type(value).__name__ == "UnsetType":  # strawberry.UNSET
        return {"$unset": True}
    return str(value)


def fingerprint(field_name: str, arguments: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a mutation field's name and its coerced arguments."""
    text = json.dumps([field_name, _plain(arguments)], sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# -- the stored outcome -----------------------------------------------------------------------

def encode(value: Any) -> Any:
    """A command's outcome as JSON that :func:`decode` turns back into equal values: None,
    booleans, numbers, strings, UUIDs, decimals, dates and times, tuples, lists, mappings with
    string keys (decoded as dicts) and dataclasses of the ``crm_*`` packages. Anything else is a
    ``TypeError``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"$": "float", "v": repr(value)}
    if isinstance(value, uuid.UUID):
        return {"$": "uuid", "v": str(value)}
    if isinstance(value, Decimal):
        return {"$": "decimal", "v": str(value)}
    if isinstance(value, dt.datetime):
        return {"$": "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$": "date", "v": value.isoformat()}
    if isinstance(value, tuple):
        return {"$": "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only mappings with string keys can be stored")
        return {"$": "map", "v": {k: encode(v) for k, v in value.items()}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        if not kind.__module__.startswith("crm_"):
            raise TypeError(f"{kind.__qualname__} is not a dataclass of the platform")
        return {"$": "dataclass", "type": f"{kind.__module__}:{kind.__qualname__}",
                "v": {f.name: encode(getattr(value, f.name))
                      for f in dataclasses.fields(value) if f.init}}
    raise TypeError(f"a {type(value).__name__} cannot be stored as an idempotent outcome")


def decode(data: Any) -> Any:
    if data is None or isinstance(data, bool | int | str):
        return data
    if isinstance(data, list):
        return [decode(v) for v in data]
    tag, v = data["$"], data["v"]
    if tag == "float":
        return float(v)
    if tag == "uuid":
        return uuid.UUID(v)
    if tag == "decimal":
        return Decimal(v)
    if tag == "datetime":
        return dt.datetime.fromisoformat(v)
    if tag == "date":
        return dt.date.fromisoformat(v)
    if tag == "tuple":
        return tuple(decode(x) for x in v)
    if tag == "map":
        return {k: decode(x) for k, x in v.items()}
    if tag == "dataclass":
        module, _, qualname = data["type"].partition(":")
        if not module.startswith("crm_"):
            raise ValueError(f"refusing to rebuild {data['type']}")
        kind: Any = importlib.import_module(module)
        for part in qualname.split("."):
            kind = getattr(kind, part)
        if not (isinstance(kind, type) and dataclasses.is_dataclass(kind)):
            raise ValueError(f"{data['type']} is not a dataclass")
        return kind(**{k: decode(x) for k, x in v.items()})
    raise ValueError(f"unknown stored value tag {tag!r}")


# -- the claim of one mutation ----------------------------------------------------------------

@dataclass
class Stored:
    """An outcome found for a key: its fingerprint and the value."""

    request_hash: str
    value: Any


class Replay(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a unit of work when, holding the key's lock, it found the outcome a concurrent
    request stored meanwhile: the command must not run; the helper answers ``stored``."""

    def __init__(self, stored: Stored) -> None:
        super().__init__("idempotent outcome already stored")
        self.stored = stored


@dataclass
class Claim:
    """One mutation field running under a key: the unit of work locks it and hands its commit
    over (``session``) to the helper, which stores the outcome and commits."""

    principal: uuid.UUID
    key: str
    operation: str
    request_hash: str
    #: the unit of work whose transaction holds the key's lock (the first one the command opens)
    owner: object | None = None
    #: that transaction, once the command called ``commit()``: the helper commits it
    session: AsyncSession | None = None

    def _params(self) -> dict[str, Any]:
        return {"principal": self.principal, "key": self.key, "operation": self.operation}

    async def find(self, conn: AsyncSession | Any) -> Stored | None:
        """The unexpired outcome stored for this claim, if any."""
        row = (await conn.execute(_FIND, self._params())).first()
        return None if row is None else Stored(row.request_hash, decode(row.outcome))

    async def lock_and_find(self, session: AsyncSession) -> Stored | None:
        """First statements of the owning transaction: wait for the key's lock (held until a
        concurrent request with the key commits or rolls back), then return the unexpired
        outcome stored for the key, if any. Two statements: the SELECT must take its snapshot
        after the lock was granted, to see what the request it waited for committed."""
        await session.execute(_LOCK, {"lock": f"{self.principal}:{self.key}:{self.operation}"})
        return await self.find(session)

    def _row(self, value: Any) -> dict[str, Any]:
        return {**self._params(), "request_hash": self.request_hash,
                "outcome": json.dumps(encode(value), ensure_ascii=False),
                "keep": KEEP}

    async def store(self, session: AsyncSession, value: Any) -> None:
        """Write the outcome in ``session``'s transaction (committed by the caller)."""
        await session.execute(_UPSERT, self._row(value))

    async def store_alone(self, engine: AsyncEngine, value: Any) -> None:
        """Write the outcome in a transaction of its own (a command that committed no unit of
        work); the first outcome stored for the key stays."""
        row = self._row(value)
        async with engine.begin() as conn:
            await conn.execute(_UPSERT, row)

    async def abandon(self) -> None:
        """Roll back and close a handed-over transaction that is not to be committed."""
        session, self.session = self.session, None
        if session is not None:
            try:
                await session.rollback()
            finally:
                await session.close()


#: the claim of the mutation field running in this task, read by the unit of work
current_claim: contextvars.ContextVar[Claim | None] = contextvars.ContextVar(
    "idempotency_claim", default=None)


async def sweep(engine: AsyncEngine, *, batch_size: int = SWEEP_BATCH_SIZE) -> int:
    """Delete expired outcomes in short batches; returns how many went."""
    victims = (sa.select(_TABLE.c.principal, _TABLE.c.key, _TABLE.c.operation)
               .where(_TABLE.c.expires_at <= sa.func.now())
               .limit(batch_size).with_for_update(skip_locked=True))
    statement = sa.delete(_TABLE).where(
        sa.tuple_(_TABLE.c.principal, _TABLE.c.key, _TABLE.c.operation).in_(victims))
    return await delete_in_batches(engine, statement, batch_size)


async def run_sweeper(engine: AsyncEngine, stop: asyncio.Event, *,
                      interval: float = SWEEP_INTERVAL_SECONDS) -> None:
    """Sweep now and every ``interval`` seconds until ``stop`` is set (every service process
    runs it; replicas skip each other's locked rows). A failed sweep is logged and tried again
    at the next interval."""
    while not stop.is_set():
        try:
            swept = await sweep(engine)
            if swept:
                log.info("idempotency keys swept: %d expired", swept)
        except Exception:  # noqa: BLE001 - the next round tries again
            log.warning("idempotency keys not swept", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
