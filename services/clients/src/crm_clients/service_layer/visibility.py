"""The access rule of DESIGN §6 as SQL over the clients table: managers and admins see every
client; a rep sees the clients they own and those they have a standing meeting grant for (from
the meeting's scheduling until its end plus the grace period; cancelling revokes it).

Every read of anything hanging off a client (addresses, contacts, bank accounts, contracts,
history) goes through the client first, so this is the one place the rule is applied.

The grace period is a process-wide setting (``ACCESS_GRACE_HOURS``), configured once at start-up
by ``app.create_app``; functions take an explicit ``grace`` where a caller wants another.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import access, clients, meeting_grants
from crm_common.auth import Principal
from crm_common.client_access import DEFAULT_GRACE, standing_grant, visible_client_condition

_grace = DEFAULT_GRACE


def configure(grace: dt.timedelta) -> None:
    """Set the grace period after a meeting's end (start-up only)."""
    global _grace
    if grace < dt.timedelta(0):
        raise ValueError("the grace period cannot be negative")
    _grace = grace


def grace_period() -> dt.timedelta:
    return _grace


def visible_clients(principal: Principal, now: dt.datetime | None = None,
                    grace: dt.timedelta | None = None) -> ColumnElement[bool]:
    """A condition on ``clients``: the row is visible to ``principal`` at ``now``."""
    return visible_client_condition(
        access, principal, clients.c.id, now or dt.datetime.now(dt.UTC),
        _grace if grace is None else grace, owner_id=clients.c.owner_id,
    )


async def has_grant(session: AsyncSession, employee_id: uuid.UUID, client_id: uuid.UUID,
                    now: dt.datetime | None = None) -> bool:
    """A standing meeting grant of ``employee_id`` for ``client_id``."""
    g = meeting_grants
    now = now or dt.datetime.now(dt.UTC)
    return bool(await session.scalar(select(exists().where(
        g.c.client_id == client_id, standing_grant(g, employee_id, now, _grace)))))
