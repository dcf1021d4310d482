"""Inbox: the consumer side of "nothing applied twice".

Each consumer records ``(consumer, event_id)`` in the same transaction as the effect of the event.
A redelivered event finds its row and is skipped; a rolled-back attempt leaves no row.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

INBOX_TABLE = "inbox"


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
