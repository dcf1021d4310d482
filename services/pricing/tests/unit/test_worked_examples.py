"""The worked examples of docs/pricing.md, number for number."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from crm_pricing.domain.conditions import tier_status
from crm_pricing.domain.effect import percent_off
from crm_pricing.domain.resolution import (
    Client,
    Contract,
    ContractDiscount,
    Product,
    Quote,
    QuoteLine,
    Settings,
    StepKind,
    resolve_quote,
)
from crm_pricing.domain.rule import (
    Audience,
    AudienceKind,
    OrderReached,
    PaymentTermWithin,
    Rule,
    Scope,
    ScopeKind,
    Stacking,
    TurnoverReached,
)
from crm_pricing.domain.tiers import Tier
from crm_pricing.domain.turnover import Figures, Metric, Month, Turnover, Window

D = Decimal
NAMES = Settings(names={"BEV": "Beverages", "g-horeca": "HoReCa"})
BEER = Product("BEER-05", "BEV")
WATER = Product("WATER-15", "BEV")
CLIENT = "c-lipa"
BEVERAGES = Scope(ScopeKind.PRODUCT_GROUP, "BEV")
EVERYONE = Audience(AudienceKind.ALL)
HORECA = Audience(AudienceKind.CLIENT_GROUP, "g-horeca")

BEV_Q = Rule(code="BEV-Q", name="Beverages quarterly", scope=BEVERAGES, audience=EVERYONE,
             effect=None, priority=10, conditions=(TurnoverReached(
                 Window.QUARTER, (Tier(D(40_000), percent_off(5)),
                                  Tier(D(60_000), percent_off(7))), product_group="BEV"),))
EARLY = Rule(code="EARLY-PAY", name="Early payment", scope=Scope(ScopeKind.ALL),
             audience=EVERYONE, effect=percent_off(2), stacking=Stacking.CUMULATIVE,
             conditions=(PaymentTermWithin(10),))


def bev_months(values: dict[str, int], as_of: dt.date) -> Turnover:
    return Turnover(as_of, tuple(
        Month(dt.date.fromisoformat(k + "-01"), Figures(invoiced_net=D(v)),
              {"BEV": Figures(invoiced_net=D(v))}) for k, v in values.items()))


def test_example_1_a_turnover_tier_and_an_early_payment_discount() -> None:
    day = dt.date(2026, 12, 1)
    client = Client(CLIENT, frozenset({"g-horeca"}), bev_months(
        {"2026-07": 12_000, "2026-08": 14_000, "2026-09": 15_000}, day))
    quote = Quote(day, (QuoteLine(BEER, D(24), D("1.20")),), payment_term_days=7)
    (line,) = resolve_quote(quote, client, [BEV_Q, EARLY], NAMES).lines
    assert [(s.kind, s.rule_code, s.after) for s in line.steps] == [
        (StepKind.BASE_PRICE, None, D("1.20")),
        (StepKind.EXCLUSIVE, "BEV-Q", D("1.14")),
        (StepKind.CUMULATIVE, "EARLY-PAY", D("1.1172")),
        (StepKind.ROUNDING, None, D("1.12")),
    ]
    assert line.steps[2].message == "Early payment: 2 % (payment term 7 days ≤ 10 days)"
    assert line.steps[1].message == ("Beverages quarterly: 5 % (quarterly turnover in "
                                     "Beverages €41,000 ≥ €40,000 (previous quarter))")
    assert (line.unit_price, line.discount, line.line_total) == (D("1.12"), D("0.08"),
                                                                 D("26.88"))


def test_example_2_a_contract_discount_against_a_group_rule() -> None:
    day = dt.date(2026, 12, 1)
    group_rule = Rule(code="HORECA-10", name="HoReCa drinks", scope=BEVERAGES, audience=HORECA,
                      effect=percent_off(10), priority=100)
    contract = Contract("2026-017", "active", dt.date(2026, 1, 1), dt.date(2026, 12, 31),
                        (ContractDiscount(D(8), product_group_code="BEV"),))
    quote = Quote(day, (QuoteLine(BEER, D(24), D("1.20")),))

    client = Client(CLIENT, frozenset({"g-horeca"}), contracts=(contract,))
    (line,) = resolve_quote(quote, client, [group_rule], NAMES).lines
    assert line.applied[0].rule_code == "contract:2026-017:BEV"
    assert line.unit_price == D("1.10")  # 1.104
    assert [n.message for n in line.not_applied] == [
        "contract 2026-017 won: priority 1001 > 100"]

    expired = Contract("2026-017", "expired", dt.date(2026, 1, 1), dt.date(2026, 11, 30),
                       contract.discounts)
    client = Client(CLIENT, frozenset({"g-horeca"}), contracts=(expired,))
    (line,) = resolve_quote(quote, client, [group_rule], NAMES).lines
    assert (line.applied[0].rule_code, line.unit_price) == ("HORECA-10", D("1.08"))
    assert [n.message for n in line.not_applied] == [
        "contract 2026-017 not in force on 2026-12-01 (expired, 2026-01-01 – 2026-11-30)"]


def test_example_3_ten_cases_of_any_beverage() -> None:
    day = dt.date(2026, 12, 1)
    ten = Rule(code="TEN-CASES", name="10 cases of beverages", scope=BEVERAGES,
               audience=EVERYONE, effect=percent_off(4),
               conditions=(OrderReached(Metric.QUANTITY, (Tier(D(10)),)),))
    quote = Quote(day, (QuoteLine(BEER, D(6), D("14.99")), QuoteLine(WATER, D(4), D("4.35"))))
    result = resolve_quote(quote, Client(CLIENT), [ten], NAMES)
    beer, water = result.lines
    assert beer.steps[1].message == ("10 cases of beverages: 4 % (order quantity of "
                                     "Beverages 10 ≥ 10 (pooled over 2 lines))")
    assert (beer.steps[1].after, beer.unit_price, beer.line_total) == \
        (D("14.3904"), D("14.39"), D("86.34"))
    assert (water.steps[1].after, water.unit_price, water.line_total) == \
        (D("4.1760"), D("4.18"), D("16.72"))
    assert (result.base_total, result.total, result.discount_total) == \
        (D("107.34"), D("103.06"), D("4.28"))


def test_example_4_the_next_tier() -> None:
    day = dt.date(2027, 2, 15)
    turnover = bev_months({"2026-10": 12_000, "2026-11": 12_000, "2026-12": 14_200,
                           "2027-01": 30_000, "2027-02": 28_200}, day)
    client = Client(CLIENT, turnover=turnover)
    quote = Quote(day, (QuoteLine(BEER, D(24), D("1.20")),))
    result = resolve_quote(quote, client, [BEV_Q], NAMES)
    (line,) = result.lines
    assert line.unit_price == D("1.20")
    assert [n.message for n in line.not_applied] == [
        "quarterly turnover in Beverages €38,200 < €40,000 (previous quarter)"]
    assert [h.message for h in result.hints] == [
        "€1,800 more in Beverages by 31 March 2027 → 7 % from 1 April 2027"]
    (condition,) = BEV_Q.conditions
    assert isinstance(condition, TurnoverReached)
    status = tier_status(BEV_Q, condition, turnover, day)
    assert (status.reached_value, status.tier, status.progress_value) == \
        (D(38_200), None, D(58_200))
    assert (status.next_threshold, status.gap, status.deadline) == \
        (D(60_000), D(1_800), dt.date(2027, 3, 31))
