"""Read side of meetings: one meeting, lists, an employee's agenda, a client's next meeting."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import DateTime, RowMapping, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_activities.adapters.tables import meetings
from crm_activities.domain.meeting import MeetingStatus
from crm_activities.service_layer.visibility import Access, meeting_rule, meeting_visible
from crm_common.paging import (
    Page,
    after_condition,
    by_ids,
    fetch_page,
    keyset_pages_by_parent,
    pages_by_parent,
)

_ORDER = (meetings.c.starts_at, meetings.c.id)


@dataclass(frozen=True)
class MeetingFilter:
    client_id: uuid.UUID | None = None
    employee_id: uuid.UUID | None = None
    statuses: tuple[str, ...] = ()
    starts_from: dt.datetime | None = None
    starts_to: dt.datetime | None = None


async def meetings_by_ids(reader: AsyncEngine, who: Access,
                          ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    return await by_ids(reader, meetings, meeting_visible(who.principal, who.now, who.grace), ids)


async def list_meetings(reader: AsyncEngine, who: Access, flt: MeetingFilter, *, first: int,
                        after: str | None) -> Page:
    """Meetings one may see, earliest first."""
    statement = select(meetings).where(meeting_visible(who.principal, who.now, who.grace))
    if flt.client_id is not None:
        statement = statement.where(meetings.c.client_id == flt.client_id)
    if flt.employee_id is not None:
        statement = statement.where(meetings.c.employee_id == flt.employee_id)
    if flt.statuses:
        statement = statement.where(meetings.c.status.in_(flt.statuses))
    if flt.starts_from is not None:
        statement = statement.where(meetings.c.starts_at >= flt.starts_from)
    if flt.starts_to is not None:
        statement = statement.where(meetings.c.starts_at < flt.starts_to)
    if after:
        statement = statement.where(after_condition(
            after, meetings.c.starts_at, dt.datetime, meetings.c.id, descending=False))
    return await fetch_page(reader, statement.order_by(*_ORDER), first, "starts_at")


_WINDOW_START = bindparam("window_start", type_=DateTime(timezone=True))
_WINDOW_END = bindparam("window_end", type_=DateTime(timezone=True))


@lru_cache(maxsize=2)
def _agenda_statement(sees_all: bool) -> Select[Any]:
    """The meetings of an agenda one may see, the window and the rule over bind parameters,
    built once (issue 15)."""
    return select(meetings).where(
        meetings.c.status != MeetingStatus.CANCELLED.value,
        meetings.c.starts_at < _WINDOW_END, meetings.c.ends_at > _WINDOW_START,
        meeting_rule(sees_all))


async def agendas(reader: AsyncEngine, who: Access, employee_ids: Sequence[uuid.UUID],
                  window: tuple[dt.datetime, dt.datetime], *, first: int,
                  after: str | None = None) -> list[Page]:
    """A keyset page, earliest first, of each employee's meetings that overlap ``window``
    (cancelled ones left out); one statement for all the employees. Raises ``InvalidCursor``."""
    sees_all = who.principal.sees_all_clients
    params = {**who.params, _WINDOW_START.key: window[0], _WINDOW_END.key: window[1]}
    return await keyset_pages_by_parent(
        reader, employee_ids, meetings.c.employee_id, _agenda_statement(sees_all),
        key=meetings.c.starts_at, key_type=dt.datetime, id_col=meetings.c.id, first=first,
        after=after, params=params, built_once=True)


def _upcoming(who: Access) -> Select[tuple[object, ...]]:
    return (select(meetings)
            .where(meetings.c.status == MeetingStatus.SCHEDULED.value,
                   meetings.c.ends_at > who.now,
                   meeting_visible(who.principal, who.now, who.grace))
            .order_by(*_ORDER))


async def next_meeting_by_client(reader: AsyncEngine, who: Access,
                                 client_ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    """The next (or current) scheduled meeting with each client that one may see."""
    pages = await pages_by_parent(reader, client_ids, meetings.c.client_id, _upcoming(who), 1,
                                  "starts_at")
    return [p.rows[0] if p.rows else None for p in pages]


__all__ = ["MeetingFilter", "Page", "agendas", "list_meetings",
           "meetings_by_ids", "next_meeting_by_client"]
