"""Read side of tasks: query functions, not aggregates. Access is applied here, in the service
layer.

Each function takes the autocommit reader engine and checks out its own connection, so that
DataLoaders running concurrently never share one. Lists are keyset pages over (due date, id).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    Text,
    and_,
    any_,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.auth import Principal
from crm_common.client_access import rule_params
from crm_common.paging import (
    IDS,
    Page,
    keyset_page,
    keyset_pages_by_parent,
)
from crm_tasks.adapters.tables import tasks
from crm_tasks.domain.task import OPEN_STATUSES, TaskStatus
from crm_tasks.service_layer.visibility import task_rule, visible_tasks

Row = RowMapping
_OPEN = [s.value for s in OPEN_STATUSES]
_STATUSES = ARRAY(Text)


@dataclass(frozen=True)
class TaskFilter:
    assignee_id: uuid.UUID | None = None
    assigned_by: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    commitment_types: tuple[str, ...] = ()
    overdue: bool | None = None
    due_within_days: int | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None
    open_only: bool = False


def _conditions(flt: TaskFilter, today: dt.date, *, statuses: bool = True
                ) -> list[ColumnElement[bool]]:
    t = tasks.c
    out: list[ColumnElement[bool]] = []
    if flt.assignee_id:
        out.append(t.assignee_id == flt.assignee_id)
    if flt.assigned_by:
        out.append(t.assigned_by == flt.assigned_by)
    if flt.client_id:
        out.append(t.client_id == flt.client_id)
    if statuses and flt.statuses:
        out.append(t.status.in_(flt.statuses))
    if flt.kinds:
        out.append(t.kind.in_(flt.kinds))
    if flt.commitment_types:
        out.append(t.commitment_type.in_(flt.commitment_types))
    if flt.open_only or flt.overdue or flt.due_within_days is not None:
        out.append(t.status.in_(_OPEN))
    if flt.overdue is True:
        out.append(t.due_date < today)
    elif flt.overdue is False:
        out.append(t.due_date >= today)
    if flt.due_within_days is not None:
        out.append(and_(t.due_date >= today,
                        t.due_date <= today + dt.timedelta(days=flt.due_within_days)))
    if flt.due_from:
        out.append(t.due_date >= flt.due_from)
    if flt.due_to:
        out.append(t.due_date <= flt.due_to)
    return out


async def tasks_by_ids(reader: AsyncEngine, principal: Principal, ids: Sequence[uuid.UUID], *,
                       grace: dt.timedelta) -> list[Row | None]:
    """One statement for any number of ids; invisible tasks come back as None (not found)."""
    statement = select(tasks).where(tasks.c.id == any_(IDS), visible_tasks(principal, grace=grace))
    async with reader.connect() as conn:
        found = {r["id"]: r for r in (await conn.execute(statement, {"ids": list(ids)}))
                 .mappings()}
    return [found.get(i) for i in ids]


async def list_tasks(reader: AsyncEngine, principal: Principal, flt: TaskFilter, *,
                     first: int, after: str | None, today: dt.date,
                     grace: dt.timedelta) -> Page:
    """A keyset page ordered by (due date, id): ``WHERE (due_date, id) > cursor`` over an
    index, so page 10,000 costs what page 1 costs."""
    stmt = select(tasks).where(visible_tasks(principal, grace=grace), *_conditions(flt, today))
    return await keyset_page(reader, stmt, key=tasks.c.due_date, key_type=dt.date,
                             id_col=tasks.c.id, first=first, after=after)


def list_statement(principal: Principal, flt: TaskFilter, first: int, today: dt.date, *,
                   grace: dt.timedelta) -> Select[Any]:
    """The first page's statement (for EXPLAIN in the benchmarks)."""
    return (select(tasks).where(visible_tasks(principal, grace=grace), *_conditions(flt, today))
            .order_by(tasks.c.due_date, tasks.c.id).limit(first + 1))


async def board(reader: AsyncEngine, principal: Principal, flt: TaskFilter, *, today: dt.date,
                grace: dt.timedelta) -> dict[str, int]:
    """How many visible tasks are in each status (every status listed, zeros included)."""
    stmt = (select(tasks.c.status, func.count())
            .where(visible_tasks(principal, grace=grace), *_conditions(flt, today, statuses=False))
            .group_by(tasks.c.status))
    async with reader.connect() as conn:
        counts = {s: int(n) for s, n in (await conn.execute(stmt)).all()}
    return {s.value: counts.get(s.value, 0) for s in TaskStatus}


@dataclass(frozen=True)
class OwnerKey:
    """One ``Client.tasks`` / ``Employee.tasks`` request: whose tasks, and which page."""

    owner_id: uuid.UUID
    first: int
    statuses: tuple[str, ...] = ()
    open_only: bool = False
    #: ``assignee`` or ``assigner`` (employees) or ``client``
    side: str = "client"
    after: str | None = None


_OWNER_COLUMNS = {"client": tasks.c.client_id, "assignee": tasks.c.assignee_id,
                  "assigner": tasks.c.assigned_by}


@lru_cache(maxsize=512)
def _owner_tasks(sees_all: bool, statuses: tuple[str, ...], open_only: bool) -> Select[Any]:
    """The tasks one may see (the rule over bind parameters, values from ``rule_params``) with
    the statuses asked for, built once per shape. ``= ANY(array)``, not ``IN``: an IN list is
    rendered per call (``db.fetch_rows`` refuses it)."""
    inner = select(tasks).where(task_rule(sees_all))
    if statuses:
        inner = inner.where(tasks.c.status == any_(literal(list(statuses), _STATUSES)))
    if open_only:
        inner = inner.where(tasks.c.status == any_(literal(_OPEN, _STATUSES)))
    return inner


async def tasks_by_owner(reader: AsyncEngine, principal: Principal, keys: Sequence[OwnerKey],
                         *, grace: dt.timedelta) -> list[Page]:
    """A keyset page of tasks (soonest due first) for each of many clients or employees: one
    statement per distinct (side, page size, statuses, cursor), whatever the number of owners
    (a LATERAL join per owner over the owner's index). Raises ``InvalidCursor``."""
    groups: dict[tuple[str, int, tuple[str, ...], bool, str | None],
                 list[uuid.UUID]] = defaultdict(list)
    for k in keys:
        groups[(k.side, k.first, k.statuses, k.open_only, k.after)].append(k.owner_id)
    found: dict[OwnerKey, Page] = {}
    params = rule_params(principal, dt.datetime.now(dt.UTC), grace)
    sees_all = principal.sees_all_clients
    for (side, first, statuses, open_only, after), owners in groups.items():
        pages = await keyset_pages_by_parent(
            reader, owners, _OWNER_COLUMNS[side], _owner_tasks(sees_all, statuses, open_only),
            key=tasks.c.due_date, key_type=dt.date, id_col=tasks.c.id, first=first,
            after=after, params=params, built_once=True)
        found.update({OwnerKey(o, first, statuses, open_only, side, after): p
                      for o, p in zip(owners, pages, strict=True)})
    return [found[k] for k in keys]
