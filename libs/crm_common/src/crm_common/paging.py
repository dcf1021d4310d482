"""Keyset pages as every service's read queries return them.

``WHERE (key, id) > (:key, :id) ORDER BY key, id LIMIT first + 1`` (or ``<`` and ``DESC``) over
an index, so that page 10,000 costs what page 1 costs. A query fetches ``first + 1`` rows in the
page's order; :meth:`Page.of` keeps ``first`` of them, says whether there is a next page, and
makes each kept row's opaque cursor (``crm_common.graphql.cursors``: the row's key, ISO 8601 for
a date or a moment, and its id).

:func:`keyset_page` is the whole of a list query's paging; :func:`after_condition`,
:func:`keyset_order` and :func:`fetch_page` are its parts, for a statement that needs its own
order; :func:`pages_by_parent` is one page per parent in one statement (a DataLoader's batch;
:func:`parent_pages_statement` and :func:`run_parent_pages` its two halves, for a statement built
once), :func:`keyset_pages_by_parent` the same in the (key, id) order, from a cursor on (with
``built_once``, the first pages of a statement built once are built once too),
:func:`by_ids` rows by id in one statement.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
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

from crm_common.db import fetch_rows
from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor


@dataclass(frozen=True)
class Page:
    rows: list[RowMapping]
    has_next: bool
    end_cursor: str | None
    cursors: list[str]

    @classmethod
    def of(cls, rows: Sequence[RowMapping], first: int,
           cursor: Callable[[RowMapping], str]) -> Page:
        """The page of ``first`` rows out of ``first + 1`` fetched; ``cursor`` encodes a row's
        position (``crm_common.graphql.cursors.encode_cursor`` of its sort key)."""
        kept = list(rows[:first])
        cursors = [cursor(r) for r in kept]
        return cls(kept, len(rows) > first, cursors[-1] if cursors else None, cursors)

    @classmethod
    def empty(cls) -> Page:
        """No rows, no next page (a parent one may not see)."""
        return cls([], False, None, [])


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
                    id_col: ColumnElement[Any], *, descending: bool = False
                    ) -> ColumnElement[bool]:
    """The rows after the cursor in the ordering (key, id); raises ``InvalidCursor``.
    ``key_type`` is the key's Python type: ``dt.datetime`` (aware), ``dt.date`` or ``str``."""
    raw_key, raw_id = decode_cursor(after, 2)
    try:
        cursor = (_parse_key(raw_key, key_type), uuid.UUID(str(raw_id)))
    except (ValueError, TypeError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if descending:
        return tuple_(key, id_col) < tuple_(*cursor)
    return tuple_(key, id_col) > tuple_(*cursor)


def keyset_order(key: ColumnElement[Any], id_col: ColumnElement[Any], *,
                 descending: bool = False) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """``ORDER BY key, id`` (both descending when ``descending``): the order of the cursors."""
    return (key.desc(), id_col.desc()) if descending else (key, id_col)


def cursor_of(key_name: str) -> Callable[[RowMapping], str]:
    """A row's cursor: its ``key_name`` value (ISO 8601 for a date or a moment) and its id."""
    def make(row: RowMapping) -> str:
        value = row[key_name]
        return encode_cursor([value.isoformat() if hasattr(value, "isoformat") else value,
                              str(row["id"])])
    return make


def page_of(rows: Sequence[RowMapping], first: int, key_name: str) -> Page:
    return Page.of(rows, first, cursor_of(key_name))


async def fetch_page(reader: AsyncEngine, statement: Select[Any], first: int,
                     key_name: str) -> Page:
    """Run the ordered ``statement`` with ``LIMIT first + 1`` (one statement): the page."""
    async with reader.connect() as conn:
        rows = list((await conn.execute(statement.limit(first + 1))).mappings())
    return page_of(rows, first, key_name)


async def keyset_page(reader: AsyncEngine, statement: Select[Any], *, key: ColumnElement[Any],
                      key_type: type, id_col: ColumnElement[Any], first: int,
                      after: str | None, descending: bool = False,
                      key_name: str | None = None) -> Page:
    """The page of ``statement``'s rows after the cursor ``after``, ordered by (key, id), in one
    statement. ``key_name`` is the key's name in the result rows (default: the column's).
    Raises ``InvalidCursor`` for a cursor that is not of this ordering."""
    if after:
        statement = statement.where(after_condition(after, key, key_type, id_col,
                                                    descending=descending))
    name = key_name or key.key
    if name is None:
        raise ValueError("keyset_page: name the key's result column (key_name)")
    return await fetch_page(reader, statement.order_by(*keyset_order(key, id_col,
                                                                     descending=descending)),
                            first, name)


_PARENTS = bindparam("parents", type_=ARRAY(UUID(as_uuid=True)))


def parent_pages_statement(parent_col: ColumnElement[Any], statement: Select[Any],
                           first: int) -> Select[Any]:
    """The statement of :func:`pages_by_parent`: ``unnest(:parents) CROSS JOIN LATERAL
    (statement AND parent = p LIMIT first + 1)``. Build it once where the statement does not
    change between calls and run it with :func:`run_parent_pages` (no per-call construction)."""
    parents = func.unnest(_PARENTS).table_valued("parent_id").render_derived("p")
    sub = statement.where(parent_col == parents.c.parent_id).limit(first + 1).lateral("x")
    return select(parents.c.parent_id, sub).select_from(parents.join(sub, true()))


@lru_cache(maxsize=1024)
def _first_pages_statement(parent_col: ColumnElement[Any], statement: Select[Any],
                           key: ColumnElement[Any], id_col: ColumnElement[Any], first: int,
                           descending: bool) -> Select[Any]:
    """Every parent's first page of a ``statement`` built once, ordered by (key, id), built once
    per (statement, shape): building, and SQLAlchemy's cache key of, a LATERAL statement cost
    more than the query itself (issue 15, the tasks of a rep's agenda). The cache holds the
    statements by identity, so it only serves statements built once."""
    ordered = statement.order_by(*keyset_order(key, id_col, descending=descending))
    return parent_pages_statement(parent_col, ordered, first)


def _pages(rows: Iterable[RowMapping], parent_ids: Sequence[uuid.UUID], first: int,
           key_name: str) -> list[Page]:
    grouped: dict[uuid.UUID, list[RowMapping]] = defaultdict(list)
    for row in rows:
        grouped[row["parent_id"]].append(row)
    return [page_of(grouped.get(p, []), first, key_name) for p in parent_ids]


async def run_parent_pages(reader: AsyncEngine, joined: Select[Any],
                           parent_ids: Sequence[uuid.UUID], first: int, key_name: str,
                           params: dict[str, Any] | None = None) -> list[Page]:
    """Run a :func:`parent_pages_statement` that was built once (a module constant or
    ``lru_cache``d, built with the same ``first``) for ``parent_ids``, with the statement's other
    ``params``: one page per parent, in the order asked. It goes through ``db.fetch_rows``, which
    compiles a statement once and keeps it while it lives: a statement built per call goes
    through :func:`pages_by_parent`."""
    unique = list(dict.fromkeys(parent_ids))
    if not unique:
        return []
    rows = await fetch_rows(reader, joined, {**(params or {}), "parents": unique})
    return _pages(rows, parent_ids, first, key_name)


async def pages_by_parent(reader: AsyncEngine, parent_ids: Sequence[uuid.UUID],
                          parent_col: ColumnElement[Any], statement: Select[Any], first: int,
                          key_name: str, params: dict[str, Any] | None = None) -> list[Page]:
    """One page per parent (a client's activities, a competitor's observations) in ONE statement:
    ``unnest(:parents) CROSS JOIN LATERAL (statement AND parent = p LIMIT n + 1)``; each lateral
    is an index scan, so the cost grows with the parents asked for, not with the rows stored.
    For a statement built per call (SQLAlchemy's compiled cache serves it)."""
    unique = list(dict.fromkeys(parent_ids))
    if not unique:
        return []
    joined = parent_pages_statement(parent_col, statement, first)
    async with reader.connect() as conn:
        rows = (await conn.execute(joined, {**(params or {}), "parents": unique})).mappings()
        return _pages(rows, parent_ids, first, key_name)


async def keyset_pages_by_parent(reader: AsyncEngine, parent_ids: Sequence[uuid.UUID],
                                 parent_col: ColumnElement[Any], statement: Select[Any], *,
                                 key: ColumnElement[Any], key_type: type,
                                 id_col: ColumnElement[Any], first: int, after: str | None,
                                 descending: bool = False, key_name: str | None = None,
                                 params: dict[str, Any] | None = None,
                                 built_once: bool = False) -> list[Page]:
    """:func:`keyset_page` for many parents at once (``Client.tasks`` for every client of a
    list): each parent's page of ``statement`` (with its bind ``params``) after ``after`` in the
    (key, id) order, in ONE statement (:func:`pages_by_parent`). Raises ``InvalidCursor``.

    ``built_once``: ``statement`` is built once (a module constant or ``lru_cache``d, the
    caller's values in ``params``). The first pages' statement is then built once too and sent
    through ``db.fetch_rows`` (:func:`run_parent_pages`); pages after a cursor, whose statement
    carries the cursor, are built per call either way."""
    name = key_name or key.key
    if name is None:
        raise ValueError("keyset_pages_by_parent: name the key's result column (key_name)")
    if built_once and not after:
        joined = _first_pages_statement(parent_col, statement, key, id_col, first, descending)
        return await run_parent_pages(reader, joined, parent_ids, first, name, params)
    if after:
        statement = statement.where(after_condition(after, key, key_type, id_col,
                                                    descending=descending))
    ordered = statement.order_by(*keyset_order(key, id_col, descending=descending))
    return await pages_by_parent(reader, parent_ids, parent_col, ordered, first, name, params)


#: the ids of a batch as ONE array parameter (``= ANY(:ids)``): the SQL text is the same for any
#: number of ids, so SQLAlchemy's compiled cache and asyncpg's prepared statements are reused (an
#: ``IN`` list is rendered anew per call); execute with ``{"ids": [...]}``
IDS = bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))


async def by_ids(reader: AsyncEngine, table: Any, visible: ColumnElement[bool],
                 ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    """Rows by id in one statement; ids one may not see come back as None, as unknown ids do."""
    statement = select(table).where(table.c.id == any_(IDS), visible)
    async with reader.connect() as conn:
        found = {r["id"]: r for r in (await conn.execute(statement, {"ids": list(ids)})).mappings()}
    return [found.get(i) for i in ids]
