"""Client groups: reads (everyone signed in). The commands are in :mod:`group`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, any_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_clients.adapters.tables import client_groups
from crm_common.paging import IDS, Page, keyset_page

_BY_IDS = select(client_groups).where(client_groups.c.id == any_(IDS))


async def groups_by_ids(reader: AsyncEngine, ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    async with reader.connect() as conn:
        found = {r["id"]: r for r in (await conn.execute(_BY_IDS, {"ids": list(ids)})).mappings()}
    return [found.get(i) for i in ids]


async def list_groups(reader: AsyncEngine, *, first: int, after: str | None = None,
                      include_archived: bool = False) -> Page:
    """A keyset page of the groups by code. Raises ``InvalidCursor``."""
    stmt = select(client_groups)
    if not include_archived:
        stmt = stmt.where(client_groups.c.archived_at.is_(None))
    return await keyset_page(reader, stmt, key=client_groups.c.code, key_type=str,
                             id_col=client_groups.c.id, first=first, after=after)
