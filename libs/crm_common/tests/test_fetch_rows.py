"""``crm_common.db.fetch_rows`` (the DataLoaders' hot reads straight through asyncpg) against the
real PostgreSQL: the same values as SQLAlchemy's execution for every column type the services
read, its own parameters and the statement's, and what happens to the pooled connection when a
statement fails, is cancelled or loses its connection."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.db import connection_lost, fetch_rows, make_engine, make_reader, read_retrying

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

_meta = sa.MetaData()
kinds = sa.Table(
    "fetch_rows_kinds", _meta,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=True)),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("tags", ARRAY(sa.Text), nullable=False),
    sa.Column("ids", ARRAY(UUID(as_uuid=True))),
    sa.Column("doc", JSONB, nullable=False),
    sa.Column("amount", sa.Numeric(14, 2)),
    sa.Column("ratio", sa.Float),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("day", sa.Date),
    sa.Column("span", sa.Interval),
    sa.Column("flag", sa.Boolean, nullable=False),
    sa.Column("n", sa.Integer),
    sa.Column("big", sa.BigInteger),
)
IDS = sa.bindparam("ids", type_=ARRAY(UUID(as_uuid=True)))
BY_IDS = sa.select(kinds).where(kinds.c.id == sa.any_(IDS)).order_by(kinds.c.n)
#: a statement that carries a value of its own (rendered as a parameter) beside the caller's
NAMED = sa.select(kinds.c.id).where(kinds.c.name != "skip", kinds.c.owner_id == sa.bindparam("me",
                                                                                    type_=UUID(as_uuid=True)))
SLEEP = sa.select(sa.func.pg_sleep(sa.bindparam("s", type_=sa.Float)))
BACKEND = sa.select(sa.func.pg_backend_pid().label("pid"))
BAD_CAST = sa.select(sa.cast(sa.bindparam("v", type_=sa.Text), sa.Integer).label("n"))


@pytest.fixture
async def reader(engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    async with engine.begin() as conn:
        await conn.run_sync(_meta.create_all)
        await conn.execute(kinds.delete())
    pooled = make_engine(engine.url.render_as_string(hide_password=False), pool_size=2)
    try:
        yield make_reader(pooled)
    finally:
        await pooled.dispose()


def _row(n: int, owner: uuid.UUID) -> dict[str, object]:
    return {"id": uuid.uuid4(), "owner_id": owner if n else None, "name": f"Име {n} ООД",
            "tags": ["a", "б"] if n else [], "ids": [uuid.uuid4()] if n else None,
            "doc": {"фактура": "Доставка", "n": n, "list": [1, None, True]} if n else {},
            "amount": Decimal("1234.50") if n else None, "ratio": 0.25 * n,
            "at": dt.datetime(2026, 12, 8, 9, n, tzinfo=dt.UTC),
            "day": dt.date(2026, 12, n + 1) if n else None,
            "span": dt.timedelta(hours=n) if n else None, "flag": bool(n % 2), "n": n,
            "big": 2**40 + n if n else None}


async def test_same_values_as_sqlalchemy_for_every_column_type(reader: AsyncEngine) -> None:
    owner = uuid.uuid4()
    rows = [_row(n, owner) for n in range(3)]
    async with reader.connect() as conn:
        await conn.execute(kinds.insert(), rows)
    ids = [r["id"] for r in rows]
    async with reader.connect() as conn:
        expected = [dict(r) for r in (await conn.execute(BY_IDS, {"ids": ids})).mappings()]
    got = await fetch_rows(reader, BY_IDS, {"ids": ids})
    assert len(got) == len(expected) == 3
    for want, have in zip(expected, got, strict=True):
        assert dict(have.items()) == want
        for key, value in want.items():
            if value is not None:
                assert isinstance(have[key], type(value)), (key, type(have[key]), type(value))
    # read as a RowMapping is: by name, get, keys, in; uuid keys find the caller's uuids
    first = got[0]
    assert first.get("missing", "x") == "x" and "doc" in first and "nope" not in first
    assert {r["id"]: r for r in got}[ids[1]]["n"] == 1
    assert got[1]["doc"]["фактура"] == "Доставка"
    # the same statement again: compiled once, other parameters, nothing found
    assert await fetch_rows(reader, BY_IDS, {"ids": [uuid.uuid4()]}) == []
    # the statement's own value ("skip") comes with the caller's
    assert [r["id"] for r in await fetch_rows(reader, NAMED, {"me": owner})] \
        == [rows[1]["id"], rows[2]["id"]]


async def test_a_missing_parameter_is_named(reader: AsyncEngine) -> None:
    with pytest.raises(KeyError, match="me"):
        await fetch_rows(reader, NAMED, {})


async def test_a_statement_error_is_raised_and_the_connection_kept(reader: AsyncEngine) -> None:
    (before,) = await fetch_rows(reader, BACKEND)
    with pytest.raises(asyncpg.InvalidTextRepresentationError):
        await fetch_rows(reader, BAD_CAST, {"v": "not a number"})
    assert [r["n"] for r in await fetch_rows(reader, BAD_CAST, {"v": "42"})] == [42]
    pids = {r["pid"] for _ in range(4) for r in await fetch_rows(reader, BACKEND)}
    assert before["pid"] in pids and len(pids) <= 2
    assert reader.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_cancelled_statement_discards_its_connection(reader: AsyncEngine) -> None:
    task = asyncio.create_task(fetch_rows(reader, SLEEP, {"s": 5.0}))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reader.pool.checkedout() == 0  # type: ignore[attr-defined]
    # the pool hands out working connections afterwards, never the one left mid-statement
    for _ in range(4):
        assert len(await fetch_rows(reader, BACKEND)) == 1


async def test_a_lost_connection_is_seen_as_lost_and_read_again(reader: AsyncEngine,
                                                               engine: AsyncEngine) -> None:
    (mine,) = await fetch_rows(reader, BACKEND)
    async with engine.connect() as admin:
        await admin.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": mine["pid"]})
    await asyncio.sleep(0.05)
    # the next read may draw the dead connection (asyncpg may not have read its end yet):
    # read_retrying sees a lost connection and reads again on a fresh one
    got = await read_retrying(lambda: fetch_rows(reader, BACKEND))
    assert got[0]["pid"] != mine["pid"]
    try:
        await fetch_rows(reader, SLEEP, {"s": 0.0})
    except Exception as exc:  # pragma: no cover - only when the dead one is drawn again
        assert connection_lost(exc)
    assert reader.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_an_in_list_is_refused_with_the_way_out(reader: AsyncEngine) -> None:
    statement = sa.select(kinds.c.id).where(kinds.c.name.in_(["a", "b"]))
    with pytest.raises(TypeError, match="any_"):
        await fetch_rows(reader, statement)
    assert reader.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_json_is_read_as_json_reads_it(reader: AsyncEngine) -> None:
    """The engine reads JSON with orjson (make_engine's json_deserializer), as ``json`` would:
    an integer beyond 64 bits stays an exact int, text stays text."""
    import json

    doc = {"big": 12345678901234567890123, "text": "Фактура \u2028 ✓", "n": [1.5, None, True],
           "nested": {"k": [{"deep": "x"}]}}
    row = _row(1, uuid.uuid4())
    row["doc"] = doc
    async with reader.connect() as conn:
        await conn.execute(kinds.insert(), [row])
        via_sqlalchemy = (await conn.execute(sa.select(kinds.c.doc).where(
            kinds.c.id == row["id"]))).scalar_one()
    (via_fetch,) = await fetch_rows(reader, BY_IDS, {"ids": [row["id"]]})
    expected = json.loads(json.dumps(doc))
    assert via_sqlalchemy == via_fetch["doc"] == expected
    assert isinstance(via_fetch["doc"]["big"], int)


SETTINGS = sa.select(sa.func.current_setting("pg_trgm.similarity_threshold", True).label("t"))


async def test_settings_are_set_on_the_statements_connection_first(reader: AsyncEngine) -> None:
    """``settings`` go to the connection the statement runs on, before it (on a pool of two,
    each call may draw either connection), and a bad one is PostgreSQL's error, the connection
    kept."""
    for value in ("0.41", "0.59", "0.33", "0.7"):
        (row,) = await fetch_rows(reader, SETTINGS,
                                  settings={"pg_trgm.similarity_threshold": value})
        assert row["t"] == value
    with pytest.raises(asyncpg.PostgresError):
        await fetch_rows(reader, SETTINGS, settings={"no_such_setting": "1"})
    assert reader.pool.checkedout() == 0  # type: ignore[attr-defined]
