"""The idempotency key's rules, the stored outcome's encoding, and the read retry against a
real PostgreSQL whose connections are terminated (issue 14)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm_common import idempotency
from crm_common.db import make_engine, read_retrying
from crm_common.problems import Problems


@pytest.mark.parametrize("key", ["a", str(uuid.uuid4()), "!" * 255, "app-1:retry/2~x"])
def test_visible_ascii_keys_up_to_255_characters_are_accepted(key: str) -> None:
    assert idempotency.check_key(key) == key


@pytest.mark.parametrize(("key", "why"), [
    ("", "is empty"), ("   ", "is empty"), ("k" * 256, "longer than 255"),
    ("k" * 100_000, "longer than 255"), ("nul\x00", "visible ASCII"), ("tab\t", "visible ASCII"),
    ("new\nline", "visible ASCII"), ("del\x7f", "visible ASCII"), ("ключ", "visible ASCII"),
    (" lead", "visible ASCII"), ("emoji🙂", "visible ASCII"),
])
def test_hostile_keys_are_refused_naming_the_header(key: str, why: str) -> None:
    with pytest.raises(Problems) as caught:
        idempotency.check_key(key)
    (p,) = caught.value.problems
    assert p.code == "INVALID_IDEMPOTENCY_KEY" and p.field == ("Idempotency-Key",)
    assert why in p.message
    assert key not in p.message or key == ""  # the hostile value is not echoed


class Colour(enum.Enum):
    RED = "RED"


@dataclasses.dataclass
class Args:
    name: str
    colour: Colour
    tags: list[str]


def test_the_fingerprint_follows_the_input_and_only_the_input() -> None:
    a = idempotency.fingerprint("createX", {"input": Args("Ана", Colour.RED, ["a"])})
    assert a == idempotency.fingerprint("createX", {"input": Args("Ана", Colour.RED, ["a"])})
    assert a != idempotency.fingerprint("createX", {"input": Args("Ана", Colour.RED, ["b"])})
    assert a != idempotency.fingerprint("updateX", {"input": Args("Ана", Colour.RED, ["a"])})
    assert idempotency.fingerprint("f", {"n": 1}) != idempotency.fingerprint("f", {"n": "1"})
    assert idempotency.fingerprint("f", {"a": 1, "b": 2}) == \
        idempotency.fingerprint("f", {"b": 2, "a": 1})


@dataclasses.dataclass(frozen=True)
class Grant:  # stands for a command's dataclass outcome (its module must be a crm_ package)
    attachment_id: uuid.UUID
    expires_at: dt.datetime


@pytest.mark.parametrize("value", [
    None, True, 7, "текст", 1.5, uuid.uuid4(), Decimal("12500.50"), dt.date(2026, 1, 1),
    dt.datetime(2026, 12, 7, 17, 0, tzinfo=dt.UTC), (uuid.uuid4(), "token"),
    [uuid.uuid4(), (1, 2)], {"id": uuid.uuid4(), "task_id": uuid.uuid4(), "file_id": "abc"},
])
def test_outcomes_survive_the_round_trip_through_json(value: object) -> None:
    import json
    stored = json.loads(json.dumps(idempotency.encode(value)))
    back = idempotency.decode(stored)
    assert back == value and type(back) is type(value)


def test_dataclass_outcomes_of_the_platform_come_back_as_themselves() -> None:
    from crm_common.messaging.envelope import DomainEvent
    event = DomainEvent(type="crm.x.y.created", subject="s", data={"a": 1})
    assert idempotency.decode(idempotency.encode(event)) == event


def test_what_cannot_be_stored_is_a_type_error_and_foreign_types_are_never_rebuilt() -> None:
    with pytest.raises(TypeError):
        idempotency.encode(object())
    with pytest.raises(TypeError):
        idempotency.encode(Grant(uuid.uuid4(), dt.datetime.now(dt.UTC)))  # not a crm_ module
    with pytest.raises(ValueError, match="refusing"):
        idempotency.decode({"$": "dataclass", "type": "os:system", "v": {}})
    with pytest.raises(ValueError, match="not a dataclass"):
        idempotency.decode({"$": "dataclass", "type": "crm_common.db:make_engine", "v": {}})


# -- against PostgreSQL --------------------------------------------------------------------------

async def _terminate(engine: AsyncEngine, application_name: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = :name AND datname = current_database() "
            "AND pid <> pg_backend_pid()"), {"name": application_name})).scalar_one())


async def _warm(engine: AsyncEngine, n: int = 4) -> None:
    async def one() -> None:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT pg_sleep(0.05)"))
    await asyncio.gather(*(one() for _ in range(n)))


async def test_a_read_whose_connection_was_dropped_is_read_again(engine: AsyncEngine) -> None:
    """Without pre-ping (so that the dead connection is really drawn): the plain read fails,
    the read through read_retrying succeeds on a fresh connection."""
    name = f"crm-retry-{uuid.uuid4().hex[:8]}"
    stale = create_async_engine(engine.url, pool_size=4, pool_pre_ping=False,
                                connect_args={"server_settings": {"application_name": name}})

    async def read() -> int:
        async with stale.connect() as conn:
            return int((await conn.execute(sa.text("SELECT 41 + 1"))).scalar_one())

    try:
        await _warm(stale)
        assert await _terminate(engine, name) == 4
        with pytest.raises(sa.exc.DBAPIError) as caught:
            await read()
        assert caught.value.connection_invalidated
        await _warm(stale)
        assert await _terminate(engine, name) == 4
        assert await read_retrying(read) == 42
    finally:
        await stale.dispose()


async def test_read_retrying_does_not_repeat_other_errors(engine: AsyncEngine) -> None:
    calls = []

    async def bad() -> None:
        calls.append(1)
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1/0"))

    with pytest.raises(sa.exc.DBAPIError):
        await read_retrying(bad)
    assert calls == [1]


async def test_the_service_engine_replaces_dropped_connections_at_checkout(
        engine: AsyncEngine) -> None:
    """make_engine's closed-connection check: every pooled connection was terminated a moment
    ago (asyncpg has read their end), the next checkout still works without retrying (a plain
    engine fails here: the test above). Right at the instant of termination the check can miss;
    that is what read_retrying and begin_checked cover (the tests around)."""
    service = make_engine(engine.url.render_as_string(hide_password=False), pool_size=4)
    try:
        await _warm(service)
        assert await _terminate(engine, "crm") >= 4
        await asyncio.sleep(0.3)
        async with service.connect() as conn:
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
    finally:
        await service.dispose()


async def test_the_sweeper_deletes_expired_outcomes_only(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(idempotency.define_idempotency_table(sa.MetaData()).create,
                            checkfirst=True)
        await conn.execute(sa.text("TRUNCATE idempotency_keys"))
        principal = uuid.uuid4()
        for i, age in enumerate([dt.timedelta(hours=-1), dt.timedelta(seconds=-1),
                                 dt.timedelta(hours=1), dt.timedelta(hours=23)]):
            await conn.execute(sa.text(
                "INSERT INTO idempotency_keys (principal, key, operation, request_hash, outcome,"
                " expires_at) VALUES (:p, :k, 'op', 'h', '1', now() + :age)"),
                {"p": principal, "k": f"k{i}", "age": age})
    assert await idempotency.sweep(engine, batch_size=1) == 2
    async with engine.connect() as conn:
        left = (await conn.execute(sa.text("SELECT key FROM idempotency_keys ORDER BY key"))
                ).scalars().all()
    assert left == ["k2", "k3"]


async def test_a_unit_of_work_begins_on_a_live_connection(engine: AsyncEngine) -> None:
    """begin_checked pings: with every pooled connection just terminated (asyncpg may not have
    read their end yet), the transaction still begins and runs."""
    from crm_common.db import begin_checked, make_session_factory

    service = make_engine(engine.url.render_as_string(hide_password=False), pool_size=4)
    factory = make_session_factory(service)
    try:
        for _ in range(3):
            await _warm(service)
            assert await _terminate(engine, "crm") >= 4
            session = await begin_checked(factory)
            try:
                assert (await session.execute(sa.text("SELECT 7"))).scalar_one() == 7
            finally:
                await session.close()
    finally:
        await service.dispose()
