"""Attachments of tasks: asking for an upload URL, the history and event of a stored upload,
removal. The store itself (the table's life cycle, the upload and download routes, the
sweeper) is the kit's, ``crm_common.attachments``; what is the tasks service's own is here:
who may attach to or remove from which task, and what is recorded and published.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, and_, select

from crm_common.attachments import records
from crm_common.attachments.records import UploadGrant
from crm_common.auth import Principal
from crm_common.messaging.envelope import DomainEvent
from crm_common.parsing import parse_id
from crm_common.problems import forbidden, not_found
from crm_common.uow import UnitOfWork
from crm_common.versioning import check_version, lock_row
from crm_tasks.adapters.tables import attachments, tasks
from crm_tasks.domain.workflow import WORKERS
from crm_tasks.service_layer.history import record_history
from crm_tasks.service_layer.visibility import relations, visible_tasks

__all__ = ["EVENT_ATTACHMENT_ADDED", "EVENT_ATTACHMENT_REMOVED", "UploadGrant",
           "attachment_snapshot", "attachment_stored", "remove_attachment", "request_upload"]

EVENT_ATTACHMENT_ADDED = "crm.tasks.attachment.added"
EVENT_ATTACHMENT_REMOVED = "crm.tasks.attachment.removed"


def attachment_snapshot(row: Mapping[Any, Any]) -> dict[str, Any]:
    """An attachment as events and history carry it (plain JSON values, camelCase)."""
    return records.attachment_snapshot(attachments, row)


async def request_upload(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                         max_bytes: int, ttl: dt.timedelta, now: dt.datetime,
                         grace: dt.timedelta) -> UploadGrant:
    """Record a pending attachment (with its future GridFS file id) on a visible task."""
    task_id = parse_id(raw.get("task_id"), ("input", "taskId"))
    request = records.read_upload_request(raw, max_bytes=max_bytes)
    session = uow.session
    visible = (await session.execute(
        select(tasks.c.id).where(tasks.c.id == task_id, visible_tasks(principal, grace=grace))
    )).first()
    if visible is None:
        raise not_found("task", field=("input", "taskId"))
    grant = await records.insert_pending(session, attachments, task_id, request,
                                         created_by=principal.subject, now=now, ttl=ttl)
    await uow.commit()
    return grant


async def attachment_stored(uow: UnitOfWork, row: RowMapping) -> None:
    """The upload route's hook, in the transaction that marks the row stored: the task's
    history entry and ``crm.tasks.attachment.added``."""
    await record_history(uow.session, actor=row["created_by"], task_id=row["task_id"],
                         operation="attachment_added",
                         changes={"attachment": attachment_snapshot(row)})
    uow.record(DomainEvent(type=EVENT_ATTACHMENT_ADDED, subject=str(row["id"]),
                           data={"attachment": attachment_snapshot(row),
                                 "taskId": str(row["task_id"])}))


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
    new = await records.mark_removed(session, attachments, attachment_id,
                                     removed_by=principal.subject)
    await record_history(session, actor=principal.subject, task_id=new["task_id"],
                         operation="attachment_removed",
                         changes={"attachment": attachment_snapshot(new)})
    uow.record(DomainEvent(type=EVENT_ATTACHMENT_REMOVED, subject=str(new["id"]),
                           data={"attachment": attachment_snapshot(new),
                                 "taskId": str(new["task_id"])}))
    await uow.commit()
    return new
