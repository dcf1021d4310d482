"""crm_common.bulk against PostgreSQL: every column type the services bind reads back as it was
sent, conflicts add, replace or skip, and a write cut into several statements writes every row."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from crm_common.bulk import bulk_upsert

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

_metadata = sa.MetaData()
rows_table = sa.Table(
    "bulk_rows", _metadata,
    sa.Column("client_id", sa.Uuid, primary_key=True),
    sa.Column("code", sa.Text, primary_key=True),
    sa.Column("month", sa.Date),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("amount", sa.Numeric(18, 2), nullable=False),
    sa.Column("quantity", sa.Numeric(18, 3)),
    sa.Column("count", sa.Integer),
    sa.Column("flag", sa.Boolean),
    sa.Column("doc", JSONB),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)


@pytest.fixture
async def table(db: AsyncEngine) -> AsyncEngine:
    async with db.begin() as conn:
        await conn.run_sync(lambda sync: rows_table.drop(sync, checkfirst=True))
        await conn.run_sync(lambda sync: rows_table.create(sync))
    return db


async def _rows(engine: AsyncEngine) -> list[sa.Row]:
    async with engine.connect() as conn:
        return list(await conn.execute(
            sa.select(rows_table).order_by(rows_table.c.client_id, rows_table.c.code)))


async def test_values_read_back_as_they_were_bound(table: AsyncEngine) -> None:
    client = uuid.uuid4()
    naive = dt.datetime(2026, 1, 2, 3, 4, 5, 123456)
    row = {"client_id": client, "code": 'a "quoted" \\ кирилица', "month": dt.date(2026, 1, 1),
           "at": naive, "amount": Decimal("9999999999999999.99"),
           "quantity": Decimal("0.001"), "count": 2_000_000_000, "flag": True,
           "doc": json.dumps([{"lineId": "1", "netAmount": "1.50"}]), "version": 3}
    empty = {"client_id": client, "code": "b", "month": None, "at": None,
             "amount": Decimal("-0.5"), "quantity": None, "count": None, "flag": None,
             "doc": None, "version": 1}
    async with AsyncSession(table) as session, session.begin():
        await bulk_upsert(session, rows_table, [row, empty], key=("client_id", "code"))
        # a UUID read from the driver (its own class) binds as well
        read = await session.scalar(sa.select(rows_table.c.client_id).limit(1))
        await bulk_upsert(session, rows_table, [{**empty, "client_id": read, "code": "c"}],
                          key=("client_id", "code"))
    got = await _rows(table)
    assert got[0]._asdict() == {**row, "at": naive.replace(tzinfo=dt.UTC),
                                "doc": [{"lineId": "1", "netAmount": "1.50"}]}
    assert got[1]._asdict() == {**empty, "amount": Decimal("-0.50")}
    assert got[2].code == "c"


async def test_conflicts_add_replace_or_skip(table: AsyncEngine) -> None:
    client = uuid.uuid4()

    def row(code: str, amount: str, version: int) -> dict[str, object]:
        return {"client_id": client, "code": code, "amount": Decimal(amount), "version": version}

    async with AsyncSession(table) as session, session.begin():
        await bulk_upsert(session, rows_table, [row("a", "1.10", 1), row("b", "2", 1)],
                          key=("client_id", "code"))
        await bulk_upsert(session, rows_table, [row("a", "0.05", 1), row("b", "-2", 1)],
                          key=("client_id", "code"), add=("amount",))
        written = await bulk_upsert(
            session, rows_table, [row("a", "7", 2), row("b", "8", 1)], key=("client_id", "code"),
            replace=("amount", "version"), where="bulk_rows.version < excluded.version",
            returning=("code",))
    assert [r.code for r in written] == ["a"]
    assert [(r.code, r.amount, r.version) for r in await _rows(table)] == [
        ("a", Decimal("7.00"), 2), ("b", Decimal("0.00"), 1)]


async def test_a_write_of_several_statements_writes_every_row(table: AsyncEngine) -> None:
    clients = sorted(uuid.uuid4() for _ in range(3))
    codes = ["Z", "a", "b", "ä", "_"]
    rows = [{"client_id": c, "code": code, "amount": Decimal(n)}
            for n, (c, code) in enumerate((c, code) for c in reversed(clients) for code in codes)]
    async with AsyncSession(table) as session, session.begin():
        await bulk_upsert(session, rows_table, rows, key=("client_id", "code"), chunk=4)
    got = [(r.client_id, r.code) for r in await _rows(table)]
    assert sorted(got) == sorted((r["client_id"], r["code"]) for r in rows)
