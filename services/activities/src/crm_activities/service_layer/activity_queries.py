"""Read side of the contact history: query functions over the reader engine, access applied here.

Each function checks out its own connection (DataLoaders run concurrently) and costs one
statement whatever the number of ids or rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_activities.adapters.tables import activities
from crm_activities.service_layer.visibility import Access, activity_visible
from crm_common.paging import Page, after_condition, by_ids, fetch_page, pages_by_parent

_ORDER = (activities.c.occurred_at.desc(), activities.c.id.desc())


@dataclass(frozen=True)
class ActivityFilter:
    client_id: uuid.UUID | None = None
    employee_id: uuid.UUID | None = None
    kinds: tuple[str, ...] = ()
    occurred_from: dt.datetime | None = None
    occurred_to: dt.datetime | None = None


def _filtered(flt: ActivityFilter, who: Access) -> Select[Any]:
    statement = select(activities).where(activity_visible(who.principal, who.now, who.grace))
    if flt.client_id is not None:
        statement = statement.where(activities.c.client_id == flt.client_id)
    if flt.employee_id is not None:
        statement = statement.where(activities.c.employee_id == flt.employee_id)
    if flt.kinds:
        statement = statement.where(activities.c.kind.in_(flt.kinds))
    if flt.occurred_from is not None:
        statement = statement.where(activities.c.occurred_at >= flt.occurred_from)
    if flt.occurred_to is not None:
        statement = statement.where(activities.c.occurred_at < flt.occurred_to)
    return statement


async def list_activities(reader: AsyncEngine, who: Access, flt: ActivityFilter, *, first: int,
                          after: str | None) -> Page:
    """A timeline, newest first (a client's, an employee's, or everything one may see)."""
    statement = _filtered(flt, who)
    if after:
        statement = statement.where(after_condition(
            after, activities.c.occurred_at, dt.datetime, activities.c.id, descending=True))
    return await fetch_page(reader, statement.order_by(*_ORDER), first, "occurred_at")


async def activities_by_ids(reader: AsyncEngine, who: Access,
                            ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    return await by_ids(reader, activities, activity_visible(who.principal, who.now, who.grace),
                        ids)


async def activities_by_client(reader: AsyncEngine, who: Access,
                               client_ids: Sequence[uuid.UUID], flt: ActivityFilter, *,
                               first: int, after: str | None) -> list[Page]:
    """``Client.activities`` for many clients in one statement (a lateral page per client)."""
    statement = _filtered(flt, who)
    if after:
        statement = statement.where(after_condition(
            after, activities.c.occurred_at, dt.datetime, activities.c.id, descending=True))
    return await pages_by_parent(reader, client_ids, activities.c.client_id,
                                 statement.order_by(*_ORDER), first, "occurred_at")


async def last_contact_by_client(reader: AsyncEngine, who: Access,
                                 client_ids: Sequence[uuid.UUID]) -> list[dt.datetime | None]:
    pages = await activities_by_client(reader, who, client_ids, ActivityFilter(), first=1,
                                       after=None)
    return [p.rows[0]["occurred_at"] if p.rows else None for p in pages]
