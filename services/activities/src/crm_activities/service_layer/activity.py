"""Command: log a done contact (``logActivity``)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_activities.adapters.tables import activities
from crm_activities.domain.activity import ActivityValues, validate_activity
from crm_activities.service_layer.history import record_history
from crm_activities.service_layer.visibility import check_client, check_employee
from crm_common.auth import Principal
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.uow import UnitOfWork

EVENT_ACTIVITY_LOGGED = "crm.activities.activity.logged"

ACTIVITY_FIELDS = (
    "id", "client_id", "contact_person_id", "employee_id", "kind", "direction", "occurred_at",
    "duration_minutes", "location", "subject", "notes", "agreements", "next_steps", "meeting_id",
    "created_by", "created_at",
)


async def insert_activity(uow: UnitOfWork, principal: Principal, values: ActivityValues,
                          employee_id: uuid.UUID, meeting_id: uuid.UUID | None = None
                          ) -> uuid.UUID:
    """Store the done contact, its history entry and its ``activity.logged`` event."""
    session = uow.session
    activity_id = uuid.uuid4()
    await session.execute(insert(activities).values(
        id=activity_id, client_id=values.client_id, contact_person_id=values.contact_person_id,
        employee_id=employee_id, kind=values.kind.value, direction=values.direction.value,
        occurred_at=values.occurred_at, duration_minutes=values.duration_minutes,
        location=values.location, subject=values.subject, notes=values.notes,
        agreements=values.agreements, next_steps=values.next_steps, meeting_id=meeting_id,
        created_by=principal.subject))
    state = await activity_state(session, activity_id)
    await record_history(session, actor=principal.subject, entity_type="activity",
                         entity_id=activity_id, operation="create", changes={"new": state},
                         client_id=values.client_id)
    uow.record(DomainEvent(type=EVENT_ACTIVITY_LOGGED, subject=str(activity_id),
                           data={"activity": state}))
    return activity_id


async def activity_state(session: AsyncSession, activity_id: uuid.UUID) -> dict[str, Any]:
    row = (await session.execute(
        select(activities).where(activities.c.id == activity_id))).mappings().one()
    return snapshot(row, ACTIVITY_FIELDS)


async def log_activity(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                       now: dt.datetime, grace: dt.timedelta) -> uuid.UUID:
    values = validate_activity(raw, now)
    employee = values.employee_id or principal.subject
    await check_employee(uow.session, principal, employee, ("input", "employeeId"))
    await check_client(uow.session, principal, values.client_id, ("input", "clientId"), now,
                       grace)
    activity_id = await insert_activity(uow, principal, values, employee)
    await uow.commit()
    return activity_id
