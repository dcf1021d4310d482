"""Read side of attachments: query functions over the autocommit reader engine, each checking
out its own connection (DataLoaders running concurrently never share one). Access follows the
task: callers pass tasks they already resolved (so may see)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.paging import Page, keyset_pages_by_parent
from crm_tasks.adapters.tables import attachments

Row = RowMapping

#: the attachments a task lists (oldest first)
_STORED = select(attachments).where(attachments.c.status == "stored")

#: (task id, page size, cursor or None)
AttachmentKey = tuple[uuid.UUID, int, str | None]


async def attachments_by_task(reader: AsyncEngine, keys: Sequence[AttachmentKey]
                              ) -> list[Page]:
    """Pages of the stored attachments of tasks the caller already resolved (so may see): one
    statement per distinct (page size, cursor), whatever the number of tasks."""
    groups: dict[tuple[int, str | None], list[uuid.UUID]] = defaultdict(list)
    for task_id, first, after in keys:
        groups[(first, after)].append(task_id)
    found: dict[AttachmentKey, Page] = {}
    for (first, after), ids in groups.items():
        pages = await keyset_pages_by_parent(
            reader, ids, attachments.c.task_id, _STORED, key=attachments.c.created_at,
            key_type=dt.datetime, id_col=attachments.c.id, first=first, after=after)
        found.update({(i, first, after): p for i, p in zip(ids, pages, strict=True)})
    return [found[k] for k in keys]


async def attachment_by_id(reader: AsyncEngine, attachment_id: uuid.UUID) -> Row | None:
    async with reader.connect() as conn:
        return (await conn.execute(select(attachments).where(attachments.c.id == attachment_id))
                ).mappings().one_or_none()
