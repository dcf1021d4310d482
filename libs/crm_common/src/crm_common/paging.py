"""Keyset pages as every service's read queries return them.

A query fetches ``first + 1`` rows in the page's order; :meth:`Page.of` keeps ``first`` of them,
says whether there is a next page, and makes each kept row's opaque cursor.

:class:`Keyset` is an ordering by columns whose last one is unique (the id): it orders a
statement, makes a row's cursor and turns a cursor back into ``WHERE (a, id) > (:a, :id)``, so
that page 10,000 costs what page 1 costs. :func:`fetch_page` reads one page;
:func:`pages_by_parent` reads one page per parent (``Client.tasks`` for every client of a list) in
ONE statement, so that the statement count does not grow with the rows returned.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, ColumnElement, RowMapping, Select, bindparam, func, select, true
from sqlalchemy import tuple_ as sql_tuple
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

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
        return cls([], False, None, [])


def _encode(value: Any) -> Any:
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _decode(raw: Any, column: Column[Any]) -> Any:
    try:
        kind = column.type.python_type
    except NotImplementedError:
        kind = object
    if kind is int:
        if not isinstance(raw, int) or isinstance(raw, bool):
            raise ValueError("not an integer")
        return raw
    if not isinstance(raw, str):
        raise ValueError("not text")
    if kind is uuid.UUID:
        return uuid.UUID(raw)
    if kind is dt.datetime:
        moment = dt.datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError("a moment without its offset")
        return moment
    if kind is dt.date:
        return dt.date.fromisoformat(raw)
    if kind is str:
        return raw
    raise ValueError(f"no cursor for a {kind.__name__} column")


@dataclass(frozen=True)
class Keyset:
    """An ordering by ``columns`` (the last one unique), all ascending or all descending.

    A cursor is the JSON list of a row's values of those columns (dates and moments in ISO 8601,
    UUIDs as text), base64url-encoded: opaque to clients, checked when it comes back."""

    columns: tuple[Column[Any], ...]
    descending: bool = False

    def order_by(self, source: Any = None) -> list[ColumnElement[Any]]:
        """The ORDER BY terms, of the table's columns or of ``source``'s (a subquery)."""
        cols = [source.c[c.name] if source is not None else c for c in self.columns]
        return [c.desc() if self.descending else c.asc() for c in cols]

    def cursor(self, row: RowMapping) -> str:
        return encode_cursor([_encode(row[c.name]) for c in self.columns])

    def after(self, cursor: str) -> ColumnElement[bool]:
        """The rows after ``cursor`` in this ordering; ``InvalidCursor`` when it is not one."""
        raw = decode_cursor(cursor, len(self.columns))
        try:
            values = [_decode(v, c) for v, c in zip(raw, self.columns, strict=True)]
        except (ValueError, TypeError) as exc:
            raise InvalidCursor("malformed cursor") from exc
        left, right = sql_tuple(*self.columns), sql_tuple(*values)
        return left < right if self.descending else left > right

    def page(self, rows: Sequence[RowMapping], first: int) -> Page:
        return Page.of(rows, first, self.cursor)


async def fetch_page(reader: AsyncEngine, statement: Select[Any], keyset: Keyset, *,
                     first: int, after: str | None = None) -> Page:
    """One page of ``statement`` (its own WHERE kept) in the keyset's order."""
    if after is not None:
        statement = statement.where(keyset.after(after))
    statement = statement.order_by(*keyset.order_by()).limit(first + 1)
    async with reader.connect() as conn:
        rows = list((await conn.execute(statement)).mappings())
    return keyset.page(rows, first)


_PARENTS = bindparam("crm_parents", type_=ARRAY(UUID(as_uuid=True)))


async def pages_by_parent(reader: AsyncEngine, statement: Select[Any], parent: Column[Any],
                          parent_ids: Sequence[uuid.UUID], keyset: Keyset, *, first: int,
                          after: str | None = None) -> list[Page]:
    """One page of ``statement`` per parent id (rows whose ``parent`` column equals it), in
    ONE statement: ``unnest(:parents) CROSS JOIN LATERAL (statement AND parent = p AND after
    ORDER BY keyset LIMIT first + 1)``. Each lateral is an index scan of the parent's rows, so
    the cost grows with the parents asked for, not with the rows stored. Pages come back in the
    order of ``parent_ids``; the rows carry an extra ``_parent`` key."""
    unique = list(dict.fromkeys(parent_ids))
    if not unique:
        return []
    parents = func.unnest(_PARENTS).table_valued("parent_id").render_derived("crm_p")
    inner = statement.where(parent == parents.c.parent_id)
    if after is not None:
        inner = inner.where(keyset.after(after))
    sub = inner.order_by(*keyset.order_by()).limit(first + 1).lateral("crm_x")
    joined = (select(parents.c.parent_id.label("_parent"), sub)
              .select_from(parents.join(sub, true()))
              .order_by(parents.c.parent_id, *keyset.order_by(sub)))
    grouped: dict[uuid.UUID, list[RowMapping]] = defaultdict(list)
    async with reader.connect() as conn:
        for row in (await conn.execute(joined, {"crm_parents": unique})).mappings():
            grouped[row["_parent"]].append(row)
    return [keyset.page(grouped.get(p, []), first) for p in parent_ids]
