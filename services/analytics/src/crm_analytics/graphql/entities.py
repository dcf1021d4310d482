"""The entities the analytics subgraph extends: ``Client`` (turnover, sales metrics),
``ClientGroup`` (turnover), ``Employee`` (portfolio turnover)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

import strawberry

from crm_analytics.graphql import resolvers
from crm_analytics.graphql.report_types import (
    SalesMetrics,
    Turnover,
    TurnoverFigures,
    TurnoverGranularity,
    TurnoverGroupBy,
    YearOnYear,
)
from crm_common.graphql.entities import ExtendedEntity
from crm_common.graphql.money import Money

#: the first month of a report (``from`` is a reserved word in Python)
FromDate = Annotated[dt.date | None, strawberry.argument(
    name="from", description="The period's first month (any day of it); default: 11 months "
                             "before to.")]
ToDate = Annotated[dt.date | None, strawberry.argument(
    description="The period's last month (any day of it); default: the current month.")]


@strawberry.federation.type(keys=["id"], description="A client (the clients service owns it).")
class Client(ExtendedEntity):
    @strawberry.field(description="Goods turnover over whole months (default: the 12 months "
                                  "ending with the current one); null when you may not see the "
                                  "client.")
    async def turnover(self, info: strawberry.Info,
                       from_: FromDate = None,
                       to: ToDate = None,
                       granularity: TurnoverGranularity = TurnoverGranularity.MONTH
                       ) -> Turnover | None:
        return await resolvers.client_turnover(info, self.id, from_, to, granularity)

    @strawberry.field(description="ABC class, RFM scores, trend, payment behaviour and product "
                                  "groups to talk about; null when you may not see the client.")
    async def sales_metrics(self, info: strawberry.Info) -> SalesMetrics | None:
        return await resolvers.client_sales_metrics(info, self.id)


@strawberry.federation.type(keys=["id"], description="A client group (the clients service owns "
                                                      "it).")
class ClientGroup(ExtendedEntity):
    @strawberry.field(description="Turnover of the group's clients (those you may see).")
    async def turnover(self, info: strawberry.Info,
                       from_: FromDate = None,
                       to: ToDate = None,
                       granularity: TurnoverGranularity = TurnoverGranularity.MONTH
                       ) -> Turnover | None:
        return await resolvers.group_turnover(info, self.id, from_, to, granularity)


@strawberry.federation.type(keys=["id"], description="An employee (the clients service owns "
                                                      "the staff directory).")
class Employee(ExtendedEntity):
    @strawberry.field(description="Turnover of the clients the employee owns (those you may "
                                  "see).")
    async def portfolio_turnover(self, info: strawberry.Info,
                                 from_: FromDate = None,
                                 to: ToDate = None,
                                 granularity: TurnoverGranularity = TurnoverGranularity.MONTH
                                 ) -> Turnover | None:
        return await resolvers.portfolio_turnover(info, self.id, from_, to, granularity)


@strawberry.type(description="A client in a top list.")
class ClientRanking:
    rank: int
    client: Client | None = strawberry.field(description=(
        "The client; null when the clients service does not answer for it (issue 14: a "
        "non-null client would null the whole list)."))
    turnover: Money
    previous_year_turnover: Money
    change: Money
    change_percent: Decimal | None
    as_of: dt.datetime | None = strawberry.field(
        description="Data as of: the time of the latest ERP message applied.")


@strawberry.type(description="One row of a grouped turnover query.")
class TurnoverRow:
    key: str = strawberry.field(description="The client / group / owner id, the product (group) "
                                            "code, or the month (2026-03).")
    name: str | None = strawberry.field(description="The client's or product's name where "
                                                    "this service knows it.")
    client: Client | None = strawberry.field(description="With groupBy CLIENT.")
    client_group: ClientGroup | None = strawberry.field(description="With groupBy "
                                                                    "CLIENT_GROUP.")
    owner: Employee | None = strawberry.field(description="With groupBy OWNER.")
    figures: TurnoverFigures
    year_on_year: YearOnYear
    share: Decimal | None


@strawberry.type(description="The turnover query's answer.")
class TurnoverReport:
    as_of: dt.datetime | None
    from_: dt.date = strawberry.field(name="from")
    to: dt.date
    group_by: TurnoverGroupBy
    summary: Turnover = strawberry.field(description="The whole report: totals, year on year, "
                                                     "periods, by product group …")
    rows: list[TurnoverRow] = strawberry.field(description="By groupBy, biggest turnover "
                                                           "first (MONTH: in order).")
    total_rows: int = strawberry.field(description="Rows before first was applied.")
