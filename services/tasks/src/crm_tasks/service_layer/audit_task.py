"""The task an inventory audit raises: a ``missing`` or ``damaged`` asset line
(``crm.clients.asset.audited`` / ``.missing``) becomes one task for the client's owner, exactly
once per (audit, asset) — also when the event is delivered twice or both events of a missing
line arrive (the ``audit_line_tasks`` primary key, claimed first in the consumer's
transaction; concurrent deliveries wait for each other on it).

Who gets it: the event's ``clientOwnerId`` (the owner at audit time), else the owner in this
service's projection of the client (``access_clients``), else the employee who audited (so that
no finding is lost for a client without owner). The task is assigned by the auditor (who may
therefore see and follow it), linked to the client and to the visit (``activityId``), due
``AUDIT_TASK_DUE_DAYS`` (default 7) after the day of the audit in ``TASKS_TIMEZONE``; priority
HIGH for a missing asset, NORMAL for a damaged one. Published: ``crm.tasks.task.created``.
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.correlation import correlation_id
from crm_common.messaging.envelope import DomainEvent, to_cloudevent
from crm_common.messaging.outbox import write_to_outbox
from crm_tasks.adapters.tables import access, audit_line_tasks
from crm_tasks.domain.audit_line import RAISES_TASK, due_date, parse_audit_line, task_text
from crm_tasks.domain.task import TaskKind
from crm_tasks.service_layer.task import EVENT_CREATED, insert_task, task_snapshot


async def raise_audit_task(session: AsyncSession, envelope: dict[str, Any], *, tz: ZoneInfo,
                           due_days: int, source: str) -> uuid.UUID | None:
    """The task raised for the event's audit line, in ``session``'s transaction (the consumer
    commits); None when the line raises none or raised one already. ``MalformedEvent`` when
    the event is not the contract's."""
    line = parse_audit_line(envelope)
    if not line.raises_task:
        return None
    # the task's id is fixed before the claim; the foreign key is checked at commit
    task_id = uuid.uuid4()
    claimed = (await session.execute(
        insert(audit_line_tasks).values(audit_id=line.audit_id, asset_id=line.asset_id,
                                        task_id=task_id, result=line.result.value)
        .on_conflict_do_nothing(index_elements=["audit_id", "asset_id"])
        .returning(audit_line_tasks.c.task_id))).first()
    if claimed is None:
        return None
    c = access.require_clients()
    client = (await session.execute(select(c.c.name, c.c.owner_id)
                                    .where(c.c.client_id == line.client_id))).first()
    e = access.require_employees()
    auditor = (await session.execute(select(e.c.full_name)
                                     .where(e.c.employee_id == line.audited_by))).scalar()
    assignee = line.client_owner_id or (client.owner_id if client else None) or line.audited_by
    title, description = task_text(line, client.name if client else None, auditor)
    row = await insert_task(session, {
        "title": title, "description": description, "kind": TaskKind.GENERAL,
        "commitment_type": None, "client_id": line.client_id, "activity_id": line.activity_id,
        "meeting_id": None, "contract_id": None, "assignee_id": assignee,
        "due_date": due_date(line, tz, due_days), "priority": RAISES_TASK[line.result],
        "watchers": [],
    }, assigned_by=line.audited_by, task_id=task_id, extra_history={"raisedBy": {
        "event": envelope.get("type"), "auditId": str(line.audit_id),
        "assetId": str(line.asset_id), "result": line.result.value}})
    await write_to_outbox(session, [to_cloudevent(
        DomainEvent(type=EVENT_CREATED, subject=str(row["id"]),
                    data={"task": task_snapshot(row)}),
        source=source, actor_id=str(line.audited_by), correlation_id=correlation_id.get())])
    return task_id
