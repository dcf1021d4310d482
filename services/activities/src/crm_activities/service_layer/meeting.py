"""Commands on meetings: schedule, reschedule, cancel, complete.

A meeting is also an access grant (DESIGN §6): the rep it is for sees the client until its end
plus the grace period. The other services learn of it from the ``crm.activities.meeting.*``
events; this service writes its own grant row in the same transaction as the meeting change (the
consumer's later upsert of the same version is then a no-op), so that the rep's next read here
already sees the client.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_activities.adapters.tables import access, meetings
from crm_activities.domain import access as rules
from crm_activities.domain.activity import MAX_SUBJECT, ActivityValues, Direction
from crm_activities.domain.meeting import (
    MeetingStatus,
    MeetingTimes,
    check_completion_start,
    validate_completion,
    validate_reason,
    validate_reschedule,
    validate_schedule,
)
from crm_activities.service_layer.activity import insert_activity
from crm_activities.service_layer.history import diff, record_history
from crm_activities.service_layer.visibility import check_client, check_employee, client_row
from crm_common.auth import Principal
from crm_common.client_access import apply_meeting_event
from crm_common.jsonvalues import jsonable, snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import forbidden, problem
from crm_common.uow import UnitOfWork
from crm_common.versioning import lock_versioned

EVENT_SCHEDULED = "crm.activities.meeting.scheduled"
EVENT_RESCHEDULED = "crm.activities.meeting.rescheduled"
EVENT_CANCELLED = "crm.activities.meeting.cancelled"
EVENT_COMPLETED = "crm.activities.meeting.completed"

#: a client in this status takes no new meetings
CLIENT_ARCHIVED = "archived"

MEETING_FIELDS = (
    "id", "client_id", "employee_id", "contact_person_ids", "starts_at", "ends_at", "place",
    "purpose", "status", "cancel_reason", "activity_id", "version",
)


async def _lock_employee(session: AsyncSession, employee_id: uuid.UUID) -> None:
    """Serialise scheduling per employee, so that two overlapping requests cannot both pass the
    overlap check (released at commit or rollback)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                          {"k": f"meetings:{employee_id}"})


def _when(times: MeetingTimes) -> str:
    return f"{times.starts_at:%Y-%m-%d %H:%M}–{times.ends_at:%H:%M} UTC"


async def _refuse_overlap(session: AsyncSession, employee_id: uuid.UUID, times: MeetingTimes,
                          exclude: uuid.UUID | None) -> None:
    m, c = meetings, access.require_clients()
    statement = (
        select(m.c.id, m.c.starts_at, m.c.ends_at, c.c.name)
        .outerjoin(c, c.c.client_id == m.c.client_id)
        .where(m.c.employee_id == employee_id,
               m.c.status != MeetingStatus.CANCELLED.value,
               m.c.starts_at < times.ends_at, m.c.ends_at > times.starts_at)
        .order_by(m.c.starts_at, m.c.id).limit(1)
    )
    if exclude is not None:
        statement = statement.where(m.c.id != exclude)
    other = (await session.execute(statement)).mappings().one_or_none()
    if other is not None:
        raise problem(
            ("input", "startsAt"), "OVERLAP",
            f"overlaps meeting {other['id']} with {other['name'] or 'a client'} "
            f"({_when(MeetingTimes(other['starts_at'], other['ends_at']))}); send "
            "allowOverlap: true to keep both")


async def _state(session: AsyncSession, meeting_id: uuid.UUID) -> RowMapping:
    return (await session.execute(
        select(meetings).where(meetings.c.id == meeting_id))).mappings().one()


def _event_data(row: Mapping[Any, Any], *, starts_at: dt.datetime | None = None,
                ends_at: dt.datetime | None = None) -> dict[str, Any]:
    """``MeetingState`` of the catalogue: what the grant consumers need, and a little more."""
    data: dict[str, Any] = {
        "meetingId": str(row["id"]), "clientId": str(row["client_id"]),
        "employeeId": str(row["employee_id"]),
        "startsAt": starts_at or row["starts_at"], "endsAt": ends_at or row["ends_at"],
        "status": row["status"], "version": row["version"],
        "purpose": row["purpose"], "place": row["place"],
        "contactPersonIds": [str(i) for i in row["contact_person_ids"]],
    }
    if row["cancel_reason"] is not None:
        data["reason"] = row["cancel_reason"]
    if row["activity_id"] is not None:
        data["activityId"] = str(row["activity_id"])
    return data


async def _publish(uow: UnitOfWork, type_: str, row: Mapping[Any, Any], **times: Any) -> None:
    """Record the event and apply it to this service's own grant projection at once."""
    data = _event_data(row, **times)
    uow.record(DomainEvent(type=type_, subject=str(row["id"]), data=data))
    await apply_meeting_event(uow.session, access, {"type": type_, "data": jsonable(data)})


async def schedule_meeting(uow: UnitOfWork, principal: Principal, raw: Mapping[Any, Any], *,
                           now: dt.datetime, grace: dt.timedelta) -> uuid.UUID:
    values = validate_schedule(raw, now)
    session = uow.session
    employee = values.employee_id or principal.subject
    await check_employee(session, principal, employee, ("input", "employeeId"))
    client = await check_client(session, principal, values.client_id, ("input", "clientId"),
                                now, grace)
    if client["status"] == CLIENT_ARCHIVED:
        raise problem(("input", "clientId"), "CLIENT_ARCHIVED",
                      "the client is archived; it takes no new meetings")
    await _lock_employee(session, employee)
    if not values.allow_overlap:
        await _refuse_overlap(session, employee, values.times, None)
    meeting_id = uuid.uuid4()
    await session.execute(insert(meetings).values(
        id=meeting_id, client_id=values.client_id, employee_id=employee,
        contact_person_ids=values.contact_person_ids, starts_at=values.times.starts_at,
        ends_at=values.times.ends_at, place=values.place, purpose=values.purpose,
        status=MeetingStatus.SCHEDULED.value, created_by=principal.subject,
        updated_by=principal.subject))
    row = await _state(session, meeting_id)
    await record_history(session, actor=principal.subject, entity_type="meeting",
                         entity_id=meeting_id, operation="create",
                         changes={"new": snapshot(row, MEETING_FIELDS)},
                         client_id=values.client_id)
    await _publish(uow, EVENT_SCHEDULED, row)
    await uow.commit()
    return meeting_id


async def _locked(uow: UnitOfWork, principal: Principal, meeting_id: uuid.UUID, version: Any,
                  action: str) -> RowMapping:
    """The meeting, locked, if ``principal`` may change it: managers and admins any meeting, a
    rep the meetings they attend. Only a scheduled meeting changes."""
    attends = None if rules.acts_for_others(principal) \
        else meetings.c.employee_id == principal.subject
    row = await lock_versioned(uow.session, meetings, meeting_id, version, what="meeting",
                               where=attends)
    if row["status"] != MeetingStatus.SCHEDULED.value:
        raise problem(("input", "id"), "NOT_SCHEDULED",
                      f"the meeting is {row['status']}; only a scheduled meeting can be {action}")
    return row


async def reschedule_meeting(uow: UnitOfWork, principal: Principal, meeting_id: uuid.UUID,
                             version: Any, raw: Mapping[Any, Any], *,
                             now: dt.datetime) -> uuid.UUID:
    values = validate_reschedule(raw, now)
    session = uow.session
    row = await _locked(uow, principal, meeting_id, version, "rescheduled")
    employee = values.employee_id or row["employee_id"]
    if employee != row["employee_id"]:
        if not rules.acts_for_others(principal):
            raise forbidden("a sales rep cannot hand a meeting to someone else",
                            field=("input", "employeeId"))
        await check_employee(session, principal, employee, ("input", "employeeId"))
    times = values.times or MeetingTimes(row["starts_at"], row["ends_at"])
    changes: dict[str, Any] = {"starts_at": times.starts_at, "ends_at": times.ends_at,
                               "employee_id": employee}
    if values.place is not None:
        changes["place"] = values.place[0]
    changed = diff(row, changes)
    if not changed:
        return meeting_id
    await _lock_employee(session, employee)
    if not values.allow_overlap:
        await _refuse_overlap(session, employee, times, meeting_id)
    await session.execute(update(meetings).where(meetings.c.id == meeting_id).values(
        **changes, version=meetings.c.version + 1, updated_at=func.now(),
        updated_by=principal.subject))
    new = await _state(session, meeting_id)
    await record_history(session, actor=principal.subject, entity_type="meeting",
                         entity_id=meeting_id, operation="reschedule", changes=changed,
                         client_id=row["client_id"])
    await _publish(uow, EVENT_RESCHEDULED, new)
    await uow.commit()
    return meeting_id


async def cancel_meeting(uow: UnitOfWork, principal: Principal, meeting_id: uuid.UUID,
                         version: Any, raw: Mapping[Any, Any]) -> uuid.UUID:
    reason = validate_reason(raw)
    session = uow.session
    row = await _locked(uow, principal, meeting_id, version, "cancelled")
    await session.execute(update(meetings).where(meetings.c.id == meeting_id).values(
        status=MeetingStatus.CANCELLED.value, cancel_reason=reason,
        version=meetings.c.version + 1, updated_at=func.now(), updated_by=principal.subject))
    new = await _state(session, meeting_id)
    await record_history(session, actor=principal.subject, entity_type="meeting",
                         entity_id=meeting_id, operation="cancel",
                         changes={"status": [row["status"], new["status"]], "reason": reason},
                         client_id=row["client_id"])
    await _publish(uow, EVENT_CANCELLED, new)
    await uow.commit()
    return meeting_id


async def complete_meeting(uow: UnitOfWork, principal: Principal, meeting_id: uuid.UUID,
                           version: Any, raw: Mapping[Any, Any], *,
                           now: dt.datetime) -> tuple[uuid.UUID, uuid.UUID]:
    """The meeting took place: a done contact with its actual start and duration, notes and
    agreements. Returns (meeting id, activity id). The ``completed`` event's ``endsAt`` is the
    actual end (the grant runs on from there)."""
    values = validate_completion(raw, now)
    session = uow.session
    row = await _locked(uow, principal, meeting_id, version, "completed")
    started: dt.datetime = values.occurred_at or row["starts_at"]
    check_completion_start(started, now)
    contact = values.contact_person_id or (
        row["contact_person_ids"][0] if row["contact_person_ids"] else None)
    client = await client_row(session, row["client_id"])
    activity = ActivityValues(
        client_id=row["client_id"], contact_person_id=contact, employee_id=row["employee_id"],
        kind=values.kind, direction=Direction.OUTBOUND, occurred_at=started,
        duration_minutes=values.duration_minutes, location=row["place"],
        subject=(row["purpose"] or f"Meeting with {client['name'] if client else 'the client'}"
                 )[:MAX_SUBJECT],
        notes=values.notes, agreements=values.agreements, next_steps=values.next_steps)
    activity_id = await insert_activity(uow, principal, activity, row["employee_id"],
                                        meeting_id=meeting_id)
    await session.execute(update(meetings).where(meetings.c.id == meeting_id).values(
        status=MeetingStatus.COMPLETED.value, activity_id=activity_id,
        version=meetings.c.version + 1, updated_at=func.now(), updated_by=principal.subject))
    new = await _state(session, meeting_id)
    ended = started + dt.timedelta(minutes=values.duration_minutes)
    await record_history(session, actor=principal.subject, entity_type="meeting",
                         entity_id=meeting_id, operation="complete",
                         changes={"status": [row["status"], new["status"]],
                                  "activity_id": [None, activity_id], "actual": [started, ended]},
                         client_id=row["client_id"])
    await _publish(uow, EVENT_COMPLETED, new, starts_at=started, ends_at=ended)
    await uow.commit()
    return meeting_id, activity_id
