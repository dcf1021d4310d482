"""Price lists through the subgraph: reads for everyone, the managers' mutations with every kind
of bad input (userErrors naming the field, nothing stored changes), the default flag, the ERP's
list, history and the price_list.updated event."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest

from crm_common.testing import CaughtEvents
from crm_pricing.adapters.tables import ERP_PRICE_LIST_ID

from .conftest import Publisher, Service, wait_until

pytestmark = pytest.mark.integration

UPDATED = "crm.pricing.price_list.updated"

FIELDS = """id code name currency validFrom validUntil isDefault source archived version"""
PAYLOAD = f"priceList {{ {FIELDS} }} userErrors {{ field code message }}"

CREATE = f"""mutation($input: CreatePriceListInput!) {{
  createPriceList(input: $input) {{ {PAYLOAD} }} }}"""
UPDATE = f"""mutation($input: UpdatePriceListInput!) {{
  updatePriceList(input: $input) {{ {PAYLOAD} }} }}"""
ARCHIVE = f"""mutation($input: ArchivePriceListInput!) {{
  archivePriceList(input: $input) {{ {PAYLOAD} }} }}"""
SET = f"""mutation($input: SetPricesInput!) {{ setPrices(input: $input) {{ {PAYLOAD} }} }}"""
PRICES = """query($id: ID!, $first: Int, $after: String, $filter: PriceFilterInput) {
  priceList(id: $id) { version prices(first: $first, after: $after, filter: $filter) {
    edges { cursor node { productCode productName price { amount currency } } }
    pageInfo { hasNextPage endCursor } } } }"""
HISTORY = """query($id: ID!) { priceList(id: $id) { history(first: 50) {
  edges { node { operation actorId changes } } } } }"""


def _code(prefix: str = "PL") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


@pytest.fixture(scope="module")
def manager(service: Service) -> str:
    return service.token("manager")


@pytest.fixture(scope="module")
def rep(service: Service) -> str:
    return service.token("sales_rep")


@pytest.fixture(scope="module")
async def catalogue(service: Service, publisher: Publisher) -> list[str]:
    """Three products of group PLG (the ERP's), applied."""
    codes = [f"PLP-{i}-{uuid.uuid4().hex[:4].upper()}" for i in range(3)]
    for i, code in enumerate(codes):
        await publisher.product(code, "PLG", name=f"Продукт {i}", price=f"{i + 1}.00")

    async def check() -> bool:
        rows = await service.sql("SELECT count(*) AS n FROM products WHERE group_code = 'PLG'")
        return bool(rows[0]["n"] >= 3)
    await wait_until(check)
    return sorted(codes)


async def create(service: Service, token: str, **fields: Any) -> dict[str, Any]:
    body = {"code": _code(), "name": "Лятна листа", **fields}
    result = (await service.data(token, CREATE, {"input": body}))["createPriceList"]
    assert result["userErrors"] == [], result
    return dict(result["priceList"])


async def snapshot(service: Service) -> list[dict[str, Any]]:
    """Everything the mutations may touch, to show that a refused one changed nothing."""
    return (await service.sql("SELECT id, code, name, version, is_default, valid_from, "
                              "valid_until, archived_at FROM price_lists ORDER BY code")) + \
        (await service.sql("SELECT * FROM price_list_items ORDER BY price_list_id, "
                           "product_code")) + \
        (await service.sql("SELECT count(*) AS n FROM history")) + \
        (await service.sql("SELECT count(*) AS n FROM outbox"))


def _errors(result: dict[str, Any]) -> set[tuple[str, str]]:
    assert result["priceList"] is None, result
    return {(".".join(e["field"]), e["code"]) for e in result["userErrors"]}


async def test_create_read_and_the_event(service: Service, manager: str, rep: str,
                                         tap: CaughtEvents) -> None:
    created = await create(service, manager, code=" summer-2027 ", validFrom="2027-06-01",
                           validUntil="2027-08-31")
    assert created["code"] == "SUMMER-2027"
    assert (created["currency"], created["isDefault"], created["source"], created["archived"],
            created["version"]) == ("EUR", False, "MANUAL", False, 1)
    read = await service.data(rep, "query($id: ID!) { priceList(id: $id) { code name } }",
                              {"id": created["id"]})
    assert read["priceList"] == {"code": "SUMMER-2027", "name": "Лятна листа"}
    (event,) = await tap.wait_for_type(UPDATED, created["id"])
    assert event["data"]["change"] == "created"
    assert event["data"]["priceList"]["validFrom"] == "2027-06-01"
    assert event["data"]["changedProductCodes"] == []
    lists = await service.data(rep, "{ priceLists(first: 100) { edges { node { code } } } }")
    codes = [e["node"]["code"] for e in lists["priceLists"]["edges"]]
    assert "ERP" in codes and "SUMMER-2027" in codes and codes == sorted(codes)
    # a second with the same code
    again = (await service.data(manager, CREATE, {"input": {"code": "Summer-2027",
                                                             "name": "x"}}))["createPriceList"]
    assert _errors(again) == {("input.code", "DUPLICATE")}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"code": None}, {("input.code", "REQUIRED")}),
    ({"code": "   "}, {("input.code", "REQUIRED")}),
    ({"code": "a b"}, {("input.code", "INVALID_VALUE")}),
    ({"code": "<script>"}, {("input.code", "INVALID_VALUE")}),
    ({"code": "X" * 41}, {("input.code", "TOO_LONG")}),
    ({"name": None}, {("input.name", "REQUIRED")}),
    ({"name": "x" * 201}, {("input.name", "TOO_LONG")}),
    ({"name": "evil\u202etxt"}, {("input.name", "CONTROL_CHARACTERS")}),
    ({"name": "a\x00b"}, {("input.name", "CONTROL_CHARACTERS")}),
    ({"currency": "BGN"}, {("input.currency", "INVALID_CURRENCY")}),
    ({"currency": "USD"}, {("input.currency", "INVALID_CURRENCY")}),
    ({"currency": "x" * 10000}, {("input.currency", "INVALID_CURRENCY")}),
    ({"validFrom": "1999-12-31"}, {("input.validFrom", "OUT_OF_RANGE")}),
    ({"validUntil": "9999-12-31"}, {("input.validUntil", "OUT_OF_RANGE")}),
    ({"validFrom": "2027-02-01", "validUntil": "2027-01-31"},
     {("input.validUntil", "INVALID_DATE_RANGE")}),
    ({"code": "", "name": "", "currency": "GBP"},
     {("input.code", "REQUIRED"), ("input.name", "REQUIRED"),
      ("input.currency", "INVALID_CURRENCY")}),
])
async def test_create_refuses_bad_input(service: Service, manager: str, fields: dict[str, Any],
                                        expected: set[tuple[str, str]]) -> None:
    before = await snapshot(service)
    body = {"code": _code(), "name": "n", **fields}
    result = (await service.data(manager, CREATE, {"input": body}))["createPriceList"]
    assert _errors(result) == expected
    assert await snapshot(service) == before


async def test_malformed_dates_are_request_errors(service: Service, manager: str) -> None:
    errors = await service.errors(manager, CREATE, {"input": {"code": "D", "name": "n",
                                                              "validFrom": "2027-13-45"}})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_rep_reads_but_cannot_manage(service: Service, manager: str, rep: str,
                                             catalogue: list[str]) -> None:
    target = await create(service, manager)
    before = await snapshot(service)
    for query, body in [
        (CREATE, {"code": _code(), "name": "n"}),
        (UPDATE, {"id": target["id"], "version": 1, "name": "x"}),
        (ARCHIVE, {"id": target["id"], "version": 1}),
        (SET, {"priceListId": target["id"], "version": 1,
               "prices": [{"productCode": catalogue[0], "price": "1.00"}]}),
    ]:
        data = await service.data(rep, query, {"input": body})
        (result,) = data.values()
        assert _errors(result) == {("input", "FORBIDDEN")}, result
    assert await snapshot(service) == before
    products = await service.data(rep, """{ products(filter: {productGroupCode: "PLG"}) {
        edges { node { code productGroup { code } basePrice { amount } } } } }""")
    assert [e["node"]["code"] for e in products["products"]["edges"]] == catalogue
    groups = await service.data(rep, "{ productGroups { code name } }")
    assert {"code": "PLG", "name": "Група PLG"} in groups["productGroups"]


async def test_update_and_conflict(service: Service, manager: str, tap: CaughtEvents) -> None:
    pl = await create(service, manager, validFrom="2027-01-01")
    result = (await service.data(manager, UPDATE, {"input": {
        "id": pl["id"], "version": 1, "name": "Нова", "validUntil": "2027-12-31"}}))
    updated = result["updatePriceList"]
    assert updated["userErrors"] == []
    assert (updated["priceList"]["name"], updated["priceList"]["validUntil"],
            updated["priceList"]["version"]) == ("Нова", "2027-12-31", 2)
    before = await snapshot(service)
    for body, expected in [
        ({"version": 1, "name": "stale"}, {("input.version", "CONFLICT")}),
        ({"version": 2, "validUntil": "2026-12-31"}, {("input.validUntil", "INVALID_DATE_RANGE")}),
        ({"version": 2, "validFrom": "2028-01-01"}, {("input.validFrom", "INVALID_DATE_RANGE")}),
        ({"version": 2, "name": ""}, {("input.name", "REQUIRED")}),
        ({"version": 2, "name": None}, {("input.name", "REQUIRED")}),
        ({"version": 99, "name": "x"}, {("input.version", "CONFLICT")}),
        ({"version": 2, "id": "not-an-id", "name": "x"}, {("input.id", "INVALID_ID")}),
        ({"version": 2, "id": str(uuid.uuid4()), "name": "x"}, {("input.id", "NOT_FOUND")}),
    ]:
        data = await service.data(manager, UPDATE, {"input": {"id": pl["id"], **body}})
        assert _errors(data["updatePriceList"]) == expected, body
    assert await snapshot(service) == before
    # nothing changed: no new version
    same = await service.data(manager, UPDATE, {"input": {"id": pl["id"], "version": 2,
                                                          "name": "Нова"}})
    assert same["updatePriceList"]["priceList"]["version"] == 2
    events = await tap.wait_for_type(UPDATED, pl["id"], count=2)
    assert [e["data"]["change"] for e in events] == ["created", "updated"]
    history = await service.data(manager, HISTORY, {"id": pl["id"]})
    entries = [e["node"] for e in history["priceList"]["history"]["edges"]]
    assert [e["operation"] for e in entries] == ["update", "create"]
    assert entries[0]["changes"] == {"name": ["Лятна листа", "Нова"],
                                     "validUntil": [None, "2027-12-31"]}


async def test_one_default_at_a_time(service: Service, manager: str, tap: CaughtEvents) -> None:
    first = await create(service, manager, isDefault=True)
    assert first["isDefault"] is True
    erp = (await service.sql("SELECT is_default FROM price_lists WHERE id = :id",
                             id=ERP_PRICE_LIST_ID))[0]
    assert erp["is_default"] is False
    second = await create(service, manager)
    made = await service.data(manager, UPDATE, {"input": {"id": second["id"], "version": 1,
                                                          "isDefault": True}})
    assert made["updatePriceList"]["priceList"]["isDefault"] is True
    defaults = await service.sql("SELECT id FROM price_lists WHERE is_default")
    assert defaults == [{"id": uuid.UUID(second["id"])}]
    undefaulted = await tap.wait_for(lambda e: e["type"] == UPDATED
                                     and e["subject"] == first["id"]
                                     and e["data"]["change"] == "undefaulted")
    assert undefaulted[0]["data"]["priceList"]["isDefault"] is False
    assert undefaulted[0]["data"]["priceList"]["version"] == 2
    # archiving the default: no default left (quotes fall back to the ERP's list)
    archived = await service.data(manager, ARCHIVE, {"input": {"id": second["id"],
                                                               "version": 2}})
    assert archived["archivePriceList"]["priceList"]["archived"] is True
    assert archived["archivePriceList"]["priceList"]["isDefault"] is False
    assert await service.sql("SELECT id FROM price_lists WHERE is_default") == []
    # the ERP's list may be made the default again
    erp_version = (await service.sql("SELECT version FROM price_lists WHERE id = :id",
                                     id=ERP_PRICE_LIST_ID))[0]["version"]
    back = await service.data(manager, UPDATE, {"input": {"id": str(ERP_PRICE_LIST_ID),
                                                          "version": erp_version,
                                                          "isDefault": True}})
    assert back["updatePriceList"]["userErrors"] == []
    assert back["updatePriceList"]["priceList"]["isDefault"] is True


async def test_archived_lists(service: Service, manager: str, rep: str) -> None:
    pl = await create(service, manager)
    done = await service.data(manager, ARCHIVE, {"input": {"id": pl["id"], "version": 1}})
    assert done["archivePriceList"]["priceList"]["version"] == 2
    before = await snapshot(service)
    for query, body, expected in [
        (ARCHIVE, {"id": pl["id"], "version": 2}, {("input.id", "ARCHIVED")}),
        (UPDATE, {"id": pl["id"], "version": 2, "name": "x"}, {("input.id", "ARCHIVED")}),
        (SET, {"priceListId": pl["id"], "version": 2, "prices": []},
         {("input.id", "ARCHIVED")}),
    ]:
        (result,) = (await service.data(manager, query, {"input": body})).values()
        assert _errors(result) == expected
    assert await snapshot(service) == before
    listed = await service.data(rep, "{ priceLists(first: 100) { edges { node { id } } } }")
    assert pl["id"] not in [e["node"]["id"] for e in listed["priceLists"]["edges"]]
    listed = await service.data(rep, "{ priceLists(first: 100, includeArchived: true) "
                                     "{ edges { node { id } } } }")
    assert pl["id"] in [e["node"]["id"] for e in listed["priceLists"]["edges"]]


async def test_set_prices(service: Service, manager: str, rep: str, catalogue: list[str],
                          tap: CaughtEvents) -> None:
    pl = await create(service, manager)
    prices = [{"productCode": catalogue[0], "price": "1.5"},
              {"productCode": catalogue[1], "price": "0.1234"},
              {"productCode": catalogue[2], "price": "0"}]
    done = await service.data(manager, SET, {"input": {"priceListId": pl["id"], "version": 1,
                                                       "prices": prices}})
    assert done["setPrices"]["userErrors"] == []
    assert done["setPrices"]["priceList"]["version"] == 2
    page = await service.data(rep, PRICES, {"id": pl["id"], "first": 2})
    edges = page["priceList"]["prices"]["edges"]
    assert [(e["node"]["productCode"], e["node"]["price"]) for e in edges] == [
        (catalogue[0], {"amount": "1.50", "currency": "EUR"}),
        (catalogue[1], {"amount": "0.1234", "currency": "EUR"})]
    rest = await service.data(rep, PRICES, {"id": pl["id"], "first": 2,
                                            "after": page["priceList"]["prices"]["pageInfo"]
                                            ["endCursor"]})
    assert [e["node"]["productCode"] for e in rest["priceList"]["prices"]["edges"]] == \
        [catalogue[2]]
    assert rest["priceList"]["prices"]["pageInfo"]["hasNextPage"] is False
    # change one, remove one, keep one as it is
    again = await service.data(manager, SET, {"input": {"priceListId": pl["id"], "version": 2,
                                                        "prices": [
        {"productCode": catalogue[0], "price": "1.50"},
        {"productCode": catalogue[1], "price": None},
        {"productCode": catalogue[2], "price": "2"}]}})
    assert again["setPrices"]["priceList"]["version"] == 3
    stored = await service.sql("SELECT product_code, price FROM price_list_items WHERE "
                               "price_list_id = :id ORDER BY product_code", id=pl["id"])
    assert stored == [{"product_code": catalogue[0], "price": Decimal("1.5000")},
                      {"product_code": catalogue[2], "price": Decimal("2.0000")}]
    events = await tap.wait_for(lambda e: e["subject"] == pl["id"]
                                and e["data"]["change"] == "prices_set", within=15)
    await tap.wait_for_type(UPDATED, pl["id"], count=3)
    events = [e for e in tap.of_type(UPDATED, pl["id"]) if e["data"]["change"] == "prices_set"]
    assert [e["data"]["changedProductCodes"] for e in events] == [catalogue, catalogue[1:]]
    history = await service.data(manager, HISTORY, {"id": pl["id"]})
    latest = history["priceList"]["history"]["edges"][0]["node"]
    assert latest["operation"] == "set_prices"
    assert latest["changes"] == {"prices": [
        {"productCode": catalogue[1], "old": "0.1234", "new": None},
        {"productCode": catalogue[2], "old": "0.0000", "new": "2.0000"}]}


async def test_set_prices_refuses_bad_input(service: Service, manager: str,
                                            catalogue: list[str]) -> None:
    pl = await create(service, manager)
    ok = {"productCode": catalogue[0], "price": "1.00"}
    cases: list[tuple[Any, set[tuple[str, str]]]] = [
        ([ok, {"productCode": "NO-SUCH-PRODUCT", "price": "1"}],
         {("input.prices.1.productCode", "NOT_FOUND")}),
        ([{"productCode": catalogue[0], "price": "-0.01"}],
         {("input.prices.0.price", "OUT_OF_RANGE")}),
        ([{"productCode": catalogue[0], "price": "NaN"}],
         {("input.prices.0.price", "INVALID_VALUE")}),
        ([{"productCode": catalogue[0], "price": "Infinity"}],
         {("input.prices.0.price", "INVALID_VALUE")}),
        ([{"productCode": catalogue[0], "price": "1e30"}],
         {("input.prices.0.price", "OUT_OF_RANGE")}),
        ([{"productCode": catalogue[0], "price": "10000000.01"}],
         {("input.prices.0.price", "OUT_OF_RANGE")}),
        ([{"productCode": catalogue[0], "price": "1.00001"}],
         {("input.prices.0.price", "INVALID_VALUE")}),
        ([ok, ok], {("input.prices.1.productCode", "DUPLICATE")}),
        ([{"productCode": "", "price": "1"}], {("input.prices.0.productCode", "REQUIRED")}),
        ([{"productCode": "x" * 10000, "price": "1"}],
         {("input.prices.0.productCode", "INVALID_VALUE")}),
        ([ok] * 5001, {("input.prices", "TOO_MANY")}),
    ]
    before = await snapshot(service)
    for prices, expected in cases:
        data = await service.data(manager, SET, {"input": {"priceListId": pl["id"],
                                                           "version": 1, "prices": prices}})
        assert _errors(data["setPrices"]) == expected, prices[:2]
    for body, expected in [
        ({"priceListId": pl["id"], "version": 7}, {("input.version", "CONFLICT")}),
        ({"priceListId": "nope", "version": 1}, {("input.priceListId", "INVALID_ID")}),
        ({"priceListId": str(uuid.uuid4()), "version": 1},
         {("input.priceListId", "NOT_FOUND")}),
        ({"priceListId": str(ERP_PRICE_LIST_ID), "version": None},
         {("input.priceListId", "NOT_APPLICABLE")}),
    ]:
        if body["version"] is None:
            body["version"] = (await service.sql("SELECT version FROM price_lists WHERE id = "
                                                 ":id", id=ERP_PRICE_LIST_ID))[0]["version"]
        data = await service.data(manager, SET, {"input": {**body, "prices": [ok]}})
        assert _errors(data["setPrices"]) == expected, body
    assert await snapshot(service) == before
    # a price that is no number is the field's userError (issue 14; it was a request error)
    for malformed in ("abc", "1,50"):
        data = await service.data(manager, SET, {"input": {
            "priceListId": pl["id"], "version": 1,
            "prices": [{"productCode": catalogue[0], "price": malformed}]}})
        assert _errors(data["setPrices"]) == {("input.prices.0.price", "INVALID_VALUE")}
    assert await snapshot(service) == before


async def test_five_thousand_prices_at_once(service: Service, manager: str,
                                            publisher: Publisher, tap: CaughtEvents) -> None:
    group = f"BULK{uuid.uuid4().hex[:4].upper()}"
    await service.sql(
        "INSERT INTO products (code, name, group_code, unit, vat_rate, active, version) "
        "SELECT :g || '-' || lpad(i::text, 4, '0'), 'Bulk ' || i, :g, 'pcs', 20, true, 1 "
        "FROM generate_series(1, 5000) AS i", g=group)
    pl = await create(service, manager)
    prices = [{"productCode": f"{group}-{i:04d}", "price": f"{i}.25"} for i in range(1, 5001)]
    done = await service.data(manager, SET, {"input": {"priceListId": pl["id"], "version": 1,
                                                       "prices": prices}})
    assert done["setPrices"]["userErrors"] == []
    count = await service.sql("SELECT count(*) AS n FROM price_list_items WHERE "
                              "price_list_id = :id", id=pl["id"])
    assert count == [{"n": 5000}]
    (event,) = [e for e in await tap.wait_for(
        lambda e: e["subject"] == pl["id"] and e["data"]["change"] == "prices_set")]
    assert event["data"]["changedProductCount"] == 5000
    assert event["data"]["changedProductCodesTruncated"] is True
    assert len(event["data"]["changedProductCodes"]) == 100


async def test_the_erp_list_is_not_edited_here(service: Service, manager: str) -> None:
    version = (await service.sql("SELECT version FROM price_lists WHERE id = :id",
                                 id=ERP_PRICE_LIST_ID))[0]["version"]
    before = await snapshot(service)
    for query, body, expected in [
        (ARCHIVE, {"id": str(ERP_PRICE_LIST_ID), "version": version},
         {("input.id", "NOT_APPLICABLE")}),
        (UPDATE, {"id": str(ERP_PRICE_LIST_ID), "version": version,
                  "validFrom": "2027-01-01"}, {("input.validFrom", "NOT_APPLICABLE")}),
    ]:
        (result,) = (await service.data(manager, query, {"input": body})).values()
        assert _errors(result) == expected
    assert await snapshot(service) == before


async def test_bad_cursors_and_page_sizes(service: Service, rep: str) -> None:
    for query in ["{ priceLists(after: \"garbage\") { edges { cursor } } }",
                  "{ products(after: \"garbage\") { edges { cursor } } }",
                  "{ products(first: 101) { edges { cursor } } }",
                  "{ products(filter: {search: \"" + "x" * 300 + "\"}) { edges { cursor } } }"]:
        errors = await service.errors(rep, query)
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", query
    unknown = await service.data(rep, "{ priceList(id: \"nope\") { id } product(code: \"\") "
                                      "{ code } }")
    assert unknown == {"priceList": None, "product": None}


async def test_an_admin_manages_too(service: Service) -> None:
    admin = service.token("admin")
    created = await create(service, admin)
    assert created["version"] == 1


async def test_two_managers_racing_for_the_default_leave_one(service: Service,
                                                             manager: str) -> None:
    a, b = await create(service, manager), await create(service, manager)
    results = await asyncio.gather(*[
        service.data(manager, UPDATE, {"input": {"id": pl["id"], "version": 1,
                                                 "isDefault": True}})
        for pl in (a, b)])
    outcomes = [r["updatePriceList"] for r in results]
    assert all(o["userErrors"] == [] or o["userErrors"][0]["code"] == "DUPLICATE_DEFAULT"
               for o in outcomes), outcomes
    defaults = await service.sql("SELECT id FROM price_lists WHERE is_default")
    assert len(defaults) == 1
    assert str(defaults[0]["id"]) in {a["id"], b["id"]}
