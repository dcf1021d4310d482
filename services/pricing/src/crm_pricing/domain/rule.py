"""What a pricing rule is (DESIGN §11), how raw input becomes one, and the one check between
rules: two rules no quote could ever tell apart are refused when saved.

A rule: scope (product, product group, all), audience (a client, a client group, all), effect
(percent off, amount off, fixed price), validity, priority, stacking (exclusive or cumulative),
status (draft, active, retired) and typed conditions. A condition with tiers may give each tier
its own effect; at most one condition of a rule does (DESIGN: "tiers are ordered thresholds of one
condition").
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from crm_common.problems import FieldProblem, Problems
from crm_pricing.domain.effect import Effect, EffectKind
from crm_pricing.domain.money import HUNDRED, ZERO
from crm_pricing.domain.tiers import Tier
from crm_pricing.domain.turnover import Basis, Metric, Window

# --- the model ---------------------------------------------------------------------------------


class ScopeKind(enum.Enum):
    PRODUCT = "product"
    PRODUCT_GROUP = "product_group"
    ALL = "all"


class AudienceKind(enum.Enum):
    CLIENT = "client"
    CLIENT_GROUP = "client_group"
    ALL = "all"


class Stacking(enum.Enum):
    EXCLUSIVE = "exclusive"
    CUMULATIVE = "cumulative"


class RuleStatus(enum.Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


#: specificity, higher is more specific (DESIGN §11: client > client group > all, and
#: product > product group > all)
SPECIFICITY = {ScopeKind.PRODUCT: 2, ScopeKind.PRODUCT_GROUP: 1, ScopeKind.ALL: 0,
               AudienceKind.CLIENT: 2, AudienceKind.CLIENT_GROUP: 1, AudienceKind.ALL: 0}


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    code: str | None = None

    def covers(self, product_code: str, group_code: str | None) -> bool:
        if self.kind is ScopeKind.ALL:
            return True
        wanted = (self.code or "").upper()
        if self.kind is ScopeKind.PRODUCT:
            return product_code.upper() == wanted
        return group_code is not None and group_code.upper() == wanted

    @property
    def specificity(self) -> int:
        return SPECIFICITY[self.kind]


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    id: str | None = None

    def covers(self, client_id: str, group_ids: Iterable[str]) -> bool:
        if self.kind is AudienceKind.ALL:
            return True
        if self.kind is AudienceKind.CLIENT:
            return self.id == client_id
        return self.id in set(group_ids)

    @property
    def specificity(self) -> int:
        return SPECIFICITY[self.kind]


@dataclass(frozen=True)
class Validity:
    """Both days included; None: open-ended."""

    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    def covers(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and \
            (self.valid_until is None or day <= self.valid_until)

    def overlaps(self, other: Validity) -> bool:
        starts = [d for d in (self.valid_from, other.valid_from) if d is not None]
        ends = [d for d in (self.valid_until, other.valid_until) if d is not None]
        return not starts or not ends or max(starts) <= min(ends)

    def describe(self) -> str:
        """``2026-01-01 – 2026-11-30``, ``from 2026-01-01``, ``until 2026-11-30``, ``always``."""
        start, end = self.valid_from, self.valid_until
        if start and end:
            return f"{start.isoformat()} – {end.isoformat()}"
        if start:
            return f"from {start.isoformat()}"
        return f"until {end.isoformat()}" if end else "always"


@dataclass(frozen=True)
class TurnoverReached:
    """The client's turnover (all, or one product group's) in a window reaches the tiers."""

    window: Window
    tiers: tuple[Tier, ...]
    basis: Basis = Basis.PREVIOUS_CLOSED
    metric: Metric = Metric.NET_AMOUNT
    product_group: str | None = None


@dataclass(frozen=True)
class OrderReached:
    """Quantity or amount (at base price) in the quote, pooled over its lines of the rule's
    scope (10 cases of any beverage count together), reaches the tiers."""

    metric: Metric
    tiers: tuple[Tier, ...]


@dataclass(frozen=True)
class GroupPurchased:
    """The client bought product group X for at least ``minimum`` in the window."""

    product_group: str
    minimum: Decimal
    window: Window
    basis: Basis = Basis.PREVIOUS_CLOSED
    metric: Metric = Metric.NET_AMOUNT


@dataclass(frozen=True)
class PaymentBehaviourHeld:
    """Over the last 12 months: at least this share (0…1) of invoices paid within term and/or
    at most this many days late on average."""

    min_share_within_term: Decimal | None = None
    max_average_days_late: Decimal | None = None


@dataclass(frozen=True)
class PaymentTermWithin:
    """The quote's own payment term is at most ``max_days`` (a discount for paying early)."""

    max_days: int


@dataclass(frozen=True)
class InClientGroup:
    group_id: str


Condition = (TurnoverReached | OrderReached | GroupPurchased | PaymentBehaviourHeld
             | PaymentTermWithin | InClientGroup)
Tiered = TurnoverReached | OrderReached


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    scope: Scope
    audience: Audience
    effect: Effect | None
    validity: Validity = Validity()
    priority: int = 0
    stacking: Stacking = Stacking.EXCLUSIVE
    status: RuleStatus = RuleStatus.ACTIVE
    conditions: tuple[Condition, ...] = ()
    version: int = 1
    #: a contract's negotiated discount (``contract 2026-017``) rather than a managed rule
    contract: str | None = field(default=None, compare=False)

    @cached_property
    def tiered(self) -> Tiered | None:
        """The one condition whose tiers carry their own effects, if any."""
        return next((c for c in self.conditions if isinstance(c, TurnoverReached | OrderReached)
                     and any(t.effect is not None for t in c.tiers)), None)


# --- the one check between rules ---------------------------------------------------------------


def indistinguishable(rule: Rule, others: Iterable[Rule]) -> Rule | None:
    """The active rule ``rule`` could never be told apart from on a quote, if any: both
    exclusive, same scope, audience and priority, overlapping validity (DESIGN §11). Saving an
    active rule, or activating one, is refused when this returns a rule."""
    if rule.stacking is not Stacking.EXCLUSIVE or rule.status is RuleStatus.RETIRED:
        return None
    for other in others:
        if other.code == rule.code or other.status is not RuleStatus.ACTIVE:
            continue
        if other.stacking is Stacking.EXCLUSIVE and other.priority == rule.priority \
                and _same_scope(other.scope, rule.scope) and other.audience == rule.audience \
                and other.validity.overlaps(rule.validity):
            return other
    return None


def _same_scope(a: Scope, b: Scope) -> bool:
    return a.kind is b.kind and (a.code or "").upper() == (b.code or "").upper()


def indistinguishable_problem(rule: Rule, others: Iterable[Rule], *,
                              field: tuple[str, ...] = ("input", "priority")) -> Problems | None:
    """The userError for a rule ``indistinguishable`` finds, naming the other rule."""
    other = indistinguishable(rule, others)
    if other is None:
        return None
    return Problems([FieldProblem(field, "INDISTINGUISHABLE", (
        f"rule {other.code} ({other.name}) has the same scope, audience and priority, an "
        f"overlapping validity ({other.validity.describe()}) and is exclusive too: no quote "
        "could tell the two apart; change the priority, the scope, the audience or the validity")
    )])


# --- the stored form ---------------------------------------------------------------------------


def _number(value: Decimal) -> str:
    """A decimal as plain text, never in exponent form (``1E+5`` → ``100000``)."""
    return format(value, "f")


def _effect_definition(effect: Effect | None) -> dict[str, str] | None:
    return None if effect is None else {"kind": effect.kind.value, "value": _number(effect.value)}


def _tiers_definition(tiers: Sequence[Tier]) -> list[dict[str, Any]]:
    return [{"threshold": _number(t.threshold), "effect": _effect_definition(t.effect)}
            for t in tiers]


def _condition_definition(c: Condition) -> dict[str, Any]:
    if isinstance(c, TurnoverReached):
        return {"kind": "turnover", "window": c.window.value, "basis": c.basis.value,
                "metric": c.metric.value, "product_group": c.product_group,
                "tiers": _tiers_definition(c.tiers)}
    if isinstance(c, OrderReached):
        return {"kind": "order", "metric": c.metric.value, "tiers": _tiers_definition(c.tiers)}
    if isinstance(c, GroupPurchased):
        return {"kind": "group_purchase", "product_group": c.product_group,
                "minimum": _number(c.minimum), "window": c.window.value,
                "basis": c.basis.value, "metric": c.metric.value}
    if isinstance(c, PaymentBehaviourHeld):
        return {"kind": "payment_behaviour",
                "min_share_within_term": None if c.min_share_within_term is None
                else _number(c.min_share_within_term),
                "max_average_days_late": None if c.max_average_days_late is None
                else _number(c.max_average_days_late)}
    if isinstance(c, PaymentTermWithin):
        return {"kind": "payment_term", "max_days": c.max_days}
    return {"kind": "client_group", "group_id": c.group_id}


def rule_to_definition(rule: Rule) -> dict[str, Any]:
    """The stored form of a rule (``pricing_rules.definition``, ``pricing_rule_versions``): a
    JSON-ready snake_case dict that :func:`parse_rule` reads back into the same rule
    (``parse_rule(rule_to_definition(r), version=r.version) == r``). Decimals are plain strings
    (``"7.5"``), dates ISO (``"2026-01-01"``), enums their lower-case values; every key is
    present, empty ones as ``None``. The version is not part of it (it is the row's)."""
    return {
        "code": rule.code,
        "name": rule.name,
        "scope": {"kind": rule.scope.kind.value, "code": rule.scope.code},
        "audience": {"kind": rule.audience.kind.value, "id": rule.audience.id},
        "effect": _effect_definition(rule.effect),
        "valid_from": None if rule.validity.valid_from is None
        else rule.validity.valid_from.isoformat(),
        "valid_until": None if rule.validity.valid_until is None
        else rule.validity.valid_until.isoformat(),
        "priority": rule.priority,
        "stacking": rule.stacking.value,
        "status": rule.status.value,
        "conditions": [_condition_definition(c) for c in rule.conditions],
    }


def definition_columns(rule: Rule) -> dict[str, Any]:
    """The columns of ``pricing_rules`` that mirror the definition (what queries filter by)."""
    return {
        "code": rule.code, "name": rule.name, "status": rule.status.value,
        "stacking": rule.stacking.value, "priority": rule.priority,
        "scope_kind": rule.scope.kind.value, "scope_code": rule.scope.code,
        "audience_kind": rule.audience.kind.value, "audience_id": rule.audience.id,
        "valid_from": rule.validity.valid_from, "valid_until": rule.validity.valid_until,
    }


# --- validation of raw input -------------------------------------------------------------------

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)
MAX_CODE = 40
MAX_NAME = 200
MAX_CONDITIONS = 10
MAX_TIERS = 10
MIN_PRIORITY, MAX_PRIORITY = -1000, 1000
MAX_AMOUNT = Decimal("1000000000")
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")


class _Collector:
    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def add(self, where: tuple[str, ...], code: str, message: str) -> None:
        self.problems.append(FieldProblem(where, code, message))


def _enum(p: _Collector, where: tuple[str, ...], value: Any, kind: type[enum.Enum],
          default: enum.Enum | None = None) -> Any:
    if value is None:
        if default is None:
            p.add(where, "REQUIRED", f"{where[-1]} is required")
        return default
    if isinstance(value, kind):
        return value
    allowed = [m.value for m in kind]
    if isinstance(value, str) and value.lower() in allowed:
        return kind(value.lower())
    p.add(where, "INVALID_VALUE", f"{where[-1]} must be one of {', '.join(map(str, allowed))}")
    return None


def _text(p: _Collector, where: tuple[str, ...], value: Any, *, max_length: int,
          pattern: re.Pattern[str] | None = None) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        p.add(where, "REQUIRED", f"{where[-1]} is required")
        return None
    if not isinstance(value, str):
        p.add(where, "INVALID_TYPE", f"{where[-1]} must be text")
        return None
    text = value.strip()
    if len(text) > max_length:
        p.add(where, "TOO_LONG", f"{where[-1]} has at most {max_length} characters")
        return None
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        p.add(where, "CONTROL_CHARACTERS", f"{where[-1]} must not contain control characters")
        return None
    if pattern is not None and not pattern.match(text):
        p.add(where, "INVALID_VALUE", f"{where[-1]} may hold letters, digits and . _ / - only")
        return None
    return text


def _decimal(p: _Collector, where: tuple[str, ...], value: Any, *, low: Decimal = ZERO,
             low_included: bool = True, high: Decimal = MAX_AMOUNT) -> Decimal | None:
    name = where[-1]
    if value is None:
        p.add(where, "REQUIRED", f"{name} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str) \
            or (isinstance(value, str) and len(value) > 40):
        p.add(where, "INVALID_TYPE", f"{name} must be a number")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        p.add(where, "INVALID_TYPE", f"{name} must be a number")
        return None
    if not number.is_finite():
        p.add(where, "INVALID_TYPE", f"{name} must be a finite number")
        return None
    if number < low or (number == low and not low_included):
        if low == ZERO:
            p.add(where, "NEGATIVE" if number < ZERO else "INVALID_VALUE",
                  f"{name} must be {'at least' if low_included else 'more than'} 0")
        else:
            p.add(where, "INVALID_VALUE", f"{name} must be at least {low}")
        return None
    if number > high:
        p.add(where, "INVALID_VALUE", f"{name} must be at most {high}")
        return None
    return number


def _date(p: _Collector, where: tuple[str, ...], value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            p.add(where, "INVALID_TYPE", f"{where[-1]} must be a date (YYYY-MM-DD)")
            return None
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        p.add(where, "INVALID_TYPE", f"{where[-1]} must be a date (YYYY-MM-DD)")
        return None
    if not EARLIEST <= value <= LATEST:
        p.add(where, "INVALID_VALUE", f"{where[-1]} must be between {EARLIEST.isoformat()} "
                                      f"and {LATEST.isoformat()}; leave it empty for open-ended")
        return None
    return value


def _mapping(p: _Collector, where: tuple[str, ...], value: Any) -> Mapping[str, Any] | None:
    if value is None:
        p.add(where, "REQUIRED", f"{where[-1]} is required")
        return None
    if not isinstance(value, Mapping):
        p.add(where, "INVALID_TYPE", f"{where[-1]} must be an object")
        return None
    return value


def _effect(p: _Collector, where: tuple[str, ...], raw: Any) -> Effect | None:
    data = _mapping(p, where, raw)
    if data is None:
        return None
    kind = _enum(p, where + ("kind",), data.get("kind"), EffectKind)
    if kind is None:
        return None
    at = where + ("value",)
    if kind is EffectKind.PERCENT_OFF:
        value = _decimal(p, at, data.get("value"), low_included=False, high=HUNDRED)
    elif kind is EffectKind.AMOUNT_OFF:
        value = _decimal(p, at, data.get("value"), low_included=False)
    else:
        value = _decimal(p, at, data.get("value"))
    return None if value is None else Effect(kind, value)


def _tiers(p: _Collector, where: tuple[str, ...], raw: Any) -> tuple[Tier, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        p.add(where, "REQUIRED", "at least one tier (a threshold) is required")
        return ()
    if len(raw) > MAX_TIERS:
        p.add(where, "TOO_MANY", f"at most {MAX_TIERS} tiers")
        return ()
    tiers: list[Tier] = []
    previous: Decimal | None = None
    for i, item in enumerate(raw):
        at = where + (str(i),)
        data = _mapping(p, at, item)
        if data is None:
            continue
        threshold = _decimal(p, at + ("threshold",), data.get("threshold"))
        effect = None if data.get("effect") is None else _effect(p, at + ("effect",),
                                                                  data["effect"])
        if threshold is None:
            continue
        if previous is not None and threshold <= previous:
            p.add(at + ("threshold",), "TIERS_OUT_OF_ORDER",
                  f"tier {i + 1}'s threshold must be above tier {i}'s ({previous}): tiers are "
                  "listed from the lowest threshold up")
        previous = threshold
        tiers.append(Tier(threshold, effect))
    if any(t.effect is not None for t in tiers) and any(t.effect is None for t in tiers):
        p.add(where, "INVALID_VALUE", "either every tier names its effect or none does")
    return tuple(tiers)


def _window(p: _Collector, where: tuple[str, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "window": _enum(p, where + ("window",), data.get("window"), Window),
        "basis": _enum(p, where + ("basis",), data.get("basis"), Basis, Basis.PREVIOUS_CLOSED),
        "metric": _enum(p, where + ("metric",), data.get("metric"), Metric, Metric.NET_AMOUNT),
    }


def _condition(p: _Collector, where: tuple[str, ...], raw: Any) -> Condition | None:
    data = _mapping(p, where, raw)
    if data is None:
        return None
    kind = data.get("kind")
    before = len(p.problems)
    result: Condition | None = None
    if kind == "turnover":
        w = _window(p, where, data)
        group = None if data.get("product_group") is None else \
            _text(p, where + ("product_group",), data["product_group"], max_length=MAX_CODE)
        tiers = _tiers(p, where + ("tiers",), data.get("tiers"))
        if len(p.problems) == before:
            result = TurnoverReached(w["window"], tiers, w["basis"], w["metric"],
                                     group.upper() if group else None)
    elif kind == "order":
        metric = _enum(p, where + ("metric",), data.get("metric"), Metric, Metric.QUANTITY)
        tiers = _tiers(p, where + ("tiers",), data.get("tiers"))
        if len(p.problems) == before:
            result = OrderReached(metric, tiers)
    elif kind == "group_purchase":
        w = _window(p, where, data)
        group = _text(p, where + ("product_group",), data.get("product_group"),
                      max_length=MAX_CODE)
        minimum = _decimal(p, where + ("minimum",), data.get("minimum"))
        if len(p.problems) == before and group is not None and minimum is not None:
            result = GroupPurchased(group.upper(), minimum, w["window"], w["basis"], w["metric"])
    elif kind == "payment_behaviour":
        share = None if data.get("min_share_within_term") is None else _decimal(
            p, where + ("min_share_within_term",), data["min_share_within_term"],
            high=Decimal(1))
        late = None if data.get("max_average_days_late") is None else _decimal(
            p, where + ("max_average_days_late",), data["max_average_days_late"],
            high=Decimal(3650))
        if share is None and late is None and len(p.problems) == before:
            p.add(where + ("min_share_within_term",), "REQUIRED",
                  "a payment-behaviour condition names a share paid within term, a maximum "
                  "average of days late, or both")
        if len(p.problems) == before:
            result = PaymentBehaviourHeld(share, late)
    elif kind == "payment_term":
        days = _decimal(p, where + ("max_days",), data.get("max_days"), high=Decimal(3650))
        if days is not None and days != days.to_integral_value():
            p.add(where + ("max_days",), "INVALID_VALUE", "max_days is a whole number of days")
        elif days is not None and len(p.problems) == before:
            result = PaymentTermWithin(int(days))
    elif kind == "client_group":
        group_id = _text(p, where + ("group_id",), data.get("group_id"), max_length=100)
        if group_id is not None:
            result = InClientGroup(group_id)
    else:
        p.add(where + ("kind",), "INVALID_VALUE" if kind is not None else "REQUIRED",
              "kind must be one of turnover, order, group_purchase, payment_behaviour, "
              "payment_term, client_group")
    return result


def parse_rule(raw: Mapping[str, Any], *, prefix: tuple[str, ...] = ("input",),
               version: int = 1) -> Rule:
    """A rule from raw input (snake_case keys, as the GraphQL layer hands them over), or
    ``Problems`` naming every field at fault (``input.conditions.0.tiers.1.threshold``)."""
    p = _Collector()
    code = _text(p, prefix + ("code",), raw.get("code"), max_length=MAX_CODE, pattern=CODE)
    name = _text(p, prefix + ("name",), raw.get("name"), max_length=MAX_NAME)

    scope: Scope | None = None
    scope_raw = _mapping(p, prefix + ("scope",), raw.get("scope"))
    if scope_raw is not None:
        kind = _enum(p, prefix + ("scope", "kind"), scope_raw.get("kind"), ScopeKind)
        if kind is ScopeKind.ALL:
            scope = Scope(kind)
        elif kind is not None:
            scope_code = _text(p, prefix + ("scope", "code"), scope_raw.get("code"),
                               max_length=MAX_CODE)
            scope = Scope(kind, scope_code.upper()) if scope_code else None

    audience: Audience | None = None
    audience_raw = _mapping(p, prefix + ("audience",), raw.get("audience"))
    if audience_raw is not None:
        akind = _enum(p, prefix + ("audience", "kind"), audience_raw.get("kind"), AudienceKind)
        if akind is AudienceKind.ALL:
            audience = Audience(akind)
        elif akind is not None:
            aid = _text(p, prefix + ("audience", "id"), audience_raw.get("id"), max_length=100)
            audience = Audience(akind, aid) if aid else None

    effect = None if raw.get("effect") is None else _effect(p, prefix + ("effect",),
                                                              raw["effect"])
    valid_from = _date(p, prefix + ("valid_from",), raw.get("valid_from"))
    valid_until = _date(p, prefix + ("valid_until",), raw.get("valid_until"))
    if valid_from and valid_until and valid_until < valid_from:
        p.add(prefix + ("valid_until",), "INVALID_DATE_RANGE",
              "a rule cannot end before it starts")

    priority = raw.get("priority", 0)
    if priority is None:
        priority = 0
    if isinstance(priority, bool) or not isinstance(priority, int):
        p.add(prefix + ("priority",), "INVALID_TYPE", "priority must be a whole number")
        priority = 0
    elif not MIN_PRIORITY <= priority <= MAX_PRIORITY:
        p.add(prefix + ("priority",), "INVALID_VALUE",
              f"priority must be between {MIN_PRIORITY} and {MAX_PRIORITY}")
    stacking = _enum(p, prefix + ("stacking",), raw.get("stacking"), Stacking,
                     Stacking.EXCLUSIVE)
    status = _enum(p, prefix + ("status",), raw.get("status"), RuleStatus, RuleStatus.DRAFT)

    conditions: list[Condition] = []
    conditions_raw = raw.get("conditions") or []
    if not isinstance(conditions_raw, Sequence) or isinstance(conditions_raw, str):
        p.add(prefix + ("conditions",), "INVALID_TYPE", "conditions must be a list")
    elif len(conditions_raw) > MAX_CONDITIONS:
        p.add(prefix + ("conditions",), "TOO_MANY", f"at most {MAX_CONDITIONS} conditions")
    else:
        tiered_at: int | None = None
        for i, item in enumerate(conditions_raw):
            condition = _condition(p, prefix + ("conditions", str(i)), item)
            if condition is None:
                continue
            conditions.append(condition)
            if isinstance(condition, TurnoverReached | OrderReached) \
                    and any(t.effect is not None for t in condition.tiers):
                if tiered_at is not None:
                    p.add(prefix + ("conditions", str(i), "tiers"), "INVALID_VALUE",
                          f"condition {tiered_at + 1} already gives its tiers their effects: "
                          "only one condition of a rule may")
                tiered_at = i
        if effect is None and tiered_at is None and not p.problems:
            p.add(prefix + ("effect",), "REQUIRED",
                  "a rule needs an effect, or a condition whose tiers name their effects")
    if p.problems:
        raise Problems(p.problems)
    assert code is not None and name is not None and scope is not None and audience is not None
    return Rule(code=code, name=name, scope=scope, audience=audience, effect=effect,
                validity=Validity(valid_from, valid_until), priority=priority, stacking=stacking,
                status=status, conditions=tuple(conditions), version=version)
