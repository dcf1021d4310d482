"""The bookkeeping of attachments in the service's own database (the table of
:func:`~crm_common.attachments.tables.define_attachment_table`): reading an upload request,
recording the pending attachment, claiming it for one upload, recording the outcome, removal,
and the file deletions the sweeper retries where the file server refuses.

What is the service's own stays with it: whether the caller may attach to the owner (a task,
an asset), the history entry and the event of a stored or removed attachment (the ``on_stored``
hook of the mount, and the service's remove command, which calls :func:`mark_removed`).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm_common.attachments.files import new_file_id
from crm_common.attachments.names import safe_file_name
from crm_common.attachments.tables import owner_column
from crm_common.jsonvalues import snapshot
from crm_common.paging import Page, keyset_pages_by_parent
from crm_common.problems import problem

_TOKEN = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]"
_MIME = re.compile(rf"^{_TOKEN}{{0,63}}/{_TOKEN}{{0,126}}$")
MAX_RAW_FILE_NAME = 4096
#: back-off of the sweeper's delete attempts: 1 min, 2, 4, ... capped at 6 h
FIRST_RETRY = dt.timedelta(minutes=1)
MAX_RETRY = dt.timedelta(hours=6)
#: after this many refusals a file is given up on (file_state ``abandoned``, logged, counted)
MAX_DELETE_ATTEMPTS = 30
#: an attachment as events and history carry it (plus the owner column; camelCase JSON)
SNAPSHOT_FIELDS = (
    "id", "file_name", "declared_type", "detected_type", "size", "sha256", "status",
    "created_by", "created_at", "stored_at", "removed_at",
)

Path = tuple[str, ...]


@dataclass(frozen=True)
class UploadRequest:
    """An upload asked for, its input checked: the name made safe, the declared type (not
    trusted; lower case), the declared size (checked again while streaming)."""

    file_name: str
    declared_type: str | None
    size: int | None


@dataclass(frozen=True)
class UploadGrant:
    attachment_id: uuid.UUID
    expires_at: dt.datetime


def attachment_snapshot(table: Table, row: Mapping[Any, Any]) -> dict[str, Any]:
    """The attachment as plain JSON values (camelCase), the owner column included."""
    fields = ("id", owner_column(table).name, *SNAPSHOT_FIELDS[1:])
    return snapshot(row, fields)


def read_upload_request(raw: Mapping[str, Any], *, max_bytes: int, path: Path = ("input",)
                        ) -> UploadRequest:
    """``fileName`` (required), ``contentType`` (optional, ``type/subtype``), ``size``
    (optional, bytes, at most ``max_bytes``) of ``raw`` (snake_case keys), or the problem
    naming the field under ``path``."""
    name = raw.get("file_name")
    if not isinstance(name, str) or not name.strip():
        raise problem((*path, "fileName"), "REQUIRED", "a file name is required")
    if len(name) > MAX_RAW_FILE_NAME:
        raise problem((*path, "fileName"), "TOO_LONG", f"at most {MAX_RAW_FILE_NAME} characters")
    declared = raw.get("content_type")
    if declared is not None and (not isinstance(declared, str) or not _MIME.match(declared)):
        raise problem((*path, "contentType"), "INVALID_CONTENT_TYPE",
                      "a content type is written type/subtype, e.g. application/pdf")
    size = raw.get("size")
    if size is not None:
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise problem((*path, "size"), "INVALID_VALUE", "size is a number of bytes")
        if size > max_bytes:
            raise problem((*path, "size"), "TOO_LARGE", f"files are limited to {max_bytes} "
                                                        "bytes")
    return UploadRequest(safe_file_name(name),
                         declared.lower() if isinstance(declared, str) else None, size)


async def insert_pending(session: AsyncSession, table: Table, owner_id: uuid.UUID,
                         request: UploadRequest, *, created_by: uuid.UUID, now: dt.datetime,
                         ttl: dt.timedelta, **extra: Any) -> UploadGrant:
    """Record a pending attachment of ``owner_id`` with its future GridFS file id (in the
    caller's transaction; the caller commits). ``extra`` fills the service's own columns."""
    attachment_id = uuid.uuid4()
    expires = now + ttl
    await session.execute(insert(table).values(
        id=attachment_id, file_id=new_file_id(), file_name=request.file_name,
        declared_type=request.declared_type, status="pending", file_state="none",
        created_by=created_by, upload_expires_at=expires,
        **{owner_column(table).name: owner_id}, **extra))
    return UploadGrant(attachment_id, expires)


async def begin_upload(engine: AsyncEngine, table: Table, attachment_id: uuid.UUID,
                       now: dt.datetime) -> RowMapping | None:
    """Claim a pending attachment for one upload (a URL is good for one upload only); the row
    says ``writing`` before the first byte reaches GridFS."""
    async with engine.begin() as conn:
        found: RowMapping | None = (await conn.execute(
            update(table)
            .where(table.c.id == attachment_id, table.c.status == "pending",
                   table.c.upload_expires_at > now)
            .values(status="uploading", file_state="writing", upload_started_at=now,
                    version=table.c.version + 1)
            .returning(table)
        )).mappings().one_or_none()
    return found


async def mark_stored(session: AsyncSession, table: Table, attachment_id: uuid.UUID, *,
                      size: int, sha256: str, detected_type: str | None) -> RowMapping | None:
    """Mark the upload stored (in the caller's transaction); None when the row is no longer
    ``uploading`` (the sweeper took it for dead meanwhile): the caller then discards the file."""
    row: RowMapping | None = (await session.execute(
        update(table)
        .where(table.c.id == attachment_id, table.c.status == "uploading")
        .values(status="stored", file_state="present", size=size, sha256=sha256,
                detected_type=detected_type, stored_at=func.now(),
                version=table.c.version + 1)
        .returning(table)
    )).mappings().one_or_none()
    return row


async def fail_upload(engine: AsyncEngine, table: Table, attachment_id: uuid.UUID, reason: str,
                      *, deleted: bool, delete_error: str | None, now: dt.datetime) -> None:
    """An upload that did not complete: no attachment; its file deleted or queued for it."""
    values: dict[str, Any] = {"status": "failed", "failure": reason[:500],
                              "version": table.c.version + 1}
    if deleted:
        values["file_state"] = "deleted"
    else:
        values.update(file_state="to_delete", delete_attempts=1,
                      next_delete_at=now + FIRST_RETRY,
                      last_delete_error=(delete_error or "")[:500])
    async with engine.begin() as conn:
        await conn.execute(update(table).where(table.c.id == attachment_id).values(**values))


async def mark_removed(session: AsyncSession, table: Table, attachment_id: uuid.UUID, *,
                       removed_by: uuid.UUID) -> RowMapping:
    """Take a stored attachment off its owner now and queue its file for deletion (in the
    caller's transaction, after the caller locked the row and checked who may; after the
    commit the caller deletes the file at once with :func:`~crm_common.attachments.sweeper.
    delete_now`, and the sweeper retries if that fails)."""
    row: RowMapping = (await session.execute(
        update(table).where(table.c.id == attachment_id)
        .values(status="removed", file_state="to_delete", removed_at=func.now(),
                removed_by=removed_by, next_delete_at=func.now(),
                version=table.c.version + 1)
        .returning(table)
    )).mappings().one()
    return row


def next_retry(attempts: int, now: dt.datetime) -> dt.datetime:
    delay: dt.timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return now + min(delay, MAX_RETRY)


async def record_deleted(engine: AsyncEngine, table: Table, attachment_id: uuid.UUID) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(table).where(table.c.id == attachment_id)
                           .values(file_state="deleted", next_delete_at=None))


async def record_refusal(engine: AsyncEngine, table: Table, attachment_id: uuid.UUID,
                         attempts: int, error: str, now: dt.datetime) -> str:
    """Count a refused delete; back off, or give up after ``MAX_DELETE_ATTEMPTS``."""
    state = "abandoned" if attempts >= MAX_DELETE_ATTEMPTS else "to_delete"
    async with engine.begin() as conn:
        await conn.execute(update(table).where(table.c.id == attachment_id).values(
            file_state=state, delete_attempts=attempts, last_delete_error=error[:500],
            next_delete_at=None if state == "abandoned" else next_retry(attempts, now)))
    return state


# --- reads (the autocommit reader engine; each call checks out its own connection) ---------

#: (owner id, page size, cursor or None)
AttachmentKey = tuple[uuid.UUID, int, str | None]


async def attachment_by_id(reader: AsyncEngine, table: Table, attachment_id: uuid.UUID
                           ) -> RowMapping | None:
    async with reader.connect() as conn:
        return (await conn.execute(select(table).where(table.c.id == attachment_id))
                ).mappings().one_or_none()


async def stored_by_owner(reader: AsyncEngine, table: Table, keys: Sequence[AttachmentKey]
                          ) -> list[Page]:
    """Pages of the stored attachments (oldest first) of owners the caller already resolved
    (so may see): one statement per distinct (page size, cursor), whatever the number of
    owners. Raises ``InvalidCursor``."""
    groups: dict[tuple[int, str | None], list[uuid.UUID]] = defaultdict(list)
    for owner_id, first, after in keys:
        groups[(first, after)].append(owner_id)
    stored = select(table).where(table.c.status == "stored")
    found: dict[AttachmentKey, Page] = {}
    for (first, after), ids in groups.items():
        pages = await keyset_pages_by_parent(
            reader, ids, owner_column(table), stored, key=table.c.created_at,
            key_type=dt.datetime, id_col=table.c.id, first=first, after=after)
        found.update({(i, first, after): p for i, p in zip(ids, pages, strict=True)})
    return [found[k] for k in keys]
