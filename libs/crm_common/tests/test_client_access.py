"""The access rule over the projections (``crm_common.client_access``) against the real database:
the correlated ``EXISTS`` form the kit builds answers exactly what the former
``client_id IN (SELECT client_id FROM access_clients WHERE owner_id = :me)`` form answered, on a
portfolio with owned, granted, expired, cancelled, future and unknown clients."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.auth import Principal
from crm_common.client_access import (
    ClientAccess,
    can_see_client,
    define_client_access_tables,
    rep_client_condition,
    rule_params,
    standing_grant,
    visible_client_condition,
    visible_client_ids,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

metadata = sa.MetaData()
tables = define_client_access_tables(metadata)
#: rows hanging off a client, as a service's tasks or activities do (client may be unknown/NULL)
items = sa.Table(
    "access_items", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("client_id", sa.Uuid, nullable=True),
)
NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
GRACE = dt.timedelta(hours=24)
REPS = [uuid.UUID(int=1000 + i) for i in range(4)]
CLIENTS = [uuid.UUID(int=i + 1) for i in range(3000)]
#: ids on items that the projection does not know
UNKNOWN = [uuid.UUID(int=900_000 + i) for i in range(50)]


def former_condition(principal: Principal, client_id: sa.ColumnElement[Any]
                     ) -> sa.ColumnElement[bool]:
    """The rule as it was written before issue 15 (``IN`` over the whole portfolio)."""
    if principal.sees_all_clients:
        return sa.true()
    me = principal.subject
    c, g = tables.require_clients(), tables.grants
    return sa.or_(client_id.in_(sa.select(c.c.client_id).where(c.c.owner_id == me)),
                  client_id.in_(sa.select(g.c.client_id)
                                .where(standing_grant(g, me, NOW, GRACE))))


@pytest.fixture
async def portfolio(db: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """3,000 clients, most owned by REPS[0] (a big portfolio), the rest by the others or nobody;
    meeting grants of every kind; 6,000 items of which some name unknown clients or none."""
    rng = random.Random(15)
    async with db.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(sa.text("TRUNCATE access_clients, access_meeting_grants, "
                                   "access_items"))
        owners = [REPS[0] if i < 2000 else rng.choice([*REPS[1:], None]) for i in range(3000)]
        await conn.execute(sa.insert(tables.require_clients()), [
            {"client_id": cid, "code": f"C{i:05d}", "name": f"Клиент {i}", "owner_id": owner,
             "status": "active", "version": 1}
            for i, (cid, owner) in enumerate(zip(CLIENTS, owners, strict=True))])
        grants = []
        for n in range(400):
            ends = NOW + dt.timedelta(hours=rng.choice([-72, -30, -23, -1, 2, 48, 400]))
            grants.append({
                "meeting_id": uuid.uuid4(), "client_id": rng.choice(CLIENTS + UNKNOWN[:5]),
                "employee_id": rng.choice(REPS), "starts_at": ends - dt.timedelta(hours=1),
                "ends_at": ends, "status": "cancelled" if n % 7 == 0 else "scheduled",
                "version": 1})
        await conn.execute(sa.insert(tables.grants), grants)
        await conn.execute(sa.insert(items), [
            {"id": i, "client_id": None if i % 97 == 0 else rng.choice(CLIENTS + UNKNOWN)}
            for i in range(6000)])
    async with db.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text("ANALYZE access_clients"))
        await conn.execute(sa.text("ANALYZE access_meeting_grants"))
        await conn.execute(sa.text("ANALYZE access_items"))
    yield db


PRINCIPALS = [Principal(r, frozenset({"sales_rep"})) for r in REPS] + [
    Principal(uuid.UUID(int=5000), frozenset({"sales_rep"})),   # owns nothing, no grants
    Principal(uuid.UUID(int=5001), frozenset()),                 # no role at all
    Principal(uuid.UUID(int=5002), frozenset({"manager"})),
]


async def _visible_items(engine: AsyncEngine, condition: sa.ColumnElement[bool]) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(
            sa.select(items.c.id).where(condition).order_by(items.c.id))).scalars())


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{sorted(p.roles)}-{p.subject}")
async def test_exists_form_answers_as_the_former_in_form(portfolio: AsyncEngine,
                                                         principal: Principal) -> None:
    new = await _visible_items(portfolio, visible_client_condition(
        tables, principal, items.c.client_id, NOW, GRACE))
    old = await _visible_items(portfolio, former_condition(principal, items.c.client_id))
    assert new == old
    if principal.subject == REPS[0]:
        assert 3000 < len(new) < 6000          # the big portfolio: most items, never all


async def test_the_same_on_a_handful_of_rows_as_a_page_asks(portfolio: AsyncEngine) -> None:
    """Few rows (where the planner probes per row instead of hashing): the same answers."""
    rep = PRINCIPALS[1]
    for start in range(0, 6000, 500):
        window = sa.and_(items.c.id >= start, items.c.id < start + 5)
        new = await _visible_items(portfolio, sa.and_(window, visible_client_condition(
            tables, rep, items.c.client_id, NOW, GRACE)))
        old = await _visible_items(portfolio, sa.and_(window, former_condition(
            rep, items.c.client_id)))
        assert new == old


async def test_ids_and_single_checks_agree_with_the_former_form(portfolio: AsyncEngine) -> None:
    ask = CLIENTS[::7] + UNKNOWN
    for principal in PRINCIPALS:
        c = tables.require_clients()
        async with portfolio.connect() as conn:
            got = await visible_client_ids(conn, tables, principal, ask, NOW, GRACE)
            old = set((await conn.execute(sa.select(c.c.client_id).where(
                c.c.client_id.in_(ask), former_condition(principal, c.c.client_id)))).scalars())
            if principal.sees_all_clients:
                assert got == set(ask)          # managers: known or not
            else:
                assert got == old
            for cid in ask[:60:3] + UNKNOWN[:2]:
                seen = await can_see_client(conn, tables, principal, cid, NOW, GRACE)
                assert seen == (cid in old or (principal.sees_all_clients and cid in CLIENTS))


class Access(ClientAccess):
    """A service's ``visibility.Access``, over this module's projection."""

    tables = tables


async def test_a_services_access_answers_as_the_rule(portfolio: AsyncEngine) -> None:
    ask = CLIENTS[::5] + UNKNOWN
    for principal in PRINCIPALS:
        access = Access(principal, NOW, GRACE)
        assert access.sees_all == principal.sees_all_clients
        assert access.params == rule_params(principal, NOW, GRACE)
        async with portfolio.connect() as conn:
            assert await access.visible_among(conn, ask) == await visible_client_ids(
                conn, tables, principal, ask, NOW, GRACE)


async def test_bind_parameters_take_the_rule_values(portfolio: AsyncEngine) -> None:
    """A statement built once over bind parameters answers as the one built with values."""
    me = sa.bindparam("me", type_=sa.Uuid)
    now = sa.bindparam("now", type_=sa.DateTime(timezone=True))
    grace = sa.bindparam("grace", type_=sa.Interval)
    built_once = (sa.select(items.c.id)
                  .where(rep_client_condition(tables, items.c.client_id, me, now, grace))
                  .order_by(items.c.id))
    for principal in PRINCIPALS[:5]:
        async with portfolio.connect() as conn:
            got = list((await conn.execute(built_once, {
                "me": principal.subject, "now": NOW, "grace": GRACE})).scalars())
        assert got == await _visible_items(portfolio, former_condition(principal,
                                                                       items.c.client_id))


async def test_grants_follow_time_and_cancellation(portfolio: AsyncEngine) -> None:
    """A granted client that the rep does not own: visible while the grant stands (end plus
    grace after now), not when it is cancelled or long past."""
    rep, client = uuid.UUID(int=7000), CLIENTS[2999]
    async with portfolio.begin() as conn:
        await conn.execute(sa.insert(tables.grants), [{
            "meeting_id": uuid.uuid4(), "client_id": client, "employee_id": rep,
            "starts_at": NOW - dt.timedelta(hours=2), "ends_at": NOW - dt.timedelta(hours=1),
            "status": "scheduled", "version": 1}])
    principal = Principal(rep, frozenset({"sales_rep"}))
    async with portfolio.connect() as conn:
        assert await can_see_client(conn, tables, principal, client, NOW, GRACE)
        assert not await can_see_client(conn, tables, principal, client,
                                        NOW + dt.timedelta(hours=24), GRACE)
    async with portfolio.begin() as conn:
        await conn.execute(sa.update(tables.grants).where(tables.grants.c.employee_id == rep)
                           .values(status="cancelled"))
    async with portfolio.connect() as conn:
        assert not await can_see_client(conn, tables, principal, client, NOW, GRACE)
