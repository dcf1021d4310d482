"""``Client.pricingTier``: what was reached, the tier, the next threshold, the gap, the deadline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from crm_pricing.domain.conditions import pricing_tiers, tier_status
from crm_pricing.domain.effect import percent_off
from crm_pricing.domain.rule import (
    Audience,
    AudienceKind,
    Rule,
    RuleStatus,
    Scope,
    ScopeKind,
    TurnoverReached,
    Validity,
)
from crm_pricing.domain.tiers import Tier
from crm_pricing.domain.turnover import Basis, Figures, Month, Turnover, Window

D = Decimal
DAY = dt.date(2027, 2, 15)
TIERS = (Tier(D(40_000), percent_off(5)), Tier(D(60_000), percent_off(7)))


def figures(values: dict[str, int]) -> Turnover:
    return Turnover(DAY, tuple(Month(dt.date.fromisoformat(k + "-01"),
                                     Figures(invoiced_net=D(v))) for k, v in values.items()))


# Q4 2026: €45,000 (tier 1); Q1 2027 so far: €52,000
HISTORY = figures({"2026-10": 15_000, "2026-11": 15_000, "2026-12": 15_000,
                   "2027-01": 30_000, "2027-02": 22_000})


def rule(basis: Basis, window: Window = Window.QUARTER, code: str = "R", **kw: Any) -> Rule:
    return Rule(code=code, name=code, scope=Scope(ScopeKind.ALL), audience=Audience(
        AudienceKind.ALL), effect=None, conditions=(TurnoverReached(window, TIERS, basis),),
        **kw)


@pytest.mark.parametrize("basis,reached,tier,progress,next_threshold,gap,effective_from", [
    (Basis.PREVIOUS_CLOSED, 45_000, 1, 52_000, 60_000, 8_000, dt.date(2027, 4, 1)),
    (Basis.TO_DATE, 52_000, 1, 52_000, 60_000, 8_000, None),
], ids=["previous closed quarter", "quarter to date"])
def test_tier_status(basis: Basis, reached: int, tier: int, progress: int, next_threshold: int,
                     gap: int, effective_from: dt.date | None) -> None:
    r = rule(basis)
    (c,) = r.conditions
    assert isinstance(c, TurnoverReached)
    s = tier_status(r, c, HISTORY, DAY)
    assert (s.reached_value, s.tier_number, s.progress_value) == (reached, tier, progress)
    assert (s.next_threshold, s.gap) == (next_threshold, gap)
    assert s.deadline == dt.date(2027, 3, 31)
    assert s.effective_from == effective_from


def test_at_the_top_tier_there_is_no_next() -> None:
    r = rule(Basis.TO_DATE, Window.YEAR)
    (c,) = r.conditions
    assert isinstance(c, TurnoverReached)
    s = tier_status(r, c, figures({"2027-01": 70_000}), DAY)
    assert s.tier_number == 2 and s.next_tier is None and s.gap is None and s.deadline is None


def test_no_figures_reads_as_zero() -> None:
    r = rule(Basis.PREVIOUS_CLOSED)
    (c,) = r.conditions
    assert isinstance(c, TurnoverReached)
    s = tier_status(r, c, None, DAY)
    assert s.reached_value == 0 and s.tier is None and s.gap == 40_000


def test_pricing_tiers_lists_the_rules_that_concern_the_client() -> None:
    rules = [
        rule(Basis.PREVIOUS_CLOSED, code="B"),
        rule(Basis.TO_DATE, code="A"),
        rule(Basis.TO_DATE, code="DRAFT", status=RuleStatus.DRAFT),
        rule(Basis.TO_DATE, code="ENDED", validity=Validity(None, dt.date(2026, 12, 31))),
        Rule(code="OTHER", name="o", scope=Scope(ScopeKind.ALL),
             audience=Audience(AudienceKind.CLIENT, "c-2"), effect=None,
             conditions=(TurnoverReached(Window.QUARTER, TIERS),)),
        Rule(code="MINE", name="m", scope=Scope(ScopeKind.ALL),
             audience=Audience(AudienceKind.CLIENT_GROUP, "g-1"), effect=percent_off(1)),
    ]
    found = pricing_tiers("c-1", {"g-1"}, HISTORY, rules, DAY)
    assert [s.rule_code for s in found] == ["A", "B"]
