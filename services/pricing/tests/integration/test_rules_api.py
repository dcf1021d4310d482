"""Pricing rules through the API: create, read, list, update (versions), activate, retire, the
history, the events, the stored form the quote engine reads, who may do what, and the
indistinguishable check (also when two managers activate at once)."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import pytest

from crm_common.testing import CaughtEvents
from crm_pricing.adapters.tables import ERP_PRICE_LIST_ID
from crm_pricing.domain.rule import RuleStatus, parse_rule
from crm_pricing.service_layer.pricing_inputs import read_rules

from .conftest import Publisher, Service, wait_until

pytestmark = pytest.mark.integration

USER_ERRORS = "userErrors { field code message }"
EFFECT = "effect { kind value }"
TIERS = f"tiers {{ threshold {EFFECT} }}"
RULE = f"""id code name version status stacking priority createdAt updatedAt
  scope {{ kind code }} audience {{ kind id }} {EFFECT} validity {{ validFrom validUntil }}
  conditions {{
    __typename
    ... on PricingRuleTurnoverCondition {{ window basis metric productGroup {TIERS} }}
    ... on PricingRuleOrderCondition {{ metric {TIERS} }}
    ... on PricingRuleGroupPurchaseCondition {{ productGroup minimum window basis metric }}
    ... on PricingRulePaymentBehaviourCondition {{ minShareWithinTerm maxAverageDaysLate }}
    ... on PricingRulePaymentTermCondition {{ maxDays }}
    ... on PricingRuleClientGroupCondition {{ groupId }}
  }}"""
CREATE = f"""mutation($input: CreatePricingRuleInput!) {{ createPricingRule(input: $input) {{
  pricingRule {{ {RULE} }} {USER_ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdatePricingRuleInput!) {{ updatePricingRule(input: $input) {{
  pricingRule {{ {RULE} }} {USER_ERRORS} }} }}"""
ACTIVATE = f"""mutation($input: PricingRuleStatusInput!) {{ activatePricingRule(input: $input) {{
  pricingRule {{ {RULE} }} {USER_ERRORS} }} }}"""
RETIRE = f"""mutation($input: PricingRuleStatusInput!) {{ retirePricingRule(input: $input) {{
  pricingRule {{ {RULE} }} {USER_ERRORS} }} }}"""
ONE = f"""query($id: ID, $code: String) {{ pricingRule(id: $id, code: $code) {{ {RULE}
  versions {{ version status recordedAt recordedById name priority {EFFECT} }}
  history {{ edges {{ node {{ operation actorId changes }} }} }} }} }}"""
LIST = """query($filter: PricingRuleFilterInput, $first: Int, $after: String) {
  pricingRules(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id code } } pageInfo { hasNextPage endCursor } } }"""

MANAGER = uuid.uuid4()


def manager(service: Service) -> str:
    return service.token("manager", MANAGER)


def rule_input(code: str, **kw: Any) -> dict[str, Any]:
    return {"code": code, "name": f"Rule {code}",
            "scope": {"kind": "PRODUCT_GROUP", "code": "bev"}, "audience": {"kind": "ALL"},
            "effect": {"kind": "PERCENT_OFF", "value": "5"}, "priority": 10, **kw}


def tiered(code: str, **kw: Any) -> dict[str, Any]:
    return rule_input(code, effect=None, conditions=[{
        "kind": "TURNOVER", "window": "QUARTER", "productGroup": "bev",
        "tiers": [{"threshold": "40000", "effect": {"kind": "PERCENT_OFF", "value": "5"}},
                  {"threshold": "60000", "effect": {"kind": "PERCENT_OFF", "value": "7"}}]}],
        **kw)


async def create(service: Service, token: str, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = (await service.data(token, CREATE, {"input": data}))[
        "createPricingRule"]
    return result


async def created(service: Service, data: dict[str, Any]) -> dict[str, Any]:
    result = await create(service, manager(service), data)
    assert result["userErrors"] == [], result
    rule: dict[str, Any] = result["pricingRule"]
    return rule


async def change(service: Service, query: str, data: dict[str, Any],
                 token: str | None = None) -> dict[str, Any]:
    body = await service.data(token or manager(service), query, {"input": data})
    result: dict[str, Any] = next(iter(body.values()))
    return result


async def add_product(service: Service, code: str, group: str, price: str = "10.00") -> None:
    """A product and its ERP base price, written directly (the catalogue consumer is another
    area's, built in parallel)."""
    await service.sql(
        "INSERT INTO product_groups (code, name) VALUES (:g, :g) ON CONFLICT DO NOTHING; ",
        g=group)
    await service.sql(
        "INSERT INTO products (code, name, group_code, unit, vat_rate, active, version) "
        "VALUES (:c, :c, :g, 'pcs', 20, true, 1)", c=code, g=group)
    await service.sql(
        "INSERT INTO price_list_items (price_list_id, product_code, price) "
        "VALUES (:pl, :c, :p)", pl=ERP_PRICE_LIST_ID, c=code, p=Decimal(price))


def errors(result: dict[str, Any]) -> dict[str, str]:
    return {".".join(e["field"]): e["code"] for e in result["userErrors"]}


async def test_create_read_and_the_stored_form(service: Service) -> None:
    rule = await created(service, tiered("BEV-Q", validFrom="2026-01-01"))
    assert rule["status"] == "DRAFT" and rule["version"] == 1
    assert rule["scope"] == {"kind": "PRODUCT_GROUP", "code": "BEV"}
    assert rule["effect"] is None and rule["stacking"] == "EXCLUSIVE"
    (c,) = rule["conditions"]
    assert c["__typename"] == "PricingRuleTurnoverCondition"
    assert (c["window"], c["basis"], c["metric"]) == ("QUARTER", "PREVIOUS_CLOSED",
                                                      "NET_AMOUNT")
    assert [t["threshold"] for t in c["tiers"]] == ["40000", "60000"]
    assert c["tiers"][1]["effect"] == {"kind": "PERCENT_OFF", "value": "7"}
    assert rule["validity"] == {"validFrom": "2026-01-01", "validUntil": None}

    by_code = (await service.data(service.token("sales_rep"), ONE, {"code": "bev-q"}))
    assert by_code["pricingRule"]["id"] == rule["id"]  # reps read rules; the code in any case

    (row,) = await service.sql("SELECT * FROM pricing_rules WHERE id = :id",
                               id=uuid.UUID(rule["id"]))
    assert row["definition"]["conditions"][0]["tiers"][0] == {
        "threshold": "40000", "effect": {"kind": "percent_off", "value": "5"}}
    parsed = parse_rule(row["definition"], version=row["version"])
    assert (parsed.code, parsed.status, parsed.priority) == ("BEV-Q", RuleStatus.DRAFT, 10)
    assert (row["status"], row["stacking"], row["scope_kind"], row["scope_code"],
            row["audience_kind"], row["audience_id"], str(row["valid_from"]),
            row["valid_until"]) == ("draft", "exclusive", "product_group", "BEV", "all", None,
                                    "2026-01-01", None)
    versions = await service.sql("SELECT version, status FROM pricing_rule_versions "
                                 "WHERE rule_id = :id", id=uuid.UUID(rule["id"]))
    assert versions == [{"version": 1, "status": "draft"}]


async def test_every_condition_kind_round_trips(service: Service) -> None:
    group = str(uuid.uuid4())
    rule = await created(service, rule_input(
        "MIXED", audience={"kind": "CLIENT", "id": str(uuid.uuid4()).upper()},
        effect={"kind": "AMOUNT_OFF", "value": "0.50"}, stacking="CUMULATIVE",
        conditions=[
            {"kind": "ORDER", "tiers": [{"threshold": "10"}]},
            {"kind": "GROUP_PURCHASE", "productGroup": "snack", "minimum": "1000",
             "window": "YEAR"},
            {"kind": "PAYMENT_BEHAVIOUR", "minShareWithinTerm": "0.9"},
            {"kind": "PAYMENT_TERM", "maxDays": 10},
            {"kind": "CLIENT_GROUP", "groupId": group}]))
    kinds = [c["__typename"] for c in rule["conditions"]]
    assert kinds == ["PricingRuleOrderCondition", "PricingRuleGroupPurchaseCondition",
                     "PricingRulePaymentBehaviourCondition", "PricingRulePaymentTermCondition",
                     "PricingRuleClientGroupCondition"]
    assert rule["conditions"][0] == {"__typename": "PricingRuleOrderCondition",
                                     "metric": "QUANTITY",
                                     "tiers": [{"threshold": "10", "effect": None}]}
    assert rule["conditions"][1]["productGroup"] == "SNACK"
    assert rule["conditions"][4]["groupId"] == group
    assert rule["audience"]["id"] == rule["audience"]["id"].lower()  # canonical spelling


async def test_update_makes_a_version_and_keeps_the_earlier_ones(
        service: Service, tap: CaughtEvents) -> None:
    rule = await created(service, rule_input("UPD-1", status="ACTIVE"))
    assert rule["status"] == "ACTIVE"
    result = await change(service, UPDATE, {
        "id": rule["id"], "version": 1, **rule_input("UPD-1", name="Renamed", priority=20,
                                                     effect={"kind": "PERCENT_OFF",
                                                             "value": "6.5"})})
    assert result["userErrors"] == []
    updated = result["pricingRule"]
    assert (updated["version"], updated["status"], updated["priority"], updated["name"]) == (
        2, "ACTIVE", 20, "Renamed")  # an active rule stays active

    # the same content again: no new version
    again = await change(service, UPDATE, {
        "id": rule["id"], "version": 2, **rule_input("UPD-1", name="Renamed", priority=20,
                                                     effect={"kind": "PERCENT_OFF",
                                                             "value": "6.5"})})
    assert again["userErrors"] == [] and again["pricingRule"]["version"] == 2

    stale = await change(service, UPDATE, {"id": rule["id"], "version": 1,
                                           **rule_input("UPD-1")})
    assert errors(stale) == {"input.version": "CONFLICT"}

    one = (await service.data(manager(service), ONE, {"id": rule["id"]}))["pricingRule"]
    assert [(v["version"], v["name"], v["priority"], v["effect"]["value"])
            for v in one["versions"]] == [(1, "Rule UPD-1", 10, "5")]
    assert one["versions"][0]["recordedById"] == str(MANAGER)
    operations = [e["node"]["operation"] for e in one["history"]["edges"]]
    assert operations == ["update", "create"]
    latest = one["history"]["edges"][0]["node"]
    assert latest["actorId"] == str(MANAGER)
    assert latest["changes"]["name"] == ["Rule UPD-1", "Renamed"]
    assert latest["changes"]["version"] == [1, 2]
    assert one["history"]["edges"][1]["node"]["changes"]["new"]["status"] == "ACTIVE"
    tiered_rule = await created(service, tiered("UPD-HIST"))
    tiered_history = (await service.data(manager(service), ONE, {"id": tiered_rule["id"]}))[
        "pricingRule"]["history"]["edges"][0]["node"]["changes"]["new"]
    (condition,) = tiered_history["conditions"]
    assert (condition["kind"], condition["window"], condition["productGroup"]) == (
        "TURNOVER", "QUARTER", "BEV")  # as the API spells them
    assert condition["tiers"][0] == {"threshold": "40000",
                                     "effect": {"kind": "PERCENT_OFF", "value": "5"}}

    (activated,) = await tap.wait_for_type("crm.pricing.rule.activated", rule["id"])
    assert activated["data"]["rule"]["version"] == 1
    (event,) = await tap.wait_for_type("crm.pricing.rule.updated", rule["id"])
    state = event["data"]["rule"]
    assert (state["version"], state["name"], state["status"], state["priority"]) == (
        2, "Renamed", "active", 20)
    assert state["effect"] == {"kind": "percent_off", "value": "6.5"}
    assert state["scope"] == {"kind": "product_group", "code": "BEV"}

    versions = await service.sql("SELECT version FROM pricing_rule_versions WHERE rule_id = :id "
                                 "ORDER BY version", id=uuid.UUID(rule["id"]))
    assert [v["version"] for v in versions] == [1, 2]


async def test_the_code_stays(service: Service) -> None:
    rule = await created(service, rule_input("STAYS"))
    result = await change(service, UPDATE, {"id": rule["id"], "version": 1,
                                            **rule_input("MOVED")})
    assert errors(result) == {"input.code": "INVALID_VALUE"}
    same_code = await change(service, UPDATE, {"id": rule["id"], "version": 1,
                                               **rule_input("stays", name="Kept")})
    assert same_code["userErrors"] == [] and same_code["pricingRule"]["code"] == "STAYS"


async def test_activate_and_retire(service: Service, tap: CaughtEvents) -> None:
    rule = await created(service, rule_input("LIFE", scope={"kind": "PRODUCT",
                                                            "code": "beer-05"}))
    result = await change(service, ACTIVATE, {"id": rule["id"], "version": 1})
    assert result["userErrors"] == [] and result["pricingRule"]["status"] == "ACTIVE"
    assert result["pricingRule"]["version"] == 2
    again = await change(service, ACTIVATE, {"id": rule["id"], "version": 2})
    assert again["userErrors"] == [] and again["pricingRule"]["version"] == 2  # no-op

    retired = await change(service, RETIRE, {"id": rule["id"], "version": 2})
    assert retired["userErrors"] == [] and retired["pricingRule"]["status"] == "RETIRED"
    assert retired["pricingRule"]["version"] == 3
    (event,) = await tap.wait_for_type("crm.pricing.rule.retired", rule["id"])
    assert event["data"]["previousStatus"] == "active"
    assert event["data"]["rule"]["status"] == "retired"
    assert event["data"]["rule"]["version"] == 3

    # retired is final
    reactivate = await change(service, ACTIVATE, {"id": rule["id"], "version": 3})
    assert errors(reactivate) == {"input.id": "RETIRED"}
    edit = await change(service, UPDATE, {"id": rule["id"], "version": 3,
                                          **rule_input("LIFE")})
    assert errors(edit) == {"input.id": "RETIRED"}
    unknown = await change(service, RETIRE, {"id": str(uuid.uuid4()), "version": 1})
    assert errors(unknown) == {"input.id": "NOT_FOUND"}
    bad_id = await change(service, RETIRE, {"id": "not-an-id", "version": 1})
    assert errors(bad_id) == {"input.id": "INVALID_ID"}

    one = (await service.data(manager(service), ONE, {"id": rule["id"]}))["pricingRule"]
    assert [v["status"] for v in one["versions"]] == ["ACTIVE", "DRAFT"]
    assert [e["node"]["operation"] for e in one["history"]["edges"]] == [
        "retire", "activate", "create"]
    assert one["history"]["edges"][0]["node"]["changes"]["status"] == ["ACTIVE", "RETIRED"]

    # the lead's reader sees the retired rule no more
    rows = await service.sql("SELECT count(*) AS n FROM pricing_rules WHERE code = 'LIFE' "
                             "AND status = 'retired'")
    assert rows == [{"n": 1}]


async def test_the_stored_rules_are_what_the_quote_engine_reads(service: Service) -> None:
    await created(service, tiered("ENGINE-1", status="ACTIVE", priority=-5))
    from sqlalchemy.ext.asyncio import create_async_engine
    engine = create_async_engine(service.database_url)
    try:
        async with engine.connect() as conn:
            stored = {s.rule.code: s.rule for s in await read_rules(conn)}
    finally:
        await engine.dispose()
    rule = stored["ENGINE-1"]
    assert rule.status is RuleStatus.ACTIVE and rule.priority == -5 and rule.version == 1
    assert rule.tiered is not None and len(rule.tiered.tiers) == 2


async def test_duplicate_code(service: Service) -> None:
    await created(service, rule_input("DUP-1"))
    result = await create(service, manager(service), rule_input("dup-1"))
    assert errors(result) == {"input.code": "DUPLICATE"}
    assert result["pricingRule"] is None


async def test_who_may_change_rules(service: Service) -> None:
    rep = service.token("sales_rep")
    result = await create(service, rep, rule_input("REP-1"))
    assert errors(result) == {"input": "FORBIDDEN"}
    rule = await created(service, rule_input("REP-2"))
    for query, data in ((UPDATE, {"id": rule["id"], "version": 1, **rule_input("REP-2")}),
                        (ACTIVATE, {"id": rule["id"], "version": 1}),
                        (RETIRE, {"id": rule["id"], "version": 1})):
        assert errors(await change(service, query, data, token=rep)) == {"input": "FORBIDDEN"}
    admin = await create(service, service.token("admin"), rule_input("ADMIN-1"))
    assert admin["userErrors"] == []
    # reading needs a token
    response = await service.gql(None, LIST, {})
    assert response.status_code == 401 or "errors" in response.json()


async def test_list_filters_and_pages(service: Service, publisher: Publisher) -> None:
    client, group = uuid.uuid4(), uuid.uuid4()
    await add_product(service, "LST-BEER", "LSTBEV")
    await publisher.group(group, "LST-G", "List group")
    await publisher.client(client, group=group)
    await wait_until(lambda: service.sql(
        "SELECT 1 FROM client_profiles WHERE client_id = :id AND group_id IS NOT NULL",
        id=client))
    prefix = "LST-"
    await created(service, rule_input(f"{prefix}A", scope={"kind": "PRODUCT_GROUP",
                                                          "code": "lstbev"}))
    await created(service, rule_input(f"{prefix}B", scope={"kind": "PRODUCT",
                                                          "code": "lst-beer"},
                                      status="ACTIVE"))
    await created(service, rule_input(f"{prefix}C", audience={"kind": "CLIENT",
                                                             "id": str(client)}))
    await created(service, rule_input(f"{prefix}D", audience={"kind": "CLIENT_GROUP",
                                                             "id": str(group)},
                                      name="Групова отстъпка"))
    await created(service, rule_input(f"{prefix}E", audience={"kind": "CLIENT",
                                                             "id": str(uuid.uuid4())}))
    rep = service.token("sales_rep")

    async def codes(flt: dict[str, Any]) -> list[str]:
        body = await service.data(rep, LIST, {"filter": {"search": prefix, **flt},
                                              "first": 100})
        return [e["node"]["code"] for e in body["pricingRules"]["edges"]]

    assert await codes({}) == [f"{prefix}{x}" for x in "ABCDE"]
    assert await codes({"status": ["ACTIVE"]}) == [f"{prefix}B"]
    assert await codes({"productCode": "lst-beer", "scopeKind": "PRODUCT"}) == [f"{prefix}B"]
    assert await codes({"productCode": "LST-BEER", "audienceKind": "ALL"}) == [
        f"{prefix}A", f"{prefix}B"]
    assert await codes({"productGroupCode": "LSTBEV", "audienceKind": "ALL"}) == [
        f"{prefix}A", f"{prefix}B"]
    assert await codes({"clientId": str(client)}) == [f"{prefix}{x}" for x in "ABCD"]
    assert await codes({"clientId": str(client), "audienceKind": "CLIENT"}) == [f"{prefix}C"]
    assert await codes({"clientGroupId": str(group), "audienceKind": "CLIENT_GROUP"}) == [
        f"{prefix}D"]
    assert await codes({"search": "групова"}) == [f"{prefix}D"]
    assert await codes({"search": "100%_"}) == []

    first = await service.data(rep, LIST, {"filter": {"search": prefix}, "first": 2})
    page = first["pricingRules"]
    assert [e["node"]["code"] for e in page["edges"]] == [f"{prefix}A", f"{prefix}B"]
    assert page["pageInfo"]["hasNextPage"]
    second = await service.data(rep, LIST, {"filter": {"search": prefix}, "first": 2,
                                            "after": page["pageInfo"]["endCursor"]})
    assert [e["node"]["code"] for e in second["pricingRules"]["edges"]] == [
        f"{prefix}C", f"{prefix}D"]
    bad = await service.errors(rep, LIST, {"after": "garbage"})
    assert bad[0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad = await service.errors(rep, LIST, {"filter": {"clientId": "x"}})
    assert bad[0]["extensions"]["code"] == "BAD_USER_INPUT"
    both = await service.errors(rep, ONE, {"id": str(uuid.uuid4()), "code": "X"})
    assert both[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (await service.data(rep, ONE, {"code": "NOPE"}))["pricingRule"] is None
    assert (await service.data(rep, ONE, {"id": "nope"}))["pricingRule"] is None


# --------------------------------------------------------------------- indistinguishable rules


async def test_indistinguishable_rules_are_refused(service: Service) -> None:
    group = {"kind": "CLIENT_GROUP", "id": str(uuid.uuid4())}
    first = await created(service, rule_input("IND-1", audience=group, status="ACTIVE",
                                              validFrom="2026-01-01", validUntil="2026-12-31"))
    clash = await create(service, manager(service), rule_input(
        "IND-2", audience=group, status="ACTIVE", validFrom="2026-06-01",
        effect={"kind": "FIXED_PRICE", "value": "1"}))
    assert errors(clash) == {"input.priority": "INDISTINGUISHABLE"}
    assert "IND-1" in clash["userErrors"][0]["message"]

    # a draft may be saved; activating it is refused
    draft = await created(service, rule_input("IND-2", audience=group,
                                              validFrom="2026-06-01"))
    refused = await change(service, ACTIVATE, {"id": draft["id"], "version": 1})
    assert errors(refused) == {"input.priority": "INDISTINGUISHABLE"}
    # told apart by the validity: fine
    moved = await change(service, UPDATE, {"id": draft["id"], "version": 1, **rule_input(
        "IND-2", audience=group, validFrom="2027-01-01")})
    assert moved["userErrors"] == []
    ok = await change(service, ACTIVATE, {"id": draft["id"], "version": 2})
    assert ok["userErrors"] == [] and ok["pricingRule"]["status"] == "ACTIVE"
    # updating the active one back into the other's validity is refused too
    back = await change(service, UPDATE, {"id": draft["id"], "version": 3, **rule_input(
        "IND-2", audience=group, validFrom="2026-12-31")})
    assert errors(back) == {"input.priority": "INDISTINGUISHABLE"}
    # cumulative rules, another priority, a retired rule: no clash
    assert (await create(service, manager(service), rule_input(
        "IND-3", audience=group, status="ACTIVE", stacking="CUMULATIVE")))["userErrors"] == []
    assert (await create(service, manager(service), rule_input(
        "IND-4", audience=group, status="ACTIVE", priority=11)))["userErrors"] == []
    retired = await change(service, RETIRE, {"id": first["id"], "version": 1})
    assert retired["userErrors"] == []
    assert (await change(service, UPDATE, {"id": draft["id"], "version": 3, **rule_input(
        "IND-2", audience=group, validFrom="2026-12-31")}))["userErrors"] == []


async def test_two_managers_activating_at_once_one_wins(service: Service) -> None:
    for attempt in range(3):
        audience = {"kind": "CLIENT", "id": str(uuid.uuid4())}
        drafts = [await created(service, rule_input(f"RACE-{attempt}-{i}", audience=audience))
                  for i in range(4)]
        tokens = [service.token("manager") for _ in drafts]
        results = await asyncio.gather(*(
            change(service, ACTIVATE, {"id": d["id"], "version": 1}, token=t)
            for d, t in zip(drafts, tokens, strict=True)))
        won = [r for r in results if not r["userErrors"]]
        lost = [r for r in results if r["userErrors"]]
        assert len(won) == 1, results
        assert all(errors(r) == {"input.priority": "INDISTINGUISHABLE"} for r in lost)
        active = await service.sql("SELECT count(*) AS n FROM pricing_rules WHERE "
                                   "audience_id = :a AND status = 'active'",
                                   a=audience["id"])
        assert active == [{"n": 1}]


async def test_two_managers_creating_at_once_one_wins(service: Service) -> None:
    audience = {"kind": "CLIENT", "id": str(uuid.uuid4())}
    results = await asyncio.gather(*(
        create(service, manager(service), rule_input(f"RACE-C-{i}", audience=audience,
                                                     status="ACTIVE"))
        for i in range(4)))
    assert sum(1 for r in results if not r["userErrors"]) == 1, results
    same_code = await asyncio.gather(*(
        create(service, manager(service), rule_input(code))
        for code in ("RACE-SAME", "race-same", "Race-Same")))
    assert sorted(str(errors(r)) for r in same_code) == sorted(
        ["{}", "{'input.code': 'DUPLICATE'}", "{'input.code': 'DUPLICATE'}"])
