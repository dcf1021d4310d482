"""The file sweeper: deletes the GridFS files of attachments that never completed or were
removed, through the file ids recorded in PostgreSQL (DESIGN §8), retrying with back-off where
the file server refuses. A service runs it per attachment table and its store (bucket), on a
timer (the tasks service: ``SWEEPER_INTERVAL_SECONDS``) and from its command line.

One pass: (1) pending attachments whose upload URL expired unused become ``failed`` (no file
was written); (2) uploads still ``writing`` long after they started (their process died) are
queued for deletion; (3) every file queued for deletion and due for an attempt is deleted, or
its refusal counted. Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so replicas share work.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import Table, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.attachments.files import AttachmentStore, FileRefused
from crm_common.attachments.records import record_deleted, record_refusal

log = logging.getLogger("crm.attachments.sweeper")
BATCH = 200
#: grace after a pending URL's expiry before the row is declared failed
PENDING_GRACE = dt.timedelta(minutes=1)


@dataclass
class SweepResult:
    expired: int = 0
    stale: int = 0
    deleted: int = 0
    refused: int = 0
    abandoned: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


async def sweep(engine: AsyncEngine, attachments: Table, store: AttachmentStore, *,
                now: dt.datetime, stale_after: dt.timedelta) -> SweepResult:
    """One pass over ``attachments`` whose files live in ``store``; ``stale_after``: how long
    an upload may stay ``writing`` before its process is taken for dead."""
    result = SweepResult()
    a = attachments.c
    async with engine.begin() as conn:
        result.expired = (await conn.execute(
            update(attachments)
            .where(a.status == "pending", a.upload_expires_at < now - PENDING_GRACE)
            .values(status="failed", failure="upload URL expired unused")
        )).rowcount or 0
        result.stale = (await conn.execute(
            update(attachments)
            .where(a.file_state == "writing", a.upload_started_at < now - stale_after)
            .values(status="failed", file_state="to_delete", next_delete_at=now,
                    failure="upload never finished")
        )).rowcount or 0
    while True:
        async with engine.begin() as conn:
            due = list((await conn.execute(
                select(a.id, a.file_id, a.delete_attempts)
                .where(a.file_state == "to_delete",
                       or_(a.next_delete_at.is_(None), a.next_delete_at <= now))
                .order_by(a.next_delete_at).limit(BATCH)
                .with_for_update(skip_locked=True)
            )).mappings())
            # claim them for this pass: push the next attempt out while we work
            if due:
                await conn.execute(update(attachments)
                                   .where(a.id.in_([r["id"] for r in due]))
                                   .values(next_delete_at=now + dt.timedelta(minutes=5)))
        for row in due:
            try:
                await store.delete(row["file_id"])
            except FileRefused as exc:
                state = await record_refusal(engine, attachments, row["id"],
                                             row["delete_attempts"] + 1, str(exc), now)
                result.refused += 1
                if state == "abandoned":
                    result.abandoned += 1
                    log.error("gave up deleting file %s of attachment %s: %s", row["file_id"],
                              row["id"], exc)
                continue
            await record_deleted(engine, attachments, row["id"])
            result.deleted += 1
        if len(due) < BATCH:
            return result


async def delete_now(engine: AsyncEngine, attachments: Table, store: AttachmentStore,
                     attachment_id: uuid.UUID, file_id: str, now: dt.datetime) -> bool:
    """Try once to delete a removed attachment's file right away; the sweeper retries."""
    try:
        await store.delete(file_id)
    except FileRefused as exc:
        await record_refusal(engine, attachments, attachment_id, 1, str(exc), now)
        return False
    await record_deleted(engine, attachments, attachment_id)
    return True
