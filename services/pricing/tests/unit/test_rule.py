"""A rule from raw input, every bad field named; and the check that refuses two rules no quote
could tell apart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from crm_common.problems import Problems
from crm_pricing.domain.effect import EffectKind, percent_off
from crm_pricing.domain.rule import (
    Audience,
    AudienceKind,
    OrderReached,
    Rule,
    RuleStatus,
    Scope,
    ScopeKind,
    Stacking,
    TurnoverReached,
    Validity,
    indistinguishable,
    indistinguishable_problem,
    parse_rule,
)
from crm_pricing.domain.turnover import Basis, Metric, Window

D = Decimal


def turnover_condition(**kw: Any) -> dict[str, Any]:
    return {"kind": "turnover", "window": "quarter",
            "tiers": [{"threshold": "40000", "effect": {"kind": "percent_off", "value": "5"}},
                      {"threshold": "60000", "effect": {"kind": "percent_off", "value": "7"}}],
            **kw}


def good(**kw: Any) -> dict[str, Any]:
    return {"code": "BEV-Q", "name": "Beverages quarterly tiers",
            "scope": {"kind": "product_group", "code": "bev"}, "audience": {"kind": "all"},
            "priority": 10, "stacking": "exclusive", "status": "active",
            "valid_from": dt.date(2026, 1, 1), "valid_until": None,
            "conditions": [turnover_condition()], **kw}


def test_a_good_rule() -> None:
    rule = parse_rule(good())
    assert rule.scope == Scope(ScopeKind.PRODUCT_GROUP, "BEV")
    assert rule.audience == Audience(AudienceKind.ALL)
    assert rule.effect is None and rule.stacking is Stacking.EXCLUSIVE
    (c,) = rule.conditions
    assert isinstance(c, TurnoverReached)
    assert (c.window, c.basis, c.metric) == (Window.QUARTER, Basis.PREVIOUS_CLOSED,
                                             Metric.NET_AMOUNT)
    assert [t.threshold for t in c.tiers] == [40000, 60000]
    assert rule.tiered is c


def test_defaults_and_every_condition_kind() -> None:
    rule = parse_rule({
        "code": "MIX", "name": "Mixed", "scope": {"kind": "all"},
        "audience": {"kind": "client", "id": "c-1"},
        "effect": {"kind": "amount_off", "value": "0.50"},
        "conditions": [
            {"kind": "order", "tiers": [{"threshold": 10}]},
            {"kind": "group_purchase", "window": "year", "product_group": "snack",
             "minimum": "1000"},
            {"kind": "payment_behaviour", "min_share_within_term": "0.9"},
            {"kind": "payment_term", "max_days": 10},
            {"kind": "client_group", "group_id": "g-1"},
            turnover_condition(basis="to_date", metric="quantity", product_group="bev",
                               tiers=[{"threshold": 100}]),
        ]})
    assert rule.status is RuleStatus.DRAFT and rule.priority == 0
    assert rule.effect is not None and rule.effect.kind is EffectKind.AMOUNT_OFF
    assert isinstance(rule.conditions[0], OrderReached) and rule.tiered is None
    assert len(rule.conditions) == 6


def problems(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(Problems) as exc:
        parse_rule(raw)
    return {".".join(p.field): p.code for p in exc.value.problems}


TIER0 = "input.conditions.0.tiers.0"


BAD: list[tuple[dict[str, Any], str, str]] = [
    (good(code=""), "input.code", "REQUIRED"),
    (good(code="two words"), "input.code", "INVALID_VALUE"),
    (good(name="x" * 201), "input.name", "TOO_LONG"),
    (good(name="a\nb"), "input.name", "CONTROL_CHARACTERS"),
    (good(scope={"kind": "shelf"}), "input.scope.kind", "INVALID_VALUE"),
    (good(scope={"kind": "product"}), "input.scope.code", "REQUIRED"),
    (good(audience={"kind": "client_group"}), "input.audience.id", "REQUIRED"),
    (good(audience=None), "input.audience", "REQUIRED"),
    (good(conditions=[turnover_condition(tiers=[{"threshold": "-1"}])]),
     f"{TIER0}.threshold", "NEGATIVE"),
    (good(conditions=[turnover_condition(tiers=[
        {"threshold": 1, "effect": {"kind": "percent_off", "value": "100.01"}}])]),
     f"{TIER0}.effect.value", "INVALID_VALUE"),
    (good(conditions=[], effect={"kind": "percent_off", "value": 150}), "input.effect.value",
     "INVALID_VALUE"),
    (good(conditions=[], effect={"kind": "percent_off", "value": 0}), "input.effect.value",
     "INVALID_VALUE"),
    (good(conditions=[], effect={"kind": "fixed_price", "value": "-0.01"}),
     "input.effect.value", "NEGATIVE"),
    (good(conditions=[], effect={"kind": "amount_off", "value": "-1"}), "input.effect.value",
     "NEGATIVE"),
    (good(conditions=[], effect={"kind": "amount_off", "value": "NaN"}), "input.effect.value",
     "INVALID_TYPE"),
    (good(conditions=[], effect={"kind": "amount_off", "value": True}), "input.effect.value",
     "INVALID_TYPE"),
    (good(conditions=[], effect={"kind": "discount", "value": 1}), "input.effect.kind",
     "INVALID_VALUE"),
    (good(conditions=[turnover_condition(tiers=[
        {"threshold": 60000, "effect": {"kind": "percent_off", "value": 7}},
        {"threshold": 40000, "effect": {"kind": "percent_off", "value": 5}}])]),
     "input.conditions.0.tiers.1.threshold", "TIERS_OUT_OF_ORDER"),
    (good(conditions=[turnover_condition(tiers=[
        {"threshold": 40000, "effect": {"kind": "percent_off", "value": 5}},
        {"threshold": 40000, "effect": {"kind": "percent_off", "value": 7}}])]),
     "input.conditions.0.tiers.1.threshold", "TIERS_OUT_OF_ORDER"),
    (good(conditions=[turnover_condition(tiers=[])]), "input.conditions.0.tiers", "REQUIRED"),
    (good(conditions=[turnover_condition(window="fortnight")]), "input.conditions.0.window",
     "INVALID_VALUE"),
    (good(conditions=[turnover_condition(basis="next")]), "input.conditions.0.basis",
     "INVALID_VALUE"),
    (good(conditions=[turnover_condition(), turnover_condition()]),
     "input.conditions.1.tiers", "INVALID_VALUE"),
    (good(conditions=[{"kind": "weather"}]), "input.conditions.0.kind", "INVALID_VALUE"),
    (good(conditions=[{"kind": "group_purchase", "window": "year", "product_group": "S",
                       "minimum": -5}]), "input.conditions.0.minimum", "NEGATIVE"),
    (good(conditions=[{"kind": "payment_behaviour", "min_share_within_term": "1.5"}]),
     "input.conditions.0.min_share_within_term", "INVALID_VALUE"),
    (good(conditions=[{"kind": "payment_behaviour"}]),
     "input.conditions.0.min_share_within_term", "REQUIRED"),
    (good(conditions=[{"kind": "payment_term", "max_days": "7.5"}]),
     "input.conditions.0.max_days", "INVALID_VALUE"),
    (good(conditions=[]), "input.effect", "REQUIRED"),
    (good(valid_until=dt.date(9999, 12, 31)), "input.valid_until", "INVALID_VALUE"),
    (good(valid_from=dt.date(9999, 1, 1)), "input.valid_from", "INVALID_VALUE"),
    (good(valid_from="2026-13-01"), "input.valid_from", "INVALID_TYPE"),
    (good(valid_until=dt.date(2025, 12, 31)), "input.valid_until", "INVALID_DATE_RANGE"),
    (good(priority=1.5), "input.priority", "INVALID_TYPE"),
    (good(priority=10**6), "input.priority", "INVALID_VALUE"),
    (good(stacking="both"), "input.stacking", "INVALID_VALUE"),
    (good(status="paused"), "input.status", "INVALID_VALUE"),
    (good(conditions="turnover"), "input.conditions", "INVALID_TYPE"),
]


@pytest.mark.parametrize("raw,field,code", BAD, ids=[f"{f} {c}" for _, f, c in BAD])
def test_a_bad_field_is_named(raw: dict[str, Any], field: str, code: str) -> None:
    found = problems(raw)
    assert found.get(field) == code, found


def test_every_problem_at_once() -> None:
    found = problems(good(code="", valid_until=dt.date(9999, 1, 1), conditions=[
        turnover_condition(tiers=[{"threshold": -1, "effect": {"kind": "percent_off",
                                                               "value": 101}}])]))
    assert set(found) == {"input.code", "input.valid_until", f"{TIER0}.threshold",
                          f"{TIER0}.effect.value"}


# ----------------------------------------------------------------------- indistinguishable rules

JAN, JUN, JUL, DEC = (dt.date(2026, m, d) for m, d in ((1, 1), (6, 30), (7, 1), (12, 31)))


def rule(code: str = "NEW", **kw: Any) -> Rule:
    values: dict[str, Any] = {
        "name": code, "scope": Scope(ScopeKind.PRODUCT_GROUP, "BEV"),
        "audience": Audience(AudienceKind.CLIENT_GROUP, "g-1"), "effect": percent_off(5),
        "validity": Validity(JAN, DEC), "priority": 10, "stacking": Stacking.EXCLUSIVE,
        "status": RuleStatus.ACTIVE, **kw}
    return Rule(code=code, **values)


@pytest.mark.parametrize("other,clashes", [
    (rule("OLD"), True),
    (rule("OLD", effect=percent_off(9), conditions=(TurnoverReached(Window.YEAR, ()),)), True),
    (rule("OLD", scope=Scope(ScopeKind.PRODUCT_GROUP, "bev")), True),
    (rule("OLD", validity=Validity(None, JAN)), True),  # touches on the first day
    (rule("OLD", validity=Validity()), True),
    (rule("OLD", priority=11), False),
    (rule("OLD", scope=Scope(ScopeKind.PRODUCT_GROUP, "SNACK")), False),
    (rule("OLD", scope=Scope(ScopeKind.ALL)), False),
    (rule("OLD", audience=Audience(AudienceKind.CLIENT_GROUP, "g-2")), False),
    (rule("OLD", validity=Validity(None, dt.date(2025, 12, 31))), False),
    (rule("OLD", stacking=Stacking.CUMULATIVE), False),
    (rule("OLD", status=RuleStatus.DRAFT), False),
    (rule("OLD", status=RuleStatus.RETIRED), False),
    (rule("NEW"), False),  # itself, an earlier version
], ids=["same", "same but for effect and conditions", "scope code in another case",
        "touching validity", "open-ended", "other priority", "other scope", "wider scope",
        "other audience", "validity before", "cumulative", "draft", "retired", "itself"])
def test_indistinguishable(other: Rule, clashes: bool) -> None:
    found = indistinguishable(rule(), [other])
    assert (found is other) if clashes else found is None


def test_a_cumulative_or_retired_rule_never_clashes() -> None:
    assert indistinguishable(rule(stacking=Stacking.CUMULATIVE), [rule("OLD")]) is None
    assert indistinguishable(rule(status=RuleStatus.RETIRED), [rule("OLD")]) is None
    assert indistinguishable(rule(validity=Validity(JUL, DEC)),
                             [rule("OLD", validity=Validity(JAN, JUN))]) is None


def test_the_problem_names_the_other_rule() -> None:
    err = indistinguishable_problem(rule(), [rule("OLD", name="Horeca drinks")])
    assert err is not None
    (p,) = err.problems
    assert p.field == ("input", "priority") and p.code == "INDISTINGUISHABLE"
    assert "OLD (Horeca drinks)" in p.message
    assert indistinguishable_problem(rule(), []) is None
