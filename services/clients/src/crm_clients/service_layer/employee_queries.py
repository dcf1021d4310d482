"""The staff directory: reads (everyone signed in). The commands are in :mod:`employee`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, any_, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_clients.adapters.tables import employees
from crm_common.paging import IDS, Page, keyset_page

_BY_IDS = select(employees).where(employees.c.id == any_(IDS))


async def employees_by_ids(reader: AsyncEngine,
                           ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    async with reader.connect() as conn:
        found = {r["id"]: r for r in (await conn.execute(_BY_IDS, {"ids": list(ids)})).mappings()}
    return [found.get(i) for i in ids]


async def list_employees(reader: AsyncEngine, *, first: int, after: str | None,
                         active: bool | None = None, role: str | None = None,
                         manager_id: uuid.UUID | None = None, name: str | None = None,
                         ) -> Page:
    """Keyset page by (full name, id). Raises ``InvalidCursor``."""
    stmt = select(employees)
    if active is not None:
        stmt = stmt.where(employees.c.active.is_(active))
    if role is not None:
        stmt = stmt.where(employees.c.role == role)
    if manager_id is not None:
        stmt = stmt.where(employees.c.manager_id == manager_id)
    if name:
        escaped = name.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(employees.c.full_name).like(f"%{escaped}%", escape="\\"))
    return await keyset_page(reader, stmt, key=employees.c.full_name, key_type=str,
                             id_col=employees.c.id, first=first, after=after)
