"""Pages of an append-only history table, for many entities in one statement.

Every service keeps an audit history (DESIGN §4) readable as ``history(first, after)`` on its
entities. Asked for on a list (``clients { history }``, ``tasks { history }``), one query per
entity would make the statement count grow with the rows returned; :class:`HistoryLoader` is a
per-request DataLoader that answers every entity's first page in one statement (a window
function, ``row_number() OVER (PARTITION BY key ORDER BY id)``), and pages after a cursor (asked
for one entity at a time in practice) with a keyset condition on the id.

Cursors are ``[id]`` of the history row; the order is by id (newest first by default).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor
from crm_common.paging import Page

#: (entity key, page size, cursor or None)
HistoryKey = tuple[uuid.UUID, int, str | None]


def _cursor(row: sa.RowMapping) -> str:
    return encode_cursor([row["id"]])


def cursor_id(after: str) -> int:
    """The history id a cursor points at; ``InvalidCursor`` when it is not one of ours."""
    (raw,) = decode_cursor(after, 1)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise InvalidCursor("malformed cursor")
    return raw


async def history_pages(reader: AsyncEngine, table: sa.Table, key: str,
                        keys: Sequence[uuid.UUID], *, first: int, after: str | None = None,
                        newest_first: bool = True) -> list[Page]:
    """One page per key of ``table`` rows whose ``key`` column equals it."""
    column, row_id = table.c[key], table.c.id
    condition: sa.ColumnElement[bool] = column.in_(list(keys))
    if after is not None:
        last = cursor_id(after)
        condition = sa.and_(condition, row_id < last if newest_first else row_id > last)
    order = row_id.desc() if newest_first else row_id.asc()
    rank = sa.func.row_number().over(partition_by=column, order_by=order).label("_rank")
    inner = sa.select(table, rank).where(condition).subquery()
    statement = (sa.select(*[inner.c[c.name] for c in table.c])
                 .where(inner.c["_rank"] <= first + 1)
                 .order_by(inner.c[key], inner.c["_rank"]))
    grouped: dict[Any, list[sa.RowMapping]] = defaultdict(list)
    async with reader.connect() as conn:
        for row in (await conn.execute(statement)).mappings():
            grouped[row[key]].append(row)
    return [Page.of(grouped.get(k, []), first, _cursor) for k in keys]


class HistoryLoader(DataLoader[HistoryKey, Page]):
    """Per request: ``await loader.load((entity_id, first, after))``; keys with the same page
    size and cursor are answered together, one statement per (size, cursor) combination."""

    def __init__(self, reader: AsyncEngine, table: sa.Table, key: str, *,
                 newest_first: bool = True) -> None:
        async def load(keys: list[HistoryKey]) -> list[Page]:
            groups: dict[tuple[int, str | None], list[uuid.UUID]] = defaultdict(list)
            for entity, first, after in keys:
                groups[(first, after)].append(entity)
            answers: dict[HistoryKey, Page] = {}
            for (first, after), entities in groups.items():
                unique = list(dict.fromkeys(entities))
                pages = await history_pages(reader, table, key, unique, first=first,
                                            after=after, newest_first=newest_first)
                answers.update({(e, first, after): p for e, p in zip(unique, pages,
                                                                     strict=True)})
            return [answers[k] for k in keys]

        super().__init__(load_fn=load, max_batch_size=500)
