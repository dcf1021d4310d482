"""Per-employee calendar feeds: a secret URL per employee, rotated on demand.

Only the SHA-256 of the secret is stored; rotating replaces it, so the old URL stops working at
once. Reading a feed needs no bearer token (calendar programs cannot send one): the secret is the
credential, 256 random bits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_activities.adapters.tables import access, calendar_feeds, meetings
from crm_activities.domain import access as rules
from crm_activities.service_layer.history import record_history
from crm_common.auth import Principal
from crm_common.problems import forbidden
from crm_common.uow import UnitOfWork

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: what a feed holds: recent past and the coming year, at most this many meetings
FEED_PAST = dt.timedelta(days=90)
FEED_AHEAD = dt.timedelta(days=400)
FEED_LIMIT = 2000


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def rotate_feed(uow: UnitOfWork, principal: Principal,
                      employee_id: uuid.UUID | None) -> tuple[uuid.UUID, str]:
    """A new secret for the employee's feed (created on first use); returns (employee, secret)."""
    employee = employee_id or principal.subject
    if not rules.may_rotate_feed(principal, employee):
        raise forbidden("each employee rotates their own calendar URL (admins any)",
                        field=("input", "employeeId"))
    token = secrets.token_urlsafe(32)
    statement = insert(calendar_feeds).values(employee_id=employee, token_hash=token_hash(token),
                                              rotated_by=principal.subject)
    await uow.session.execute(statement.on_conflict_do_update(
        index_elements=["employee_id"],
        set_={"token_hash": statement.excluded.token_hash, "rotated_at": func.now(),
              "rotated_by": statement.excluded.rotated_by}))
    await record_history(uow.session, actor=principal.subject, entity_type="calendar_feed",
                         entity_id=employee, operation="rotate", changes={})
    await uow.commit()
    return employee, token


async def feed_meetings(reader: AsyncEngine, token: str,
                        now: dt.datetime) -> tuple[uuid.UUID, Sequence[RowMapping]] | None:
    """The employee and their meetings for the feed with this secret; None for an unknown one."""
    if not TOKEN_RE.match(token):
        return None
    clients = access.require_clients()
    async with reader.connect() as conn:
        employee = await conn.scalar(select(calendar_feeds.c.employee_id)
                                     .where(calendar_feeds.c.token_hash == token_hash(token)))
        if employee is None:
            return None
        rows = (await conn.execute(
            select(meetings, clients.c.name.label("client_name"))
            .outerjoin(clients, clients.c.client_id == meetings.c.client_id)
            .where(meetings.c.employee_id == employee,
                   meetings.c.starts_at >= now - FEED_PAST,
                   meetings.c.starts_at < now + FEED_AHEAD)
            .order_by(meetings.c.starts_at, meetings.c.id).limit(FEED_LIMIT)
        )).mappings().all()
    return employee, rows
