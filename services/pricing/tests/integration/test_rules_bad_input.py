"""Every rule mutation with missing, wrong, huge and hostile values: a userError naming the field
(or, for what the schema itself refuses, a BAD_USER_INPUT request error), and nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .conftest import Service
from .test_rules_api import (
    ACTIVATE,
    CREATE,
    RETIRE,
    UPDATE,
    change,
    create,
    created,
    errors,
    manager,
    rule_input,
    tiered,
)

pytestmark = pytest.mark.integration

T0 = "input.conditions.0.tiers"


def turnover(tiers: list[dict[str, Any]], **kw: Any) -> list[dict[str, Any]]:
    return [{"kind": "TURNOVER", "window": "QUARTER", "tiers": tiers, **kw}]


def pct(value: str) -> dict[str, str]:
    return {"kind": "PERCENT_OFF", "value": value}


BAD: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("missing everything", {}, {"input.code": "REQUIRED", "input.name": "REQUIRED",
                                "input.scope": "REQUIRED", "input.audience": "REQUIRED"}),
    ("blank code", rule_input("  "), {"input.code": "REQUIRED"}),
    ("code with spaces", rule_input("two words"), {"input.code": "INVALID_VALUE"}),
    ("code with SQL", rule_input("x'; DROP TABLE pricing_rules; --"),
     {"input.code": "INVALID_VALUE"}),
    ("41-char code", rule_input("C" * 41), {"input.code": "TOO_LONG"}),
    ("10,000-char name", rule_input("LONG", name="я" * 10_000), {"input.name": "TOO_LONG"}),
    ("control characters", rule_input("CTRL", name="a\u0000b"),
     {"input.name": "CONTROL_CHARACTERS"}),
    ("scope without code", rule_input("S", scope={"kind": "PRODUCT"}),
     {"input.scope.code": "REQUIRED"}),
    ("scope without kind", rule_input("S", scope={"code": "BEV"}),
     {"input.scope.kind": "REQUIRED"}),
    ("client audience without id", rule_input("A", audience={"kind": "CLIENT"}),
     {"input.audience.id": "REQUIRED"}),
    ("client audience with a non-id", rule_input("A", audience={"kind": "CLIENT",
                                                                "id": "client-42"}),
     {"input.audience.id": "INVALID_ID"}),
    ("group audience with a non-id", rule_input("A", audience={"kind": "CLIENT_GROUP",
                                                               "id": "<script>"}),
     {"input.audience.id": "INVALID_ID"}),
    ("no effect at all", rule_input("E", effect=None), {"input.effect": "REQUIRED"}),
    ("effect without value", rule_input("E", effect={"kind": "PERCENT_OFF"}),
     {"input.effect.value": "REQUIRED"}),
    ("discount over 100 %", rule_input("E", effect=pct("100.01")),
     {"input.effect.value": "INVALID_VALUE"}),
    ("discount of 0 %", rule_input("E", effect=pct("0")), {"input.effect.value": "INVALID_VALUE"}),
    ("fixed price below zero", rule_input("E", effect={"kind": "FIXED_PRICE", "value": "-0.01"}),
     {"input.effect.value": "NEGATIVE"}),
    ("amount off below zero", rule_input("E", effect={"kind": "AMOUNT_OFF", "value": "-5"}),
     {"input.effect.value": "NEGATIVE"}),
    ("huge amount", rule_input("E", effect={"kind": "AMOUNT_OFF", "value": "1e30"}),
     {"input.effect.value": "INVALID_VALUE"}),
    ("a number of 60 digits", rule_input("E", effect={"kind": "AMOUNT_OFF",
                                                      "value": "0." + "1" * 60}),
     {"input.effect.value": "INVALID_TYPE"}),
    ("negative threshold", rule_input("T", effect=None, conditions=turnover(
        [{"threshold": "-1", "effect": pct("5")}])), {f"{T0}.0.threshold": "NEGATIVE"}),
    ("tiers out of order", rule_input("T", effect=None, conditions=turnover(
        [{"threshold": "60000", "effect": pct("7")}, {"threshold": "40000", "effect": pct("5")}])),
     {f"{T0}.1.threshold": "TIERS_OUT_OF_ORDER"}),
    ("tier over 100 %", rule_input("T", effect=None, conditions=turnover(
        [{"threshold": "1", "effect": pct("150")}])), {f"{T0}.0.effect.value": "INVALID_VALUE"}),
    ("tier without threshold", rule_input("T", conditions=turnover([{}])),
     {f"{T0}.0.threshold": "REQUIRED"}),
    ("no tiers", rule_input("T", conditions=turnover([])), {T0: "REQUIRED"}),
    ("eleven tiers", rule_input("T", conditions=turnover(
        [{"threshold": str(i)} for i in range(11)])), {T0: "TOO_MANY"}),
    ("turnover without window", rule_input("T", conditions=[{"kind": "TURNOVER",
                                                             "tiers": [{"threshold": "1"}]}]),
     {"input.conditions.0.window": "REQUIRED"}),
    ("condition without kind", rule_input("T", conditions=[{"maxDays": 3}]),
     {"input.conditions.0.kind": "REQUIRED"}),
    ("payment behaviour with nothing", rule_input("T", conditions=[
        {"kind": "PAYMENT_BEHAVIOUR"}]), {"input.conditions.0.minShareWithinTerm": "REQUIRED"}),
    ("share over 1", rule_input("T", conditions=[
        {"kind": "PAYMENT_BEHAVIOUR", "minShareWithinTerm": "1.5"}]),
     {"input.conditions.0.minShareWithinTerm": "INVALID_VALUE"}),
    ("negative minimum", rule_input("T", conditions=[
        {"kind": "GROUP_PURCHASE", "productGroup": "BEV", "minimum": "-1", "window": "YEAR"}]),
     {"input.conditions.0.minimum": "NEGATIVE"}),
    ("client group condition with a non-id", rule_input("T", conditions=[
        {"kind": "CLIENT_GROUP", "groupId": "horeca"}]),
     {"input.conditions.0.groupId": "INVALID_ID"}),
    ("eleven conditions", rule_input("T", conditions=[
        {"kind": "PAYMENT_TERM", "maxDays": i} for i in range(11)]),
     {"input.conditions": "TOO_MANY"}),
    ("year 9999", rule_input("D", validUntil="9999-12-31"), {"input.validUntil": "INVALID_VALUE"}),
    ("year 1999", rule_input("D", validFrom="1999-12-31"), {"input.validFrom": "INVALID_VALUE"}),
    ("end before start", rule_input("D", validFrom="2026-06-01", validUntil="2026-05-31"),
     {"input.validUntil": "INVALID_DATE_RANGE"}),
    ("priority above 1000", rule_input("P", priority=1001), {"input.priority": "INVALID_VALUE"}),
    ("priority below -1000", rule_input("P", priority=-1001),
     {"input.priority": "INVALID_VALUE"}),
    ("born retired", rule_input("R", status="RETIRED"), {"input.status": "INVALID_VALUE"}),
]


@pytest.mark.parametrize("data,expected", [(d, e) for _, d, e in BAD],
                         ids=[name for name, _, _ in BAD])
async def test_create_names_the_bad_field(service: Service, data: dict[str, Any],
                                          expected: dict[str, str]) -> None:
    result = await create(service, manager(service), data)
    assert result["pricingRule"] is None
    found = errors(result)
    assert {k: found.get(k) for k in expected} == expected, result["userErrors"]
    for e in result["userErrors"]:
        assert "Traceback" not in e["message"] and "_" not in "".join(e["field"])


async def test_update_names_the_bad_field_and_stores_nothing(service: Service) -> None:
    rule = await created(service, tiered("BAD-UPD"))
    result = await change(service, UPDATE, {"id": rule["id"], "version": 1, **rule_input(
        "BAD-UPD", effect=None, validUntil="9999-12-31", conditions=turnover(
            [{"threshold": "5", "effect": pct("5")}, {"threshold": "5", "effect": pct("7")}]))})
    assert errors(result) == {"input.validUntil": "INVALID_VALUE",
                              f"{T0}.1.threshold": "TIERS_OUT_OF_ORDER"}
    rows = await service.sql("SELECT version FROM pricing_rules WHERE code = 'BAD-UPD'")
    assert rows == [{"version": 1}]


@pytest.mark.parametrize("query", [UPDATE, ACTIVATE, RETIRE], ids=["update", "activate",
                                                                  "retire"])
@pytest.mark.parametrize("version", [0, 2, -1, 2_147_483_647])
async def test_a_wrong_version_is_a_conflict(service: Service, query: str,
                                             version: int) -> None:
    rule = await created(service, rule_input(f"V-{uuid.uuid4().hex[:8]}"))
    data: dict[str, Any] = {"id": rule["id"], "version": version}
    if query is UPDATE:
        data.update(rule_input(rule["code"], name="Changed"))
    assert errors(await change(service, query, data)) == {"input.version": "CONFLICT"}


async def test_a_value_that_is_no_number_is_a_user_error_at_the_field(service: Service) -> None:
    """Issue 14: a malformed decimal is the field's userError (it was a request error)."""
    for value in ("five", "5,5"):
        result = await create(service, manager(service), rule_input(
            "DECIMAL", effect={"kind": "PERCENT_OFF", "value": value}))
        assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
            (["input", "effect", "value"], "INVALID_TYPE")]
    assert not await service.sql("SELECT 1 FROM pricing_rules WHERE code = 'DECIMAL'")


@pytest.mark.parametrize("variables", [
    {"input": rule_input("ENUM", stacking="BOTH")},
    {"input": rule_input("ENUM", scope={"kind": "SHELF"})},
    {"input": rule_input("ENUM", effect={"kind": "DISCOUNT", "value": "5"})},
    {"input": rule_input("ENUM", conditions=[{"kind": "WEATHER"}])},
    {"input": rule_input("ENUM", priority=10**12)},
    {"input": rule_input("ENUM", priority="high")},
    {"input": rule_input("ENUM", validFrom="2026-13-01")},
    {"input": rule_input("ENUM", status="PAUSED")},
], ids=["stacking", "scope kind", "effect kind", "condition kind", "priority too big for Int",
        "priority as text", "no such date", "status"])
async def test_what_the_schema_refuses_is_bad_user_input(service: Service,
                                                         variables: dict[str, Any]) -> None:
    (error, *_) = await service.errors(manager(service), CREATE, variables)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert not await service.sql("SELECT 1 FROM pricing_rules WHERE code = 'ENUM'")
