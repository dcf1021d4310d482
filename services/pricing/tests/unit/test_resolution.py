"""The resolution order (DESIGN §11) as a table of cases: one quote line, the rules, the client,
and the unit price, the winner and the reasons that come out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pytest

from crm_pricing.domain.effect import amount_off, fixed_price, percent_off
from crm_pricing.domain.resolution import (
    Client,
    Contract,
    ContractDiscount,
    Product,
    Quote,
    QuoteLine,
    Settings,
    StepKind,
    resolve_line,
    resolve_quote,
)
from crm_pricing.domain.rule import (
    Audience,
    AudienceKind,
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
)
from crm_pricing.domain.tiers import Tier
from crm_pricing.domain.turnover import (
    Basis,
    Figures,
    Metric,
    Month,
    PaymentBehaviour,
    Turnover,
    Window,
)

D = Decimal
DAY = dt.date(2026, 12, 1)
CLIENT_ID = "c-1"
HORECA = "g-horeca"
BEER = Product("BEER-05", "BEV")
WATER = Product("WATER-15", "BEV")
CHIPS = Product("CHIPS-100", "SNACK")

ALL_PRODUCTS = Scope(ScopeKind.ALL)
BEV = Scope(ScopeKind.PRODUCT_GROUP, "BEV")
BEER_ONLY = Scope(ScopeKind.PRODUCT, "BEER-05")
EVERYONE = Audience(AudienceKind.ALL)
THE_GROUP = Audience(AudienceKind.CLIENT_GROUP, HORECA)
THE_CLIENT = Audience(AudienceKind.CLIENT, CLIENT_ID)


def rule(code: str, effect: Any = None, *, scope: Scope = ALL_PRODUCTS,
         audience: Audience = EVERYONE, priority: int = 0, cumulative: bool = False,
         **kw: Any) -> Rule:
    return Rule(code=code, name=kw.pop("name", code), scope=scope, audience=audience,
                effect=effect, priority=priority,
                stacking=Stacking.CUMULATIVE if cumulative else Stacking.EXCLUSIVE, **kw)


def months(day: dt.date, values: dict[str, int | str], *, group: str | None = None,
           currency: str = "EUR") -> tuple[Month, ...]:
    """Monthly figures from {"2026-07": net, …}; ``group`` puts them in that product group."""
    out = []
    for ym, net in values.items():
        figures = Figures(invoiced_net=D(net), invoiced_quantity=D(net) / 10)
        out.append(Month(dt.date.fromisoformat(ym + "-01"),
                         Figures() if group else figures,
                         {group: figures} if group else {}, currency))
    return tuple(out)


def turnover(values: dict[str, int | str], **kw: Any) -> Turnover:
    payments = kw.pop("payments", None)
    return Turnover(as_of=DAY, months=months(DAY, values, **kw), payments=payments)


@dataclass
class Case:
    rules: list[Rule]
    price: str
    winner: str | None = None
    base: str = "10.00"
    product: Product = BEER
    quantity: str = "1"
    client: Client = field(default_factory=lambda: Client(CLIENT_ID, frozenset({HORECA})))
    day: dt.date = DAY
    lines: tuple[QuoteLine, ...] = ()
    term: int | None = None
    settings: Settings = field(default_factory=Settings)
    #: rule code → reason code of the rules listed as not applied
    refused: dict[str, str] = field(default_factory=dict)
    #: rule codes of the cumulative steps, in order
    stacked: tuple[str, ...] = ()


def price(case: Case) -> Any:
    line = QuoteLine(case.product, D(case.quantity), D(case.base))
    quote = Quote(case.day, case.lines or (line,), case.term)
    return resolve_line(line, quote, case.client, case.rules, case.settings)


Q3 = {"2026-07": 10_000, "2026-08": 10_000}  # used with a third month below
TIERS = (Tier(D(40_000), percent_off(5)), Tier(D(60_000), percent_off(7)))


def q3(total: int | str) -> Client:
    """A client whose previous quarter (Jul–Sep 2026, for a quote on 1 Dec) totals ``total``."""
    rest = D(total) - 20_000
    return Client(CLIENT_ID, frozenset({HORECA}),
                  turnover({**Q3, "2026-09": str(rest), "2026-10": 99_999}))


TURNOVER_RULE = rule("TURN-Q", scope=BEV, conditions=(TurnoverReached(Window.QUARTER, TIERS),))


def contract(status: str = "active", valid_from: dt.date = dt.date(2026, 1, 1),
             valid_until: dt.date | None = dt.date(2026, 12, 31),
             *discounts: ContractDiscount) -> Contract:
    return Contract("2026-017", status, valid_from, valid_until,
                    discounts or (ContractDiscount(D(8), product_group_code="BEV"),))


def with_contract(c: Contract) -> Client:
    return Client(CLIENT_ID, frozenset({HORECA}), contracts=(c,))


CASES: dict[str, Case] = {
    # ------------------------------------------------------------------ nothing to apply
    "no rules: the base price": Case([], "10.00"),
    "out of scope: not listed": Case([rule("SNACKS", percent_off(10), scope=Scope(
        ScopeKind.PRODUCT_GROUP, "SNACK"))], "10.00"),
    "another client's rule: not listed": Case([rule("OTHER", percent_off(10), audience=Audience(
        AudienceKind.CLIENT, "c-2"))], "10.00"),
    "draft and retired rules: listed, not applied": Case(
        [rule("DRAFT", percent_off(10), status=RuleStatus.DRAFT),
         rule("OLD", percent_off(10), status=RuleStatus.RETIRED)], "10.00",
        refused={"DRAFT": "NOT_ACTIVE", "OLD": "NOT_ACTIVE"}),
    # ------------------------------------------------------------------ priority
    "higher priority wins over a lower price": Case(
        [rule("HIGH", percent_off(5), priority=10), rule("LOW", percent_off(20), priority=5)],
        "9.50", "HIGH", refused={"LOW": "LOWER_PRIORITY"}),
    # ------------------------------------------------------------------ specificity
    "equal priority: client beats client group": Case(
        [rule("MINE", percent_off(5), audience=THE_CLIENT),
         rule("GROUP", percent_off(15), audience=THE_GROUP)],
        "9.50", "MINE", refused={"GROUP": "LESS_SPECIFIC_AUDIENCE"}),
    "equal priority: client group beats all": Case(
        [rule("GROUP", percent_off(5), audience=THE_GROUP), rule("ALL", percent_off(15))],
        "9.50", "GROUP", refused={"ALL": "LESS_SPECIFIC_AUDIENCE"}),
    "equal priority and audience: product beats product group": Case(
        [rule("PRODUCT", percent_off(5), scope=BEER_ONLY), rule("GROUP", percent_off(15),
                                                                  scope=BEV)],
        "9.50", "PRODUCT", refused={"GROUP": "LESS_SPECIFIC_SCOPE"}),
    "equal priority and audience: product group beats all products": Case(
        [rule("BEV", percent_off(5), scope=BEV), rule("ANY", percent_off(15))],
        "9.50", "BEV", refused={"ANY": "LESS_SPECIFIC_SCOPE"}),
    "audience before scope: client on all products beats everyone on the product": Case(
        [rule("CLIENT-ALL", percent_off(5), audience=THE_CLIENT),
         rule("ALL-BEER", percent_off(15), scope=BEER_ONLY)],
        "9.50", "CLIENT-ALL", refused={"ALL-BEER": "LESS_SPECIFIC_AUDIENCE"}),
    "still equal: the lower price wins": Case(
        [rule("A", percent_off(5)), rule("B", fixed_price("8.99"))],
        "8.99", "B", refused={"A": "HIGHER_PRICE"}),
    "still equal at the same price: the lower code": Case(
        [rule("Z", percent_off(10)), rule("A", amount_off(1))],
        "9.00", "A", refused={"Z": "TIE"}),
    # ------------------------------------------------------------------ exclusive vs cumulative
    "a cumulative rule applies on the exclusive winner's price": Case(
        [rule("EXCL", percent_off(10)), rule("CUM", percent_off(5), cumulative=True)],
        "8.55", "EXCL", stacked=("CUM",)),
    "cumulative rules alone apply on the base price": Case(
        [rule("CUM", percent_off(5), cumulative=True)], "9.50", None, stacked=("CUM",)),
    "cumulative in priority order: €1 off first, then 10 %": Case(
        [rule("OFF", amount_off(1), priority=2, cumulative=True),
         rule("PCT", percent_off(10), priority=1, cumulative=True)],
        "8.10", None, stacked=("OFF", "PCT")),
    "cumulative in priority order: 10 % first, then €1 off": Case(
        [rule("OFF", amount_off(1), priority=1, cumulative=True),
         rule("PCT", percent_off(10), priority=2, cumulative=True)],
        "8.00", None, stacked=("PCT", "OFF")),
    "a cumulative rule of low priority still applies after a high exclusive": Case(
        [rule("EXCL", fixed_price(9), priority=50),
         rule("CUM", percent_off(10), priority=-5, cumulative=True)],
        "8.10", "EXCL", stacked=("CUM",)),
    # ------------------------------------------------------------------ tiers
    **{f"turnover {total}: {'no tier' if price == '10.00' else price}": Case(
        [TURNOVER_RULE], price, None if price == "10.00" else "TURN-Q", client=q3(total),
        refused={"TURN-Q": "TURNOVER_BELOW_THRESHOLD"} if price == "10.00" else {})
       for total, price in [("39999.99", "10.00"), ("40000", "9.50"), ("40000.01", "9.50"),
                            ("59999.99", "9.50"), ("60000", "9.30"), ("60000.01", "9.30"),
                            ("250000", "9.30")]},
    "period to date: this quarter's €99,999 so far reaches the top tier": Case(
        [rule("TURN-QTD", scope=BEV, conditions=(
            TurnoverReached(Window.QUARTER, TIERS, basis=Basis.TO_DATE),))], "9.30", "TURN-QTD",
        client=q3(10_000)),
    "no turnover figures yet": Case([TURNOVER_RULE], "10.00",
                                    refused={"TURN-Q": "NO_TURNOVER_FIGURES"}),
    **{f"order pooled over the group: {q} + 4 → {p}": Case(
        [rule("TEN-BEV", scope=BEV, conditions=(OrderReached(Metric.QUANTITY, (
            Tier(D(10), percent_off(5)), Tier(D(20), percent_off(10)))),))],
        p, None if p == "10.00" else "TEN-BEV", quantity=str(q),
        lines=(QuoteLine(BEER, D(q), D(10)), QuoteLine(WATER, D(4), D("0.80")),
               QuoteLine(CHIPS, D(50), D(2))),
        refused={"TEN-BEV": "ORDER_BELOW_THRESHOLD"} if p == "10.00" else {})
       for q, p in [(5, "10.00"), (6, "9.50"), (15, "9.50"), (16, "9.00")]},
    "order amount at base price: €100 of beverages → €5 off": Case(
        [rule("AMT", scope=BEV, conditions=(OrderReached(Metric.NET_AMOUNT, (
            Tier(D(100), amount_off(5)),)),))], "5.00", "AMT", quantity="10",
        lines=(QuoteLine(BEER, D(10), D(10)), QuoteLine(CHIPS, D(100), D(9)))),
    "order amount €99.99 of beverages: short of €100": Case(
        [rule("AMT", scope=BEV, conditions=(OrderReached(Metric.NET_AMOUNT, (
            Tier(D(100), amount_off(5)),)),))], "10.00", None, base="9.999", quantity="10",
        refused={"AMT": "ORDER_BELOW_THRESHOLD"}),
    "rolling 12 months, previous closed: Dec 2025 – Nov 2026": Case(
        [rule("R12", conditions=(TurnoverReached(Window.ROLLING_12_MONTHS, (
            Tier(D(100_000), percent_off(3)),)),))], "9.70", "R12",
        client=Client(CLIENT_ID, turnover=turnover(
            {"2025-12": 50_000, "2026-11": 50_000, "2026-12": 1}))),
    "rolling 12 months, previous closed: Nov 2025 is outside": Case(
        [rule("R12", conditions=(TurnoverReached(Window.ROLLING_12_MONTHS, (
            Tier(D(100_000), percent_off(3)),)),))], "10.00",
        client=Client(CLIENT_ID, turnover=turnover(
            {"2025-11": 50_000, "2026-11": 50_000, "2026-12": 1})),
        refused={"R12": "TURNOVER_BELOW_THRESHOLD"}),
    "half-year to date, quantity bought": Case(
        [rule("H2", conditions=(TurnoverReached(Window.HALF_YEAR, (
            Tier(D(500), percent_off(2)),), Basis.TO_DATE, Metric.QUANTITY),))], "9.80", "H2",
        client=Client(CLIENT_ID, turnover=turnover({"2026-07": 2500, "2026-12": 2500}))),
    "no payment history yet": Case(
        [rule("PAYER", percent_off(3), conditions=(PaymentBehaviourHeld(None, D(5)),))],
        "10.00", refused={"PAYER": "NO_PAYMENT_HISTORY"}),
    "every failing condition is given, the first one's code": Case(
        [rule("BOTH", percent_off(3), conditions=(PaymentTermWithin(10),
                                                  InClientGroup("g-retail")))],
        "10.00", term=30, refused={"BOTH": "PAYMENT_TERM_TOO_LONG"}),
    # ------------------------------------------------------------------ validity edges
    "valid from the quote's day": Case(
        [rule("R", percent_off(10), validity=Validity(DAY, None))], "9.00", "R"),
    "valid until the quote's day": Case(
        [rule("R", percent_off(10), validity=Validity(None, DAY))], "9.00", "R"),
    "first and last day the same: the quote's day": Case(
        [rule("R", percent_off(10), validity=Validity(DAY, DAY))], "9.00", "R"),
    "ended the day before": Case(
        [rule("R", percent_off(10), validity=Validity(None, DAY - dt.timedelta(days=1)))],
        "10.00", refused={"R": "OUT_OF_VALIDITY"}),
    "starts the day after": Case(
        [rule("R", percent_off(10), validity=Validity(DAY + dt.timedelta(days=1), None))],
        "10.00", refused={"R": "OUT_OF_VALIDITY"}),
    "open-ended both ways": Case([rule("R", percent_off(10), validity=Validity())], "9.00", "R"),
    # ------------------------------------------------------------------ contracts
    "contract discount beats a higher-priority group rule (default priority)": Case(
        [rule("HORECA", percent_off(10), audience=THE_GROUP, priority=1000)], "9.20",
        "contract:2026-017:BEV", client=with_contract(contract()),
        refused={"HORECA": "LOWER_PRIORITY"}),
    "contract discount with a configured low priority loses to the group rule": Case(
        [rule("HORECA", percent_off(10), audience=THE_GROUP, priority=100)], "9.00", "HORECA",
        client=with_contract(contract()), settings=Settings(contract_priority=0),
        refused={"contract:2026-017:BEV": "LOWER_PRIORITY"}),
    "contract at equal priority: the client's own beats the group's": Case(
        [rule("HORECA", percent_off(10), audience=THE_GROUP, priority=0)], "9.20",
        "contract:2026-017:BEV", client=with_contract(contract()),
        settings=Settings(contract_priority=0), refused={"HORECA": "LESS_SPECIFIC_AUDIENCE"}),
    "contract on its last day": Case(
        [], "9.20", "contract:2026-017:BEV",
        client=with_contract(contract("active", dt.date(2026, 1, 1), DAY))),
    "contract expired the day before": Case(
        [rule("HORECA", percent_off(10), audience=THE_GROUP)], "9.00", "HORECA",
        client=with_contract(contract("active", dt.date(2026, 1, 1), DAY - dt.timedelta(1))),
        refused={"contract:2026-017:BEV": "CONTRACT_NOT_IN_FORCE"}),
    "suspended contract": Case(
        [], "10.00", client=with_contract(contract("suspended")),
        refused={"contract:2026-017:BEV": "CONTRACT_NOT_IN_FORCE"}),
    "open-ended contract": Case(
        [], "9.20", "contract:2026-017:BEV",
        client=with_contract(contract("active", dt.date(2026, 1, 1), None))),
    "contract: the product's discount beats the group's": Case(
        [], "8.80", "contract:2026-017:BEER-05", client=with_contract(contract(
            "active", dt.date(2026, 1, 1), None,
            ContractDiscount(D(8), product_group_code="BEV"),
            ContractDiscount(D(12), product_code="BEER-05"))),
        refused={"contract:2026-017:BEV": "LESS_SPECIFIC_SCOPE"}),
    "contract discount outside its own validity": Case(
        [], "10.00", client=with_contract(contract(
            "active", dt.date(2026, 1, 1), None,
            ContractDiscount(D(8), product_group_code="BEV", valid_until=dt.date(2026, 6, 30)))),
        refused={"contract:2026-017:BEV": "OUT_OF_VALIDITY"}),
    # ------------------------------------------------------------------ other conditions
    "payment term within 10 days": Case(
        [rule("EARLY", percent_off(2), conditions=(PaymentTermWithin(10),))], "9.80", "EARLY",
        term=7),
    "payment term too long": Case(
        [rule("EARLY", percent_off(2), conditions=(PaymentTermWithin(10),))], "10.00", term=30,
        refused={"EARLY": "PAYMENT_TERM_TOO_LONG"}),
    "good payer": Case(
        [rule("PAYER", percent_off(3), conditions=(PaymentBehaviourHeld(D("0.9"), D(5)),))],
        "9.70", "PAYER", client=Client(CLIENT_ID, turnover=turnover(
            {}, payments=PaymentBehaviour(20, 19, D(2))))),
    "late payer": Case(
        [rule("PAYER", percent_off(3), conditions=(PaymentBehaviourHeld(D("0.9"), D(5)),))],
        "10.00", client=Client(CLIENT_ID, turnover=turnover(
            {}, payments=PaymentBehaviour(20, 15, D(12)))),
        refused={"PAYER": "PAYMENT_BEHAVIOUR_NOT_MET"}),
    "member of the client group": Case(
        [rule("HG", percent_off(4), conditions=(InClientGroup(HORECA),))], "9.60", "HG"),
    "not a member of the client group": Case(
        [rule("HG", percent_off(4), conditions=(InClientGroup("g-retail"),))], "10.00",
        refused={"HG": "NOT_IN_CLIENT_GROUP"}),
    "bought snacks for at least €1,000 last quarter": Case(
        [rule("CROSS", percent_off(3), scope=BEV, conditions=(
            GroupPurchased("SNACK", D(1000), Window.QUARTER),))], "9.70", "CROSS",
        client=Client(CLIENT_ID, turnover=turnover({"2026-08": 1000}, group="SNACK"))),
    "bought snacks for less than €1,000 last quarter": Case(
        [rule("CROSS", percent_off(3), scope=BEV, conditions=(
            GroupPurchased("SNACK", D(1000), Window.QUARTER),))], "10.00",
        client=Client(CLIENT_ID, turnover=turnover({"2026-08": "999.99"}, group="SNACK")),
        refused={"CROSS": "GROUP_PURCHASES_BELOW_MINIMUM"}),
    # ------------------------------------------------------------------ money
    "half-up: €0.125 → €0.13": Case([rule("HALF", percent_off(50))], "0.13", "HALF",
                                    base="0.25"),
    "rounded once: 0.99 × 0.85³ = 0.6080 → €0.61 (stepwise would give €0.60)": Case(
        [rule(c, percent_off(15), cumulative=True) for c in ("C1", "C2", "C3")], "0.61",
        base="0.99", stacked=("C1", "C2", "C3")),
    "never below zero: €5 off €3": Case([rule("OFF", amount_off(5))], "0.00", "OFF",
                                        base="3.00"),
    "never below zero: cumulative amounts after a fixed price": Case(
        [rule("FIX", fixed_price("0.50")), rule("OFF", amount_off(1), cumulative=True)],
        "0.00", "FIX", stacked=("OFF",)),
    "100 % off": Case([rule("FREE", percent_off(100))], "0.00", "FREE"),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_resolution(case: Case) -> None:
    result = price(case)
    assert result.unit_price == D(case.price)
    exclusive = [s.rule_code for s in result.steps if s.kind is StepKind.EXCLUSIVE]
    assert exclusive == ([case.winner] if case.winner else [])
    assert tuple(s.rule_code for s in result.steps if s.kind is StepKind.CUMULATIVE) \
        == case.stacked
    assert {n.rule_code: n.reason_code for n in result.not_applied} == case.refused
    assert result.steps[0].kind is StepKind.BASE_PRICE
    assert result.discount == D(case.base) - result.unit_price
    assert result.line_total == result.unit_price * D(case.quantity)


def test_the_explanation_in_words() -> None:
    result = price(Case([TURNOVER_RULE], "10.00", client=q3(38_200)))
    (refused,) = result.not_applied
    assert refused.message == "quarterly turnover €38,200 < €40,000 (previous quarter)"
    result = price(Case([TURNOVER_RULE], "9.50", client=q3(41_000)))
    step = result.applied[0]
    assert (step.before, step.after, step.rule_version) == (D(10), D("9.5"), 1)
    assert step.message == ("TURN-Q: 5 % (quarterly turnover €41,000 ≥ €40,000 "
                            "(previous quarter))")


def test_a_contract_not_in_force_says_so() -> None:
    result = price(Case([], "10.00", client=with_contract(contract("expired"))))
    (refused,) = result.not_applied
    assert refused.message.startswith("contract 2026-017 not in force on 2026-12-01")


def test_the_rounding_step_is_the_last_and_the_only_one() -> None:
    result = price(CASES["rounded once: 0.99 × 0.85³ = 0.6080 → €0.61 (stepwise would give "
                         "€0.60)"])
    kinds = [s.kind for s in result.steps]
    assert kinds == [StepKind.BASE_PRICE, *[StepKind.CUMULATIVE] * 3, StepKind.ROUNDING]
    assert result.steps[-1].before == D("0.60798375")
    assert result.steps[-1].message == "€0.608 rounded half-up to the cent: €0.61"


def test_fractional_quantity_line_total_is_rounded_to_the_cent() -> None:
    result = price(replace(CASES["no rules: the base price"], base="3.33", quantity="1.5"))
    assert result.line_total == D("5.00")  # 4.995 half-up


def test_bgn_history_converts_at_the_fixed_rate() -> None:
    """Q4 2025 was invoiced in BGN; a quote on 15 January 2026 reads it in EUR."""
    day = dt.date(2026, 1, 15)

    def client(total_bgn: int) -> Client:
        third = total_bgn // 3
        values = {"2025-10": third, "2025-11": third, "2025-12": total_bgn - 2 * third}
        return Client(CLIENT_ID, turnover=Turnover(day, months(day, values, currency="BGN")))

    below = price(Case([TURNOVER_RULE], "10.00", client=client(78_000), day=day))
    assert below.not_applied[0].message == \
        "quarterly turnover €39,880.77 < €40,000 (previous quarter)"
    above = price(Case([TURNOVER_RULE], "9.50", client=client(78_240), day=day))
    assert above.unit_price == D("9.50")


def test_next_tier_hint_for_a_group_turnover_rule() -> None:
    """Previous quarter €38,200 in Beverages; this quarter so far €58,200: €1,800 more by the
    end of March earns 7 % from April."""
    day = dt.date(2027, 2, 15)
    bev_rule = rule("BEV-Q", scope=BEV, conditions=(
        TurnoverReached(Window.QUARTER, TIERS, product_group="BEV"),))
    client = Client(CLIENT_ID, turnover=Turnover(day, months(day, {
        "2026-10": 12_000, "2026-11": 12_000, "2026-12": 14_200,
        "2027-01": 30_000, "2027-02": 28_200}, group="BEV")))
    result = resolve_quote(Quote(day, (QuoteLine(BEER, D(10), D(10)),
                                       QuoteLine(WATER, D(10), D(1)))),
                           client, [bev_rule], Settings(names={"BEV": "Beverages"}))
    assert result.lines[0].not_applied[0].message == \
        "quarterly turnover in Beverages €38,200 < €40,000 (previous quarter)"
    (hint,) = result.hints  # the same hint on both lines, given once
    assert hint.message == "€1,800 more in Beverages by 31 March 2027 → 7 % from 1 April 2027"
    assert (hint.gap, hint.deadline) == (D(1800), dt.date(2027, 3, 31))


def test_next_tier_hint_for_a_pooled_order() -> None:
    ten = rule("TEN-BEV", scope=BEV, conditions=(OrderReached(Metric.QUANTITY, (
        Tier(D(10), percent_off(5)),)),))
    quote = Quote(DAY, (QuoteLine(BEER, D(6), D(10)), QuoteLine(WATER, D(2), D(1))))
    result = resolve_quote(quote, Client(CLIENT_ID), [ten], Settings(names={"BEV": "Beverages"}))
    assert [h.message for h in result.hints] == ["2 units more of Beverages in this order → 5 %"]
    assert result.lines[0].not_applied[0].message == \
        "order quantity of Beverages 8 < 10 (pooled over 2 lines)"


def test_quote_totals() -> None:
    quote = Quote(DAY, (QuoteLine(BEER, D(12), D("1.99")), QuoteLine(CHIPS, D(3), D("2.49"))))
    result = resolve_quote(quote, Client(CLIENT_ID),
                           [rule("BEV10", percent_off(10), scope=BEV)])
    assert [lp.unit_price for lp in result.lines] == [D("1.79"), D("2.49")]
    assert (result.base_total, result.total, result.discount_total) == \
        (D("31.35"), D("28.95"), D("2.40"))


def test_reasons_in_words() -> None:
    result = price(CASES["every failing condition is given, the first one's code"])
    assert result.not_applied[0].message == \
        "payment term 30 days > 10 days; client is not in group g-retail"
    result = price(CASES["draft and retired rules: listed, not applied"])
    assert [n.message for n in result.not_applied] == ["rule DRAFT is draft",
                                                       "rule OLD is retired"]
    result = price(CASES["ended the day before"])
    assert result.not_applied[0].message == "rule R valid until 2026-11-30, not on 2026-12-01"
    result = price(CASES["late payer"])
    assert result.not_applied[0].message == \
        "paid within term 75 % < 90 %, average days late 12 > 5 (last 12 months)"


def test_no_hint_for_a_rule_that_would_lose_anyway() -> None:
    """The contract (priority 1001) wins whatever tier BEV-Q reaches: no hint for BEV-Q; a
    cumulative tiered rule keeps its hint."""
    tiered_cum = rule("CUM-ORDER", scope=BEV, cumulative=True, conditions=(OrderReached(
        Metric.QUANTITY, (Tier(D(10), percent_off(1)),)),))
    alone = Client(CLIENT_ID, turnover=turnover({"2026-08": 38_200, "2026-10": 20_000}))
    client = replace(alone, contracts=(contract(),))
    result = price(Case([TURNOVER_RULE, tiered_cum], "9.20", client=client))
    assert [h.rule_code for h in result.hints] == ["CUM-ORDER"]
    result = price(Case([TURNOVER_RULE, tiered_cum], "10.00", client=alone))
    assert [h.rule_code for h in result.hints] == ["CUM-ORDER", "TURN-Q"]
