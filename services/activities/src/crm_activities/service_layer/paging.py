"""Keyset pages: ``WHERE (key, id) < (:key, :id) ORDER BY key DESC, id DESC LIMIT n + 1`` over an
index, so that page 10,000 costs what page 1 costs. Cursors are opaque (crm_common cursors)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    any_,
    bindparam,
    func,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.auth import Principal
from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor
from crm_common.paging import Page


@dataclass(frozen=True)
class Access:
    """Who asks, and the moment and grace period the access rule is evaluated with."""

    principal: Principal
    now: dt.datetime
    grace: dt.timedelta


def _parse_key(raw: Any, kind: type) -> Any:
    if kind is dt.datetime:
        value = dt.datetime.fromisoformat(str(raw))
        if value.tzinfo is None:
            raise ValueError("naive")
        return value
    if kind is dt.date:
        return dt.date.fromisoformat(str(raw))
    if kind is str:
        if not isinstance(raw, str):
            raise ValueError("not text")
        return raw
    raise ValueError(kind)


def after_condition(after: str, key: ColumnElement[Any], key_type: type,
                    id_col: ColumnElement[Any], *, descending: bool) -> ColumnElement[bool]:
    """The rows after the cursor in the ordering (key, id); raises ``InvalidCursor``."""
    raw_key, raw_id = decode_cursor(after, 2)
    try:
        cursor = (_parse_key(raw_key, key_type), uuid.UUID(str(raw_id)))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if descending:
        return tuple_(key, id_col) < tuple_(*cursor)
    return tuple_(key, id_col) > tuple_(*cursor)


def _cursor_of(key_name: str) -> Callable[[RowMapping], str]:
    def make(row: RowMapping) -> str:
        value = row[key_name]
        return encode_cursor([value.isoformat() if hasattr(value, "isoformat") else value,
                              str(row["id"])])
    return make


async def fetch_page(reader: AsyncEngine, statement: Select[Any], first: int,
                     key_name: str) -> Page:
    async with reader.connect() as conn:
        rows = list((await conn.execute(statement.limit(first + 1))).mappings())
    return page_of(rows, first, key_name)


def page_of(rows: Sequence[RowMapping], first: int, key_name: str) -> Page:
    return Page.of(rows, first, _cursor_of(key_name))


_PARENTS = bindparam("parents", type_=ARRAY(UUID(as_uuid=True)))


async def pages_by_parent(reader: AsyncEngine, parent_ids: Sequence[uuid.UUID],
                          parent_col: ColumnElement[Any], statement: Select[Any], first: int,
                          key_name: str) -> list[Page]:
    """One page per parent (a client's activities, a competitor's observations) in ONE statement:
    ``unnest(:parents) CROSS JOIN LATERAL (statement AND parent = p LIMIT n + 1)``; each lateral
    is an index scan, so the cost grows with the parents asked for, not with the rows stored."""
    parents = func.unnest(_PARENTS).table_valued("parent_id").render_derived("p")
    sub = statement.where(parent_col == parents.c.parent_id).limit(first + 1).lateral("x")
    joined = select(parents.c.parent_id, sub).select_from(parents.join(sub, true()))
    grouped: dict[uuid.UUID, list[RowMapping]] = defaultdict(list)
    async with reader.connect() as conn:
        for row in (await conn.execute(joined, {"parents": list(parent_ids)})).mappings():
            grouped[row["parent_id"]].append(row)
    return [page_of(grouped.get(p, []), first, key_name) for p in parent_ids]


_IDS = bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))


async def by_ids(reader: AsyncEngine, table: Any, visible: ColumnElement[bool],
                 ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    """Rows by id in one statement; ids one may not see come back as None, as unknown ids do."""
    statement = select(table).where(table.c.id == any_(_IDS), visible)
    async with reader.connect() as conn:
        found = {r["id"]: r for r in (await conn.execute(statement, {"ids": list(ids)})).mappings()}
    return [found.get(i) for i in ids]
