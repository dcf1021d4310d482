"""Read side of calendar feeds: an employee's meetings for the feed with a given secret.

Reading a feed needs no bearer token (calendar programs cannot send one): the secret is the
credential, 256 random bits.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_activities.adapters.tables import access, calendar_feeds, meetings
from crm_activities.service_layer.calendar_feed import token_hash

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: what a feed holds: recent past and the coming year, at most this many meetings
FEED_PAST = dt.timedelta(days=90)
FEED_AHEAD = dt.timedelta(days=400)
FEED_LIMIT = 2000


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
