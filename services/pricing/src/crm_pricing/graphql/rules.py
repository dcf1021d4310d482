"""Pricing rules: reads, the managers' mutations and the simulation (issue 11).

Types and enums are named ``PricingRule*`` so that they cannot clash with the other areas of
the subgraph. Inputs are typed (input objects and enums); :func:`rule_raw` turns them into the
snake_case dict ``crm_pricing.domain.rule.parse_rule`` reads, so that every problem it finds is
a userError naming the input field (``input.conditions.0.tiers.1.threshold``). Business fields
are nullable on purpose (as in every subgraph): a missing value is a REQUIRED userError found
together with every other problem, not a request error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from crm_common.graphql.connections import PageInfo, connection_of, requested_page_size
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.history import HistoryConnection, history_connection
from crm_common.graphql.inputs import filter_id
from crm_common.graphql.mutations import changed_in, mutate
from crm_common.parsing import lookup_id, parse_uuid
from crm_common.validation import Collector
from crm_pricing.domain import effect as effect_domain
from crm_pricing.domain import rule as rule_domain
from crm_pricing.domain.tiers import Tier
from crm_pricing.service_layer import rule_queries, rule_simulation
from crm_pricing.service_layer import rules as rule_commands

SERVICE = "pricing"
UNSET: Any = strawberry.UNSET

# --- enums (the domain's, as GraphQL enums) ------------------------------------------------------

# Own enum classes (not ``strawberry.enum`` applied to the domain's): decorating a domain enum
# marks the class itself, and another area naming the same domain enum differently would clash.


@strawberry.enum(name="PricingRuleStatus", description="DRAFT: prices nothing yet; ACTIVE: "
                                                       "prices quotes while valid; RETIRED: "
                                                       "final.")
class PricingRuleStatus(enum.Enum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


@strawberry.enum(name="PricingRuleStacking", description="EXCLUSIVE: one exclusive rule wins a "
                                                         "line; CUMULATIVE: applies on top, in "
                                                         "order.")
class PricingRuleStacking(enum.Enum):
    EXCLUSIVE = "exclusive"
    CUMULATIVE = "cumulative"


@strawberry.enum(name="PricingRuleScopeKind")
class PricingRuleScopeKind(enum.Enum):
    ALL = "all"
    PRODUCT_GROUP = "product_group"
    PRODUCT = "product"


@strawberry.enum(name="PricingRuleAudienceKind")
class PricingRuleAudienceKind(enum.Enum):
    ALL = "all"
    CLIENT_GROUP = "client_group"
    CLIENT = "client"


@strawberry.enum(name="PricingRuleEffectKind", description="PERCENT_OFF (0 < value ≤ 100), "
                                                           "AMOUNT_OFF (€ per unit, > 0), "
                                                           "FIXED_PRICE (€ per unit, ≥ 0).")
class PricingRuleEffectKind(enum.Enum):
    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"
    FIXED_PRICE = "fixed_price"


@strawberry.enum(name="PricingRuleWindow")
class PricingRuleWindow(enum.Enum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"
    ROLLING_12_MONTHS = "rolling_12_months"


@strawberry.enum(name="PricingRuleBasis", description="PREVIOUS_CLOSED: the last closed period "
                                                      "(default); TO_DATE: the current period "
                                                      "so far.")
class PricingRuleBasis(enum.Enum):
    PREVIOUS_CLOSED = "previous_closed"
    TO_DATE = "to_date"


@strawberry.enum(name="PricingRuleMetric")
class PricingRuleMetric(enum.Enum):
    NET_AMOUNT = "net_amount"
    QUANTITY = "quantity"


@strawberry.enum(name="PricingRuleConditionKind")
class PricingRuleConditionKind(enum.Enum):
    TURNOVER = "turnover"
    ORDER = "order"
    GROUP_PURCHASE = "group_purchase"
    PAYMENT_BEHAVIOUR = "payment_behaviour"
    PAYMENT_TERM = "payment_term"
    CLIENT_GROUP = "client_group"


# --- output types --------------------------------------------------------------------------------


@strawberry.type(description="What the rule covers: every product, a product group or a "
                             "product (codes upper case).")
class PricingRuleScope:
    kind: PricingRuleScopeKind
    code: str | None


@strawberry.type(description="Whom the rule covers: every client, a client group or a client.")
class PricingRuleAudience:
    kind: PricingRuleAudienceKind
    id: strawberry.ID | None


@strawberry.type(description="What the rule does to a unit price.")
class PricingRuleEffect:
    kind: PricingRuleEffectKind
    value: Decimal = strawberry.field(description="The percentage, or euros per unit.")


@strawberry.type(description="Both days included; null: open-ended.")
class PricingRuleValidity:
    valid_from: dt.date | None
    valid_until: dt.date | None


@strawberry.type(description="A threshold of a condition and the effect reaching it earns "
                             "(null: the rule's own effect).")
class PricingRuleTier:
    threshold: Decimal
    effect: PricingRuleEffect | None


@strawberry.type(description="The client's invoiced turnover (all, or one product group's) in "
                             "a window reaches the first tier.")
class PricingRuleTurnoverCondition:
    window: PricingRuleWindow
    basis: PricingRuleBasis
    metric: PricingRuleMetric
    product_group: str | None
    tiers: list[PricingRuleTier]


@strawberry.type(description="The quote's lines of the rule's scope, pooled, reach the first "
                             "tier (quantity, or amount at base price).")
class PricingRuleOrderCondition:
    metric: PricingRuleMetric
    tiers: list[PricingRuleTier]


@strawberry.type(description="The client bought the product group for at least the minimum in "
                             "the window.")
class PricingRuleGroupPurchaseCondition:
    product_group: str | None = strawberry.field(description=(
        "Always set here; nullable so that the union's members agree on the field's type (a "
        "turnover condition's productGroup is optional)."))
    minimum: Decimal
    window: PricingRuleWindow
    basis: PricingRuleBasis
    metric: PricingRuleMetric


@strawberry.type(description="Over the last 12 months: at least this share (0…1) of invoices "
                             "paid within term and/or at most this many days late on average.")
class PricingRulePaymentBehaviourCondition:
    min_share_within_term: Decimal | None
    max_average_days_late: Decimal | None


@strawberry.type(description="The quote's payment term is at most max_days.")
class PricingRulePaymentTermCondition:
    max_days: int


@strawberry.type(description="The client is in the client group.")
class PricingRuleClientGroupCondition:
    group_id: strawberry.ID


PricingRuleCondition = Annotated[
    PricingRuleTurnoverCondition | PricingRuleOrderCondition | PricingRuleGroupPurchaseCondition
    | PricingRulePaymentBehaviourCondition | PricingRulePaymentTermCondition
    | PricingRuleClientGroupCondition,
    strawberry.union("PricingRuleCondition", description="One typed condition of a rule.")]


def _effect(e: effect_domain.Effect | None) -> PricingRuleEffect | None:
    if e is None:
        return None
    return PricingRuleEffect(kind=PricingRuleEffectKind(e.kind.value), value=e.value)


def _tiers(tiers: tuple[Tier, ...]) -> list[PricingRuleTier]:
    return [PricingRuleTier(threshold=t.threshold, effect=_effect(t.effect)) for t in tiers]


def _condition(c: rule_domain.Condition) -> Any:
    if isinstance(c, rule_domain.TurnoverReached):
        return PricingRuleTurnoverCondition(window=PricingRuleWindow(c.window.value),
                                            basis=PricingRuleBasis(c.basis.value),
                                            metric=PricingRuleMetric(c.metric.value),
                                            product_group=c.product_group, tiers=_tiers(c.tiers))
    if isinstance(c, rule_domain.OrderReached):
        return PricingRuleOrderCondition(metric=PricingRuleMetric(c.metric.value),
                                         tiers=_tiers(c.tiers))
    if isinstance(c, rule_domain.GroupPurchased):
        return PricingRuleGroupPurchaseCondition(product_group=c.product_group,
                                                 minimum=c.minimum,
                                                 window=PricingRuleWindow(c.window.value),
                                                 basis=PricingRuleBasis(c.basis.value),
                                                 metric=PricingRuleMetric(c.metric.value))
    if isinstance(c, rule_domain.PaymentBehaviourHeld):
        return PricingRulePaymentBehaviourCondition(
            min_share_within_term=c.min_share_within_term,
            max_average_days_late=c.max_average_days_late)
    if isinstance(c, rule_domain.PaymentTermWithin):
        return PricingRulePaymentTermCondition(max_days=c.max_days)
    return PricingRuleClientGroupCondition(group_id=strawberry.ID(c.group_id))


@strawberry.interface(description="What a rule says (its current version, or an earlier one).")
class PricingRuleContent:
    code: str
    name: str
    scope: PricingRuleScope
    audience: PricingRuleAudience
    effect: PricingRuleEffect | None = strawberry.field(
        description="Null when the tiers of a condition name their effects.")
    validity: PricingRuleValidity
    priority: int = strawberry.field(description="−1000…1000; higher wins.")
    stacking: PricingRuleStacking
    status: PricingRuleStatus
    conditions: list[PricingRuleCondition] = strawberry.field(
        description="All must hold.")
    version: int


def _content(rule: rule_domain.Rule) -> dict[str, Any]:
    return {
        "code": rule.code, "name": rule.name,
        "scope": PricingRuleScope(kind=PricingRuleScopeKind(rule.scope.kind.value),
                                  code=rule.scope.code),
        "audience": PricingRuleAudience(
            kind=PricingRuleAudienceKind(rule.audience.kind.value),
            id=None if rule.audience.id is None else strawberry.ID(rule.audience.id)),
        "effect": _effect(rule.effect),
        "validity": PricingRuleValidity(valid_from=rule.validity.valid_from,
                                        valid_until=rule.validity.valid_until),
        "priority": rule.priority, "stacking": PricingRuleStacking(rule.stacking.value),
        "status": PricingRuleStatus(rule.status.value),
        "conditions": [_condition(c) for c in rule.conditions], "version": rule.version,
    }


@strawberry.type(description="An earlier version of a rule, as it was saved.")
class PricingRuleVersion(PricingRuleContent):
    recorded_at: dt.datetime
    recorded_by_id: strawberry.ID | None = strawberry.field(
        description="The employee who saved it.")

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> PricingRuleVersion:
        recorded_by = row["recorded_by"]
        return cls(**_content(rule_commands.stored_rule(row)), recorded_at=row["recorded_at"],
                   recorded_by_id=None if recorded_by is None else strawberry.ID(str(recorded_by)))


@strawberry.type(description="A pricing rule (DESIGN §11; docs/pricing.md, \"Managing rules\"): "
                             "its current version.")
class PricingRule(PricingRuleContent):
    id: strawberry.ID
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> PricingRule:
        return cls(**_content(rule_commands.stored_rule(row)), id=strawberry.ID(str(row["id"])),
                   created_at=row["created_at"], updated_at=row["updated_at"])

    @strawberry.field(description="The versions before this one, newest first (every save, "
                                  "activation and retirement made one).")
    async def versions(self, info: strawberry.Info) -> list[PricingRuleVersion]:
        rows = await info.context.rule_loaders.versions.load(uuid.UUID(self.id))
        return [PricingRuleVersion.from_row(r) for r in rows]

    @strawberry.field(description="Who changed the rule, when and how, newest first.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await history_connection(info, info.context.rule_loaders.history,
                                        uuid.UUID(self.id), first, after)


@strawberry.type
class PricingRuleEdge:
    cursor: str
    node: PricingRule


@strawberry.type
class PricingRuleConnection:
    edges: list[PricingRuleEdge]
    page_info: PageInfo


@strawberry.type(description="The rule as simulated (treated as active).")
class PricingRuleSimulated(PricingRuleContent):
    pass


@strawberry.type(description="One client whose tier or prices the simulated rule would change.")
class PricingRuleSimulationClient:
    client_id: strawberry.ID
    tier_before: int | None = strawberry.field(description=(
        "The tier (1 = the lowest threshold) the client reaches under the rule's tiered "
        "turnover condition with the rules as they are; null: none (or no such rule yet)."))
    tier_after: int | None = strawberry.field(description="The same with the simulated rule.")
    turnover_reached: Decimal | None = strawberry.field(description=(
        "The value the client reached in the condition's basis period (EUR or quantity)."))
    products_priced: int = strawberry.field(description=(
        "Products whose prices were compared (0: the client was beyond the bound)."))
    average_change_percent: Decimal | None = strawberry.field(description=(
        "Mean change of the client's unit prices over the products in scope, in percent "
        "(negative: cheaper), two decimals."))
    largest_change_percent: Decimal | None = strawberry.field(description=(
        "The largest single change (by size), in percent."))


@strawberry.type(description="What a rule would do (docs/pricing.md, \"Managing rules\", "
                             "simulation).")
class PricingRuleSimulation:
    date: dt.date
    rule: PricingRuleSimulated
    clients_with_turnover: int = strawberry.field(description=(
        "Clients with turnover figures whose audience the rule covers (before or after)."))
    clients_simulated: int = strawberry.field(description="Of those, simulated (at most 5,000).")
    clients_priced: int = strawberry.field(description=(
        "Of those, whose prices were compared (clients × products at most 5,000)."))
    products_in_scope: int = strawberry.field(description=(
        "Active products in scope with a base price on the date (at most 5,000)."))
    complete: bool = strawberry.field(description="False when a bound cut the simulation.")
    average_change_percent: Decimal | None = strawberry.field(description=(
        "Mean of the clients' average changes over the clients priced (a client the rule "
        "leaves alone counts as 0 %)."))
    clients_changing_tier: int
    clients: list[PricingRuleSimulationClient] = strawberry.field(description=(
        "The clients whose tier or prices would change, the largest price drop first."))


@strawberry.type
class PricingRuleSimulationResult:
    simulation: PricingRuleSimulation | None
    user_errors: list[UserError]


def _simulation(sim: rule_simulation.Simulation) -> PricingRuleSimulation:
    return PricingRuleSimulation(
        date=sim.day, rule=PricingRuleSimulated(**_content(sim.rule)),
        clients_with_turnover=sim.clients_with_turnover,
        clients_simulated=sim.clients_simulated, clients_priced=sim.clients_priced,
        products_in_scope=sim.products_in_scope, complete=sim.complete,
        average_change_percent=sim.average_change_percent,
        clients_changing_tier=sum(1 for c in sim.clients if c.tier_changes),
        clients=[PricingRuleSimulationClient(
            client_id=strawberry.ID(str(c.client_id)), tier_before=c.tier_before,
            tier_after=c.tier_after, turnover_reached=c.reached_value,
            products_priced=c.products_priced, average_change_percent=c.average_change_percent,
            largest_change_percent=c.largest_change_percent) for c in sim.clients])


# --- inputs --------------------------------------------------------------------------------------


@strawberry.input
class PricingRuleScopeInput:
    kind: PricingRuleScopeKind | None = UNSET
    code: str | None = strawberry.field(default=UNSET, description="The product or product "
                                                                   "group code.")


@strawberry.input
class PricingRuleAudienceInput:
    kind: PricingRuleAudienceKind | None = UNSET
    id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="The client's or the client group's id (a UUID; the client "
                                   "need not be known to pricing yet).")


@strawberry.input
class PricingRuleEffectInput:
    kind: PricingRuleEffectKind | None = UNSET
    value: Decimal | None = UNSET


@strawberry.input
class PricingRuleTierInput:
    threshold: Decimal | None = UNSET
    effect: PricingRuleEffectInput | None = strawberry.field(
        default=UNSET, description="Either every tier of a condition names its effect or none "
                                   "does (then the rule's effect applies).")


@strawberry.input(description="One condition: its kind and that kind's fields (the others are "
                              "ignored). TURNOVER: window, basis, metric, productGroup, tiers. "
                              "ORDER: metric (default QUANTITY), tiers. GROUP_PURCHASE: "
                              "productGroup, minimum, window, basis, metric. PAYMENT_BEHAVIOUR: "
                              "minShareWithinTerm and/or maxAverageDaysLate. PAYMENT_TERM: "
                              "maxDays. CLIENT_GROUP: groupId.")
class PricingRuleConditionInput:
    kind: PricingRuleConditionKind | None = UNSET
    window: PricingRuleWindow | None = UNSET
    basis: PricingRuleBasis | None = UNSET
    metric: PricingRuleMetric | None = UNSET
    product_group: str | None = UNSET
    tiers: list[PricingRuleTierInput] | None = UNSET
    minimum: Decimal | None = UNSET
    min_share_within_term: Decimal | None = UNSET
    max_average_days_late: Decimal | None = UNSET
    max_days: int | None = UNSET
    group_id: strawberry.ID | None = UNSET


@strawberry.input(description="A new rule. Required: code (letters, digits, . _ / -; at most 40; "
                              "unique), name (at most 200), scope, audience, and an effect unless "
                              "a condition's tiers name theirs. Status DRAFT by default (ACTIVE "
                              "allowed).")
class CreatePricingRuleInput:
    code: str | None = UNSET
    name: str | None = UNSET
    scope: PricingRuleScopeInput | None = UNSET
    audience: PricingRuleAudienceInput | None = UNSET
    effect: PricingRuleEffectInput | None = UNSET
    valid_from: dt.date | None = UNSET
    valid_until: dt.date | None = UNSET
    priority: int | None = UNSET
    stacking: PricingRuleStacking | None = UNSET
    status: PricingRuleStatus | None = UNSET
    conditions: list[PricingRuleConditionInput] | None = UNSET


@strawberry.input(description="A new version of a rule: every field as it should be (what is "
                              "left out takes its default, as on creation). The code and the "
                              "status do not change here (activate or retire the rule for the "
                              "status); send the version you read.")
class UpdatePricingRuleInput:
    id: strawberry.ID
    version: int
    code: str | None = strawberry.field(default=UNSET, description="If given, the rule's own.")
    name: str | None = UNSET
    scope: PricingRuleScopeInput | None = UNSET
    audience: PricingRuleAudienceInput | None = UNSET
    effect: PricingRuleEffectInput | None = UNSET
    valid_from: dt.date | None = UNSET
    valid_until: dt.date | None = UNSET
    priority: int | None = UNSET
    stacking: PricingRuleStacking | None = UNSET
    conditions: list[PricingRuleConditionInput] | None = UNSET


@strawberry.input(description="Changes to a stored rule for a simulation: every field given "
                              "replaces the rule's (the code and status stay).")
class PricingRuleChangesInput:
    name: str | None = UNSET
    scope: PricingRuleScopeInput | None = UNSET
    audience: PricingRuleAudienceInput | None = UNSET
    effect: PricingRuleEffectInput | None = UNSET
    valid_from: dt.date | None = UNSET
    valid_until: dt.date | None = UNSET
    priority: int | None = UNSET
    stacking: PricingRuleStacking | None = UNSET
    conditions: list[PricingRuleConditionInput] | None = UNSET


@strawberry.input(description="What to simulate: a draft rule (rule), or a stored rule (id) with "
                              "changes; give one of rule and id. The rule is simulated as if "
                              "active; nothing is stored.")
class SimulatePricingRuleInput:
    rule: CreatePricingRuleInput | None = None
    id: strawberry.ID | None = None
    changes: PricingRuleChangesInput | None = None


@strawberry.input
class PricingRuleStatusInput:
    id: strawberry.ID
    version: int


@strawberry.input(description="Every field narrows the list. productCode: rules covering the "
                              "product (scope all, the product, or its group); "
                              "productGroupCode: rules touching the group (all, the group, a "
                              "product of it); clientId: rules whose audience covers the client "
                              "(all, the client, its group); clientGroupId: audience all or "
                              "that group. Add scopeKind / audienceKind for one kind only.")
class PricingRuleFilterInput:
    status: list[PricingRuleStatus] | None = None
    scope_kind: PricingRuleScopeKind | None = None
    product_group_code: str | None = None
    product_code: str | None = None
    audience_kind: PricingRuleAudienceKind | None = None
    client_id: strawberry.ID | None = None
    client_group_id: strawberry.ID | None = None
    search: str | None = None


def _plain(value: Any) -> Any:
    """An input value as ``parse_rule`` reads it: enums as their values, decimals as text (so
    that the domain's length limit on numbers applies), input objects as dicts."""
    if value is UNSET:
        return None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not UNSET}
    return value


def rule_raw(input: Any) -> dict[str, Any]:
    """A rule input as the raw snake_case dict of ``parse_rule``."""
    raw: dict[str, Any] = _plain(input)
    raw.pop("id", None)
    raw.pop("version", None)
    return raw


def _target(input: Any) -> tuple[uuid.UUID, Any]:
    raw = {"id": input.id, "version": input.version}
    c = Collector(raw)
    rule_id = c.run("id", lambda: parse_uuid(raw["id"]))
    c.done()
    assert rule_id is not None
    return rule_id, raw["version"]


# --- queries and mutations -----------------------------------------------------------------------


def _rule_connection(page: Any) -> PricingRuleConnection:
    return connection_of(page, PricingRuleConnection, PricingRuleEdge, PricingRule.from_row)


@strawberry.type
class RuleQuery:
    @strawberry.field(description="Pricing rules by code (every employee reads them).")
    async def pricing_rules(self, info: strawberry.Info,
                            filter: PricingRuleFilterInput | None = None,
                            first: int | None = None, after: str | None = None
                            ) -> PricingRuleConnection:
        size = requested_page_size(info, first)
        f = filter or PricingRuleFilterInput()

        def text(value: str | None, name: str) -> str | None:
            if value is None or not value.strip():
                return None
            if len(value) > 200:
                raise bad_input(f"filter.{name} has at most 200 characters")
            return value.strip()

        flt = rule_queries.RuleFilter(
            statuses=tuple(s.value for s in f.status or []),
            scope_kind=f.scope_kind.value if f.scope_kind else None,
            product_group_code=text(f.product_group_code, "productGroupCode"),
            product_code=text(f.product_code, "productCode"),
            audience_kind=f.audience_kind.value if f.audience_kind else None,
            client_id=filter_id(f.client_id, "clientId"),
            client_group_id=filter_id(f.client_group_id, "clientGroupId"),
            search=text(f.search, "search"))
        try:
            page = await rule_queries.list_rules(info.context.runtime.reader, flt, first=size,
                                                 after=after)
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        return _rule_connection(page)

    @strawberry.field(description="One rule by id or by code (give one); null when unknown.")
    async def pricing_rule(self, info: strawberry.Info, id: strawberry.ID | None = None,
                           code: str | None = None) -> PricingRule | None:
        if (id is None) == (code is None):
            raise bad_input("pricingRule takes either id or code")
        loaders = info.context.rule_loaders
        if id is not None:
            return await load_node(loaders.rule, lookup_id(id), PricingRule.from_row)
        assert code is not None
        if len(code) > rule_domain.MAX_CODE:
            return None
        return await load_node(loaders.rule_by_code, code.strip(), PricingRule.from_row)


    @strawberry.field(description="What a draft rule, or changes to a rule, would do on a date "
                                  "(default today): which clients would change tier and how "
                                  "far their prices would move. Nothing is stored. Managers "
                                  "and admins.")
    async def simulate_pricing_rule(self, info: strawberry.Info,
                                    input: SimulatePricingRuleInput,
                                    date: dt.date | None = None) -> PricingRuleSimulationResult:
        ctx = info.context

        async def act() -> rule_simulation.Simulation:
            rule_id = None
            if input.id is not None:
                c = Collector({"id": input.id})
                rule_id = c.run("id", lambda: parse_uuid(input.id))
                c.done()
            return await rule_simulation.simulate(
                ctx.runtime.reader, ctx.access, date or ctx.today,
                draft=None if input.rule is None else rule_raw(input.rule), rule_id=rule_id,
                changes=None if input.changes is None else rule_raw(input.changes),
                contract_priority=ctx.config.contract_priority)

        sim, errors = await mutate(info, act, service=SERVICE)
        return PricingRuleSimulationResult(
            simulation=None if sim is None else _simulation(sim), user_errors=errors)


@strawberry.type
class PricingRulePayload:
    pricing_rule: PricingRule | None
    user_errors: list[UserError]


async def _payload(info: strawberry.Info, action: Any) -> PricingRulePayload:
    loaders = info.context.rule_loaders
    rule_id, errors = await mutate(info, action, service=SERVICE,
                                   changed=changed_in(loaders.rule))
    loaders.rule_by_code.clear_all()
    return PricingRulePayload(
        pricing_rule=await load_node(loaders.rule, rule_id, PricingRule.from_row),
        user_errors=errors)


@strawberry.type
class RuleMutation:
    @strawberry.mutation(description="A new pricing rule (managers and admins): DRAFT unless "
                                     "status says ACTIVE.")
    async def create_pricing_rule(self, info: strawberry.Info, input: CreatePricingRuleInput
                                  ) -> PricingRulePayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await rule_commands.create_rule(uow, ctx.access, rule_raw(input))

        return await _payload(info, act)

    @strawberry.mutation(description="A new version of a rule (an active rule stays active and "
                                     "is checked against the other active rules again); send "
                                     "the version you read.")
    async def update_pricing_rule(self, info: strawberry.Info, input: UpdatePricingRuleInput
                                  ) -> PricingRulePayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            rule_id, version = _target(input)
            async with ctx.uow() as uow:
                return await rule_commands.update_rule(uow, ctx.access, rule_id, version,
                                                       rule_raw(input))

        return await _payload(info, act)

    @strawberry.mutation(description="A draft rule starts pricing quotes (refused with "
                                     "INDISTINGUISHABLE when an active rule could never be told "
                                     "apart from it).")
    async def activate_pricing_rule(self, info: strawberry.Info, input: PricingRuleStatusInput
                                    ) -> PricingRulePayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            rule_id, version = _target(input)
            async with ctx.uow() as uow:
                return await rule_commands.activate_rule(uow, ctx.access, rule_id, version)

        return await _payload(info, act)

    @strawberry.mutation(description="The rule stops pricing quotes, for good (retired is "
                                     "final; its versions stay readable).")
    async def retire_pricing_rule(self, info: strawberry.Info, input: PricingRuleStatusInput
                                  ) -> PricingRulePayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            rule_id, version = _target(input)
            async with ctx.uow() as uow:
                return await rule_commands.retire_rule(uow, ctx.access, rule_id, version)

        return await _payload(info, act)
