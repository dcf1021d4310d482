"""The access rule of DESIGN §6 as SQL conditions over this service's tables.

Admins and managers see everything. A sales rep sees: the activities they made or logged and
those of clients they may see; the meetings they attend and those of clients they may see;
observations without a client, those they reported, and those of clients they may see. "Clients
they may see" is the shared rule over the projections (owned, or a standing meeting grant).

This is the one place the rule is stated: queries, commands, loaders and federation references
call these functions (one per entity, all built on :func:`client_visible`). The grace period
comes from the settings (``ACCESS_GRACE_HOURS``); every function takes it explicitly.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from crm_activities.adapters.tables import access, activities, meetings, observations
from crm_activities.domain import access as rules
from crm_common.auth import Principal
from crm_common.client_access import (
    GRACE,
    ME,
    NOW,
    ClientAccess,
    active_employee,
    rep_client_condition,
    visible_client_condition,
)
from crm_common.client_access import can_see_client as _can_see_client
from crm_common.problems import forbidden, not_found, problem


class Access(ClientAccess):
    """Who asks, and the moment and grace period the access rule is evaluated with (``params``:
    the values of the rule's bind parameters, for the statements built once over
    :func:`activity_rule` and :func:`meeting_rule`)."""

    tables = access


def client_visible(principal: Principal, client_id: ColumnElement[Any], now: dt.datetime,
                   grace: dt.timedelta) -> ColumnElement[bool]:
    return visible_client_condition(access, principal, client_id, now, grace)


async def can_see_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                         now: dt.datetime, grace: dt.timedelta) -> bool:
    """The client is known to the projection and ``principal`` may see it (a command's check)."""
    return await _can_see_client(session, access, principal, client_id, now, grace)


def activity_visible(principal: Principal, now: dt.datetime,
                     grace: dt.timedelta) -> ColumnElement[bool]:
    if principal.sees_all_clients:
        return true()
    me = principal.subject
    return or_(activities.c.employee_id == me, activities.c.created_by == me,
               client_visible(principal, activities.c.client_id, now, grace))


def meeting_visible(principal: Principal, now: dt.datetime,
                    grace: dt.timedelta) -> ColumnElement[bool]:
    if principal.sees_all_clients:
        return true()
    return or_(meetings.c.employee_id == principal.subject,
               client_visible(principal, meetings.c.client_id, now, grace))


def observation_visible(principal: Principal, now: dt.datetime,
                        grace: dt.timedelta) -> ColumnElement[bool]:
    if principal.sees_all_clients:
        return true()
    return or_(observations.c.client_id.is_(None),
               observations.c.reported_by == principal.subject,
               client_visible(principal, observations.c.client_id, now, grace))


# The same rules over bind parameters (crm_common.client_access.ME, NOW, GRACE): the hot reads
# (a client's activities and last contact, an agenda) build their statements once per shape and
# run them with ``Access.params`` instead of building and compiling a statement on every call.


def activity_rule(sees_all: bool) -> ColumnElement[bool]:
    """:func:`activity_visible` over bind parameters (one of two shapes)."""
    if sees_all:
        return true()
    return or_(activities.c.employee_id == ME, activities.c.created_by == ME,
               rep_client_condition(access, activities.c.client_id, ME, NOW, GRACE))


def meeting_rule(sees_all: bool) -> ColumnElement[bool]:
    """:func:`meeting_visible` over bind parameters (one of two shapes)."""
    if sees_all:
        return true()
    return or_(meetings.c.employee_id == ME,
               rep_client_condition(access, meetings.c.client_id, ME, NOW, GRACE))


# The checks the command handlers share: a client and an employee against this service's
# projections (crm_common.client_access).


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
