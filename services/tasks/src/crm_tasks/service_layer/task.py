"""Commands on tasks: small functions of (unit of work, principal, input).

Each handler validates with the domain, checks access and the workflow table, changes the row,
writes the history and records the events, then commits. Any ``Problems`` raised before the
commit leaves the database untouched (the unit of work rolls back).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.auth import Principal
from crm_common.client_access import active_employee
from crm_common.jsonvalues import jsonable, snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.parsing import parse_id
from crm_common.problems import Problems, camel, forbidden, problem
from crm_common.uow import UnitOfWork
from crm_common.validation import Collector
from crm_common.versioning import lock_versioned
from crm_tasks.adapters.tables import access, task_number_seq, tasks
from crm_tasks.domain.task import (
    PRODUCED,
    CommitmentType,
    Outcome,
    TaskStatus,
    closed_status,
    validate_closing,
    validate_comment,
    validate_due_date,
    validate_new_task,
    validate_priority,
    validate_update,
)
from crm_tasks.domain.workflow import Change, Relation, Verdict, decide, may_change, rule
from crm_tasks.service_layer.history import diff, record_history
from crm_tasks.service_layer.visibility import can_see_client, relations, visible_tasks

EVENT_CREATED = "crm.tasks.task.created"
EVENT_ASSIGNED = "crm.tasks.task.assigned"
EVENT_UPDATED = "crm.tasks.task.updated"
EVENT_STATUS_CHANGED = "crm.tasks.task.status_changed"
EVENT_CLOSED = "crm.tasks.task.closed"
EVENT_REOPENED = "crm.tasks.task.reopened"

ID = ("input", "id")

#: a task as events carry it (plain JSON values, camelCase)
TASK_FIELDS = (
    "id", "number", "title", "description", "kind", "commitment_type", "client_id",
    "activity_id", "meeting_id", "contract_id", "assignee_id", "assigned_by", "due_date",
    "priority", "status", "outcome", "refusal_reason", "watchers", "version", "created_at",
    "updated_at", "closed_at",
)


def task_snapshot(row: Mapping[Any, Any]) -> dict[str, Any]:
    return snapshot(row, TASK_FIELDS)


def format_number(n: int) -> str:
    return f"T{n:06d}"


def _event(uow: UnitOfWork, type_: str, row: Mapping[Any, Any], **extra: Any) -> None:
    uow.record(DomainEvent(type=type_, subject=str(row["id"]),
                           data={"task": task_snapshot(row), **extra}))


async def _check_people(checks: Collector, session: AsyncSession, assignee: uuid.UUID | None,
                        watchers: list[uuid.UUID] | None) -> None:
    if assignee is not None and not await active_employee(session, access, assignee):
        checks.add("assigneeId", "NOT_AN_ACTIVE_EMPLOYEE",
                   "the assignee must be an active employee")
    if watchers:
        e = access.require_employees()
        known = set((await session.execute(
            select(e.c.employee_id).where(e.c.employee_id.in_(watchers), e.c.active)
        )).scalars())
        if any(w not in known for w in watchers):
            checks.add("watchers", "NOT_AN_ACTIVE_EMPLOYEE",
                       "every watcher must be an active employee")


async def _check_client(checks: Collector, session: AsyncSession, principal: Principal,
                        client_id: uuid.UUID, grace: dt.timedelta) -> None:
    c = access.require_clients()
    status = (await session.execute(select(c.c.status).where(c.c.client_id == client_id))
              ).scalar()
    if status is None or not await can_see_client(session, principal, client_id, grace=grace):
        checks.add("clientId", "NOT_FOUND", "client not found")
    elif status == "archived":
        checks.add("clientId", "CLIENT_ARCHIVED", "the client is archived")


async def create_task(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                      grace: dt.timedelta) -> uuid.UUID:
    data = validate_new_task(raw)
    session = uow.session
    checks = Collector()
    await _check_people(checks, session, data["assignee_id"], data["watchers"])
    if data["client_id"] is not None:
        await _check_client(checks, session, principal, data["client_id"], grace)
    checks.done()
    row = await insert_task(session, data, assigned_by=principal.subject)
    _event(uow, EVENT_CREATED, row)
    await uow.commit()
    task_id: uuid.UUID = row["id"]
    return task_id


async def insert_task(session: AsyncSession, data: Mapping[str, Any], *,
                      assigned_by: uuid.UUID, task_id: uuid.UUID | None = None,
                      extra_history: Mapping[str, Any] | None = None) -> RowMapping:
    """Insert a new, assigned task from validated ``data`` (``validate_new_task``'s shape) with
    its number and its ``created`` history entry (by ``assigned_by``); the caller publishes
    ``crm.tasks.task.created`` and commits. ``extra_history`` joins the entry's changes (what
    raised the task, when it was not a person's request)."""
    number = format_number(int(await session.scalar(select(task_number_seq.next_value())) or 0))
    values = {
        **data,
        "id": task_id or uuid.uuid4(),
        "number": number,
        "kind": data["kind"].value,
        "commitment_type": data["commitment_type"].value if data["commitment_type"] else None,
        "priority": data["priority"].value,
        "status": TaskStatus.ASSIGNED.value,
        "assigned_by": assigned_by,
    }
    row: RowMapping = (await session.execute(insert(tasks).values(**values).returning(tasks))
                       ).mappings().one()
    await record_history(session, actor=assigned_by, task_id=row["id"], operation="created",
                         to_status=TaskStatus.ASSIGNED.value,
                         changes={"task": task_snapshot(row), **(extra_history or {})})
    return row


async def _lock(session: AsyncSession, principal: Principal, task_id: uuid.UUID,
                version: Any, grace: dt.timedelta) -> RowMapping:
    return await lock_versioned(session, tasks, task_id, version, what="task",
                                where=visible_tasks(principal, grace=grace), field=ID)


async def _save(session: AsyncSession, row: Mapping[Any, Any], **values: Any) -> RowMapping:
    saved: RowMapping = (await session.execute(
        update(tasks).where(tasks.c.id == row["id"])
        .values(**values, version=row["version"] + 1, updated_at=func.now())
        .returning(tasks)
    )).mappings().one()
    return saved


def _rights(principal: Principal, row: Mapping[Any, Any], change: Change) -> None:
    if TaskStatus(row["status"]).final:
        raise problem(ID, "TASK_CLOSED", "the task is closed or cancelled; a manager may reopen "
                                         "it")
    if not may_change(change, relations(principal, row["assignee_id"], row["assigned_by"])):
        raise forbidden(f"you may not {change.value} this task", field=ID)


async def update_task(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID, version: Any,
                      raw: Mapping[str, Any], *, grace: dt.timedelta
                      ) -> uuid.UUID:
    data = validate_update(raw)
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    _rights(principal, row, Change.UPDATE)
    if "watchers" in data:
        checks = Collector()
        await _check_people(checks, session, None, data["watchers"])
        checks.done()
    changed = {k: v for k, v in data.items() if row[k] != v}
    if not changed:
        raise problem(("input",), "UNCHANGED", "nothing to change")
    new = await _save(session, row, **changed)
    await record_history(session, actor=principal.subject, task_id=task_id, operation="updated",
                         changes=diff(row, changed))
    _event(uow, EVENT_UPDATED, new, changed=sorted(camel(k) for k in changed))
    await uow.commit()
    return task_id


async def reschedule_task(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID,
                          version: Any, raw: Mapping[str, Any], *,
                          grace: dt.timedelta) -> uuid.UUID:
    due = validate_due_date(raw)
    comment = validate_comment(raw)
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    _rights(principal, row, Change.RESCHEDULE)
    if row["due_date"] == due:
        raise problem(("input", "dueDate"), "UNCHANGED", "the task is already due then")
    new = await _save(session, row, due_date=due)
    await record_history(session, actor=principal.subject, task_id=task_id,
                         operation="rescheduled", comment=comment,
                         changes={"dueDate": [row["due_date"], due]})
    _event(uow, EVENT_UPDATED, new, changed=["dueDate"],
           previousDueDate=jsonable(row["due_date"]), comment=comment)
    await uow.commit()
    return task_id


async def change_priority(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID,
                          version: Any, raw: Mapping[str, Any], *,
                          grace: dt.timedelta) -> uuid.UUID:
    priority = validate_priority(raw)
    comment = validate_comment(raw)
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    _rights(principal, row, Change.PRIORITY)
    if row["priority"] == priority.value:
        raise problem(("input", "priority"), "UNCHANGED", "the task already has this priority")
    new = await _save(session, row, priority=priority.value)
    await record_history(session, actor=principal.subject, task_id=task_id,
                         operation="priority_changed", comment=comment,
                         changes={"priority": [row["priority"], priority.value]})
    _event(uow, EVENT_UPDATED, new, changed=["priority"], previousPriority=row["priority"],
           comment=comment)
    await uow.commit()
    return task_id


async def reassign_task(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID,
                        version: Any, raw: Mapping[str, Any], *,
                        grace: dt.timedelta) -> uuid.UUID:
    assignee = parse_id(raw.get("assignee_id"), ("input", "assigneeId"))
    comment = validate_comment(raw)
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    _rights(principal, row, Change.REASSIGN)
    if row["assignee_id"] == assignee:
        raise problem(("input", "assigneeId"), "UNCHANGED", "the task is already theirs")
    checks = Collector()
    await _check_people(checks, session, assignee, None)
    checks.done()
    new = await _save(session, row, assignee_id=assignee)
    await record_history(session, actor=principal.subject, task_id=task_id,
                         operation="reassigned", comment=comment,
                         changes={"assigneeId": [row["assignee_id"], assignee]})
    _event(uow, EVENT_ASSIGNED, new, previousAssigneeId=str(row["assignee_id"]),
           comment=comment)
    await uow.commit()
    return task_id


def _verdict_problem(verdict: Verdict, current: TaskStatus, target: TaskStatus,
                     field: tuple[str, ...]) -> Problems:
    if verdict is Verdict.FORBIDDEN:
        who = rule(current, target)
        needed = ", ".join(sorted(r.value for r in who.who)) if who else "nobody"
        return forbidden(f"only the {needed} may move a task from {current.value} to "
                             f"{target.value}", field=ID)
    if verdict is Verdict.NOT_APPLICABLE:
        return problem(field, "NOT_APPLICABLE",
                       "only samples and test products go in production")
    return problem(field, "INVALID_TRANSITION",
                   f"a task cannot go from {current.value} to {target.value}")


async def change_status(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID,
                        version: Any, target: TaskStatus, raw: Mapping[str, Any], *,
                        grace: dt.timedelta,
                        field: tuple[str, ...] = ("input", "to")) -> uuid.UUID:
    """Move a task along the workflow table. Closing targets come with ``outcome`` and
    ``refusal_reason`` in ``raw`` (validated here); reopening is the move back to assigned."""
    comment = validate_comment(raw)
    closing: tuple[Outcome, str | None] | None = None
    if target in (TaskStatus.CLOSED_CONFIRMED, TaskStatus.CLOSED_REFUSED):
        closing = validate_closing(raw)
        target = closed_status(closing[0])
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    current = TaskStatus(row["status"])
    commitment = CommitmentType(row["commitment_type"]) if row["commitment_type"] else None
    verdict = decide(current, target, relations(principal, row["assignee_id"],
                                                row["assigned_by"]),
                     produces=commitment in PRODUCED)
    if verdict is not Verdict.ALLOWED:
        raise _verdict_problem(verdict, current, target, field)
    found = rule(current, target)
    assert found is not None
    values: dict[str, Any] = {"status": target.value}
    extra: dict[str, Any] = {}
    if closing is not None:
        values.update(outcome=closing[0].value, refusal_reason=closing[1],
                      closed_at=func.now())
        extra = {"outcome": closing[0].value, "refusalReason": closing[1]}
    if found.reopens:
        values.update(outcome=None, refusal_reason=None, closed_at=None)
    new = await _save(session, row, **values)
    operation = "closed" if closing else "reopened" if found.reopens else "status_changed"
    await record_history(session, actor=principal.subject, task_id=task_id, operation=operation,
                         from_status=current.value, to_status=target.value, comment=comment,
                         changes=extra)
    transition = {"from": current.value, "to": target.value, "comment": comment}
    _event(uow, EVENT_STATUS_CHANGED, new, **transition)
    if closing is not None:
        _event(uow, EVENT_CLOSED, new, **extra, comment=comment)
    if found.reopens:
        _event(uow, EVENT_REOPENED, new, **transition)
    await uow.commit()
    return task_id


__all__ = ["Relation", "change_priority", "change_status", "create_task", "reassign_task",
           "reschedule_task", "update_task"]
