"""GraphQL types of what a price is: a quote and its lines with their explanation, the
next-tier hints, a client's tiers and a client's price list."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal

import strawberry

from crm_common.graphql.connections import PageInfo
from crm_common.graphql.cursors import encode_cursor
from crm_common.graphql.errors import UserError
from crm_common.graphql.money import Money
from crm_pricing.domain.conditions import Hint, TierStatus
from crm_pricing.domain.resolution import LinePrice, NotApplied, Step
from crm_pricing.domain.turnover import Period
from crm_pricing.service_layer.pricing_inputs import ProductRow
from crm_pricing.service_layer.quote import PricedQuote, PriceListEntry, PriceListPage


@strawberry.enum(description="What a step of the price did.")
class PriceStepKind(enum.Enum):
    BASE_PRICE = "base_price"
    EXCLUSIVE = "exclusive"
    CUMULATIVE = "cumulative"
    ROUNDING = "rounding"


@strawberry.enum(description="What a condition measures.")
class PricingMetric(enum.Enum):
    NET_AMOUNT = "net_amount"
    QUANTITY = "quantity"


@strawberry.type(description="A product as pricing knows it (from the ERP's catalogue).")
class PricedProduct:
    code: str
    name: str
    product_group_code: str
    product_group_name: str | None
    unit: str

    @classmethod
    def of(cls, row: ProductRow) -> PricedProduct:
        return cls(code=row.code, name=row.name, product_group_code=row.group_code,
                   product_group_name=row.group_name, unit=row.unit)


@strawberry.type(description="One step the price made, in order: the base price, the exclusive "
                             "rule that won, each cumulative rule, the rounding.")
class PriceStep:
    kind: PriceStepKind
    rule_code: str | None
    rule_version: int | None
    before: Decimal = strawberry.field(description="Unit price before the step (unrounded).")
    after: Decimal = strawberry.field(description="Unit price after the step (unrounded, "
                                                  "except after the rounding step).")
    code: str = strawberry.field(description="EXCLUSIVE_WINNER, CONTRACT_DISCOUNT, CUMULATIVE, "
                                             "BASE_PRICE, ROUNDED_HALF_UP")
    message: str

    @classmethod
    def of(cls, step: Step) -> PriceStep:
        return cls(kind=PriceStepKind(step.kind.value), rule_code=step.rule_code,
                   rule_version=step.rule_version, before=step.before, after=step.after,
                   code=step.reason_code, message=step.message)


@strawberry.type(description="A rule considered for a line and not applied, with the reason.")
class RuleNotApplied:
    rule_code: str
    rule_version: int
    code: str = strawberry.field(description="NOT_ACTIVE, OUT_OF_VALIDITY, "
                                             "TURNOVER_BELOW_THRESHOLD, LOWER_PRIORITY, "
                                             "CONTRACT_NOT_IN_FORCE, ... (docs/pricing.md)")
    message: str

    @classmethod
    def of(cls, n: NotApplied) -> RuleNotApplied:
        return cls(rule_code=n.rule_code, rule_version=n.rule_version, code=n.reason_code,
                   message=n.message)


@strawberry.type(description="How far the client is from a rule's next tier: \"€1,800 more in "
                             "Beverages by 31 March 2027 → 7 %\".")
class TierHint:
    rule_code: str
    threshold: Decimal
    gap: Decimal
    metric: PricingMetric
    effect: str | None = strawberry.field(description="What the tier gives, in words.")
    deadline: dt.date | None = strawberry.field(
        description="The last day purchases count (null: this order's own lines).")
    effective_from: dt.date | None = strawberry.field(
        description="When reaching it takes effect (previous-closed-period rules: the next "
                    "period's first day).")
    message: str

    @classmethod
    def of(cls, h: Hint) -> TierHint:
        return cls(rule_code=h.rule_code, threshold=h.threshold, gap=h.gap,
                   metric=PricingMetric(h.metric.value),
                   effect=h.effect.describe() if h.effect else None, deadline=h.deadline,
                   effective_from=h.effective_from, message=h.message)


@strawberry.type(description="One priced line of a quote.")
class QuoteLine:
    line_number: int = strawberry.field(description="1-based, in the order given.")
    product: PricedProduct
    quantity: Decimal
    base_price: Money = strawberry.field(description="Per unit, from the base price list.")
    base_price_list_code: str
    unit_price: Money = strawberry.field(description="Per unit, rounded half-up to the cent.")
    discount: Money = strawberry.field(description="Per unit: base price − unit price.")
    discount_percent: Decimal
    base_total: Money
    total: Money
    price: strawberry.Private[LinePrice]

    @strawberry.field(description="The steps the price made, in order.")
    def steps(self) -> list[PriceStep]:
        return [PriceStep.of(s) for s in self.price.steps]

    @strawberry.field(description="The rules considered for the line and not applied, with the "
                                  "reason.")
    def not_applied(self) -> list[RuleNotApplied]:
        return [RuleNotApplied.of(n) for n in self.price.not_applied]

    @strawberry.field(description="How far the client is from a better tier on this line.")
    def hints(self) -> list[TierHint]:
        return [TierHint.of(h) for h in self.price.hints]


@strawberry.type(description="A rule version a quote used or considered.")
class RuleVersionRef:
    code: str
    version: int


@strawberry.type(description="A priced quote: nothing is stored.")
class Quote:
    client_id: strawberry.ID
    date: dt.date
    payment_term_days: int | None
    currency: str
    lines: list[QuoteLine]
    base_total: Money
    total: Money
    discount_total: Money
    hints: list[TierHint] = strawberry.field(description="Every next-tier hint once.")
    rules: list[RuleVersionRef] = strawberry.field(
        description="The version of every rule the quote applied or considered.")
    turnover_as_of: dt.datetime | None = strawberry.field(
        description="When the client's turnover figures (from analytics) were current; null: "
                    "none received yet.")

    @classmethod
    def of(cls, q: PricedQuote) -> Quote:
        lines = []
        for i, lp in enumerate(q.price.lines):
            code = lp.line.product.code
            lines.append(QuoteLine(
                line_number=i + 1, product=PricedProduct.of(q.products[code]),
                quantity=lp.line.quantity, base_price=Money.exact(lp.base_price),
                base_price_list_code=q.base[code].price_list_code,
                unit_price=Money.eur(lp.unit_price), discount=Money.exact(lp.discount),
                discount_percent=lp.discount_percent,
                base_total=Money.eur(lp.base_total), total=Money.eur(lp.line_total),
                price=lp))
        return cls(client_id=strawberry.ID(str(q.request.client_id)), date=q.request.date,
                   payment_term_days=q.request.payment_term_days, currency="EUR", lines=lines,
                   base_total=Money.eur(q.price.base_total), total=Money.eur(q.price.total),
                   discount_total=Money.eur(q.price.discount_total),
                   hints=[TierHint.of(h) for h in q.price.hints],
                   rules=[RuleVersionRef(code=c, version=v) for c, v in q.rules_used],
                   turnover_as_of=q.turnover_as_of)


@strawberry.type
class QuotePayload:
    quote: Quote | None
    user_errors: list[UserError]


@strawberry.input(description="One line of a quote.")
class QuoteLineInput:
    product_code: str
    quantity: Decimal


@strawberry.input(description="What to price: a client, a day (default today), the payment "
                              "term, and up to 1,000 lines.")
class QuoteInput:
    client_id: strawberry.ID
    date: dt.date | None = None
    payment_term_days: int | None = None
    lines: list[QuoteLineInput]


# --- tiers -------------------------------------------------------------------------------------


@strawberry.type(description="A run of whole months.")
class MonthPeriod:
    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, p: Period) -> MonthPeriod:
        return cls(start=p.start, end=p.end)


@strawberry.type(description="Where the client stands on one turnover condition of a rule.")
class PricingTier:
    rule_code: str
    window: str = strawberry.field(description="month, quarter, half_year, year, "
                                               "rolling_12_months")
    basis: str = strawberry.field(description="previous_closed or to_date")
    metric: PricingMetric
    product_group_code: str | None
    basis_period: MonthPeriod = strawberry.field(description="The period the tier is read from.")
    reached: Decimal = strawberry.field(description="What the client reached in it (EUR for "
                                                    "amounts).")
    tier: int | None = strawberry.field(description="The tier reached (1 = the lowest); null: "
                                                    "none.")
    tier_effect: str | None
    progress_period: MonthPeriod = strawberry.field(
        description="The current period, whose purchases count toward the next tier.")
    progress: Decimal
    next_threshold: Decimal | None
    next_tier_effect: str | None
    gap: Decimal | None = strawberry.field(description="What is missing to the next threshold.")
    deadline: dt.date | None = strawberry.field(description="By when it must be reached.")
    effective_from: dt.date | None

    @classmethod
    def of(cls, s: TierStatus) -> PricingTier:
        c = s.condition
        tier_effect = s.tier.effect if s.tier is not None else None
        next_effect = s.next_tier.effect if s.next_tier is not None else None
        return cls(rule_code=s.rule_code, window=c.window.value, basis=c.basis.value,
                   metric=PricingMetric(c.metric.value), product_group_code=c.product_group,
                   basis_period=MonthPeriod.of(s.basis_period), reached=s.reached_value,
                   tier=s.tier_number,
                   tier_effect=tier_effect.describe() if tier_effect else None,
                   progress_period=MonthPeriod.of(s.progress_period), progress=s.progress_value,
                   next_threshold=s.next_threshold,
                   next_tier_effect=next_effect.describe() if next_effect else None,
                   gap=s.gap, deadline=s.deadline, effective_from=s.effective_from)


# --- the client's price list -------------------------------------------------------------------


@strawberry.type(description="A product of the client's price list: base price, the client's "
                             "price for one unit, and the rule that made it.")
class ClientPrice:
    product: PricedProduct
    base_price: Money
    base_price_list_code: str
    price: Money
    discount_percent: Decimal
    rule_code: str | None = strawberry.field(
        description="The exclusive rule (or contract) that won; null: the base price.")
    rule_version: int | None
    price_steps: strawberry.Private[tuple[Step, ...]]

    @strawberry.field(description="The steps the price made, in order.")
    def steps(self) -> list[PriceStep]:
        return [PriceStep.of(s) for s in self.price_steps]

    @classmethod
    def of(cls, e: PriceListEntry) -> ClientPrice:
        applied = e.price.applied
        return cls(product=PricedProduct.of(e.product), base_price=Money.exact(e.base.price),
                   base_price_list_code=e.base.price_list_code,
                   price=Money.eur(e.price.unit_price),
                   discount_percent=e.price.discount_percent,
                   rule_code=applied[0].rule_code if applied else None,
                   rule_version=applied[0].rule_version if applied else None,
                   price_steps=e.price.steps)


@strawberry.type
class ClientPriceEdge:
    cursor: str
    node: ClientPrice


@strawberry.type(description="The client's personal price list, by product code.")
class ClientPriceConnection:
    edges: list[ClientPriceEdge]
    page_info: PageInfo
    date: dt.date
    turnover_as_of: dt.datetime | None

    @classmethod
    def of(cls, page: PriceListPage, day: dt.date) -> ClientPriceConnection:
        edges = [ClientPriceEdge(cursor=encode_cursor([e.product.code]), node=ClientPrice.of(e))
                 for e in page.entries]
        return cls(edges=edges, page_info=PageInfo(
            has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None),
            date=day, turnover_as_of=page.turnover_as_of)


@strawberry.input(description="Which products of the price list.")
class ClientPriceFilter:
    product_group_code: str | None = None
    search: str | None = None



@strawberry.enum(description="The file format of an export.")
class PriceListFormat(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"


@strawberry.type(description="A short-lived signed URL of the client's price list as a file, "
                             "served by the pricing service itself (not the gateway); anyone "
                             "holding it may download until it expires.")
class PriceListExport:
    url: str
    expires_at: dt.datetime
    format: PriceListFormat
