"""Attachments: asking for an upload URL, recording an upload's outcome, removal, and the
bookkeeping of file deletion (which the sweeper retries where the file server refuses).

Life of an attachment row (``status`` / ``file_state``)::

    pending/none ──PUT──▶ uploading/writing ──▶ stored/present ──remove──▶ removed/to_delete
                                   │                                          │
                                   └─fail─▶ failed/deleted | failed/to_delete  └─▶ .../deleted

The GridFS file id is chosen and recorded before the first byte is written, so every file the
service ever wrote can be found again from PostgreSQL (DESIGN §8: the stand-in server cannot be
queried for orphans).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.auth import Principal
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.parsing import parse_id
from crm_common.problems import forbidden, not_found, problem
from crm_common.uow import UnitOfWork
from crm_common.versioning import check_version, lock_row
from crm_tasks.adapters.files import new_file_id
from crm_tasks.adapters.tables import attachments, tasks
from crm_tasks.domain.attachment import safe_file_name
from crm_tasks.domain.workflow import WORKERS
from crm_tasks.service_layer.history import record_history
from crm_tasks.service_layer.visibility import relations, visible_tasks

EVENT_ATTACHMENT_ADDED = "crm.tasks.attachment.added"
EVENT_ATTACHMENT_REMOVED = "crm.tasks.attachment.removed"

_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]"
_MIME = re.compile(rf"^{_TOKEN}{{0,63}}/{_TOKEN}{{0,126}}$")
MAX_RAW_FILE_NAME = 4096
#: back-off of the sweeper's delete attempts: 1 min, 2, 4, ... capped at 6 h
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=6)
#: after this many refusals a file is given up on (file_state ``abandoned``, logged, counted)
MAX_DELETE_ATTEMPTS = 30
#: an attachment as events carry it (plain JSON values, camelCase)
ATTACHMENT_FIELDS = (
    "id", "task_id", "file_name", "declared_type", "detected_type", "size", "sha256", "status",
    "created_by", "created_at", "stored_at", "removed_at",
)


@dataclass(frozen=True)
class UploadGrant:
    attachment_id: uuid.UUID
    expires_at: dt.datetime


def attachment_snapshot(row: Mapping[Any, Any]) -> dict[str, Any]:
    return snapshot(row, ATTACHMENT_FIELDS)


async def request_upload(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                         max_bytes: int, ttl: dt.timedelta, now: dt.datetime,
                         grace: dt.timedelta) -> UploadGrant:
    """Record a pending attachment (with its future GridFS file id) on a visible task."""
    task_id = parse_id(raw.get("task_id"), ("input", "taskId"))
    name = raw.get("file_name")
    if not isinstance(name, str) or not name.strip():
        raise problem(("input", "fileName"), "REQUIRED", "a file name is required")
    if len(name) > MAX_RAW_FILE_NAME:
        raise problem(("input", "fileName"), "TOO_LONG",
                      f"at most {MAX_RAW_FILE_NAME} characters")
    declared = raw.get("content_type")
    if declared is not None and (not isinstance(declared, str) or not _MIME.match(declared)):
        raise problem(("input", "contentType"), "INVALID_CONTENT_TYPE",
                      "a content type is written type/subtype, e.g. application/pdf")
    size = raw.get("size")
    if size is not None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise problem(("input", "size"), "INVALID_VALUE", "size is a number of bytes")
        if size > max_bytes:
            raise problem(("input", "size"), "TOO_LARGE", f"files are limited to {max_bytes} "
                                                          "bytes")
    session = uow.session
    visible = (await session.execute(
        select(tasks.c.id).where(tasks.c.id == task_id, visible_tasks(principal, grace=grace))
    )).first()
    if visible is None:
        raise not_found("task", field=("input", "taskId"))
    attachment_id = uuid.uuid4()
    expires = now + ttl
    await session.execute(insert(attachments).values(
        id=attachment_id, task_id=task_id, file_id=new_file_id(), file_name=safe_file_name(name),
        declared_type=declared.lower() if isinstance(declared, str) else None,
        status="pending", file_state="none", created_by=principal.subject,
        upload_expires_at=expires))
    await uow.commit()
    return UploadGrant(attachment_id, expires)


async def begin_upload(engine: AsyncEngine, attachment_id: uuid.UUID, now: dt.datetime
                       ) -> RowMapping | None:
    """Claim a pending attachment for one upload (a URL is good for one upload only); the row
    says ``writing`` before the first byte reaches GridFS."""
    async with engine.begin() as conn:
        found: RowMapping | None = (await conn.execute(
            update(attachments)
            .where(attachments.c.id == attachment_id, attachments.c.status == "pending",
                   attachments.c.upload_expires_at > now)
            .values(status="uploading", file_state="writing", upload_started_at=now,
                    version=attachments.c.version + 1)
            .returning(attachments)
        )).mappings().one_or_none()
    return found


async def finish_upload(uow: UnitOfWork, attachment_id: uuid.UUID, *, size: int, sha256: str,
                        detected_type: str | None) -> RowMapping | None:
    """Mark the upload stored and publish it; None when the row is no longer ``uploading``
    (the sweeper took it for dead meanwhile): the caller then discards the file."""
    session = uow.session
    row: RowMapping | None = (await session.execute(
        update(attachments)
        .where(attachments.c.id == attachment_id, attachments.c.status == "uploading")
        .values(status="stored", file_state="present", size=size, sha256=sha256,
                detected_type=detected_type, stored_at=func.now(),
                version=attachments.c.version + 1)
        .returning(attachments)
    )).mappings().one_or_none()
    if row is None:
        return None
    await record_history(session, actor=row["created_by"], task_id=row["task_id"],
                         operation="attachment_added",
                         changes={"attachment": attachment_snapshot(row)})
    uow.record(DomainEvent(type=EVENT_ATTACHMENT_ADDED, subject=str(row["id"]),
                           data={"attachment": attachment_snapshot(row),
                                 "taskId": str(row["task_id"])}))
    await uow.commit()
    return row


async def fail_upload(engine: AsyncEngine, attachment_id: uuid.UUID, reason: str, *,
                      deleted: bool, delete_error: str | None, now: dt.datetime) -> None:
    """An upload that did not complete: no attachment; its file deleted or queued for it."""
    values: dict[str, Any] = {"status": "failed", "failure": reason[:500],
                              "version": attachments.c.version + 1}
    if deleted:
        values["file_state"] = "deleted"
    else:
        values.update(file_state="to_delete", delete_attempts=1,
                      next_delete_at=now + FIRST_RETRY,
                      last_delete_error=(delete_error or "")[:500])
    async with engine.begin() as conn:
        await conn.execute(update(attachments).where(attachments.c.id == attachment_id)
                           .values(**values))


async def remove_attachment(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                            grace: dt.timedelta) -> RowMapping:
    """Remove a stored attachment: gone from the task now, its file queued for deletion (the
    caller deletes it at once after the commit; the sweeper retries if that fails)."""
    attachment_id = parse_id(raw.get("id"), ("input", "id"))
    session = uow.session
    row = await lock_row(
        session, attachments, attachment_id, what="attachment",
        statement=select(attachments, tasks.c.assignee_id, tasks.c.assigned_by)
        .join(tasks, tasks.c.id == attachments.c.task_id),
        where=and_(attachments.c.status == "stored", visible_tasks(principal, grace=grace)))
    version = raw.get("version")
    if version is not None:  # optional here: removing twice is refused as not found anyway
        check_version(row, version, what="attachment")
    if row["created_by"] != principal.subject and not (
            relations(principal, row["assignee_id"], row["assigned_by"]) & WORKERS):
        raise forbidden("only the uploader, the assignee, the one who assigned the task or a "
                        "manager may remove an attachment", field=("input", "id"))
    new: RowMapping = (await session.execute(
        update(attachments).where(attachments.c.id == attachment_id)
        .values(status="removed", file_state="to_delete", removed_at=func.now(),
                removed_by=principal.subject, next_delete_at=func.now(),
                version=attachments.c.version + 1)
        .returning(attachments)
    )).mappings().one()
    await record_history(session, actor=principal.subject, task_id=new["task_id"],
                         operation="attachment_removed",
                         changes={"attachment": attachment_snapshot(new)})
    uow.record(DomainEvent(type=EVENT_ATTACHMENT_REMOVED, subject=str(new["id"]),
                           data={"attachment": attachment_snapshot(new),
                                 "taskId": str(new["task_id"])}))
    await uow.commit()
    return new


def next_retry(attempts: int, now: dt.datetime) -> dt.datetime:
    delay: dt.timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return now + min(delay, MAX_RETRY)


async def record_deleted(engine: AsyncEngine, attachment_id: uuid.UUID) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(attachments).where(attachments.c.id == attachment_id)
                           .values(file_state="deleted", next_delete_at=None))


async def record_refusal(engine: AsyncEngine, attachment_id: uuid.UUID, attempts: int,
                         error: str, now: dt.datetime) -> str:
    """Count a refused delete; back off, or give up after ``MAX_DELETE_ATTEMPTS``."""
    state = "abandoned" if attempts >= MAX_DELETE_ATTEMPTS else "to_delete"
    async with engine.begin() as conn:
        await conn.execute(update(attachments).where(attachments.c.id == attachment_id).values(
            file_state=state, delete_attempts=attempts, last_delete_error=error[:500],
            next_delete_at=None if state == "abandoned" else next_retry(attempts, now)))
    return state
