"""Quotes, client tiers and the client's price list through the real service: rules, products
and prices are put in its database as the rule and catalogue commands store them; clients,
groups, contracts and turnover arrive as the other services publish them."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Any

import pytest

from crm_common.db import make_engine
from crm_common.testing import CaughtEvents
from crm_pricing.adapters.tables import ERP_PRICE_LIST_ID
from crm_pricing.domain.turnover import Basis, Window, add_months, basis_period
from crm_pricing.service_layer.pricing_inputs import RuleBook
from crm_pricing.service_layer.tiers import sweep_tiers

from .conftest import Publisher, Service, wait_until

pytestmark = pytest.mark.integration

DAY = "2026-12-01"  # previous quarter: July–September 2026
AS_OF = "2026-12-01T06:00:00Z"
MANAGER = uuid.uuid4()
REP = uuid.uuid4()

QUOTE = """query($input: QuoteInput!) { quote(input: $input) {
  quote { clientId date total { amount currency } baseTotal { amount } discountTotal { amount }
          rules { code version } hints { ruleCode gap threshold message deadline }
          lines { lineNumber product { code productGroupCode } quantity
                  basePrice { amount } unitPrice { amount } discount { amount } discountPercent
                  total { amount } baseTotal { amount }
                  steps { kind ruleCode ruleVersion before after code message }
                  notApplied { ruleCode ruleVersion code message } } }
  userErrors { field code message } } }"""

TIERS = """query($reps: [_Any!]!, $date: Date) { _entities(representations: $reps) {
  ... on Client { pricingTier(date: $date) { ruleCode window basis metric productGroupCode
      basisPeriod { start end } reached tier tierEffect progress nextThreshold gap deadline
      effectiveFrom } } } }"""

PRICE_LIST = """query($reps: [_Any!]!, $date: Date, $first: Int, $after: String,
                      $filter: ClientPriceFilter) {
  _entities(representations: $reps) { ... on Client {
    priceList(date: $date, first: $first, after: $after, filter: $filter) {
      date edges { cursor node { product { code } basePrice { amount } price { amount }
                                  discountPercent ruleCode ruleVersion } }
      pageInfo { hasNextPage endCursor } } } } }"""


def definition(code: str, *, scope: dict[str, Any] | None = None,
               audience: dict[str, Any] | None = None, effect: dict[str, Any] | None = None,
               priority: int = 0, stacking: str = "exclusive",
               conditions: list[dict[str, Any]] | None = None, valid_from: str | None = None,
               valid_until: str | None = None) -> dict[str, Any]:
    return {"code": code, "name": f"Rule {code}", "scope": scope or {"kind": "all"},
            "audience": audience or {"kind": "all"}, "effect": effect, "priority": priority,
            "stacking": stacking, "conditions": conditions or [], "valid_from": valid_from,
            "valid_until": valid_until}


async def put_rule(service: Service, d: dict[str, Any], *, status: str = "active",
                   version: int = 1) -> uuid.UUID:
    rule_id = uuid.uuid4()
    scope, audience = d["scope"], d["audience"]
    await service.sql(
        "INSERT INTO pricing_rules (id, code, name, status, stacking, priority, scope_kind, "
        "scope_code, audience_kind, audience_id, valid_from, valid_until, definition, version) "
        "VALUES (:id, :code, :name, :status, :stacking, :priority, :sk, :sc, :ak, :ai, "
        "CAST(:vf AS date), CAST(:vu AS date), CAST(:d AS jsonb), :version)",
        id=rule_id, code=d["code"], name=d["name"], status=status, stacking=d["stacking"],
        priority=d["priority"], sk=scope["kind"], sc=scope.get("code"), ak=audience["kind"],
        ai=audience.get("id"), vf=d["valid_from"], vu=d["valid_until"], d=json.dumps(d),
        version=version)
    return rule_id


async def put_product(service: Service, code: str, group: str, price: str | None, *,
                      active: bool = True) -> None:
    await service.sql("INSERT INTO product_groups (code, name) VALUES (:g, :n) "
                      "ON CONFLICT (code) DO NOTHING", g=group, n=f"Група {group}")
    await service.sql(
        "INSERT INTO products (code, name, group_code, unit, vat_rate, active, version) "
        "VALUES (:c, :n, :g, 'pcs', 20, :a, 1)", c=code, n=f"Продукт {code}", g=group, a=active)
    if price is not None:
        await service.sql("INSERT INTO price_list_items (price_list_id, product_code, price) "
                          "VALUES (:l, :c, :p)", l=ERP_PRICE_LIST_ID, c=code, p=Decimal(price))


@pytest.fixture(scope="module")
async def world(service: Service, publisher: Publisher) -> dict[str, Any]:
    """Products in two groups, a client owned by REP in group G1, a contract, turnover."""
    for code, group, price in [("BEER-05", "BEV", "1.20"), ("WATER-15", "BEV", "0.80"),
                               ("CHOC-100", "CONF", "2.49"), ("SOAP-01", "HOUSE", "3.00")]:
        await put_product(service, code, group, price)
    await put_product(service, "OLD-1", "BEV", "5.00", active=False)
    await put_product(service, "NOPRICE-1", "BEV", None)
    client, other, group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await publisher.group(group, "HORECA", "Хотели и ресторанти")
    await publisher.client(client, owner=REP, group=group)
    await publisher.client(other, owner=uuid.uuid4())
    await publisher.contract(uuid.uuid4(), client, "2026-017", valid_from="2026-01-01",
                             valid_until="2026-12-31",
                             discounts=[{"productCode": "SOAP-01", "percent": "12.00"}])
    await publisher.contract(uuid.uuid4(), client, "2025-003", valid_from="2025-01-01",
                             valid_until="2025-12-31",
                             discounts=[{"productGroupCode": "CONF", "percent": "20.00"}])
    # previous quarter (July–September 2026): 38,200 in all, 9,000 of beverages
    await publisher.turnover(client, 1, [
        {"month": "2026-07", "invoicedNet": "12000", "byProductGroup": [
            {"productGroupCode": "BEV", "invoicedNet": "3000"}]},
        {"month": "2026-08", "invoicedNet": "13000", "byProductGroup": [
            {"productGroupCode": "BEV", "invoicedNet": "3000"}]},
        {"month": "2026-09", "invoicedNet": "13200", "byProductGroup": [
            {"productGroupCode": "BEV", "invoicedNet": "3000"}]},
        {"month": "2026-10", "invoicedNet": "20000", "byProductGroup": [
            {"productGroupCode": "BEV", "invoicedNet": "5000"}]},
    ], as_of=AS_OF)
    rules = {
        "BEV-5": await put_rule(service, definition(
            "BEV-5", scope={"kind": "product_group", "code": "BEV"},
            effect={"kind": "percent_off", "value": "5"})),
        "Q-TURNOVER": await put_rule(service, definition(
            "Q-TURNOVER", priority=10, effect={"kind": "percent_off", "value": "7"},
            conditions=[{"kind": "turnover", "window": "quarter", "tiers": [
                {"threshold": "40000"}]}])),
        "BEV-QTY": await put_rule(service, definition(
            "BEV-QTY", scope={"kind": "product_group", "code": "BEV"}, stacking="cumulative",
            conditions=[{"kind": "order", "metric": "quantity", "tiers": [
                {"threshold": "10", "effect": {"kind": "percent_off", "value": "2"}},
                {"threshold": "50", "effect": {"kind": "percent_off", "value": "4"}}]}])),
        "HORECA-CHOC": await put_rule(service, definition(
            "HORECA-CHOC", scope={"kind": "product", "code": "CHOC-100"},
            audience={"kind": "client_group", "id": str(group)},
            effect={"kind": "fixed_price", "value": "1.99"})),
        "DRAFT-1": await put_rule(service, definition(
            "DRAFT-1", effect={"kind": "percent_off", "value": "50"}), status="draft"),
        "OTHER-CLIENT": await put_rule(service, definition(
            "OTHER-CLIENT", audience={"kind": "client", "id": str(other)},
            effect={"kind": "percent_off", "value": "30"})),
    }

    async def ready() -> bool:
        rows = await service.sql(
            "SELECT (SELECT count(*) FROM contracts) AS c, "
            "(SELECT count(*) FROM client_turnover) AS t, "
            "(SELECT count(*) FROM client_profiles WHERE group_id IS NOT NULL) AS p, "
            "(SELECT count(*) FROM access_clients) AS a, (SELECT count(*) FROM client_groups) g")
        r = rows[0]
        return bool(r["c"] == 2 and r["t"] == 1 and r["p"] == 1 and r["a"] == 2 and r["g"] == 1)
    await wait_until(ready)
    return {"client": client, "other": other, "group": group, "rules": rules}


def quote_input(client: uuid.UUID, lines: list[tuple[str, str]], **extra: Any) -> dict[str, Any]:
    return {"input": {"clientId": str(client), "date": DAY,
                      "lines": [{"productCode": c, "quantity": q} for c, q in lines], **extra}}


async def test_a_quote_prices_every_line_and_explains_it(service: Service,
                                                         world: dict[str, Any]) -> None:
    token = service.token("manager", MANAGER)
    data = await service.data(token, QUOTE, quote_input(world["client"], [
        ("BEER-05", "6"), ("WATER-15", "4"), ("CHOC-100", "3"), ("SOAP-01", "1")]))
    payload = data["quote"]
    assert payload["userErrors"] == []
    q = payload["quote"]
    beer, water, choc, soap = q["lines"]
    # beer: base 1.20, BEV-5 wins (Q-TURNOVER fails: 38,200 < 40,000), then BEV-QTY 2 % for
    # 10 pooled beverages: 1.20 × 0.95 × 0.98 = 1.1172 → 1.12
    assert beer["unitPrice"]["amount"] == "1.12"
    assert [s["kind"] for s in beer["steps"]] == ["BASE_PRICE", "EXCLUSIVE", "CUMULATIVE",
                                                  "ROUNDING"]
    assert beer["steps"][1]["ruleCode"] == "BEV-5" and beer["steps"][2]["ruleCode"] == "BEV-QTY"
    assert "pooled over 2 lines" in beer["steps"][2]["message"]
    assert beer["total"]["amount"] == "6.72"
    reasons = {n["ruleCode"]: n for n in beer["notApplied"]}
    assert reasons["Q-TURNOVER"]["code"] == "TURNOVER_BELOW_THRESHOLD"
    assert "quarterly turnover €38,200 < €40,000 (previous quarter)" \
        in reasons["Q-TURNOVER"]["message"]
    assert reasons["DRAFT-1"]["code"] == "NOT_ACTIVE"
    assert "OTHER-CLIENT" not in reasons  # another client's own deal is not shown
    # water: 0.80 × 0.95 × 0.98 = 0.7448 → 0.74
    assert water["unitPrice"]["amount"] == "0.74"
    # chocolate: the HORECA group's fixed price is more specific than nothing else; the old
    # contract (2025) is listed as not in force
    assert choc["unitPrice"]["amount"] == "1.99"
    choc_reasons = {n["ruleCode"]: n for n in choc["notApplied"]}
    assert choc_reasons["contract:2025-003:CONF"]["code"] == "CONTRACT_NOT_IN_FORCE"
    assert "contract 2025-003 not in force on 2026-12-01" \
        in choc_reasons["contract:2025-003:CONF"]["message"]
    # soap: the contract's 12 % beats every rule (contract priority above all): 3.00 → 2.64
    assert soap["unitPrice"]["amount"] == "2.64"
    assert soap["steps"][1]["code"] == "CONTRACT_DISCOUNT"
    assert q["baseTotal"]["amount"] == str(Decimal("7.20") + Decimal("3.20") + Decimal("7.47")
                                           + Decimal("3.00"))
    assert q["total"]["amount"] == str(Decimal("6.72") + Decimal("2.96") + Decimal("5.97")
                                       + Decimal("2.64"))
    assert Decimal(q["discountTotal"]["amount"]) == \
        Decimal(q["baseTotal"]["amount"]) - Decimal(q["total"]["amount"])
    # the hints: 40 more beverages in this order → 4 %, and €1,800 to the quarterly tier
    messages = [h["message"] for h in q["hints"]]
    assert any("40 units more of Група BEV in this order → 4 %" in m for m in messages), messages
    turnover_hint = next(h for h in q["hints"] if h["ruleCode"] == "Q-TURNOVER")
    # progress this quarter (October–December to date): 20,000 → 20,000 more by 31 December
    assert Decimal(turnover_hint["gap"]) == Decimal("20000")
    assert turnover_hint["deadline"] == "2026-12-31"
    used = {(r["code"], r["version"]) for r in q["rules"]}
    assert ("BEV-5", 1) in used and ("Q-TURNOVER", 1) in used


async def test_the_turnover_tier_applies_once_reached(service: Service, publisher: Publisher,
                                                      world: dict[str, Any]) -> None:
    client = uuid.uuid4()
    await publisher.client(client, owner=REP)
    await publisher.turnover(client, 1, [
        {"month": "2026-08", "invoicedNet": "20000"},
        {"month": "2026-09", "invoicedNet": "20000"}], as_of=AS_OF)

    async def arrived() -> bool:
        return bool(await service.sql("SELECT 1 FROM client_turnover WHERE client_id = :c",
                                      c=client))
    await wait_until(arrived)
    token = service.token("manager", MANAGER)
    q = (await service.data(token, QUOTE, quote_input(client, [("SOAP-01", "1")]))
         )["quote"]["quote"]
    (soap,) = q["lines"]
    assert soap["steps"][1]["ruleCode"] == "Q-TURNOVER"
    assert "quarterly turnover €40,000 ≥ €40,000 (previous quarter)" in soap["steps"][1][
        "message"]
    assert soap["unitPrice"]["amount"] == "2.79"  # 3.00 × 0.93


async def test_a_rep_quotes_only_the_clients_they_may_see(service: Service,
                                                           world: dict[str, Any]) -> None:
    rep = service.token("sales_rep", REP)
    ok = await service.data(rep, QUOTE, quote_input(world["client"], [("BEER-05", "1")]))
    assert ok["quote"]["userErrors"] == []
    hidden = await service.data(rep, QUOTE, quote_input(world["other"], [("BEER-05", "1")]))
    assert hidden["quote"]["quote"] is None
    assert hidden["quote"]["userErrors"] == [
        {"field": ["input", "clientId"], "code": "NOT_FOUND", "message": "client not found"}]
    unknown = await service.data(rep, QUOTE, quote_input(uuid.uuid4(), [("BEER-05", "1")]))
    assert unknown["quote"]["userErrors"] == hidden["quote"]["userErrors"]


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"lines": []}, ["input", "lines"], "REQUIRED"),
    ({"lines": [{"productCode": "BEER-05", "quantity": "1"}] * 10_000}, ["input", "lines"],
     "TOO_MANY"),
    ({"lines": [{"productCode": "NOPE", "quantity": "1"}]},
     ["input", "lines", "0", "productCode"], "UNKNOWN_PRODUCT"),
    ({"lines": [{"productCode": "BEER-05", "quantity": "1"},
                {"productCode": "OLD-1", "quantity": "1"}]},
     ["input", "lines", "1", "productCode"], "INACTIVE_PRODUCT"),
    ({"lines": [{"productCode": "NOPRICE-1", "quantity": "1"}]},
     ["input", "lines", "0", "productCode"], "NO_BASE_PRICE"),
    ({"lines": [{"productCode": "BEER-05", "quantity": "-2"}]},
     ["input", "lines", "0", "quantity"], "INVALID_VALUE"),
    ({"lines": [{"productCode": "BEER-05", "quantity": "0"}]},
     ["input", "lines", "0", "quantity"], "INVALID_VALUE"),
    ({"lines": [{"productCode": "BEER-05", "quantity": "1e12"}]},
     ["input", "lines", "0", "quantity"], "INVALID_VALUE"),
    ({"lines": [{"productCode": "BEER-05", "quantity": "1.0001"}]},
     ["input", "lines", "0", "quantity"], "INVALID_VALUE"),
    ({"lines": [{"productCode": "BEER-05", "quantity": "NaN"}]},
     ["input", "lines", "0", "quantity"], "INVALID_TYPE"),
    ({"lines": [{"productCode": "x" * 10_000, "quantity": "1"}]},
     ["input", "lines", "0", "productCode"], "INVALID_VALUE"),
    ({"lines": [{"productCode": "BEER\x00", "quantity": "1"}]},
     ["input", "lines", "0", "productCode"], "INVALID_VALUE"),
    ({"date": "9999-12-31"}, ["input", "date"], "INVALID_VALUE"),
    ({"paymentTermDays": -1}, ["input", "paymentTermDays"], "INVALID_VALUE"),
    ({"clientId": "not-an-id"}, ["input", "clientId"], "INVALID_ID"),
])
async def test_bad_quote_input_is_a_user_error_naming_the_field(
        service: Service, world: dict[str, Any], change: dict[str, Any], field: list[str],
        code: str) -> None:
    variables = quote_input(world["client"], [("BEER-05", "1")])
    variables["input"].update(change)
    data = await service.data(service.token("manager", MANAGER), QUOTE, variables)
    assert data["quote"]["quote"] is None
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in data["quote"]["userErrors"]], data


async def test_every_problem_of_a_quote_is_reported_at_once(service: Service,
                                                            world: dict[str, Any]) -> None:
    variables = quote_input(world["client"], [("NOPE", "1"), ("BEER-05", "-1"), ("OLD-1", "1")])
    data = await service.data(service.token("manager", MANAGER), QUOTE, variables)
    fields = [e["field"] for e in data["quote"]["userErrors"]]
    assert ["input", "lines", "1", "quantity"] in fields
    # the catalogue's problems come once the input itself is well-formed
    variables = quote_input(world["client"], [("NOPE", "1"), ("BEER-05", "1"), ("OLD-1", "1")])
    data = await service.data(service.token("manager", MANAGER), QUOTE, variables)
    assert [e["field"] for e in data["quote"]["userErrors"]] == [
        ["input", "lines", "0", "productCode"], ["input", "lines", "2", "productCode"]]


async def test_a_large_quote_is_priced(service: Service, world: dict[str, Any]) -> None:
    lines = [("BEER-05", "1"), ("WATER-15", "2"), ("CHOC-100", "1"), ("SOAP-01", "3")] * 250
    data = await service.data(service.token("manager", MANAGER), QUOTE,
                              quote_input(world["client"], lines))
    q = data["quote"]["quote"]
    assert len(q["lines"]) == 1000
    # 250 beers + 500 waters pooled: BEV-QTY's top tier (4 %): 1.20 × 0.95 × 0.96 = 1.0944
    assert q["lines"][0]["unitPrice"]["amount"] == "1.09"
    assert Decimal(q["total"]["amount"]) == sum(Decimal(line["total"]["amount"])
                                                for line in q["lines"])


async def test_client_tiers_show_the_gap_to_the_next_threshold(service: Service,
                                                              world: dict[str, Any]) -> None:
    reps = [{"__typename": "Client", "id": str(world["client"])}]
    data = await service.data(service.token("sales_rep", REP), TIERS,
                              {"reps": reps, "date": DAY})
    (tier,) = data["_entities"][0]["pricingTier"]
    assert tier["ruleCode"] == "Q-TURNOVER"
    assert tier["basisPeriod"] == {"start": "2026-07-01", "end": "2026-09-30"}
    assert Decimal(tier["reached"]) == Decimal("38200") and tier["tier"] is None
    assert Decimal(tier["progress"]) == Decimal("20000")
    assert Decimal(tier["nextThreshold"]) == Decimal("40000")
    assert Decimal(tier["gap"]) == Decimal("20000")
    assert tier["deadline"] == "2026-12-31" and tier["effectiveFrom"] == "2027-01-01"
    hidden = await service.data(service.token("sales_rep", REP), TIERS, {
        "reps": [{"__typename": "Client", "id": str(world["other"])}], "date": DAY})
    assert hidden["_entities"][0]["pricingTier"] is None


async def test_the_client_price_list_pages_by_product_code(service: Service,
                                                           world: dict[str, Any]) -> None:
    reps = [{"__typename": "Client", "id": str(world["client"])}]
    token = service.token("sales_rep", REP)
    first = (await service.data(token, PRICE_LIST, {"reps": reps, "date": DAY, "first": 2})
             )["_entities"][0]["priceList"]
    codes = [e["node"]["product"]["code"] for e in first["edges"]]
    assert codes == ["BEER-05", "CHOC-100"]  # OLD-1 is inactive, NOPRICE-1 has no price
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await service.data(token, PRICE_LIST, {
        "reps": reps, "date": DAY, "first": 10, "after": first["pageInfo"]["endCursor"]})
    )["_entities"][0]["priceList"]
    assert [e["node"]["product"]["code"] for e in rest["edges"]] == ["SOAP-01", "WATER-15"]
    assert rest["pageInfo"]["hasNextPage"] is False
    prices = {e["node"]["product"]["code"]: e["node"] for e in first["edges"] + rest["edges"]}
    assert prices["BEER-05"]["price"]["amount"] == "1.14"  # 1.20 × 0.95, one unit
    assert prices["BEER-05"]["ruleCode"] == "BEV-5"
    assert prices["SOAP-01"]["ruleCode"] == "contract:2026-017:SOAP-01"
    assert prices["CHOC-100"]["price"]["amount"] == "1.99"
    beverages = (await service.data(token, PRICE_LIST, {
        "reps": reps, "date": DAY, "filter": {"productGroupCode": "bev"}})
    )["_entities"][0]["priceList"]
    assert [e["node"]["product"]["code"] for e in beverages["edges"]] == ["BEER-05",
                                                                          "WATER-15"]
    errors = await service.errors(token, PRICE_LIST, {"reps": reps, "after": "garbage!"})
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


def _previous_quarter_months(today: dt.date) -> list[str]:
    period = basis_period(Window.QUARTER, Basis.PREVIOUS_CLOSED, today)
    return [m.strftime("%Y-%m") for m in period.months]


async def test_a_client_moving_tier_publishes_client_tier_changed_once(
        service: Service, publisher: Publisher, tap: CaughtEvents,
        world: dict[str, Any]) -> None:
    client = uuid.uuid4()
    await publisher.client(client, owner=REP)
    months = _previous_quarter_months(dt.datetime.now(dt.UTC).date())

    def figures(total: str) -> list[dict[str, Any]]:
        share = str(Decimal(total) / 3)
        return [{"month": m, "invoicedNet": share} for m in months]

    # below the threshold: no tier, nothing published
    await publisher.turnover(client, 1, figures("30000"))
    # reaching 40,000: tier 1, published once, even when the same figures arrive again
    await publisher.turnover(client, 2, figures("45000"))
    events = await tap.wait_for(lambda e: e["type"] == "crm.pricing.client_tier.changed"
                                and e["subject"] == str(client))
    await publisher.turnover(client, 2, figures("45000"))  # a repeated version
    await publisher.turnover(client, 1, figures("30000"))  # an older one, late
    await publisher.turnover(client, 3, figures("46000"))  # newer, same tier

    async def settled() -> bool:
        rows = await service.sql("SELECT version FROM client_turnover WHERE client_id = :c",
                                 c=client)
        return bool(rows and rows[0]["version"] == 3)
    await wait_until(settled)
    await asyncio.sleep(1.0)  # the relay publishes after commit
    events = tap.of_type("crm.pricing.client_tier.changed", str(client))
    assert len(events) == 1, events
    data = events[0]["data"]
    assert data["tier"] == 1 and data["previousTier"] is None
    assert data["rule"]["code"] == "Q-TURNOVER" and data["turnoverVersion"] == 2
    assert data["rule"]["id"] == str(world["rules"]["Q-TURNOVER"])
    # falling back below the threshold moves it again
    await publisher.turnover(client, 4, figures("100"))
    await tap.wait_for(lambda e: e["type"] == "crm.pricing.client_tier.changed"
                       and e["subject"] == str(client) and e["data"]["tier"] is None)
    assert len(tap.of_type("crm.pricing.client_tier.changed", str(client))) == 2


async def test_malformed_turnover_changes_nothing(service: Service, publisher: Publisher,
                                                  world: dict[str, Any]) -> None:
    client = uuid.uuid4()
    await publisher.unchecked("crm.analytics.client.turnover.updated", str(client), {
        "clientId": str(client), "version": 1, "asOf": "yesterday", "months": []})
    await publisher.unchecked("crm.analytics.client.turnover.updated", str(client), {
        "clientId": str(client), "version": 2, "asOf": "2026-12-01T00:00:00Z",
        "months": [{"month": "13/2026", "invoicedNet": "1"}]})
    await publisher.unchecked("crm.analytics.client.turnover.updated", str(client), {
        "clientId": "nope", "version": 5, "asOf": "2026-12-01T00:00:00Z", "months": []})
    await publisher.turnover(client, 3, [{"month": add_months(
        dt.date(2026, 12, 1), -1).strftime("%Y-%m"), "invoicedNet": "5"}])

    async def good_one() -> list[dict[str, Any]]:
        return await service.sql("SELECT version FROM client_turnover WHERE client_id = :c",
                                 c=client)
    assert (await wait_until(good_one))[0]["version"] == 3


async def test_a_sweep_moves_a_tier_when_the_period_turns_once_however_often_it_runs(
        service: Service, publisher: Publisher, tap: CaughtEvents, world: dict[str, Any],
        database_url: str) -> None:
    """No new turnover, but the next quarter starts: its previous closed quarter is the one with
    no figures, so the client falls out of its tier; the sweep publishes that once, also when two
    sweeps race and when it runs again."""
    client = uuid.uuid4()
    await publisher.client(client, owner=REP)
    today = dt.datetime.now(dt.UTC).date()
    await publisher.turnover(client, 1, [{"month": m, "invoicedNet": "15000"}
                                         for m in _previous_quarter_months(today)])
    await tap.wait_for(lambda e: e["type"] == "crm.pricing.client_tier.changed"
                       and e["subject"] == str(client) and e["data"]["tier"] == 1)
    engine = make_engine(database_url, pool_size=4)
    try:
        book = RuleBook()
        # the same day, the same rules: the sweep finds this client where the consumer left it
        await sweep_tiers(engine, book, source="crm/pricing", today=today)
        quarter_start = basis_period(Window.QUARTER, Basis.PREVIOUS_CLOSED, today).end \
            + dt.timedelta(days=1)  # the first day of this quarter
        next_quarter = add_months(quarter_start, 3)
        results = await asyncio.gather(
            sweep_tiers(engine, book, source="crm/pricing", today=next_quarter),
            sweep_tiers(engine, book, source="crm/pricing", today=next_quarter))
        assert any(r is not None for r in results), results
        await tap.wait_for(lambda e: e["type"] == "crm.pricing.client_tier.changed"
                           and e["subject"] == str(client) and e["data"]["tier"] is None)
        assert await sweep_tiers(engine, book, source="crm/pricing", today=next_quarter) is not None
        await asyncio.sleep(1.0)  # the relay publishes after commit
        moves = tap.of_type("crm.pricing.client_tier.changed", str(client))
        assert [e["data"]["tier"] for e in moves] == [1, None], moves
        assert moves[1]["data"]["previousTier"] == 1
        assert moves[1]["data"]["basisPeriod"]["start"] == quarter_start.isoformat()
    finally:
        await engine.dispose()
