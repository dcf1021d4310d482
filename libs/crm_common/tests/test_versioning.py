"""The lock-and-check-version helper against the real database (DESIGN §4)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm_common.problems import Problems, forbidden
from crm_common.versioning import check_version, is_version, lock_row, lock_versioned

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

metadata = sa.MetaData()
owners = sa.Table(
    "versioning_owners", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
)
rows = sa.Table(
    "versioning_rows", metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("owner_id", sa.Uuid, sa.ForeignKey("versioning_owners.id"), nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
)


@pytest.fixture
async def sessions(db: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    async with db.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(sa.text("TRUNCATE versioning_rows, versioning_owners"))
    yield async_sessionmaker(db, expire_on_commit=False)


async def _row(sessions: async_sessionmaker[AsyncSession], *, hidden: bool = False,
               version: int = 1) -> uuid.UUID:
    owner, row = uuid.uuid4(), uuid.uuid4()
    async with sessions() as s, s.begin():
        await s.execute(sa.insert(owners).values(id=owner, name="Иван"))
        await s.execute(sa.insert(rows).values(id=row, owner_id=owner, hidden=hidden,
                                               version=version))
    return row


def _only(exc: Problems) -> tuple[tuple[str, ...], str, str]:
    (p,) = exc.problems
    return p.field, p.code, p.message


async def test_the_row_at_the_version_read_is_returned_locked(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    row_id = await _row(sessions, version=3)
    async with sessions() as s, s.begin():
        row = await lock_versioned(s, rows, row_id, 3, what="thing")
        assert (row["id"], row["version"]) == (row_id, 3)
        async with sessions() as other, other.begin():
            with pytest.raises(DBAPIError, match="could not obtain lock"):
                await other.execute(sa.select(rows).where(rows.c.id == row_id)
                                    .with_for_update(nowait=True))


async def test_missing_or_hidden_rows_read_as_not_found(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    hidden = await _row(sessions, hidden=True)
    async with sessions() as s, s.begin():
        with pytest.raises(Problems) as missing:
            await lock_versioned(s, rows, uuid.uuid4(), 1, what="thing")
        assert _only(missing.value) == (("input", "id"), "NOT_FOUND", "thing not found")
        with pytest.raises(Problems) as invisible:
            await lock_row(s, rows, hidden, what="thing", where=rows.c.hidden.is_(False),
                           field=("input", "thingId"))
        assert _only(invisible.value) == (("input", "thingId"), "NOT_FOUND", "thing not found")
        assert (await lock_row(s, rows, hidden, what="thing"))["id"] == hidden


@pytest.mark.parametrize("version", [2, 0, True, "1", 1.0, None])
async def test_a_stale_or_malformed_version_is_a_conflict(
        sessions: async_sessionmaker[AsyncSession], version: object) -> None:
    """``True == 1`` in Python: a boolean must not pass for version 1 (the clients service let it
    through before the kit)."""
    row_id = await _row(sessions, version=1)
    async with sessions() as s, s.begin():
        with pytest.raises(Problems) as exc:
            await lock_versioned(s, rows, row_id, version, what="thing")
    field, code, message = _only(exc.value)
    assert (field, code) == (("input", "version"), "CONFLICT")
    assert message.startswith("the thing was changed by someone else")


async def test_the_permission_check_comes_before_the_version_check(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    row_id = await _row(sessions, version=5)
    seen = []

    def refuse(row: sa.RowMapping) -> None:
        seen.append(row["id"])
        raise forbidden("not yours", field=("input", "id"))

    async with sessions() as s, s.begin():
        with pytest.raises(Problems) as exc:
            await lock_versioned(s, rows, row_id, 1, what="thing", allowed=refuse)
    assert _only(exc.value) == (("input", "id"), "FORBIDDEN", "not yours")
    assert seen == [row_id]


async def test_a_joined_statement_brings_parent_columns_and_locks_only_the_row(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    row_id = await _row(sessions)
    statement = sa.select(rows, owners.c.name).join(owners, owners.c.id == rows.c.owner_id)
    async with sessions() as s, s.begin():
        row = await lock_row(s, rows, row_id, what="thing", statement=statement)
        assert row["name"] == "Иван"
        async with sessions() as other, other.begin():  # the owner row is not locked
            await other.execute(sa.select(owners).with_for_update(nowait=True))


def test_check_version_and_is_version() -> None:
    row = {"version": 4}
    check_version(row, 4, what="thing")  # type: ignore[arg-type]
    with pytest.raises(Problems) as exc:
        check_version(row, 3, what="thing", field=("input", "rev"))  # type: ignore[arg-type]
    assert exc.value.problems[0].field == ("input", "rev")
    assert is_version(7) and not is_version(True) and not is_version("7")
