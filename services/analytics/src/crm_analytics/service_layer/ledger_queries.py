"""Reads of the ledger for operators: the documents no client matches yet, the messages parked
as unusable. Keyset pages (``received_at``, id) and (id), newest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_analytics.adapters.tables import erp_documents, erp_parked
from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor


@dataclass(frozen=True)
class RowPage:
    rows: list[Any]
    cursors: list[str]
    has_next: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


async def unmatched_documents(reader: AsyncEngine, *, first: int,
                              after: str | None) -> RowPage:
    """ERP documents no CRM client matches (by id or EIK), newest received first."""
    d = erp_documents.c
    statement = sa.select(erp_documents).where(d.client_id.is_(None))
    if after:
        raw = decode_cursor(after, 3)
        try:
            moment = dt.datetime.fromisoformat(str(raw[0]))
            doc_type, erp_id = str(raw[1]), str(raw[2])
        except (TypeError, ValueError) as exc:
            raise InvalidCursor("malformed cursor") from exc
        statement = statement.where(
            sa.tuple_(d.received_at, d.doc_type, d.erp_id) < sa.tuple_(
                sa.literal(moment, sa.DateTime(timezone=True)), sa.literal(doc_type),
                sa.literal(erp_id)))
    statement = statement.order_by(d.received_at.desc(), d.doc_type.desc(),
                                   d.erp_id.desc()).limit(first + 1)
    async with reader.connect() as conn:
        rows = list(await conn.execute(statement))
    kept = rows[:first]
    return RowPage(kept, [encode_cursor([r.received_at.isoformat(), r.doc_type, r.erp_id])
                          for r in kept], len(rows) > first)


async def parked_messages(reader: AsyncEngine, *, first: int, after: str | None) -> RowPage:
    """ERP messages parked as unusable, newest first."""
    p = erp_parked.c
    statement = sa.select(erp_parked)
    if after:
        raw = decode_cursor(after, 1)
        try:
            position = int(str(raw[0]))
        except (TypeError, ValueError) as exc:
            raise InvalidCursor("malformed cursor") from exc
        statement = statement.where(p.id < position)
    statement = statement.order_by(p.id.desc()).limit(first + 1)
    async with reader.connect() as conn:
        rows = list(await conn.execute(statement))
    kept = rows[:first]
    return RowPage(kept, [encode_cursor([str(r.id)]) for r in kept], len(rows) > first)


async def counts(reader: AsyncEngine) -> dict[str, int]:
    """How many unmatched documents and parked messages there are."""
    async with reader.connect() as conn:
        unmatched = await conn.scalar(sa.select(sa.func.count()).select_from(erp_documents)
                                      .where(erp_documents.c.client_id.is_(None)))
        parked = await conn.scalar(sa.select(sa.func.count()).select_from(erp_parked))
    return {"unmatched": int(unmatched or 0), "parked": int(parked or 0)}
