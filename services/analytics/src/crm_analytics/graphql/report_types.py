"""The analytics subgraph's report types: turnover reports, sales metrics, the ERP documents an
operator looks at. The entities it extends are in ``entities.py``."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import strawberry

from crm_analytics.domain import metrics as m
from crm_analytics.domain.periods import Granularity
from crm_analytics.domain.turnover import (
    Compared,
    ItemMonth,
    ItemRow,
    Period,
    by_bucket,
    by_item,
    compared,
    monthly_trend,
)
from crm_common.graphql.errors import bad_input
from crm_common.graphql.money import EUR, Money


@strawberry.enum(description="How a period's figures are broken down.")
class TurnoverGranularity(enum.Enum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"

    @property
    def domain(self) -> Granularity:
        return Granularity(self.value)


TrendEnum = strawberry.enum(m.Trend, name="Trend", description=(
    "The direction of monthly turnover over the last 12 closed months: the least-squares line's "
    "change over a year relative to the average month, above +10 % GROWING, below −10 % "
    "DECLINING (docs/analytics.md)."))
AbcClassEnum = strawberry.enum(m.AbcClass, name="AbcClass")


@strawberry.type(description="Figures of a period. turnover = invoiced − credited (EUR).")
class TurnoverFigures:
    """Each field made from the figures when it is asked for: a report's rows ask for a few of
    nine (and a year-on-year comparison for one of four), and making all of them was a tenth of
    a by-product-group request."""

    figures: strawberry.Private[m.Figures]

    @strawberry.field(description="Invoiced net minus credit notes, EUR.")
    def turnover(self) -> Money:
        return Money.eur(self.figures.turnover)

    @strawberry.field(description="Net amount of invoices, EUR.")
    def invoiced(self) -> Money:
        return Money.eur(self.figures.invoiced_net)

    @strawberry.field(description="Net amount of credit notes, EUR.")
    def credited(self) -> Money:
        return Money.eur(self.figures.credited_net)

    @strawberry.field(description="Invoiced minus credited quantity.")
    def quantity(self) -> Decimal:
        return self.figures.quantity

    @strawberry.field
    def invoices(self) -> int:
        return self.figures.invoices

    @strawberry.field
    def credit_notes(self) -> int:
        return self.figures.credit_notes

    @strawberry.field(description="Net amount of confirmed orders, EUR.")
    def ordered(self) -> Money:
        return Money.eur(self.figures.ordered_net)

    @strawberry.field
    def ordered_quantity(self) -> Decimal:
        return self.figures.ordered_quantity

    @strawberry.field
    def orders(self) -> int:
        return self.figures.orders

    @classmethod
    def of(cls, f: m.Figures) -> TurnoverFigures:
        return cls(figures=f)


@strawberry.type(description="The same figures a year earlier, and the change.")
class YearOnYear:
    """Made from the comparison when a field is asked for (see ``TurnoverFigures``)."""

    compared: strawberry.Private[Compared]

    @strawberry.field
    def previous_year(self) -> TurnoverFigures:
        return TurnoverFigures(figures=self.compared.previous_year)

    @strawberry.field(description="turnover − the previous year's turnover.")
    def change(self) -> Money:
        return Money.eur(self.compared.change.absolute)

    @strawberry.field(description="The change in % of the previous year's turnover (1 decimal); "
                                  "null when that was 0.")
    def change_percent(self) -> Decimal | None:
        return self.compared.change.percent

    @strawberry.field
    def quantity_change(self) -> Decimal:
        return self.compared.quantity_change.absolute

    @classmethod
    def of(cls, c: Compared) -> YearOnYear:
        return cls(compared=c)


@strawberry.type(description="A month, quarter, half-year or year of a report.")
class TurnoverPeriod:
    label: str = strawberry.field(description="2026-03, 2026-Q1, 2026-H1 or 2026.")
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    figures: TurnoverFigures
    year_on_year: YearOnYear


@strawberry.type(description="A product group or product in a report.")
class TurnoverItem:
    code: str
    name: str | None = strawberry.field(description="From the ERP's catalogue (null if unknown).")
    product_group_code: str
    turnover: Money
    quantity: Decimal
    share: Decimal | None = strawberry.field(
        description="% of the report's turnover (2 decimals); null when that is not positive.")
    year_on_year: YearOnYear
    trend: TrendEnum  # type: ignore[valid-type]

    @classmethod
    def of(cls, row: ItemRow, name: str | None) -> TurnoverItem:
        return cls(code=row.code, name=name, product_group_code=row.group_code,
                   turnover=Money.eur(row.compared.figures.turnover),
                   quantity=row.compared.figures.quantity, share=row.share,
                   year_on_year=YearOnYear.of(row.compared), trend=row.trend)


@dataclass
class Source:
    """Where a report's figures come from: a client through the request's loaders, or a scope
    (group, portfolio, everyone) through direct queries."""

    months: Callable[[Period], Awaitable[dict[dt.date, m.Figures]]]
    items: Callable[[Period, bool], Awaitable[list[ItemMonth]]]
    names: Callable[[list[str], bool], Awaitable[dict[str, str]]]
    as_of: Callable[[], Awaitable[dt.datetime | None]]


#: most items a breakdown returns
MAX_ITEMS = 500


def check_first(first: int, maximum: int = MAX_ITEMS) -> int:
    """``first`` of a breakdown or a ranked list: 1 to ``maximum``, else BAD_USER_INPUT."""
    if not 1 <= first <= maximum:
        raise bad_input(f"first: give 1 to {maximum}")
    return first


@strawberry.type(description="Goods turnover of a client, a client group, a portfolio or all "
                             "clients over a period of whole months (EUR; docs/analytics.md).")
class Turnover:
    period: strawberry.Private[Period]
    granularity: TurnoverGranularity
    today: strawberry.Private[dt.date]
    source: strawberry.Private[Source]
    currency: str = EUR

    @strawberry.field(name="from", description="The first day of the period's first month.")
    def from_(self) -> dt.date:
        return self.period.start

    @strawberry.field(description="The last day of the period's last month.")
    def to(self) -> dt.date:
        return self.period.end

    @strawberry.field(description="Data as of: the time of the latest ERP message applied.")
    async def as_of(self) -> dt.datetime | None:
        return await self.source.as_of()

    async def _months(self) -> dict[dt.date, m.Figures]:
        return await self.source.months(self.period.span())

    @strawberry.field(description="The period's figures.")
    async def total(self) -> TurnoverFigures:
        return TurnoverFigures.of(compared(await self._months(), self.period).figures)

    @strawberry.field(description="The same months a year earlier, and the change.")
    async def year_on_year(self) -> YearOnYear:
        return YearOnYear.of(compared(await self._months(), self.period))

    @strawberry.field(description="The period by month, quarter, half-year or year "
                                  "(granularity), each beside the same bucket a year earlier.")
    async def periods(self) -> list[TurnoverPeriod]:
        months = await self._months()
        return [TurnoverPeriod(label=p.bucket.label, from_=p.bucket.start, to=p.bucket.end,
                               figures=TurnoverFigures.of(p.compared.figures),
                               year_on_year=YearOnYear.of(p.compared))
                for p in by_bucket(months, self.period, self.granularity.domain)]

    @strawberry.field(description="The 12 months ending with the period's last month.")
    async def rolling_12_months(self) -> TurnoverPeriod:
        window = self.period.rolling_12()
        c = compared(await self._months(), window)
        return TurnoverPeriod(label=f"{window.start:%Y-%m}..{window.end:%Y-%m}",
                              from_=window.start, to=window.end,
                              figures=TurnoverFigures.of(c.figures),
                              year_on_year=YearOnYear.of(c))

    @strawberry.field(description="The trend of the 12 closed months ending with the period.")
    async def trend(self) -> TrendEnum:  # type: ignore[valid-type]
        return monthly_trend(await self._months(), self.period, self.today)

    async def _items(self, product: bool, group: str | None, first: int) -> list[TurnoverItem]:
        check_first(first)
        ranked = by_item(await self.source.items(self.period.span(), product), self.period,
                         self.today)
        if group is not None:  # after the shares: those are of the whole turnover
            ranked = [r for r in ranked if r.group_code == group]
        ranked = ranked[:first]
        names = await self.source.names([r.code for r in ranked], product)
        return [TurnoverItem.of(r, names.get(r.code)) for r in ranked]

    @strawberry.field(description="By product group, biggest turnover first, with share of "
                                  "the total and trend.")
    async def by_product_group(self, first: int = 100) -> list[TurnoverItem]:
        return await self._items(False, None, first)

    @strawberry.field(description="By product, biggest turnover first (of one product group "
                                  "when productGroupCode is given; the shares stay those of "
                                  "the whole turnover).")
    async def by_product(self, product_group_code: str | None = None,
                         first: int = 50) -> list[TurnoverItem]:
        return await self._items(True, product_group_code, first)


@strawberry.type(description="The client's ABC class: clients ranked by turnover over the "
                             "rolling 12 months; A up to 80 % of the total, B up to 95 %, C the "
                             "rest (cut-offs configurable).")
class AbcClassification:
    abc_class: AbcClassEnum = strawberry.field(name="class")  # type: ignore[valid-type]
    share: Decimal = strawberry.field(description="% of all clients' turnover.")
    cumulative_share: Decimal
    rank: int
    clients: int = strawberry.field(description="How many clients were ranked.")


@strawberry.type(description="RFM scores 1–5 (5 best) among all clients with invoices in the "
                             "rolling 12 months, and the segment they name.")
class RfmScore:
    recency: int
    frequency: int
    monetary: int
    score: str = strawberry.field(description="The three digits, e.g. 545.")
    segment: str
    days_since_last_invoice: int


@strawberry.type(description="How the client paid the invoices due in the last 12 months.")
class PaymentBehaviour:
    window_months: int
    invoices_due: int
    paid_within_term: int
    paid_within_term_share: Decimal | None = strawberry.field(
        description="% of invoices due paid within term; null when none was due.")
    average_days_late: Decimal
    max_days_late: int
    overdue_amount: Money = strawberry.field(description="Outstanding past the due date now.")
    overdue_invoices: int
    payment_term_days: int | None = strawberry.field(
        description="The client's preferred payment term (from the client's dossier).")


@strawberry.type(description="A product group, by its ERP code.")
class ProductGroupRef:
    code: str
    name: str | None


@strawberry.type(description="A product group the client's peers buy and the client does not.")
class PeerProductGroup:
    code: str
    name: str | None
    peer_share: Decimal = strawberry.field(
        description="Share (0–1) of the clients of the same client group who bought it.")


@strawberry.type(description="Sales metrics of a client (docs/analytics.md says how each is "
                             "computed).")
class SalesMetrics:
    as_of: dt.datetime | None
    abc: AbcClassification | None = strawberry.field(
        description="Null when the client has no figures in the rolling 12 months; C with "
                    "share 0 when it has some but no positive turnover (orders only, or more "
                    "credited than invoiced).")
    rfm: RfmScore | None = strawberry.field(
        description="Null when the client has no invoice in the rolling 12 months.")
    trend: TrendEnum  # type: ignore[valid-type]
    trend_strength: Decimal | None
    payment: PaymentBehaviour
    stopped_product_groups: list[ProductGroupRef] = strawberry.field(
        description="Bought in the 6 months before the last 3, not in the last 3 (the current "
                    "month and the two before it).")
    product_groups_peers_buy: list[PeerProductGroup] = strawberry.field(
        description="Bought in the rolling 12 months by at least half of the clients of the same "
                    "client group, not by this client.")


@strawberry.enum(description="What a top list ranks by.")
class ClientRankingBy(enum.Enum):
    TURNOVER = "turnover"
    GROWTH = "growth"
    DECLINE = "decline"


@strawberry.enum(description="How the turnover query groups its rows.")
class TurnoverGroupBy(enum.Enum):
    CLIENT = "client"
    CLIENT_GROUP = "client_group"
    OWNER = "owner"
    PRODUCT_GROUP = "product_group"
    PRODUCT = "product"
    MONTH = "month"


@strawberry.type(description="An ERP document (order, invoice, credit note) as the ledger "
                             "keeps it.")
class ErpDocument:
    doc_type: str = strawberry.field(description="order, or invoice (credit notes included).")
    erp_id: str
    kind: str = strawberry.field(description="order, invoice or credit_note.")
    number: str
    status: str = strawberry.field(description="confirmed, posted or cancelled.")
    date: dt.date
    erp_client_id: str | None = strawberry.field(description="The CRM id the ERP sent, if any.")
    client_eik: str | None
    currency: str
    net_amount: Money
    net_amount_eur: Money
    line_count: int
    version: int
    received_at: dt.datetime
    notes: list[str]

    @classmethod
    def from_row(cls, r: Any) -> ErpDocument:
        return cls(doc_type=r.doc_type, erp_id=r.erp_id, kind=r.kind, number=r.number,
                   status=r.status, date=r.doc_date, erp_client_id=r.erp_client_id,
                   client_eik=r.client_eik, currency=r.currency,
                   net_amount=Money(amount=r.net_amount, currency=r.currency),
                   net_amount_eur=Money.eur(r.net_amount_eur), line_count=r.line_count,
                   version=r.version, received_at=r.received_at, notes=list(r.notes or []))


@strawberry.type(description="An ERP message that could never apply, kept with the reason.")
class ParkedErpMessage:
    id: strawberry.ID
    event_id: str | None
    event_type: str | None
    subject: str | None
    reason: str
    source: str = strawberry.field(description="feed, or import FILE:LINE.")
    parked_at: dt.datetime

    @classmethod
    def from_row(cls, r: Any) -> ParkedErpMessage:
        return cls(id=strawberry.ID(str(r.id)), event_id=r.event_id, event_type=r.event_type,
                   subject=r.subject, reason=r.reason, source=r.source, parked_at=r.parked_at)
