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
from crm_common.correlation import correlation_id
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import FieldProblem, Problems
from crm_common.uow import UnitOfWork
from crm_tasks.adapters.tables import access, task_history, task_number_seq, tasks
from crm_tasks.domain import model
from crm_tasks.domain.model import PRODUCED, CommitmentType, TaskStatus
from crm_tasks.domain.workflow import Change, Relation, Verdict, decide, may_change, rule
from crm_tasks.service_layer.errors import conflict, forbidden, not_found, problem
from crm_tasks.service_layer.state import jsonable, task_snapshot
from crm_tasks.service_layer.visibility import can_see_client, relations, visible_tasks

EVENT_CREATED = "crm.tasks.task.created"
EVENT_ASSIGNED = "crm.tasks.task.assigned"
EVENT_UPDATED = "crm.tasks.task.updated"
EVENT_STATUS_CHANGED = "crm.tasks.task.status_changed"
EVENT_CLOSED = "crm.tasks.task.closed"
EVENT_REOPENED = "crm.tasks.task.reopened"

ID = ("input", "id")


def format_number(n: int) -> str:
    return f"T{n:06d}"


async def history(session: AsyncSession, actor: uuid.UUID | None, task_id: uuid.UUID,
                  operation: str, *, from_status: str | None = None,
                  to_status: str | None = None, comment: str | None = None,
                  changes: Mapping[str, Any] | None = None) -> None:
    await session.execute(insert(task_history).values(
        task_id=task_id, actor_id=actor, operation=operation, from_status=from_status,
        to_status=to_status, comment=comment, changes=jsonable(dict(changes or {})),
        correlation_id=correlation_id.get()))


def _event(uow: UnitOfWork, type_: str, row: Mapping[Any, Any], **extra: Any) -> None:
    uow.record(DomainEvent(type=type_, subject=str(row["id"]),
                           data={"task": task_snapshot(row), **extra}))


async def _check_people(session: AsyncSession, assignee: uuid.UUID | None,
                        watchers: list[uuid.UUID] | None) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if assignee is not None and not await active_employee(session, access, assignee):
        problems.append(FieldProblem(("input", "assigneeId"), "NOT_AN_ACTIVE_EMPLOYEE",
                                     "the assignee must be an active employee"))
    if watchers:
        e = access.require_employees()
        known = set((await session.execute(
            select(e.c.employee_id).where(e.c.employee_id.in_(watchers), e.c.active)
        )).scalars())
        if any(w not in known for w in watchers):
            problems.append(FieldProblem(("input", "watchers"), "NOT_AN_ACTIVE_EMPLOYEE",
                                         "every watcher must be an active employee"))
    return problems


async def _check_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                        grace: dt.timedelta) -> list[FieldProblem]:
    c = access.require_clients()
    status = (await session.execute(select(c.c.status).where(c.c.client_id == client_id))
              ).scalar()
    field = ("input", "clientId")
    if status is None or not await can_see_client(session, principal, client_id, grace=grace):
        return [FieldProblem(field, "NOT_FOUND", "client not found")]
    if status == "archived":
        return [FieldProblem(field, "CLIENT_ARCHIVED", "the client is archived")]
    return []


async def create_task(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                      grace: dt.timedelta) -> uuid.UUID:
    data = model.validate_new_task(raw)
    session = uow.session
    problems = await _check_people(session, data["assignee_id"], data["watchers"])
    if data["client_id"] is not None:
        problems += await _check_client(session, principal, data["client_id"], grace)
    if problems:
        raise Problems(problems)
    number = format_number(int(await session.scalar(select(task_number_seq.next_value())) or 0))
    task_id = uuid.uuid4()
    values = {
        **data,
        "id": task_id,
        "number": number,
        "kind": data["kind"].value,
        "commitment_type": data["commitment_type"].value if data["commitment_type"] else None,
        "priority": data["priority"].value,
        "status": TaskStatus.ASSIGNED.value,
        "assigned_by": principal.subject,
    }
    row = (await session.execute(insert(tasks).values(**values).returning(tasks))).mappings().one()
    await history(session, principal.subject, task_id, "created",
                  to_status=TaskStatus.ASSIGNED.value, changes={"task": task_snapshot(row)})
    _event(uow, EVENT_CREATED, row)
    await uow.commit()
    return task_id


async def _lock(session: AsyncSession, principal: Principal, task_id: uuid.UUID,
                version: Any, grace: dt.timedelta) -> RowMapping:
    row = (await session.execute(
        select(tasks).where(tasks.c.id == task_id, visible_tasks(principal, grace=grace))
        .with_for_update(of=tasks)
    )).mappings().one_or_none()
    if row is None:
        raise not_found(ID)
    if not isinstance(version, int) or isinstance(version, bool) or version != row["version"]:
        raise conflict()
    return row


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
        raise forbidden(ID, f"you may not {change.value} this task")


async def update_task(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID, version: Any,
                      raw: Mapping[str, Any], *, grace: dt.timedelta
                      ) -> uuid.UUID:
    data = model.validate_update(raw)
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    _rights(principal, row, Change.UPDATE)
    if "watchers" in data:
        problems = await _check_people(session, None, data["watchers"])
        if problems:
            raise Problems(problems)
    changed = {k: v for k, v in data.items() if row[k] != v}
    if not changed:
        raise problem(("input",), "UNCHANGED", "nothing to change")
    new = await _save(session, row, **changed)
    diff = {k: [jsonable(row[k]), jsonable(v)] for k, v in changed.items()}
    await history(session, principal.subject, task_id, "updated", changes=diff)
    _event(uow, EVENT_UPDATED, new, changed=sorted(_camel(k) for k in changed))
    await uow.commit()
    return task_id


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


async def reschedule_task(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID,
                          version: Any, raw: Mapping[str, Any], *,
                          grace: dt.timedelta) -> uuid.UUID:
    due = model.validate_due_date(raw)
    comment = model.validate_comment(raw)
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    _rights(principal, row, Change.RESCHEDULE)
    if row["due_date"] == due:
        raise problem(("input", "dueDate"), "UNCHANGED", "the task is already due then")
    new = await _save(session, row, due_date=due)
    await history(session, principal.subject, task_id, "rescheduled", comment=comment,
                  changes={"dueDate": [jsonable(row["due_date"]), jsonable(due)]})
    _event(uow, EVENT_UPDATED, new, changed=["dueDate"],
           previousDueDate=jsonable(row["due_date"]), comment=comment)
    await uow.commit()
    return task_id


async def change_priority(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID,
                          version: Any, raw: Mapping[str, Any], *,
                          grace: dt.timedelta) -> uuid.UUID:
    priority = model.validate_priority(raw)
    comment = model.validate_comment(raw)
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    _rights(principal, row, Change.PRIORITY)
    if row["priority"] == priority.value:
        raise problem(("input", "priority"), "UNCHANGED", "the task already has this priority")
    new = await _save(session, row, priority=priority.value)
    await history(session, principal.subject, task_id, "priority_changed", comment=comment,
                  changes={"priority": [row["priority"], priority.value]})
    _event(uow, EVENT_UPDATED, new, changed=["priority"], previousPriority=row["priority"],
           comment=comment)
    await uow.commit()
    return task_id


async def reassign_task(uow: UnitOfWork, principal: Principal, task_id: uuid.UUID,
                        version: Any, raw: Mapping[str, Any], *,
                        grace: dt.timedelta) -> uuid.UUID:
    try:
        assignee = model.parse_id(raw.get("assignee_id"))
    except ValueError:
        raise problem(("input", "assigneeId"), "INVALID_ID", "not a valid id") from None
    comment = model.validate_comment(raw)
    session = uow.session
    row = await _lock(session, principal, task_id, version, grace)
    _rights(principal, row, Change.REASSIGN)
    if row["assignee_id"] == assignee:
        raise problem(("input", "assigneeId"), "UNCHANGED", "the task is already theirs")
    problems = await _check_people(session, assignee, None)
    if problems:
        raise Problems(problems)
    new = await _save(session, row, assignee_id=assignee)
    await history(session, principal.subject, task_id, "reassigned", comment=comment,
                  changes={"assigneeId": [str(row["assignee_id"]), str(assignee)]})
    _event(uow, EVENT_ASSIGNED, new, previousAssigneeId=str(row["assignee_id"]),
           comment=comment)
    await uow.commit()
    return task_id


def _verdict_problem(verdict: Verdict, current: TaskStatus, target: TaskStatus,
                     field: tuple[str, ...]) -> Problems:
    if verdict is Verdict.FORBIDDEN:
        who = rule(current, target)
        needed = ", ".join(sorted(r.value for r in who.who)) if who else "nobody"
        return forbidden(ID, f"only the {needed} may move a task from {current.value} to "
                             f"{target.value}")
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
    comment = model.validate_comment(raw)
    closing: tuple[model.Outcome, str | None] | None = None
    if target in (TaskStatus.CLOSED_CONFIRMED, TaskStatus.CLOSED_REFUSED):
        closing = model.validate_closing(raw)
        target = model.closed_status(closing[0])
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
    await history(session, principal.subject, task_id, operation, from_status=current.value,
                  to_status=target.value, comment=comment, changes=extra)
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
