"""Transactional outbox: the producer side of "nothing lost".

A service writes its change and the envelopes describing it in the same database transaction::

    async with session.begin():
        session.add(client)
        await write_to_outbox(session, [to_cloudevent(event, source=..., actor_id=...)])

Either both are committed or neither. ``write_to_outbox`` also issues ``pg_notify('outbox', '')``
inside the transaction; PostgreSQL delivers it only at commit (and never on rollback), which wakes
the :class:`~crm_common.messaging.relay.OutboxRelay` without polling.

Table ``outbox``: ``id`` (uuid, = envelope id), ``event_type``, ``routing_key`` (= event type),
``envelope`` (jsonb), ``created_at``, ``published_at`` (null until the broker confirmed),
``attempts`` / ``last_error`` (failed publish attempts), ``next_attempt_at`` (back-off after a
per-message failure such as an unroutable or nacked publish). Published rows are kept for a
retention period (a short event log for diagnosis), then deleted by :func:`purge_published`,
which the relay runs periodically. Unpublished rows are never deleted, however old.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm_common.db import delete_in_batches

from .envelope import validate_envelope

OUTBOX_TABLE = "outbox"
NOTIFY_CHANNEL = "outbox"
#: rows deleted per statement by the purges (short transactions, short locks)
PURGE_BATCH_SIZE = 10_000


def define_outbox_table(metadata: sa.MetaData) -> sa.Table:
    """Add (or return the already defined) ``outbox`` table to ``metadata``."""
    if OUTBOX_TABLE in metadata.tables:
        return metadata.tables[OUTBOX_TABLE]
    return sa.Table(
        OUTBOX_TABLE,
        metadata,
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("routing_key", sa.Text, nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Index(
            "ix_outbox_unpublished",
            "created_at",
            postgresql_where=sa.text("published_at IS NULL"),
        ),
    )


#: Table object used for DML by this package (any MetaData yields the same SQL).
outbox_table: sa.Table = define_outbox_table(sa.MetaData())


#: the envelopes (one JSON array) written and the relay notified in one statement: a
#: data-modifying WITH runs to completion whether or not the query reads it, and the rows keep
#: the array's order. Formerly an INSERT and a ``SELECT pg_notify`` (two round trips per unit of
#: work, issue 15); the rows stored are the same (each ``envelope`` is the jsonb of its dict).
_WRITE_AND_NOTIFY = sa.text(
    f"WITH written AS (INSERT INTO {OUTBOX_TABLE} (id, event_type, routing_key, envelope) "
    "SELECT (e ->> 'id')::uuid, e ->> 'type', e ->> 'type', e "
    "FROM jsonb_array_elements(:envelopes) WITH ORDINALITY AS a(e, n) ORDER BY n) "
    f"SELECT pg_notify('{NOTIFY_CHANNEL}', '')"
).bindparams(sa.bindparam("envelopes", type_=JSONB))


async def write_to_outbox(session: AsyncSession, envelopes: list[dict[str, Any]]) -> None:
    """Insert ``envelopes`` into the outbox within the session's current transaction.

    Also queues a ``NOTIFY outbox`` that PostgreSQL delivers at commit; both are one statement.
    The caller commits. Raises :class:`~crm_common.messaging.envelope.InvalidEnvelope` for a
    malformed envelope (before anything is sent).
    """
    if not envelopes:
        return
    for envelope in envelopes:
        validate_envelope(envelope)
        uuid.UUID(envelope["id"])  # the id column's type: refused here, as before, not in SQL
    await session.execute(_WRITE_AND_NOTIFY, {"envelopes": envelopes})


async def purge_published(
    engine: AsyncEngine, older_than: dt.timedelta, *, batch_size: int = PURGE_BATCH_SIZE
) -> int:
    """Delete outbox rows published more than ``older_than`` ago; return how many.

    Unpublished rows (``published_at IS NULL``) are never touched. Deletes in batches of
    ``batch_size`` rows, each in its own short transaction, until a batch comes back short; rows
    locked by someone else (another replica purging) are skipped, never waited for.
    """
    t = outbox_table
    cutoff = sa.func.now() - older_than
    victims = (
        sa.select(t.c.id)
        .where(t.c.published_at.is_not(None), t.c.published_at < cutoff)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    statement = sa.delete(t).where(t.c.id.in_(victims.scalar_subquery()))
    return await delete_in_batches(engine, statement, batch_size)


async def count_backlog(engine: AsyncEngine, *, cap: int | None = None) -> tuple[int, int]:
    """Unpublished outbox rows and, among them, those waiting for a retry (``next_attempt_at``
    in the future), counting at most ``cap`` rows (uses the partial index)."""
    t = outbox_table
    pending = (
        sa.select(t.c.next_attempt_at).select_from(t).where(t.c.published_at.is_(None))
    )
    if cap is not None:
        pending = pending.limit(cap)
    rows = pending.subquery()
    waiting = sa.func.count().filter(rows.c.next_attempt_at > sa.func.now())
    async with engine.connect() as conn:
        total, deferred = (
            await conn.execute(sa.select(sa.func.count(), waiting).select_from(rows))
        ).one()
    return int(total or 0), int(deferred or 0)
