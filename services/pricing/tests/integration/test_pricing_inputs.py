"""What every quote reads, on a real database: the clients' turnover parsed once per stored
version, and the rule book's indexed rules and display names re-read when their tables move."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.db import make_engine
from crm_pricing.domain.resolution import Contract, ContractDiscount
from crm_pricing.service_layer.pricing_inputs import (
    RuleBook,
    TurnoverCache,
    load_clients,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(database_url, pool_size=2)
    yield engine
    await engine.dispose()


async def run(engine: AsyncEngine, statement: str, **params: object) -> None:
    async with engine.begin() as conn:
        await conn.execute(sa.text(statement), params)


def turnover(client: uuid.UUID, version: int, amount: str) -> str:
    return json.dumps({"clientId": str(client), "version": version,
                       "asOf": "2026-12-01T00:00:00Z", "currency": "EUR",
                       "months": [{"month": "2026-10", "invoicedNet": amount}]})


async def test_turnover_is_parsed_once_per_stored_version(engine: AsyncEngine) -> None:
    client, bare, unknown = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    group = uuid.uuid4()
    await run(engine, "INSERT INTO client_profiles (client_id, group_id, version) "
              "VALUES (:c, :g, 1), (:b, NULL, 1)", c=client, g=group, b=bare)
    await run(engine, "INSERT INTO client_turnover (client_id, version, as_of, data) VALUES "
              "(:c, 1, now(), CAST(:d AS jsonb))", c=client, d=turnover(client, 1, "100"))
    cache = TurnoverCache(10)
    async with engine.connect() as conn:
        plain = await load_clients(conn, [client, bare, unknown, client])
        first = await load_clients(conn, [client, bare, unknown], cache)
        again = await load_clients(conn, [client], cache)
    assert first == plain  # the cache changes nothing read
    assert again[client].client.turnover is first[client].client.turnover  # not parsed again
    assert first[client].client.group_ids == frozenset({str(group)})
    assert first[bare].client.group_ids == frozenset() and first[bare].client.turnover is None
    assert first[unknown].client.turnover is None and first[unknown].turnover_version is None
    assert len(cache) == 1  # only figures that exist are kept

    # newer figures (as the consumer stores them: version and change time move)
    await run(engine, "UPDATE client_turnover SET version = 2, data = CAST(:d AS jsonb), "
              "updated_at = now() WHERE client_id = :c", c=client, d=turnover(client, 2, "900"))
    async with engine.connect() as conn:
        newer = await load_clients(conn, [client], cache)
        assert newer == await load_clients(conn, [client])
    assert newer[client].turnover_version == 2
    assert newer[client].client.turnover != first[client].client.turnover
    # a repair of the row in place (same version, a new change time) is read too
    await run(engine, "UPDATE client_turnover SET data = CAST(:d AS jsonb), updated_at = now() "
              "WHERE client_id = :c", c=client, d=turnover(client, 2, "5"))
    async with engine.connect() as conn:
        repaired = await load_clients(conn, [client], cache)
        assert repaired == await load_clients(conn, [client])
    assert repaired[client].client.turnover != newer[client].client.turnover
    async with engine.connect() as conn:
        assert await load_clients(conn, [], cache) == {}


async def test_a_clients_contracts_are_read_with_it_by_number(engine: AsyncEngine) -> None:
    client = uuid.uuid4()
    await run(engine, "INSERT INTO contracts (id, client_id, number, status, valid_from, "
              "valid_until, discounts, version) VALUES "
              "(:a, :c, 'K-2', 'active', '2026-01-01', NULL, CAST(:d AS jsonb), 3), "
              "(:b, :c, 'K-10', 'terminated', '2025-01-01', '2025-12-31', '[]', 1)",
              a=uuid.uuid4(), b=uuid.uuid4(), c=client, d=json.dumps([
                  {"productGroupCode": "BEV", "percent": "8.5", "validUntil": "2026-06-30"},
                  {"productCode": "X", "percent": "NaN"}, {"productCode": "Y", "percent": "x"}]))
    async with engine.connect() as conn:
        facts = (await load_clients(conn, [client], TurnoverCache(5)))[client]
    assert facts.client.contracts == (
        Contract("K-10", "terminated", dt.date(2025, 1, 1), dt.date(2025, 12, 31), (), 1),
        Contract("K-2", "active", dt.date(2026, 1, 1), None, (ContractDiscount(
            Decimal("8.5"), product_group_code="BEV", valid_until=dt.date(2026, 6, 30)),), 3))


async def test_the_turnover_cache_is_bounded(engine: AsyncEngine) -> None:
    clients = [uuid.uuid4() for _ in range(3)]
    for c in clients:
        await run(engine, "INSERT INTO client_turnover (client_id, version, as_of, data) VALUES "
                  "(:c, 1, now(), CAST(:d AS jsonb))", c=c, d=turnover(c, 1, "1"))
    two, none = TurnoverCache(2), TurnoverCache(0)
    async with engine.connect() as conn:
        for c in clients:
            await load_clients(conn, [c], two)
            await load_clients(conn, [c], none)
        assert len(two) == 2 and len(none) == 0
        assert two.known(clients[0]) is None  # the least recently used went first
        assert two.known(clients[2]) is not None
        assert await load_clients(conn, clients, two) == await load_clients(conn, clients)


async def test_the_rule_book_rereads_rules_and_names_when_they_move(engine: AsyncEngine) -> None:
    book = RuleBook()
    group = uuid.uuid4()
    await run(engine, "INSERT INTO product_groups (code, name) VALUES ('RB-G', 'Напитки')")
    await run(engine, "INSERT INTO client_groups (id, code, name, version) "
              "VALUES (:g, 'RB', 'Хотели', 1)", g=group)
    async with engine.connect() as conn:
        first = await book.read(conn)
        assert await book.read(conn) is first  # nothing moved: nothing re-read
    assert first.names["RB-G"] == "Напитки" and first.names[str(group)] == "Хотели"

    await run(engine, "UPDATE product_groups SET name = 'Безалкохолни', updated_at = now() "
              "WHERE code = 'RB-G'")
    async with engine.connect() as conn:
        renamed = await book.read(conn)
    assert renamed.names["RB-G"] == "Безалкохолни"
    assert renamed.index is first.index  # the rules did not move

    await run(engine, "UPDATE client_groups SET name = 'Ресторанти', version = 2, "
              "updated_at = now() WHERE id = :g", g=group)
    async with engine.connect() as conn:
        assert (await book.read(conn)).names[str(group)] == "Ресторанти"

    definition = {"code": "RB-1", "name": "r", "scope": {"kind": "all"},
                  "audience": {"kind": "all"}, "effect": {"kind": "percent_off", "value": "5"},
                  "priority": 0, "stacking": "exclusive", "conditions": []}
    await run(engine, "INSERT INTO pricing_rules (id, code, name, status, stacking, priority, "
              "scope_kind, audience_kind, definition, version) VALUES (:id, 'RB-1', 'r', "
              "'active', 'exclusive', 0, 'all', 'all', CAST(:d AS jsonb), 1)",
              id=uuid.uuid4(), d=json.dumps(definition))
    async with engine.connect() as conn:
        ruled = await book.read(conn)
        assert await book.index(conn) is ruled.index
    assert [s.rule.code for s in ruled.index.rules] == ["RB-1"]
    assert ruled.index is not renamed.index
