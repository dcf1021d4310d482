"""Read side of the contact history: query functions over the reader engine, access applied here.

Each function checks out its own connection (DataLoaders run concurrently) and costs one
statement whatever the number of ids or rows. The two reads every dossier makes (a client's
latest activities, its last contact) are built once per shape (who asks: everyone or a rep; page
size) over the rule's bind parameters and cached, not rebuilt and recompiled per call (issue 15).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import RowMapping, Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_activities.adapters.tables import activities
from crm_activities.service_layer.visibility import Access, activity_rule, activity_visible
from crm_common.paging import (
    Page,
    after_condition,
    by_ids,
    fetch_page,
    pages_by_parent,
    parent_pages_statement,
    run_parent_pages,
)

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


@lru_cache(maxsize=256)
def _latest_by_client(sees_all: bool, first: int) -> Select[Any]:
    """Each client's latest ``first`` (+1) activities one may see, with no other filter."""
    statement = select(activities).where(activity_rule(sees_all)).order_by(*_ORDER)
    return parent_pages_statement(activities.c.client_id, statement, first)


@lru_cache(maxsize=2)
def _last_contact(sees_all: bool) -> Select[Any]:
    statement = (select(activities.c.id, activities.c.occurred_at)
                 .where(activity_rule(sees_all)).order_by(*_ORDER))
    return parent_pages_statement(activities.c.client_id, statement, 1)


async def activities_by_client(reader: AsyncEngine, who: Access,
                               client_ids: Sequence[uuid.UUID], flt: ActivityFilter, *,
                               first: int, after: str | None) -> list[Page]:
    """``Client.activities`` for many clients in one statement (a lateral page per client)."""
    if flt == ActivityFilter() and not after:
        return await run_parent_pages(reader, _latest_by_client(who.principal.sees_all_clients,
                                                                first),
                                      client_ids, first, "occurred_at", who.params)
    statement = _filtered(flt, who)
    if after:
        statement = statement.where(after_condition(
            after, activities.c.occurred_at, dt.datetime, activities.c.id, descending=True))
    return await pages_by_parent(reader, client_ids, activities.c.client_id,
                                 statement.order_by(*_ORDER), first, "occurred_at")


async def last_contact_by_client(reader: AsyncEngine, who: Access,
                                 client_ids: Sequence[uuid.UUID]) -> list[dt.datetime | None]:
    """When each client was last in contact (its latest activity one may see), one statement."""
    pages = await run_parent_pages(reader, _last_contact(who.principal.sees_all_clients),
                                   client_ids, 1, "occurred_at", who.params)
    return [p.rows[0]["occurred_at"] if p.rows else None for p in pages]
