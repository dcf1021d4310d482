"""THE resolution order (DESIGN §11), in one function: ``resolve_line``.

For a quote line, every rule is looked at in turn:

1. a rule whose scope does not cover the product, or whose audience does not cover the client,
   is not a candidate and is not listed (another client's own deal is nobody else's business);
2. a rule that is not active, not valid on the quote's date, or whose conditions do not all hold
   is listed as *not applied*, with the reason;
3. the contract discounts of the client's contracts are candidates of the client's own
   (audience: the client), exclusive, with ``Settings.contract_priority`` (default: above every
   rule); a contract not in force, or a discount outside its own validity, is listed as not
   applied;
4. among the exclusive candidates one wins: the highest priority; at equal priority the more
   specific audience (client > client group > all), then the more specific scope (product >
   product group > all); still equal, the lower price; still equal, the lower rule code (so the
   result never depends on the order rules arrive in). The others are listed with why they lost;
5. then every cumulative candidate applies, in the same order (priority, specificity, code),
   each to the unrounded price the step before left;
6. the unit price is rounded half-up to the cent once, at the end, and never goes below zero;
   the line total is that unit price times the quantity (rounded to the cent only when the
   quantity has decimals).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from crm_pricing.domain.conditions import Hint, Outcome, PricedItem, Situation, evaluate
from crm_pricing.domain.effect import Effect, EffectKind
from crm_pricing.domain.money import ZERO, format_eur, format_number, round_cents
from crm_pricing.domain.rule import (
    MAX_PRIORITY,
    Audience,
    AudienceKind,
    Condition,
    OrderReached,
    Rule,
    RuleStatus,
    Scope,
    ScopeKind,
    Stacking,
    Validity,
)
from crm_pricing.domain.turnover import Metric, Turnover

# --- what goes in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    code: str
    group_code: str | None = None


@dataclass(frozen=True)
class QuoteLine:
    product: Product
    quantity: Decimal
    base_price: Decimal


@dataclass(frozen=True)
class Quote:
    date: dt.date
    lines: tuple[QuoteLine, ...]
    payment_term_days: int | None = None

    @cached_property
    def items(self) -> tuple[PricedItem, ...]:
        """What pooled order conditions read of the lines (made once per quote)."""
        return tuple(PricedItem(q.product.code, q.product.group_code, q.quantity, q.base_price)
                     for q in self.lines)


@dataclass(frozen=True)
class ContractDiscount:
    """A negotiated discount: a product XOR a product group, a percentage, its own validity."""

    percent: Decimal
    product_code: str | None = None
    product_group_code: str | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None


@dataclass(frozen=True)
class Contract:
    number: str
    status: str
    valid_from: dt.date
    valid_until: dt.date | None
    discounts: tuple[ContractDiscount, ...] = ()
    version: int = 1

    def in_force(self, day: dt.date) -> bool:
        """Active (not draft, suspended, terminated or expired) and within its validity."""
        return self.status.lower() == "active" and \
            Validity(self.valid_from, self.valid_until).covers(day)


@dataclass(frozen=True)
class Client:
    id: str
    group_ids: frozenset[str] = frozenset()
    turnover: Turnover | None = None
    contracts: tuple[Contract, ...] = ()


@dataclass(frozen=True)
class Settings:
    #: the priority of contract discounts; None: above every rule (MAX_PRIORITY + 1)
    contract_priority: int | None = None
    #: display names of product groups and client groups, by code or id, for the sentences
    names: Mapping[str, str] = field(default_factory=dict)


# --- what comes out ----------------------------------------------------------------------------


class StepKind(enum.Enum):
    BASE_PRICE = "base_price"
    EXCLUSIVE = "exclusive"
    CUMULATIVE = "cumulative"
    ROUNDING = "rounding"


@dataclass(frozen=True)
class Step:
    """One step the price made; ``before``/``after`` unrounded except the rounding step's
    ``after``."""

    kind: StepKind
    rule_code: str | None
    rule_version: int | None
    before: Decimal
    after: Decimal
    reason_code: str
    message: str


@dataclass(frozen=True)
class NotApplied:
    """A rule considered and not applied, with the first reason's code and every reason."""

    rule_code: str
    rule_version: int
    reason_code: str
    message: str


@dataclass(frozen=True)
class LinePrice:
    line: QuoteLine
    base_price: Decimal
    unit_price: Decimal
    #: per unit: base price − unit price (negative for a fixed price above the base)
    discount: Decimal
    base_total: Decimal
    line_total: Decimal
    steps: tuple[Step, ...]
    not_applied: tuple[NotApplied, ...]
    hints: tuple[Hint, ...]

    @property
    def discount_percent(self) -> Decimal:
        """The discount as a percentage of the base price, to two places (0 for a base price of
        0; negative for a fixed price above the base)."""
        if self.base_price <= ZERO:
            return ZERO
        return ((self.base_price - self.unit_price) * 100 / self.base_price) \
            .quantize(Decimal("0.01"))

    @property
    def applied(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.kind in (StepKind.EXCLUSIVE, StepKind.CUMULATIVE))


@dataclass(frozen=True)
class QuotePrice:
    lines: tuple[LinePrice, ...]
    base_total: Decimal
    total: Decimal
    discount_total: Decimal
    hints: tuple[Hint, ...]


# --- the candidates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    rule: Rule
    effect: Effect
    why: str

    def order_key(self) -> tuple[int, int, int]:
        return (self.rule.priority, self.rule.audience.specificity, self.rule.scope.specificity)


def contract_rules(client: Client, product: Product, day: dt.date,
                   settings: Settings) -> tuple[list[Rule], list[NotApplied]]:
    """The client's contract discounts covering the product, as exclusive rules of the client's
    own; those not in force on ``day`` as not applied."""
    priority = MAX_PRIORITY + 1 if settings.contract_priority is None \
        else settings.contract_priority
    rules: list[Rule] = []
    refused: list[NotApplied] = []
    for contract in client.contracts:
        for d in contract.discounts:
            if d.product_code is not None:
                scope = Scope(ScopeKind.PRODUCT, d.product_code.upper())
            elif d.product_group_code is not None:
                scope = Scope(ScopeKind.PRODUCT_GROUP, d.product_group_code.upper())
            else:
                continue
            if not scope.covers(product.code, product.group_code):
                continue
            code = f"contract:{contract.number}:{scope.code}"
            if not contract.in_force(day):
                term = Validity(contract.valid_from, contract.valid_until).describe()
                refused.append(NotApplied(code, contract.version, "CONTRACT_NOT_IN_FORCE",
                                          f"contract {contract.number} not in force on "
                                          f"{day.isoformat()} ({contract.status.lower()}, "
                                          f"{term})"))
                continue
            validity = Validity(d.valid_from, d.valid_until)
            if not validity.covers(day):
                refused.append(NotApplied(code, contract.version, "OUT_OF_VALIDITY",
                                          f"contract {contract.number}'s discount on "
                                          f"{scope.code} valid {validity.describe()}, not on "
                                          f"{day.isoformat()}"))
                continue
            rules.append(Rule(code=code, name=f"contract {contract.number}", scope=scope,
                              audience=Audience(AudienceKind.CLIENT, client.id),
                              effect=Effect(EffectKind.PERCENT_OFF, d.percent),
                              validity=validity, priority=priority,
                              stacking=Stacking.EXCLUSIVE, status=RuleStatus.ACTIVE,
                              version=contract.version, contract=contract.number))
    return rules, refused


def _label(rule: Rule) -> str:
    """How a sentence names a rule: its code, or ``contract 2026-017``."""
    return rule.name if rule.contract else rule.code


def _why_lost(loser: _Candidate, winner: _Candidate, base: Decimal) -> tuple[str, str]:
    w, lo = winner.rule, loser.rule
    won = f"{_label(w)} won"
    if lo.priority != w.priority:
        return "LOWER_PRIORITY", f"{won}: priority {w.priority} > {lo.priority}"
    if lo.audience.specificity != w.audience.specificity:
        return "LESS_SPECIFIC_AUDIENCE", (
            f"{won}: same priority, its audience ({w.audience.kind.value}) is more "
            f"specific than {lo.audience.kind.value}")
    if lo.scope.specificity != w.scope.specificity:
        return "LESS_SPECIFIC_SCOPE", (
            f"{won}: same priority and audience, its scope ({w.scope.kind.value}) is "
            f"more specific than {lo.scope.kind.value}")
    mine, theirs = loser.effect.apply(base), winner.effect.apply(base)
    if mine != theirs:
        return "HIGHER_PRICE", (f"{won}: same priority and specificity, lower price "
                                f"{format_eur(theirs)} < {format_eur(mine)}")
    return "TIE", f"{won}: same priority, specificity and price; first by code"


def _step_message(rule: Rule, effect: Effect, why: str) -> str:
    reason = f" ({why})" if why else ""
    return f"{rule.name}: {effect.describe()}{reason}"


# --- THE function ------------------------------------------------------------------------------


@dataclass
class Memo:
    """Outcomes of conditions already evaluated, by (rule code, rule version, condition index).

    A condition reads the client, the day and the payment term — the same for every line of a
    quote and every product of a price list page — and, for an order condition, the order's
    lines pooled over the rule's scope, which are the same for every line of one quote
    (``same_order``) but not across the one-unit quotes of a price list. So each is evaluated
    once per quote or page instead of once per line."""

    outcomes: dict[tuple[str, int, int], Outcome] = field(default_factory=dict)
    #: what each rule made of a line, by (rule code, rule version) (``_verdict``)
    verdicts: dict[tuple[str, int], _Verdict] = field(default_factory=dict)
    #: every line priced with this memo belongs to one quote (order conditions are shared too)
    same_order: bool = False
    #: every quote priced with this memo is one line of one unit (a price list): a pooled
    #: order quantity is then 1 whatever the product, and its conditions are shared too
    one_unit: bool = False

    def shares(self, condition: Condition) -> bool:
        """Whether ``condition``'s outcome is the same for every line priced with the memo."""
        if not isinstance(condition, OrderReached):
            return True
        return self.same_order or (self.one_unit and condition.metric is Metric.QUANTITY)


def _outcome(rule: Rule, i: int, condition: Condition, situation: Situation,
             memo: Memo | None) -> Outcome:
    if memo is None or not memo.shares(condition):
        return evaluate(rule, condition, situation)
    key = (rule.code, rule.version, i)
    found = memo.outcomes.get(key)
    if found is None:
        found = memo.outcomes[key] = evaluate(rule, condition, situation)
    return found


@dataclass(frozen=True)
class _Verdict:
    """What one rule makes of a line, before the exclusive winner is chosen: not applied (and
    why), or a candidate; and the hints toward its next tier. It does not depend on the line's
    product once the scope covers it, so a memo keeps it per rule."""

    not_applied: NotApplied | None
    candidate: _Candidate | None
    hints: tuple[Hint, ...] = ()


def _verdict(rule: Rule, quote: Quote, situation: Situation, memo: Memo | None) -> _Verdict:
    keep = memo is not None and all(memo.shares(c) for c in rule.conditions)
    key = (rule.code, rule.version)
    if keep:
        assert memo is not None
        found = memo.verdicts.get(key)
        if found is not None:
            return found
    verdict = _judge(rule, quote, situation, memo)
    if keep:
        assert memo is not None
        memo.verdicts[key] = verdict
    return verdict


def _judge(rule: Rule, quote: Quote, situation: Situation, memo: Memo | None) -> _Verdict:
    if rule.status is not RuleStatus.ACTIVE:
        return _Verdict(NotApplied(rule.code, rule.version, "NOT_ACTIVE",
                                   f"rule {rule.code} is {rule.status.value}"), None)
    if not rule.validity.covers(quote.date):
        return _Verdict(NotApplied(rule.code, rule.version, "OUT_OF_VALIDITY",
                                   f"rule {rule.code} valid {rule.validity.describe()}, "
                                   f"not on {quote.date.isoformat()}"), None)
    outcomes: list[tuple[Condition, Outcome]] = [
        (c, _outcome(rule, i, c, situation, memo)) for i, c in enumerate(rule.conditions)]
    failing = [o for _, o in outcomes if not o.holds]
    hints = tuple(o.hint for c, o in outcomes if o.hint is not None
                  and all(o2.holds for c2, o2 in outcomes if c2 is not c))
    if failing:
        return _Verdict(NotApplied(rule.code, rule.version, failing[0].code,
                                   "; ".join(o.message for o in failing)), None, hints)
    effect = rule.effect
    tiered = rule.tiered
    if tiered is not None:
        tier = next(o.tier for c, o in outcomes if c is tiered)
        effect = tier.effect if tier is not None and tier.effect is not None else effect
    if effect is None:  # parse_rule refuses such a rule; one built by hand may still be
        return _Verdict(NotApplied(rule.code, rule.version, "NO_EFFECT",
                                   f"rule {rule.code} has no effect"), None, hints)
    return _Verdict(None, _Candidate(rule, effect, "; ".join(o.message for _, o in outcomes)),
                    hints)


def resolve_line(line: QuoteLine, quote: Quote, client: Client, rules: Iterable[Rule],
                 settings: Settings = Settings(), memo: Memo | None = None) -> LinePrice:
    """The price of one quote line, with its explanation and the next-tier hints.

    ``memo``: shared by the lines of one quote (or the products of one price-list page, for
    the same client, day and payment term), it keeps the outcome of every condition that does
    not read the order's lines; the result is the same as without it, sooner."""
    product = line.product
    situation = Situation(
        day=quote.date, client_id=client.id, client_groups=client.group_ids,
        turnover=client.turnover, payment_term_days=quote.payment_term_days,
        items=quote.items,
        names=settings.names)
    contract_candidates, not_applied = contract_rules(client, product, quote.date, settings)
    exclusive: list[_Candidate] = []
    cumulative: list[_Candidate] = []
    hints: list[tuple[Rule, Hint]] = []

    for rule in sorted([*rules, *contract_candidates], key=lambda r: r.code):
        if not rule.scope.covers(product.code, product.group_code) \
                or not rule.audience.covers(client.id, client.group_ids):
            continue
        verdict = _verdict(rule, quote, situation, memo)
        hints.extend((rule, h) for h in verdict.hints)
        if verdict.not_applied is not None:
            not_applied.append(verdict.not_applied)
        elif verdict.candidate is not None:
            (exclusive if rule.stacking is Stacking.EXCLUSIVE else cumulative).append(
                verdict.candidate)

    base = line.base_price
    steps = [Step(StepKind.BASE_PRICE, None, None, base, base, "BASE_PRICE",
                  f"base price {format_eur(base)}")]
    price = base
    winner: _Candidate | None = None
    if exclusive:
        # max() keeps the first of equals, and the candidates are sorted by code
        winner = max(exclusive, key=lambda c: (*c.order_key(), -c.effect.apply(base)))
        price = winner.effect.apply(base)
        steps.append(Step(StepKind.EXCLUSIVE, winner.rule.code, winner.rule.version, base, price,
                          "CONTRACT_DISCOUNT" if winner.rule.contract else "EXCLUSIVE_WINNER",
                          _step_message(winner.rule, winner.effect, winner.why)))
        for loser in exclusive:
            if loser is not winner:
                code, message = _why_lost(loser, winner, base)
                not_applied.append(NotApplied(loser.rule.code, loser.rule.version, code,
                                              message))
    for cand in sorted(cumulative, key=lambda c: tuple(-k for k in c.order_key())):
        after = cand.effect.apply(price)
        steps.append(Step(StepKind.CUMULATIVE, cand.rule.code, cand.rule.version, price, after,
                          "CUMULATIVE", _step_message(cand.rule, cand.effect, cand.why)))
        price = after
    unit_price = round_cents(price)
    if unit_price != price:
        steps.append(Step(StepKind.ROUNDING, None, None, price, unit_price, "ROUNDED_HALF_UP",
                          f"{_exact(price)} rounded half-up to the cent: "
                          f"{format_eur(unit_price)}"))
    return LinePrice(
        line=line, base_price=base, unit_price=unit_price, discount=base - unit_price,
        base_total=_total(base, line.quantity), line_total=_total(unit_price, line.quantity),
        steps=tuple(steps), not_applied=tuple(not_applied),
        hints=tuple(h for r, h in hints if winner is None or _could_win(r, winner.rule)))


def _could_win(rule: Rule, winner: Rule) -> bool:
    """Whether a better tier could change anything for ``rule``: a cumulative rule applies
    anyway; an exclusive one must not already lose on priority or specificity."""
    if rule.stacking is Stacking.CUMULATIVE:
        return True
    key = (rule.priority, rule.audience.specificity, rule.scope.specificity)
    return key >= (winner.priority, winner.audience.specificity, winner.scope.specificity)


def _exact(amount: Decimal) -> str:
    return f"€{format_number(amount.quantize(Decimal('0.0001')))}"


def _total(unit_price: Decimal, quantity: Decimal) -> Decimal:
    total = unit_price * quantity
    return total if total == total.quantize(Decimal("0.01")) else round_cents(total)


def resolve_quote(quote: Quote, client: Client, rules: Sequence[Rule],
                  settings: Settings = Settings(), *,
                  select: Callable[[Product], Iterable[Rule]] | None = None) -> QuotePrice:
    """Every line through ``resolve_line``; the totals; the hints once each. ``select``, when
    given, names the rules that may cover a product (an index by scope; ``rules`` is then not
    read): a line looks at those only, with the same result."""
    memo = Memo(same_order=True)
    lines = tuple(resolve_line(line, quote, client,
                               rules if select is None else select(line.product), settings, memo)
                  for line in quote.lines)
    base_total = sum((lp.base_total for lp in lines), ZERO)
    total = sum((lp.line_total for lp in lines), ZERO)
    seen: set[tuple[str, Decimal]] = set()
    hints: list[Hint] = []
    for lp in lines:
        for h in lp.hints:
            if (h.rule_code, h.threshold) not in seen:
                seen.add((h.rule_code, h.threshold))
                hints.append(h)
    return QuotePrice(lines=lines, base_total=base_total, total=total,
                      discount_total=base_total - total, hints=tuple(hints))
