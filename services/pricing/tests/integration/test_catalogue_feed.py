"""The ERP's catalogue through the real broker into the running service: products and groups,
the highest version per product, withdrawn products, BGN base prices into the ERP's list, the
price_list.updated event, and messages breaking the contract dead-lettered with nothing
stored."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

from crm_common.testing import CaughtEvents, queue_depth
from crm_pricing.adapters.tables import ERP_PRICE_LIST_ID

from .conftest import QUEUE_PREFIX, Publisher, Service, wait_until

pytestmark = pytest.mark.integration

DLQ = f"{QUEUE_PREFIX}pricing.erp-catalog.dlq"
UPDATED = "crm.pricing.price_list.updated"


def _code(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


async def product_row(service: Service, code: str) -> dict[str, Any] | None:
    rows = await service.sql("SELECT * FROM products WHERE code = :code", code=code)
    return rows[0] if rows else None


async def erp_price(service: Service, code: str) -> Decimal | None:
    rows = await service.sql(
        "SELECT price FROM price_list_items WHERE price_list_id = :id AND product_code = :code",
        id=ERP_PRICE_LIST_ID, code=code)
    return rows[0]["price"] if rows else None


async def applied(service: Service, code: str, version: int) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        row = await product_row(service, code)
        return row if row is not None and row["version"] >= version else None
    row: dict[str, Any] = await wait_until(check)
    return row


async def test_a_product_its_group_and_base_price(service: Service, publisher: Publisher,
                                                  tap: CaughtEvents) -> None:
    code = _code("BEER")
    await publisher.product(code, "BEV", name="Бира 0.5 л", group_name="Напитки",
                            price="1.20", version=3)
    row = await applied(service, code, 3)
    assert (row["name"], row["group_code"], row["active"], row["unit"]) == \
        ("Бира 0.5 л", "BEV", True, "pcs")
    assert row["vat_rate"] == Decimal("20.00")
    assert (await service.sql("SELECT name FROM product_groups WHERE code = 'BEV'")) == \
        [{"name": "Напитки"}]
    assert await erp_price(service, code) == Decimal("1.2000")
    events = await tap.wait_for(lambda e: e["type"] == UPDATED
                                and code in e["data"]["changedProductCodes"])
    (event,) = events
    assert event["subject"] == str(ERP_PRICE_LIST_ID)
    assert event["data"]["change"] == "erp_prices"
    assert event["data"]["priceList"]["source"] == "erp"
    assert event["actorid"] == "system"
    history = await service.sql(
        "SELECT operation, actor_id, changes FROM history WHERE entity_id = :id "
        "AND changes::text LIKE :code", id=ERP_PRICE_LIST_ID, code=f"%{code}%")
    assert [h["operation"] for h in history] == ["erp_prices"]
    assert history[0]["actor_id"] is None
    assert history[0]["changes"]["prices"] == [
        {"productCode": code, "old": None, "new": "1.2000"}]


async def test_older_and_repeated_versions_change_nothing(service: Service,
                                                          publisher: Publisher,
                                                          tap: CaughtEvents) -> None:
    code = _code("WATER")
    await publisher.product(code, "BEV", name="Вода v5", price="0.50", version=5)
    await applied(service, code, 5)
    version_before = (await service.sql("SELECT version FROM price_lists WHERE id = :id",
                                        id=ERP_PRICE_LIST_ID))[0]["version"]
    # older (v4) and repeated (v5) with other values, then a newer one (v6) as a marker
    await publisher.product(code, "OTHER", name="Вода v4", price="9.99", version=4,
                            group_name="Друга")
    await publisher.product(code, "OTHER", name="Вода v5 again", price="8.88", version=5)
    await publisher.product(code, "BEV", name="Вода v6", price="0.50", version=6)
    row = await applied(service, code, 6)
    assert row["name"] == "Вода v6" and row["group_code"] == "BEV"
    assert await erp_price(service, code) == Decimal("0.5000")
    # the price never moved: no event, no version bump, no group OTHER
    assert not [e for e in tap.of_type(UPDATED) if code in e["data"]["changedProductCodes"]
                and e["data"]["priceList"]["version"] > version_before]
    assert (await service.sql("SELECT version FROM price_lists WHERE id = :id",
                              id=ERP_PRICE_LIST_ID))[0]["version"] == version_before
    assert not await service.sql("SELECT 1 FROM product_groups WHERE code = 'OTHER'")


async def test_bgn_is_converted_and_a_missing_price_leaves_it(service: Service,
                                                              publisher: Publisher) -> None:
    code = _code("CHEESE")
    await publisher.product(code, "FOOD", price="10.00", currency="BGN", version=1)
    await applied(service, code, 1)
    assert await erp_price(service, code) == Decimal("5.1129")  # 10 / 1.95583, half-up
    history = await service.sql(
        "SELECT changes FROM history WHERE entity_id = :id AND changes::text LIKE :code",
        id=ERP_PRICE_LIST_ID, code=f"%{code}%")
    assert history[0]["changes"]["erpPrice"] == {"amount": "10.00", "currency": "BGN"}
    await publisher.product(code, "FOOD", price=None, name="без цена", version=2)
    row = await applied(service, code, 2)
    assert row["name"] == "без цена"
    assert await erp_price(service, code) == Decimal("5.1129")


async def test_a_withdrawn_product_is_kept_but_not_listed(service: Service,
                                                          publisher: Publisher) -> None:
    code = _code("GONE")
    await publisher.product(code, "WD", price="2.00", version=1)
    await applied(service, code, 1)
    await publisher.product(code, "WD", price="2.00", active=False, version=2)
    row = await applied(service, code, 2)
    assert row["active"] is False
    rep = service.token("sales_rep")
    listed = await service.data(rep, """{ products(filter: {productGroupCode: "WD"}) {
        edges { node { code } } } }""")
    assert listed["products"]["edges"] == []
    withdrawn = await service.data(rep, """{ products(filter: {productGroupCode: "WD",
        active: false}) { edges { node { code active } } } }""")
    assert withdrawn["products"]["edges"] == [{"node": {"code": code, "active": False}}]
    one = await service.data(rep, "query($c: String!) { product(code: $c) { code active "
                                  "basePrice { amount currency } } }", {"c": code})
    assert one["product"] == {"code": code, "active": False,
                              "basePrice": {"amount": "2.00", "currency": "EUR"}}
    # back again
    await publisher.product(code, "WD", price="2.00", active=True, version=3)
    assert (await applied(service, code, 3))["active"] is True


def _envelope(data: Any, type_: str = "erp.catalog.product.upserted") -> dict[str, Any]:
    return {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "erp/test",
            "type": type_, "time": "2026-12-07T10:00:00Z", "subject": "X",
            "datacontenttype": "application/json", "data": data}


def _good(code: str) -> dict[str, Any]:
    return {"code": code, "name": "Добро", "productGroup": {"code": "BAD", "name": "Лоши"},
            "unit": "pcs", "vatRate": "20", "active": True, "version": 1,
            "basePrice": {"amount": "1.00", "currency": "EUR"}}


async def test_messages_breaking_the_contract_are_dead_lettered(
        service: Service, publisher: Publisher) -> None:
    code = _code("BAD")
    good = _good(code)
    broken: list[Any] = [
        {**good, "version": 0},
        {**good, "version": "2"},
        {**good, "active": "yes"},
        {**good, "basePrice": {"amount": "-1.00", "currency": "EUR"}},
        {**good, "basePrice": {"amount": "NaN", "currency": "EUR"}},
        {**good, "basePrice": {"amount": "1.00", "currency": "USD"}},
        {**good, "basePrice": {"amount": "1" * 40, "currency": "EUR"}},
        {**good, "productGroup": None},
        {**good, "code": ""},
        {**good, "code": "A\x00B"},
        {**good, "name": "x" * 5000},
        {**good, "vatRate": "twenty"},
        {k: v for k, v in good.items() if k != "unit"},
        "not an object",
    ]
    before = await queue_depth(DLQ)
    for data in broken:
        await publisher.erp_raw(json.dumps(_envelope(data)).encode())
    await publisher.erp_raw(json.dumps(_envelope(good, "erp.catalog.unknown.thing")).encode())
    await publisher.erp_raw(b"{not json")
    expected = len(broken) + 2

    async def all_dead() -> bool:
        return await queue_depth(DLQ) - before >= expected
    await wait_until(all_dead, within=120)
    assert await product_row(service, code) is None
    assert not await service.sql("SELECT 1 FROM product_groups WHERE code = 'BAD'")
    # the queue keeps flowing: the good one after them is applied
    await publisher.product(code, "BAD", version=2)
    await applied(service, code, 2)


async def test_a_burst_of_priced_products_is_applied_without_a_deadlock(
        service: Service, publisher: Publisher) -> None:
    """The consumer handles several messages at once: writers of the ERP list's prices must
    take their locks in one order (a deadlock was seen under ./crm seed's burst)."""
    async def deadlocks() -> int:
        rows = await service.sql("SELECT deadlocks FROM pg_stat_database "
                                 "WHERE datname = current_database()")
        return int(rows[0]["deadlocks"])
    before_deadlocks, before_dead = await deadlocks(), await queue_depth(DLQ)
    codes = [_code(f"BURST{i % 4}") for i in range(120)]
    for i, code in enumerate(codes):
        await publisher.product(code, f"BG{i % 4}", price=f"{1 + i % 7}.{i % 100:02d}")

    async def all_priced() -> bool:
        rows = await service.sql(
            "SELECT count(*) AS n FROM price_list_items WHERE price_list_id = :id "
            "AND product_code = ANY(:codes)", id=ERP_PRICE_LIST_ID, codes=codes)
        return bool(rows[0]["n"] == len(codes))
    await wait_until(all_priced, within=120)
    assert await queue_depth(DLQ) == before_dead
    assert await deadlocks() == before_deadlocks
