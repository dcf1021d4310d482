"""Keyset pages: one page, and one page per parent in one statement, against PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.graphql.cursors import InvalidCursor, encode_cursor
from crm_common.paging import Keyset, Page, fetch_page, pages_by_parent

metadata = sa.MetaData()
items = sa.Table(
    "paging_items", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("parent_id", sa.Uuid, nullable=False),
    sa.Column("due", sa.Date, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
)
BY_DUE = Keyset((items.c.due, items.c.id))
NEWEST = Keyset((items.c.at, items.c.id), descending=True)
PARENTS = [uuid.UUID(int=i) for i in (1, 2, 3)]


@pytest.fixture
async def table(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        await conn.execute(items.insert(), [
            {"id": uuid.uuid4(), "parent_id": PARENTS[n % 2], "due": dt.date(2026, 1, 1 + n % 4),
             "at": start + dt.timedelta(minutes=n), "name": f"item {n}"} for n in range(20)])
    return engine


def _all_pages(pages: list[Page]) -> list[str]:
    return [r["name"] for p in pages for r in p.rows]


async def test_one_page_after_another_reads_every_row_once_in_order(table: AsyncEngine) -> None:
    seen: list[sa.RowMapping] = []
    after = None
    while True:
        page = await fetch_page(table, sa.select(items), BY_DUE, first=6, after=after)
        seen += page.rows
        assert page.end_cursor == (page.cursors[-1] if page.cursors else None)
        if not page.has_next:
            break
        after = page.end_cursor
    assert len(seen) == 20 and len({r["id"] for r in seen}) == 20
    assert [(r["due"], r["id"]) for r in seen] == sorted((r["due"], r["id"]) for r in seen)


async def test_descending_moments_and_the_statement_s_own_condition(table: AsyncEngine) -> None:
    statement = sa.select(items).where(items.c.parent_id == PARENTS[0])
    first = await fetch_page(table, statement, NEWEST, first=4)
    second = await fetch_page(table, statement, NEWEST, first=4, after=first.end_cursor)
    moments = [r["at"] for r in first.rows + second.rows]
    assert moments == sorted(moments, reverse=True) and len(moments) == 8
    assert all(r["parent_id"] == PARENTS[0] for r in first.rows + second.rows)


async def test_pages_by_parent_one_statement_in_the_order_asked(table: AsyncEngine) -> None:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(table.sync_engine, "before_cursor_execute", count)
    try:
        asked = [PARENTS[2], PARENTS[1], PARENTS[0], PARENTS[1]]
        pages = await pages_by_parent(table, sa.select(items), items.c.parent_id, asked,
                                      BY_DUE, first=3)
    finally:
        sa.event.remove(table.sync_engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert [len(p.rows) for p in pages] == [0, 3, 3, 3] and not pages[0].has_next
    assert pages[1] == pages[3] and pages[1].has_next
    assert all(r["parent_id"] == PARENTS[1] for r in pages[1].rows)
    rest = await pages_by_parent(table, sa.select(items), items.c.parent_id, [PARENTS[1]],
                                 BY_DUE, first=20, after=pages[1].end_cursor)
    names = _all_pages([pages[1], *rest])
    expected = await fetch_page(table, sa.select(items).where(items.c.parent_id == PARENTS[1]),
                                BY_DUE, first=20)
    assert names == [r["name"] for r in expected.rows] and len(names) == 10


@pytest.mark.parametrize("cursor", [
    "garbage!", encode_cursor(["2026-01-01"]), encode_cursor([1, 2]),
    encode_cursor(["2026-13-01", str(uuid.uuid4())]), encode_cursor(["2026-01-01", "x"]),
])
def test_a_cursor_not_of_this_ordering_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        BY_DUE.after(cursor)


def test_a_naive_moment_in_a_cursor_is_refused() -> None:
    with pytest.raises(InvalidCursor):
        NEWEST.after(encode_cursor(["2026-01-01T00:00:00", str(uuid.uuid4())]))
