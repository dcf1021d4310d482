"""Read side of attachments: the kit's queries (``crm_common.attachments.records``) over the
tasks service's table, on the autocommit reader engine (each call checks out its own
connection; DataLoaders running concurrently never share one). Access follows the task:
callers pass tasks they already resolved (so may see)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.attachments import records
from crm_common.paging import Page
from crm_tasks.adapters.tables import attachments

#: (task id, page size, cursor or None)
AttachmentKey = records.AttachmentKey


async def attachments_by_task(reader: AsyncEngine, keys: Sequence[AttachmentKey]
                              ) -> list[Page]:
    """Pages of the stored attachments (oldest first) of tasks the caller already resolved."""
    return await records.stored_by_owner(reader, attachments, keys)


async def attachment_by_id(reader: AsyncEngine, attachment_id: uuid.UUID) -> RowMapping | None:
    return await records.attachment_by_id(reader, attachments, attachment_id)
