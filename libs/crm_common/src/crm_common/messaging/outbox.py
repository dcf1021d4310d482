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
per-message failure such as an unroutable or nacked publish). Published rows are kept (they are
the service's event log); pruning old published rows is left to a maintenance job.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from .envelope import validate_envelope

OUTBOX_TABLE = "outbox"
NOTIFY_CHANNEL = "outbox"


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


async def write_to_outbox(session: AsyncSession, envelopes: list[dict[str, Any]]) -> None:
    """Insert ``envelopes`` into the outbox within the session's current transaction.

    Also queues a ``NOTIFY outbox`` that PostgreSQL delivers at commit. The caller commits.
    Raises :class:`~crm_common.messaging.envelope.InvalidEnvelope` for a malformed envelope.
    """
    if not envelopes:
        return
    rows = []
    for envelope in envelopes:
        validate_envelope(envelope)
        rows.append(
            {
                "id": uuid.UUID(envelope["id"]),
                "event_type": envelope["type"],
                "routing_key": envelope["type"],
                "envelope": envelope,
            }
        )
    await session.execute(sa.insert(outbox_table), rows)
    await session.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, "")))
