"""Reads of report files: one file, for whom may see it (who asked for it; an admin)."""

from __future__ import annotations

import uuid

from sqlalchemy import RowMapping, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.attachments import records
from crm_common.auth import Principal


async def file_for(reader: AsyncEngine, table: Table, file_id: uuid.UUID,
                   principal: Principal) -> RowMapping | None:
    """The file if ``principal`` asked for it or is an admin; None otherwise (a file made
    under someone else's access rule reads as not found)."""
    row = await records.attachment_by_id(reader, table, file_id)
    if row is None:
        return None
    if row["requested_by"] != principal.subject and "admin" not in principal.roles:
        return None
    return row
