"""What the command handlers share: the checks of a client and an employee against this
service's projections (crm_common.client_access)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_activities.adapters.tables import access
from crm_activities.domain import access as rules
from crm_activities.service_layer.visibility import can_see_client
from crm_common.auth import Principal
from crm_common.client_access import active_employee
from crm_common.problems import forbidden, not_found, problem

#: a client in this status takes no new meetings
CLIENT_ARCHIVED = "archived"




async def client_row(session: AsyncSession, client_id: uuid.UUID) -> Mapping[Any, Any] | None:
    c = access.require_clients()
    return (await session.execute(
        select(c).where(c.c.client_id == client_id))).mappings().one_or_none()


async def check_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                       field: tuple[str, ...], now: dt.datetime,
                       grace: dt.timedelta) -> Mapping[Any, Any]:
    """The client exists (in the projection) and ``principal`` may see it; else NOT_FOUND — the
    same answer for both, so that a rep learns nothing of clients they may not see."""
    row = await client_row(session, client_id)
    if row is None or not await can_see_client(session, principal, client_id, now, grace):
        raise not_found("client", field=field)
    return row


async def check_employee(session: AsyncSession, principal: Principal,
                         employee_id: uuid.UUID, field: tuple[str, ...]) -> None:
    """Anyone acts for themself (even before the staff directory projection knows them); only
    managers and admins act for others, and only for active employees of the directory."""
    if employee_id == principal.subject:
        return
    if not rules.may_act_as(principal, employee_id):
        raise forbidden("a sales rep records and schedules only for themself", field=field)
    if not await active_employee(session, access, employee_id):
        raise problem(field, "UNKNOWN_EMPLOYEE",
                      "no active employee with this id in the staff directory")
