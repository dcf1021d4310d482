"""The stored form of a rule: ``rule_to_definition`` gives a JSON-ready dict that ``parse_rule``
reads back into the same rule, and the filter columns say what the definition says.

Property-style over seeded random rules (hypothesis is not in the workspace's dev group): the
same 300 cases on every run, each id naming its seed; plus the hand-written inputs of
``test_rule.py``."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

import pytest

from crm_pricing.domain.effect import Effect, EffectKind
from crm_pricing.domain.rule import (
    MAX_PRIORITY,
    MIN_PRIORITY,
    Audience,
    AudienceKind,
    Condition,
    GroupPurchased,
    InClientGroup,
    OrderReached,
    PaymentBehaviourHeld,
    PaymentTermWithin,
    Rule,
    RuleStatus,
    Scope,
    ScopeKind,
    Stacking,
    TurnoverReached,
    Validity,
    definition_columns,
    parse_rule,
    rule_to_definition,
)
from crm_pricing.domain.tiers import Tier
from crm_pricing.domain.turnover import Basis, Metric, Window

SEEDS = range(300)


def turnover_condition(**kw: Any) -> dict[str, Any]:
    return {"kind": "turnover", "window": "quarter",
            "tiers": [{"threshold": "40000", "effect": {"kind": "percent_off", "value": "5"}},
                      {"threshold": "60000", "effect": {"kind": "percent_off", "value": "7"}}],
            **kw}


def good(**kw: Any) -> dict[str, Any]:
    """The same input as ``test_rule.good``."""
    return {"code": "BEV-Q", "name": "Beverages quarterly tiers",
            "scope": {"kind": "product_group", "code": "bev"}, "audience": {"kind": "all"},
            "priority": 10, "stacking": "exclusive", "status": "active",
            "valid_from": dt.date(2026, 1, 1), "valid_until": None,
            "conditions": [turnover_condition()], **kw}


def amount(rnd: random.Random, low: int = 0) -> Decimal:
    return Decimal(rnd.choice([rnd.randint(low, 500), rnd.randint(low, 10**9)])) / 100 \
        if low == 0 else Decimal(rnd.randint(1, 10**6)) / 100


def effect(rnd: random.Random) -> Effect:
    kind = rnd.choice(list(EffectKind))
    if kind is EffectKind.PERCENT_OFF:
        return Effect(kind, Decimal(rnd.randint(1, 10_000)) / 100)
    if kind is EffectKind.AMOUNT_OFF:
        return Effect(kind, amount(rnd, 1))
    return Effect(kind, amount(rnd))


def tiers(rnd: random.Random, with_effects: bool) -> tuple[Tier, ...]:
    threshold = Decimal(rnd.randint(0, 1000))
    out = []
    for _ in range(rnd.randint(1, 10)):
        out.append(Tier(threshold, effect(rnd) if with_effects else None))
        threshold += Decimal(rnd.randint(1, 10**6)) / 100
    return tuple(out)


def condition(rnd: random.Random, with_effects: bool) -> Condition:
    kind = rnd.randrange(6) if not with_effects else rnd.randrange(2)
    if kind == 0:
        return TurnoverReached(rnd.choice(list(Window)), tiers(rnd, with_effects),
                               rnd.choice(list(Basis)), rnd.choice(list(Metric)),
                               rnd.choice([None, "BEV", "SNACK-1"]))
    if kind == 1:
        return OrderReached(rnd.choice(list(Metric)), tiers(rnd, with_effects))
    if kind == 2:
        return GroupPurchased(rnd.choice(["BEV", "SNACK"]), amount(rnd),
                              rnd.choice(list(Window)), rnd.choice(list(Basis)),
                              rnd.choice(list(Metric)))
    if kind == 3:
        share = rnd.choice([None, Decimal(rnd.randint(0, 100)) / 100])
        late = Decimal(rnd.randint(0, 3650)) / 10 if share is None or rnd.random() < .5 \
            else None
        return PaymentBehaviourHeld(share, late)
    if kind == 4:
        return PaymentTermWithin(rnd.randint(0, 3650))
    return InClientGroup("5f0c7a52-3d2e-4c59-9a59-1d2b3c4d5e6f")


def day(rnd: random.Random) -> dt.date:
    return dt.date(2000, 1, 1) + dt.timedelta(days=rnd.randint(0, 36_000))


def random_rule(seed: int) -> Rule:
    rnd = random.Random(seed)
    scope_kind = rnd.choice(list(ScopeKind))
    audience_kind = rnd.choice(list(AudienceKind))
    start, end = sorted([day(rnd), day(rnd)])
    conditions = [condition(rnd, False) for _ in range(rnd.randint(0, 9))]
    tiered = rnd.random() < 0.4
    if tiered:
        conditions.insert(rnd.randint(0, len(conditions)), condition(rnd, True))
    return Rule(
        code=rnd.choice(["BEV-Q", "A", "x.y_z/1-2", "K" * 40]),
        name=rnd.choice(["Напитки на тримесечие", "Early payment", "N" * 200]),
        scope=Scope(scope_kind, None if scope_kind is ScopeKind.ALL
                    else rnd.choice(["BEV", "BEER-05"])),
        audience=Audience(audience_kind, None if audience_kind is AudienceKind.ALL
                          else "9a7c1f00-0000-4000-8000-000000000001"),
        effect=None if tiered and rnd.random() < .5 else effect(rnd),
        validity=Validity(rnd.choice([None, start]), rnd.choice([None, end])),
        priority=rnd.randint(MIN_PRIORITY, MAX_PRIORITY),
        stacking=rnd.choice(list(Stacking)), status=rnd.choice(list(RuleStatus)),
        conditions=tuple(conditions), version=rnd.randint(1, 50))


def through_json(definition: dict[str, Any]) -> dict[str, Any]:
    """What JSONB gives back."""
    loaded: dict[str, Any] = json.loads(json.dumps(definition))
    return loaded


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_a_random_rule_round_trips(seed: int) -> None:
    rule = random_rule(seed)
    definition = rule_to_definition(rule)
    assert through_json(definition) == definition  # JSON-ready as it is
    assert parse_rule(through_json(definition), version=rule.version) == rule


HAND_WRITTEN = [
    good(),
    good(conditions=[], effect={"kind": "fixed_price", "value": "0"}, status="draft"),
    good(valid_from="2026-01-01", valid_until="2100-12-31", priority=-1000,
         stacking="cumulative", audience={"kind": "client_group",
                                          "id": "5f0c7a52-3d2e-4c59-9a59-1d2b3c4d5e6f"}),
    good(conditions=[turnover_condition(basis="to_date", metric="quantity",
                                        product_group="bev", tiers=[{"threshold": "1e5"}])],
         effect={"kind": "percent_off", "value": "2.50"}),
    {"code": "MIX", "name": "Mixed", "scope": {"kind": "product", "code": "beer-05"},
     "audience": {"kind": "client", "id": "9a7c1f00-0000-4000-8000-000000000001"},
     "effect": {"kind": "amount_off", "value": "0.50"},
     "conditions": [
         {"kind": "order", "tiers": [{"threshold": 10}]},
         {"kind": "group_purchase", "window": "year", "product_group": "snack",
          "minimum": "1000"},
         {"kind": "payment_behaviour", "min_share_within_term": "0.9"},
         {"kind": "payment_behaviour", "max_average_days_late": 5},
         {"kind": "payment_term", "max_days": 10},
         {"kind": "client_group", "group_id": "g-1"}]},
]


@pytest.mark.parametrize("raw", HAND_WRITTEN, ids=range(len(HAND_WRITTEN)))
def test_parsed_input_round_trips(raw: dict[str, Any]) -> None:
    rule = parse_rule(raw, version=3)
    definition = rule_to_definition(rule)
    assert parse_rule(through_json(definition), version=3) == rule
    assert rule_to_definition(parse_rule(definition, version=3)) == definition


def test_the_stored_spelling() -> None:
    definition = rule_to_definition(parse_rule(HAND_WRITTEN[3]))
    assert definition["valid_from"] == "2026-01-01" and definition["valid_until"] is None
    assert definition["scope"] == {"kind": "product_group", "code": "BEV"}
    assert definition["effect"] == {"kind": "percent_off", "value": "2.50"}
    (c,) = definition["conditions"]
    assert c == {"kind": "turnover", "window": "quarter", "basis": "to_date",
                 "metric": "quantity", "product_group": "BEV",
                 "tiers": [{"threshold": "100000", "effect": None}]}
    assert definition["status"] == "active" and definition["stacking"] == "exclusive"


@pytest.mark.parametrize("seed", SEEDS[:60], ids=[f"seed{s}" for s in SEEDS[:60]])
def test_the_columns_mirror_the_definition(seed: int) -> None:
    rule = random_rule(seed)
    d, columns = rule_to_definition(rule), definition_columns(rule)
    assert columns == {
        "code": d["code"], "name": d["name"], "status": d["status"],
        "stacking": d["stacking"], "priority": d["priority"],
        "scope_kind": d["scope"]["kind"], "scope_code": d["scope"]["code"],
        "audience_kind": d["audience"]["kind"], "audience_id": d["audience"]["id"],
        "valid_from": None if d["valid_from"] is None else dt.date.fromisoformat(d["valid_from"]),
        "valid_until": None if d["valid_until"] is None
        else dt.date.fromisoformat(d["valid_until"])}
