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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from crm_activities.adapters.tables import access, activities, meetings, observations
from crm_common.auth import Principal
from crm_common.client_access import can_see_client as _can_see_client
from crm_common.client_access import visible_client_condition


@dataclass(frozen=True)
class Access:
    """Who asks, and the moment and grace period the access rule is evaluated with."""

    principal: Principal
    now: dt.datetime
    grace: dt.timedelta


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
