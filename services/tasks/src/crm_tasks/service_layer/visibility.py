"""The access rule for tasks (DESIGN §6): managers and admins see every task; a sales rep sees
the tasks assigned to them, the ones they assigned, and those of clients they may see (owned,
or a standing meeting grant). Attachments follow their task. Anything else reads as not found.

Watchers are told about a task (events) but being a watcher grants no visibility: otherwise a
rep could show another rep a client that rep may not see.

This is the one place the rule is stated: queries, commands, loaders and federation references
call :func:`visible_tasks` (and :func:`can_see_client` for the client a task names). The grace
period comes from the settings (``ACCESS_GRACE_HOURS``); every function takes it explicitly.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, and_, or_, true
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.auth import Principal
from crm_common.client_access import (
    GRACE,
    ME,
    NOW,
    rep_client_condition,
    visible_client_condition,
)
from crm_common.client_access import can_see_client as _can_see_client
from crm_tasks.adapters.tables import access, tasks
from crm_tasks.domain.workflow import Relation


def visible_tasks(principal: Principal, now: dt.datetime | None = None, *,
                  grace: dt.timedelta) -> ColumnElement[bool]:
    """A condition on ``tasks``: the row is visible to ``principal`` at ``now``."""
    if principal.sees_all_clients:
        return true()
    me = principal.subject
    return or_(
        tasks.c.assignee_id == me,
        tasks.c.assigned_by == me,
        and_(tasks.c.client_id.is_not(None),
             visible_client_condition(access, principal, tasks.c.client_id,
                                      now or dt.datetime.now(dt.UTC), grace)),
    )


def task_rule(sees_all: bool) -> ColumnElement[bool]:
    """:func:`visible_tasks` over bind parameters (``crm_common.client_access.ME``, ``NOW``,
    ``GRACE``; values from ``rule_params``), for the hot reads that build their statement once
    per shape (``Client.tasks`` of a rep's agenda)."""
    if sees_all:
        return true()
    return or_(tasks.c.assignee_id == ME, tasks.c.assigned_by == ME,
               and_(tasks.c.client_id.is_not(None),
                    rep_client_condition(access, tasks.c.client_id, ME, NOW, GRACE)))


async def can_see_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID, *,
                         grace: dt.timedelta, now: dt.datetime | None = None) -> bool:
    """The client is known to the projection and ``principal`` may see it (a task naming it)."""
    return await _can_see_client(session, access, principal, client_id, now, grace)


def relations(principal: Principal, assignee_id: object,
              assigned_by: object) -> frozenset[Relation]:
    """How ``principal`` stands to a task (the workflow table is keyed by these)."""
    found = set()
    if principal.sees_all_clients:
        found.add(Relation.MANAGER)
    if assignee_id == principal.subject:
        found.add(Relation.ASSIGNEE)
    if assigned_by == principal.subject:
        found.add(Relation.ASSIGNER)
    return frozenset(found)
