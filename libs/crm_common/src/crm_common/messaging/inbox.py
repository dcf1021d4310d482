"""Inbox: the consumer side of "nothing applied twice".

Each consumer records ``(consumer, event_id)`` in the same transaction as the effect of the event.
A redelivered event finds its row and is skipped; a rolled-back attempt leaves no row.

Retention (decision): rows older than a retention period are deleted by :func:`purge_inbox`
(the :class:`~crm_common.messaging.consumer.ConsumerRunner` runs it periodically; 30 days by
default). The retention must exceed any redelivery window: an event redelivered *after* its inbox
row was purged (e.g. shovelled back from a DLQ months later, or replayed from the archive) is
applied again. Handlers that must stay idempotent beyond the retention compare versions.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm_common.db import delete_in_batches

INBOX_TABLE = "inbox"
#: rows deleted per statement by :func:`purge_inbox`
PURGE_BATCH_SIZE = 10_000


def define_inbox_table(metadata: sa.MetaData) -> sa.Table:
    """Add (or return the already defined) ``inbox`` table to ``metadata``."""
    if INBOX_TABLE in metadata.tables:
        return metadata.tables[INBOX_TABLE]
    return sa.Table(
        INBOX_TABLE,
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.now(),
        ),
    )


#: Table object used for DML by this package.
inbox_table: sa.Table = define_inbox_table(sa.MetaData())


async def claim(session: AsyncSession, consumer: str, event_id: str) -> bool:
    """Record that ``consumer`` handles ``event_id``; False if it already did.

    Runs in the session's current transaction. A concurrent claim of the same event waits on the
    primary key until this transaction ends, then gets False (commit) or True (rollback).
    """
    statement = (
        insert(inbox_table)
        .values(consumer=consumer, event_id=event_id)
        .on_conflict_do_nothing(index_elements=["consumer", "event_id"])
        .returning(inbox_table.c.event_id)
    )
    result = await session.execute(statement)
    return result.first() is not None


async def claim_many(session: AsyncSession, consumer: str, event_ids: list[str]) -> set[str]:
    """Record that ``consumer`` handles these events (one statement); return the ids it had not
    handled before (an id given twice is returned once)."""
    if not event_ids:
        return set()
    rows = await session.execute(
        sa.text("INSERT INTO inbox (consumer, event_id) SELECT :consumer, e FROM "
                "(SELECT DISTINCT e FROM unnest(CAST(:ids AS text[])) AS e ORDER BY e) AS ids "
                "ON CONFLICT (consumer, event_id) DO NOTHING RETURNING event_id"),
        {"consumer": consumer, "ids": event_ids})
    return {row.event_id for row in rows}


async def purge_inbox(
    engine: AsyncEngine, older_than: dt.timedelta, *, batch_size: int = PURGE_BATCH_SIZE
) -> int:
    """Delete inbox rows processed more than ``older_than`` ago; return how many.

    Batches of ``batch_size`` rows, each in its own short transaction, until a batch comes back
    short; rows locked by someone else are skipped. See the module docstring for the trade-off.
    """
    t = inbox_table
    victims = (
        sa.select(t.c.consumer, t.c.event_id)
        .where(t.c.processed_at < sa.func.now() - older_than)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    )
    statement = sa.delete(t).where(sa.tuple_(t.c.consumer, t.c.event_id).in_(victims))
    return await delete_in_batches(engine, statement, batch_size)
