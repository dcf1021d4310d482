"""The audit history of a meeting, activity or competitor, newest first (keyset on the id)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_activities.adapters.tables import history
from crm_activities.service_layer.paging import Page
from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor


async def history_of(reader: AsyncEngine, entity_id: uuid.UUID, *, first: int,
                     after: str | None) -> Page:
    """The caller has already checked that the principal may see the entity."""
    statement = select(history).where(history.c.entity_id == entity_id)
    if after:
        (raw_id,) = decode_cursor(after, 1)
        if not isinstance(raw_id, int) or isinstance(raw_id, bool):
            raise InvalidCursor("malformed cursor")
        statement = statement.where(history.c.id < raw_id)
    statement = statement.order_by(history.c.id.desc()).limit(first + 1)
    async with reader.connect() as conn:
        rows = list((await conn.execute(statement)).mappings())
    kept = rows[:first]
    cursors = [encode_cursor([r["id"]]) for r in kept]
    return Page(kept, len(rows) > first, cursors[-1] if cursors else None, cursors)
