"""``simulatePricingRule``: what a draft rule, or changes to a rule, would do to the clients'
prices and tiers on a day — nothing is stored (docs/pricing.md, "Managing rules").

The method:

1. **The rule sets.** *Before*: the active rules as stored. *After*: the same, with the
   simulated rule in place of the stored one of the same code (an update) or added (a draft),
   treated as active whatever its status.
2. **The clients**: those with turnover kept in ``client_turnover`` (the latest
   ``crm.analytics.client.turnover.updated`` per client) whose audience the rule before or after
   covers (everyone; the group; the client), in id order — ids are random UUIDs, so a cut list
   is a fair sample — at most :data:`MAX_CLIENTS`.
3. **The products**: the active products the rule's scope covers before or after, that have a
   base price on the day (the default price list, else the ERP's), in code order, at most
   :data:`MAX_PAIRS` clients × products together: when there are more, the price part covers as
   many whole clients as fit (at least one), and the result says so (``complete: false``).
4. **The tier**: for the rule's tiered turnover condition (else its first turnover condition),
   ``crm_pricing.domain.conditions.pricing_tiers`` with each rule set gives the tier the client
   reaches in the basis period on the day (1 = the lowest threshold; none below it).
5. **The price move**: each product priced as one unit on a quote of the day without a
   payment term (payment-term conditions do not hold) with ``resolve_line`` under each rule set;
   the change is (after − before) / before × 100 on the rounded unit prices, for products whose
   price before is above zero; a client's move is the mean over its products; the overall move
   the mean over the clients priced (a client the rule leaves alone counts as 0 %).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_common.problems import not_found, problem
from crm_pricing.adapters.tables import client_profiles, client_turnover, pricing_rules, products
from crm_pricing.domain.conditions import pricing_tiers
from crm_pricing.domain.money import HUNDRED, ZERO
from crm_pricing.domain.resolution import (
    Client,
    Product,
    Quote,
    QuoteLine,
    Settings,
    resolve_line,
)
from crm_pricing.domain.rule import (
    EARLIEST,
    LATEST,
    Audience,
    AudienceKind,
    Rule,
    RuleStatus,
    Scope,
    ScopeKind,
    TurnoverReached,
    rule_to_definition,
)
from crm_pricing.service_layer.pricing_inputs import base_prices, load_clients, read_rules
from crm_pricing.service_layer.rules import stored_rule, validated
from crm_pricing.service_layer.visibility import Access

#: at most this many clients are simulated (tiers and prices)
MAX_CLIENTS = 5_000
#: at most this many (client, product) prices are worked out, twice each
MAX_PAIRS = 5_000

PERCENT = Decimal("0.01")


@dataclass(frozen=True)
class ClientOutcome:
    client_id: uuid.UUID
    tier_before: int | None
    tier_after: int | None
    reached_value: Decimal | None
    products_priced: int
    average_change_percent: Decimal | None
    largest_change_percent: Decimal | None

    @property
    def tier_changes(self) -> bool:
        return self.tier_before != self.tier_after


@dataclass(frozen=True)
class Simulation:
    day: dt.date
    rule: Rule
    #: clients with turnover figures whose audience the rule covers (before or after)
    clients_with_turnover: int
    clients_simulated: int
    clients_priced: int
    products_in_scope: int
    complete: bool
    average_change_percent: Decimal | None
    #: the clients whose tier or prices would change, the largest price drop first
    clients: list[ClientOutcome]


# --- the pure part -------------------------------------------------------------------------------


def _tier_condition(rule: Rule) -> TurnoverReached | None:
    tiered = rule.tiered
    if isinstance(tiered, TurnoverReached):
        return tiered
    return next((c for c in rule.conditions if isinstance(c, TurnoverReached)), None)


def _tier(client: Client, rules: Sequence[Rule], code: str, day: dt.date
          ) -> tuple[int | None, Decimal | None]:
    """The tier number (and the value reached) the client has under rule ``code``'s tiered
    turnover condition with ``rules`` in force."""
    rule = next((r for r in rules if r.code == code), None)
    condition = None if rule is None else _tier_condition(rule)
    if rule is None or condition is None:
        return None, None
    for status in pricing_tiers(client.id, client.group_ids, client.turnover, [rule], day):
        if status.condition == condition:
            return status.tier_number, status.reached_value
    return None, None


def _percent(before: Decimal, after: Decimal) -> Decimal:
    return (after - before) / before * HUNDRED


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, ZERO) / len(values) if values else None


def _rounded(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(PERCENT, rounding=ROUND_HALF_UP)


def simulate_clients(before: Sequence[Rule], after: Sequence[Rule], code: str,
                     clients: Sequence[Client], priced: int,
                     products: Sequence[tuple[Product, Decimal]], day: dt.date,
                     settings: Settings | None = None) -> tuple[list[ClientOutcome],
                                                               Decimal | None]:
    """Each client's tier before and after, and for the first ``priced`` clients the move of
    their prices over ``products`` (product, base price); and the mean move over the clients
    priced."""
    settings = settings or Settings()
    outcomes: list[ClientOutcome] = []
    moves: list[Decimal] = []
    # the rules whose scope covers each product, once per product rather than once per pair
    covering = [([r for r in before if r.scope.covers(p.code, p.group_code)],
                 [r for r in after if r.scope.covers(p.code, p.group_code)])
                for p, _ in products]
    for i, client in enumerate(clients):
        tier_before, _ = _tier(client, before, code, day)
        tier_after, value = _tier(client, after, code, day)
        changes: list[Decimal] = []
        if i < priced:
            for (product, base), (rules_before, rules_after) in zip(products, covering,
                                                                      strict=True):
                line = QuoteLine(product, Decimal(1), base)
                quote = Quote(day, (line,))
                old = resolve_line(line, quote, client, rules_before, settings).unit_price
                new = resolve_line(line, quote, client, rules_after, settings).unit_price
                if old > ZERO:
                    changes.append(_percent(old, new))
        mean = _mean(changes)
        if i < priced:
            moves.append(mean if mean is not None else ZERO)
        largest = max(changes, key=abs) if changes else None
        outcomes.append(ClientOutcome(
            client_id=uuid.UUID(client.id), tier_before=tier_before, tier_after=tier_after,
            reached_value=value, products_priced=len(changes) if i < priced else 0,
            average_change_percent=_rounded(mean), largest_change_percent=_rounded(largest)))
    return outcomes, _rounded(_mean(moves))


# --- reading what it needs -----------------------------------------------------------------------


def _audience_condition(audiences: Sequence[Audience]) -> sa.ColumnElement[bool]:
    parts: list[sa.ColumnElement[bool]] = []
    for a in audiences:
        if a.kind is AudienceKind.ALL:
            return sa.true()
        if a.kind is AudienceKind.CLIENT:
            parts.append(client_turnover.c.client_id == uuid.UUID(str(a.id)))
        else:
            parts.append(client_profiles.c.group_id == uuid.UUID(str(a.id)))
    return sa.or_(*parts)


def _scope_condition(scopes: Sequence[Scope]) -> sa.ColumnElement[bool]:
    parts: list[sa.ColumnElement[bool]] = []
    for s in scopes:
        if s.kind is ScopeKind.ALL:
            return sa.true()
        column = products.c.code if s.kind is ScopeKind.PRODUCT else products.c.group_code
        parts.append(sa.func.upper(column) == (s.code or "").upper())
    return sa.or_(*parts)


async def _clients(conn: AsyncConnection, audiences: Sequence[Audience]
                   ) -> tuple[int, list[uuid.UUID]]:
    joined = client_turnover.outerjoin(client_profiles,
                                       client_profiles.c.client_id == client_turnover.c.client_id)
    covered = _audience_condition(audiences)
    total = await conn.scalar(sa.select(sa.func.count()).select_from(joined).where(covered))
    ids = list((await conn.execute(
        sa.select(client_turnover.c.client_id).select_from(joined).where(covered)
        .order_by(client_turnover.c.client_id).limit(MAX_CLIENTS))).scalars())
    return int(total or 0), ids


async def _products(conn: AsyncConnection, scopes: Sequence[Scope], day: dt.date
                    ) -> tuple[list[tuple[Product, Decimal]], bool]:
    """The active products in scope with a base price on the day, and whether that is all of
    them (at most :data:`MAX_PAIRS`)."""
    rows = list(await conn.execute(
        sa.select(products.c.code, products.c.group_code)
        .where(products.c.active, _scope_condition(scopes))
        .order_by(products.c.code).limit(MAX_PAIRS + 1)))
    whole = len(rows) <= MAX_PAIRS
    rows = rows[:MAX_PAIRS]
    prices = await base_prices(conn, [r.code for r in rows], day)
    return [(Product(r.code, r.group_code), prices[r.code].price) for r in rows
            if r.code in prices], whole


async def simulate(reader: AsyncEngine, who: Access, day: dt.date, *,
                   draft: Mapping[str, Any] | None = None, rule_id: uuid.UUID | None = None,
                   changes: Mapping[str, Any] | None = None,
                   contract_priority: int | None = None) -> Simulation:
    """Simulate a draft rule (``draft``: a rule input), or a stored rule with ``changes`` (any
    field given replaces the stored one). Managers and admins only."""
    who.require_manager("simulate pricing rules")
    if not EARLIEST <= day <= LATEST:
        raise problem(("date",), "INVALID_VALUE", f"date must be between {EARLIEST.isoformat()} "
                                                 f"and {LATEST.isoformat()}")
    if (draft is None) == (rule_id is None):
        raise problem(("input",), "REQUIRED", "give either a draft rule or the id of a rule")
    async with reader.connect() as conn:
        stored = [s.rule for s in await read_rules(conn, statuses=("active",))]
        previous: Rule | None = None
        if rule_id is not None:
            row = (await conn.execute(sa.select(pricing_rules).where(
                pricing_rules.c.id == rule_id))).mappings().one_or_none()
            if row is None:
                raise not_found("pricing rule", field=("input", "id"))
            if row["status"] == RuleStatus.RETIRED.value:
                raise problem(("input", "id"), "RETIRED",
                              f"pricing rule {row['code']} is retired, which is final")
            previous = stored_rule(row)
            raw = rule_to_definition(previous)
            raw.update({k: v for k, v in (changes or {}).items()
                        if k not in ("code", "status")})
            rule = validated(raw, version=previous.version + 1,
                             prefix=("input", "changes"))
        else:
            rule = validated(draft or {}, prefix=("input", "rule"))
        rule = replace(rule, status=RuleStatus.ACTIVE)
        before = stored
        after = [r for r in stored if r.code != rule.code] + [rule]
        audiences = [rule.audience] + ([previous.audience] if previous else [])
        scopes = [rule.scope] + ([previous.scope] if previous else [])
        total, ids = await _clients(conn, audiences)
        in_scope, all_products = await _products(conn, scopes, day)
        facts = await load_clients(conn, ids)
    clients = [facts[i].client for i in ids]
    priced = min(len(clients), max(1, MAX_PAIRS // max(1, len(in_scope))))
    # CPU-bound (up to 2 × MAX_PAIRS resolutions): off the event loop
    outcomes, average = await asyncio.to_thread(
        simulate_clients, before, after, rule.code, clients, priced, in_scope, day,
        Settings(contract_priority=contract_priority))
    affected = [o for o in outcomes if o.tier_changes or (o.average_change_percent or ZERO)
                or (o.largest_change_percent or ZERO)]
    affected.sort(key=lambda o: (o.average_change_percent or ZERO, str(o.client_id)))
    return Simulation(day=day, rule=rule, clients_with_turnover=total,
                      clients_simulated=len(clients), clients_priced=priced,
                      products_in_scope=len(in_scope),
                      complete=priced == len(clients) == total and all_products,
                      average_change_percent=average if clients else None, clients=affected)
