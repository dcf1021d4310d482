"""Whether a rule's conditions hold for a quote line, with the reason in words, the tier reached
and the hint toward the next tier; and the tier status behind ``Client.pricingTier``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from crm_pricing.domain.effect import Effect
from crm_pricing.domain.money import ZERO, format_date, format_eur, format_number, format_percent
from crm_pricing.domain.rule import (
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
    TurnoverReached,
)
from crm_pricing.domain.tiers import Tier, next_above, reached
from crm_pricing.domain.turnover import (
    Basis,
    Metric,
    Period,
    Turnover,
    basis_period,
    deadline,
    next_period_start,
    period_label,
)


@dataclass(frozen=True)
class PricedItem:
    """What pooled order conditions read of each quote line."""

    product_code: str
    group_code: str | None
    quantity: Decimal
    base_price: Decimal


@dataclass(frozen=True)
class Situation:
    """Everything a condition may read: the quote and the client, as plain values."""

    day: dt.date
    client_id: str
    client_groups: frozenset[str] = frozenset()
    turnover: Turnover | None = None
    payment_term_days: int | None = None
    items: tuple[PricedItem, ...] = ()
    #: display names of product groups and client groups, by code or id (for the sentences)
    names: Mapping[str, str] = field(default_factory=dict)

    def name(self, code: str) -> str:
        return self.names.get(code) or self.names.get(code.upper()) or code


@dataclass(frozen=True)
class Hint:
    """How far the client is from the next tier of a rule: ``€1,800 more in Beverages by
    31 March 2027 → 7 %``."""

    rule_code: str
    threshold: Decimal
    gap: Decimal
    metric: Metric
    effect: Effect | None
    #: the last day purchases count (turnover conditions); None for the order's own lines
    deadline: dt.date | None
    #: when reaching it takes effect (previous-closed basis: the next period's first day)
    effective_from: dt.date | None
    message: str


@dataclass(frozen=True)
class Outcome:
    holds: bool
    code: str
    message: str
    tier: Tier | None = None
    hint: Hint | None = None


def _amount(metric: Metric, value: Decimal) -> str:
    return format_eur(value) if metric is Metric.NET_AMOUNT else format_number(value)


def _compare(value: Decimal, threshold: Decimal, metric: Metric) -> str:
    sign = "≥" if value >= threshold else "<"
    return f"{_amount(metric, value)} {sign} {_amount(metric, threshold)}"


def _scope_words(scope: Scope, s: Situation) -> str:
    if scope.kind is ScopeKind.ALL:
        return "all products"
    return s.name(scope.code or "")


def _tier_effect(tier: Tier | None, rule: Rule) -> Effect | None:
    return tier.effect if tier is not None and tier.effect is not None else rule.effect


# --- turnover ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TierStatus:
    """Where a client stands on one turnover condition on ``day`` (``Client.pricingTier``):
    the value reached in the basis period and the tier it earns; the current period's progress,
    the next threshold above it, the gap and the last day to close it."""

    rule_code: str
    condition: TurnoverReached
    basis_period: Period
    reached_value: Decimal
    tier: Tier | None
    tier_number: int | None
    progress_period: Period
    progress_value: Decimal
    next_tier: Tier | None
    next_threshold: Decimal | None
    gap: Decimal | None
    deadline: dt.date | None
    effective_from: dt.date | None


def tier_status(rule: Rule, condition: TurnoverReached, turnover: Turnover | None,
                day: dt.date) -> TierStatus:
    """The tier reached in the basis period, and the next one: for a period-to-date basis the
    next tier above what is reached, to be reached by the end of the current period; for the
    previous closed period, the next tier above the current period's progress so far, reached by
    the end of the current period and applied from the next one."""
    c = condition
    basis = basis_period(c.window, c.basis, day)
    progress_period = basis if c.basis is Basis.TO_DATE \
        else basis_period(c.window, Basis.TO_DATE, day)
    value = ZERO if turnover is None else turnover.value(basis.months, c.metric, c.product_group)
    progress = value if c.basis is Basis.TO_DATE else (
        ZERO if turnover is None
        else turnover.value(progress_period.months, c.metric, c.product_group))
    tier = reached(c.tiers, value)
    upcoming = next_above(c.tiers, progress)
    return TierStatus(
        rule_code=rule.code, condition=c, basis_period=basis, reached_value=value, tier=tier,
        tier_number=None if tier is None else c.tiers.index(tier) + 1,
        progress_period=progress_period, progress_value=progress, next_tier=upcoming,
        next_threshold=None if upcoming is None else upcoming.threshold,
        gap=None if upcoming is None else upcoming.threshold - progress,
        deadline=None if upcoming is None else deadline(c.window, day),
        effective_from=None if upcoming is None or c.basis is Basis.TO_DATE
        else next_period_start(c.window, day))


def _turnover_words(c: TurnoverReached, s: Situation) -> str:
    what = "turnover" if c.metric is Metric.NET_AMOUNT else "quantity bought"
    group = f" in {s.name(c.product_group)}" if c.product_group else ""
    return f"{c.window.adjective} {what}{group}"


def _turnover(rule: Rule, c: TurnoverReached, s: Situation) -> Outcome:
    if s.turnover is None:
        return Outcome(False, "NO_TURNOVER_FIGURES", "no turnover figures for the client yet")
    status = tier_status(rule, c, s.turnover, s.day)
    label = period_label(c.window, c.basis)
    words = _turnover_words(c, s)
    hint = None
    if status.next_tier is not None and status.gap is not None:
        effect = _tier_effect(status.next_tier, rule)
        unit = "" if c.metric is Metric.NET_AMOUNT else " units"
        group = f" in {s.name(c.product_group)}" if c.product_group else ""
        when = f" from {format_date(status.effective_from)}" if status.effective_from else ""
        hint = Hint(rule.code, status.next_tier.threshold, status.gap, c.metric, effect,
                    status.deadline, status.effective_from,
                    f"{_amount(c.metric, status.gap)}{unit} more{group} by "
                    f"{format_date(status.deadline or s.day)} → "
                    f"{effect.describe() if effect else rule.name}{when}")
    sentence = f"{words} {_compare(status.reached_value, c.tiers[0].threshold, c.metric)} " \
               f"({label})"
    if status.tier is None:
        return Outcome(False, "TURNOVER_BELOW_THRESHOLD", sentence, hint=hint)
    sentence = f"{words} {_compare(status.reached_value, status.tier.threshold, c.metric)} " \
               f"({label})"
    return Outcome(True, "TURNOVER_REACHED", sentence, tier=status.tier, hint=hint)


# --- the others --------------------------------------------------------------------------------


def _order(rule: Rule, c: OrderReached, s: Situation) -> Outcome:
    lines = [i for i in s.items if rule.scope.covers(i.product_code, i.group_code)]
    if c.metric is Metric.QUANTITY:
        value = sum((i.quantity for i in lines), ZERO)
        what = "quantity"
    else:
        value = sum((i.quantity * i.base_price for i in lines), ZERO)
        what = "amount"
    of = _scope_words(rule.scope, s)
    pooled = f" (pooled over {len(lines)} lines)" if len(lines) > 1 else ""
    tier = reached(c.tiers, value)
    upcoming = next_above(c.tiers, value)
    hint = None
    if upcoming is not None:
        effect = _tier_effect(upcoming, rule)
        gap = upcoming.threshold - value
        unit = " units" if c.metric is Metric.QUANTITY else ""
        hint = Hint(rule.code, upcoming.threshold, gap, c.metric, effect, None, None,
                    f"{_amount(c.metric, gap)}{unit} more of {of} in this order → "
                    f"{effect.describe() if effect else rule.name}")
    shown = tier.threshold if tier is not None else c.tiers[0].threshold
    sentence = f"order {what} of {of} {_compare(value, shown, c.metric)}{pooled}"
    if tier is None:
        return Outcome(False, "ORDER_BELOW_THRESHOLD", sentence, hint=hint)
    return Outcome(True, "ORDER_REACHED", sentence, tier=tier, hint=hint)


def _group_purchase(c: GroupPurchased, s: Situation) -> Outcome:
    if s.turnover is None:
        return Outcome(False, "NO_TURNOVER_FIGURES", "no turnover figures for the client yet")
    period = basis_period(c.window, c.basis, s.day)
    value = s.turnover.value(period.months, c.metric, c.product_group)
    sentence = f"purchases of {s.name(c.product_group)} " \
               f"{_compare(value, c.minimum, c.metric)} ({period_label(c.window, c.basis)})"
    if value < c.minimum:
        return Outcome(False, "GROUP_PURCHASES_BELOW_MINIMUM", sentence)
    return Outcome(True, "GROUP_PURCHASES_REACHED", sentence)


def _payments(c: PaymentBehaviourHeld, s: Situation) -> Outcome:
    payments = None if s.turnover is None else s.turnover.payments
    if payments is None:
        return Outcome(False, "NO_PAYMENT_HISTORY", "no payment history for the client yet")
    parts: list[str] = []
    ok = True
    if c.min_share_within_term is not None:
        share = payments.share_paid_within_term
        good = share >= c.min_share_within_term
        ok = ok and good
        parts.append(f"paid within term {format_percent((share * 100).quantize(Decimal('0.1')))}"
                     f" {'≥' if good else '<'} {format_percent(c.min_share_within_term * 100)}")
    if c.max_average_days_late is not None:
        late = payments.average_days_late
        good = late <= c.max_average_days_late
        ok = ok and good
        parts.append(f"average days late {format_number(late)} {'≤' if good else '>'} "
                     f"{format_number(c.max_average_days_late)}")
    sentence = ", ".join(parts) + " (last 12 months)"
    return Outcome(ok, "PAYMENT_BEHAVIOUR_MET" if ok else "PAYMENT_BEHAVIOUR_NOT_MET", sentence)


def _payment_term(c: PaymentTermWithin, s: Situation) -> Outcome:
    if s.payment_term_days is None:
        return Outcome(False, "NO_PAYMENT_TERM", "the quote names no payment term")
    good = s.payment_term_days <= c.max_days
    sentence = f"payment term {s.payment_term_days} days {'≤' if good else '>'} " \
               f"{c.max_days} days"
    return Outcome(good, "PAYMENT_TERM_MET" if good else "PAYMENT_TERM_TOO_LONG", sentence)


def _client_group(c: InClientGroup, s: Situation) -> Outcome:
    if c.group_id in s.client_groups:
        return Outcome(True, "IN_CLIENT_GROUP", f"client is in group {s.name(c.group_id)}")
    return Outcome(False, "NOT_IN_CLIENT_GROUP", f"client is not in group {s.name(c.group_id)}")


def evaluate(rule: Rule, condition: Condition, s: Situation) -> Outcome:
    """Whether one condition of ``rule`` holds, and why, in words."""
    if isinstance(condition, TurnoverReached):
        return _turnover(rule, condition, s)
    if isinstance(condition, OrderReached):
        return _order(rule, condition, s)
    if isinstance(condition, GroupPurchased):
        return _group_purchase(condition, s)
    if isinstance(condition, PaymentBehaviourHeld):
        return _payments(condition, s)
    if isinstance(condition, PaymentTermWithin):
        return _payment_term(condition, s)
    return _client_group(condition, s)


def pricing_tiers(client_id: str, client_groups: Iterable[str], turnover: Turnover | None,
                  rules: Iterable[Rule], day: dt.date) -> list[TierStatus]:
    """``Client.pricingTier``: one status per turnover condition of every active rule valid on
    ``day`` whose audience covers the client, by rule code."""
    groups = frozenset(client_groups)
    out: list[TierStatus] = []
    for rule in sorted(rules, key=lambda r: r.code):
        if rule.status is not RuleStatus.ACTIVE or not rule.validity.covers(day) \
                or not rule.audience.covers(client_id, groups):
            continue
        for c in rule.conditions:
            if isinstance(c, TurnoverReached):
                out.append(tier_status(rule, c, turnover, day))
    return out
