"""The access rule of DESIGN §6 as SQL conditions over this service's tables.

Admins and managers see everything. A sales rep sees: the activities they made or logged and
those of clients they may see; the meetings they attend and those of clients they may see;
observations without a client, those they reported, and those of clients they may see. "Clients
they may see" is the shared rule over the projections (owned, or a standing meeting grant).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, or_, true

from crm_activities.adapters.tables import access, activities, meetings, observations
from crm_common.auth import Principal
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
