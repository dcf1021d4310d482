"""Generic keyset paging against the real database: every row once, in order, whatever the key."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.graphql.cursors import InvalidCursor, encode_cursor
from crm_common.paging import Page, by_ids, keyset_page, pages_by_parent

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

metadata = sa.MetaData()
items = sa.Table(
    "paging_items", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("owner_id", sa.Uuid, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
)
PARENTS = (uuid.UUID(int=1), uuid.UUID(int=2))
T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
async def reader(db: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    async with db.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(sa.text("TRUNCATE paging_items"))
        # keys repeat (ties broken by id), Cyrillic and Latin names
        await conn.execute(sa.insert(items), [
            {"id": uuid.uuid4(), "owner_id": PARENTS[i % 2], "name": name,
             "at": T0 + dt.timedelta(hours=i // 2), "day": dt.date(2026, 3, 1 + i // 3)}
            for i, name in enumerate(["Банка", "Alpha", "Банка", "beta", "Zeta", "Alpha",
                                      "Ябълка", "gamma"])])
    yield db


async def _all_pages(reader: AsyncEngine, first: int, **kw: Any) -> tuple[list[Any], int]:
    seen: list[Any] = []
    after, pages = None, 0
    while True:
        page = await keyset_page(reader, sa.select(items), id_col=items.c.id, first=first,
                                 after=after, **kw)
        pages += 1
        assert len(page.rows) <= first and len(page.cursors) == len(page.rows)
        seen.extend(r["id"] for r in page.rows)
        if not page.has_next:
            return seen, pages
        after = page.end_cursor


@pytest.mark.parametrize("column,key_type", [("name", str), ("at", dt.datetime),
                                             ("day", dt.date)])
@pytest.mark.parametrize("descending", [False, True])
async def test_pages_visit_every_row_once_in_key_then_id_order(
        reader: AsyncEngine, column: str, key_type: type, descending: bool) -> None:
    key = items.c[column]
    async with reader.connect() as conn:
        order = (key.desc(), items.c.id.desc()) if descending else (key, items.c.id)
        expected = list((await conn.execute(sa.select(items.c.id).order_by(*order))).scalars())
    seen, pages = await _all_pages(reader, 3, key=key, key_type=key_type,
                                   descending=descending)
    assert seen == expected
    assert pages == 3


async def test_cursors_spell_the_key_and_the_id(reader: AsyncEngine) -> None:
    page = await keyset_page(reader, sa.select(items), key=items.c.at, key_type=dt.datetime,
                             id_col=items.c.id, first=1, after=None)
    (row,) = page.rows
    assert page.cursors == [encode_cursor([row["at"].isoformat(), str(row["id"])])]


@pytest.mark.parametrize("after", [
    "not base64!",
    encode_cursor(["x"]),  # another ordering's arity
    encode_cursor(["2026-03-01T08:00:00", str(uuid.uuid4())]),  # a naive moment
    encode_cursor(["2026-03-01T08:00:00Z", "not-an-id"]),
])
async def test_a_cursor_that_is_not_ours_is_refused(reader: AsyncEngine, after: str) -> None:
    with pytest.raises(InvalidCursor):
        await keyset_page(reader, sa.select(items), key=items.c.at, key_type=dt.datetime,
                          id_col=items.c.id, first=2, after=after)


async def test_a_text_key_refuses_a_number_in_the_cursor(reader: AsyncEngine) -> None:
    with pytest.raises(InvalidCursor):
        await keyset_page(reader, sa.select(items), key=items.c.name, key_type=str,
                          id_col=items.c.id, first=2, after=encode_cursor([5, str(uuid.uuid4())]))


async def test_one_page_per_parent_and_rows_by_id_in_one_statement(reader: AsyncEngine) -> None:
    statement = sa.select(items).order_by(items.c.name, items.c.id)
    unknown = uuid.UUID(int=3)
    pages = await pages_by_parent(reader, [*PARENTS, unknown], items.c.owner_id, statement, 2,
                                  "name")
    assert [len(p.rows) for p in pages] == [2, 2, 0]
    assert [p.has_next for p in pages] == [True, True, False]
    assert pages[2] == Page([], False, None, [])
    ids = [pages[0].rows[0]["id"], unknown]
    found = await by_ids(reader, items, items.c.owner_id == PARENTS[0], ids)
    assert found[0] is not None and found[0]["id"] == ids[0] and found[1] is None
