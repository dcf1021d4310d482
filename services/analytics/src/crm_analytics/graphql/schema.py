"""The analytics subgraph: turnover reports, top lists, the ERP feed's operator lists, and the
fields it adds to ``Client``, ``ClientGroup`` and ``Employee``. Resolvers parse, call the service
layer, map (``graphql.resolvers``)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import strawberry

from crm_analytics.domain.metrics import Figures, share
from crm_analytics.domain.periods import Granularity
from crm_analytics.domain.turnover import Compared, Period, by_bucket, by_item
from crm_analytics.graphql.entities import (
    Client,
    ClientGroup,
    ClientRanking,
    Employee,
    FromDate,
    ToDate,
    TurnoverReport,
    TurnoverRow,
)
from crm_analytics.graphql.report_files import ReportFileMutation, ReportFileQuery
from crm_analytics.graphql.report_types import (
    ClientRankingBy,
    ErpDocument,
    ParkedErpMessage,
    TurnoverFigures,
    TurnoverGranularity,
    TurnoverGroupBy,
    YearOnYear,
    check_first,
)
from crm_analytics.graphql.reports import ReportMutation, ReportQuery
from crm_analytics.graphql.resolvers import context, period_of, require_admin, scoped_turnover
from crm_analytics.service_layer import ledger_queries
from crm_analytics.service_layer import turnover_queries as q
from crm_common.graphql.connections import PageInfo, requested_page_size
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import bad_input
from crm_common.graphql.money import Money
from crm_common.graphql.schema import Extensions, subgraph_schema
from crm_common.parsing import lookup_id

#: ids one filter list may name
MAX_FILTER_IDS = 500
MAX_ROWS = 1000


@strawberry.input(description="Which clients a turnover report covers (all given lists must "
                               "match; what you may not see is left out).")
class TurnoverFilter:
    client_ids: list[strawberry.ID] | None = None
    client_group_ids: list[strawberry.ID] | None = None
    owner_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Employees whose portfolios (owned clients) to cover.")


def _ids(values: list[strawberry.ID] | None, name: str) -> list[uuid.UUID] | None:
    if values is None:
        return None
    if len(values) > MAX_FILTER_IDS:
        raise bad_input(f"filter.{name}: at most {MAX_FILTER_IDS} ids")
    parsed = []
    for index, value in enumerate(values):
        found = lookup_id(value)
        if found is None:
            raise bad_input(f"filter.{name}[{index}]: not a valid id")
        parsed.append(found)
    return parsed


def _scope(f: TurnoverFilter | None) -> q.Scope:
    parts: list[q.Scope] = []
    if f is not None:
        clients = _ids(f.client_ids, "clientIds")
        groups = _ids(f.client_group_ids, "clientGroupIds")
        owners = _ids(f.owner_ids, "ownerIds")
        if clients is not None:
            parts.append(q.clients_in(clients))
        if groups is not None:
            member_of = [q.group_members(g) for g in groups]
            parts.append(lambda column: _any_of(column, member_of))
        if owners is not None:
            owned_by = [q.portfolio(o) for o in owners]
            parts.append(lambda column: _any_of(column, owned_by))
    return q.both(*parts) if parts else q.everyone()


def _only_clients(f: TurnoverFilter | None) -> list[uuid.UUID] | None:
    """The filter's client ids when it names clients and nothing else."""
    if f is None or f.client_ids is None or f.client_group_ids is not None \
            or f.owner_ids is not None:
        return None
    return _ids(f.client_ids, "clientIds")


def _any_of(column: sa.ColumnElement[Any], scopes: list[q.Scope]) -> sa.ColumnElement[bool]:
    if not scopes:
        return sa.false()
    return sa.or_(*(s(column) for s in scopes))


def _row(key: str, name: str | None, c: Compared, grand: Decimal, *,
         group_by: TurnoverGroupBy) -> TurnoverRow:
    keyed = group_by in (TurnoverGroupBy.CLIENT_GROUP, TurnoverGroupBy.OWNER) \
        and lookup_id(key) is not None
    return TurnoverRow(
        key=key, name=name,
        client=Client(id=strawberry.ID(key)) if group_by is TurnoverGroupBy.CLIENT else None,
        client_group=ClientGroup(id=strawberry.ID(key))
        if keyed and group_by is TurnoverGroupBy.CLIENT_GROUP else None,
        owner=Employee(id=strawberry.ID(key))
        if keyed and group_by is TurnoverGroupBy.OWNER else None,
        figures=TurnoverFigures.of(c.figures), year_on_year=YearOnYear.of(c),
        share=share(c.figures.turnover, grand))


@strawberry.type
class ErpDocumentEdge:
    cursor: str
    node: ErpDocument


@strawberry.type
class ErpDocumentConnection:
    edges: list[ErpDocumentEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class ParkedErpMessageEdge:
    cursor: str
    node: ParkedErpMessage


@strawberry.type
class ParkedErpMessageConnection:
    edges: list[ParkedErpMessageEdge]
    page_info: PageInfo
    total_count: int


@strawberry.type
class Query(ReportQuery, ReportFileQuery):
    @strawberry.field(description="Turnover of the clients a filter names (default: all you may "
                                  "see), with rows grouped by client, client group, owner, "
                                  "product group, product or month. For managers; a sales rep "
                                  "gets the figures of the clients they may see.")
    async def turnover(self, info: strawberry.Info, filter: TurnoverFilter | None = None,
                       from_: FromDate = None, to: ToDate = None,
                       granularity: TurnoverGranularity = TurnoverGranularity.MONTH,
                       group_by: TurnoverGroupBy = TurnoverGroupBy.CLIENT,
                       first: int = 100) -> TurnoverReport:
        ctx = context(info)
        check_first(first, MAX_ROWS)
        scope = _scope(filter)
        summary = scoped_turnover(ctx, scope, from_, to, granularity)
        period = summary.period
        ctx.prefetch_as_of()  # read beside the rows, on its own connection
        visible = q.both(scope, ctx.access.scope())
        rows: list[TurnoverRow]
        async with ctx.runtime.reader.connect() as conn:
            if group_by in (TurnoverGroupBy.PRODUCT_GROUP, TurnoverGroupBy.PRODUCT):
                product = group_by is TurnoverGroupBy.PRODUCT
                start = period.span().start
                clients = _only_clients(filter)
                if clients is not None and ctx.access.sees_all:
                    # the same rows as the scope's, through a statement built once
                    found = await q.item_months_of_clients(conn, clients, start, period.end,
                                                           product=product)
                else:
                    found = await q.item_months(conn, visible, start, period.end,
                                                product=product)
                items = by_item(found, period, ctx.today)
                grand = sum((i.compared.figures.turnover for i in items
                             if i.compared.figures.turnover > 0), Decimal(0))
                total_rows = len(items)
                items = items[:first]
                names = await q.names(conn, [i.code for i in items], product=product)
                rows = [_row(i.code, names.get(i.code), i.compared, grand, group_by=group_by)
                        for i in items]
            elif group_by is TurnoverGroupBy.MONTH:
                months = await q.monthly(conn, visible, period.previous_year().start,
                                         period.end)
                buckets = by_bucket(months, period, Granularity.MONTH)
                grand = sum((b.compared.figures.turnover for b in buckets
                             if b.compared.figures.turnover > 0), Decimal(0))
                total_rows = len(buckets)
                rows = [_row(b.bucket.label, None, b.compared, grand, group_by=group_by)
                        for b in buckets[:first]]
            else:
                key = group_by.value
                now = await q.grouped(conn, visible, period.start, period.end, key)
                before_period = period.previous_year()
                before = await q.grouped(conn, visible, before_period.start, before_period.end,
                                         key)
                keys = sorted(set(now) | set(before), key=lambda k: (
                    -(now.get(k) or Figures()).turnover, str(k)))
                total_rows = len(keys)
                keys = keys[:first]
                names_by_id = await q.client_names(
                    conn, [k for k in keys if k is not None]) \
                    if group_by is TurnoverGroupBy.CLIENT else {}
                grand = sum((f.turnover for f in now.values() if f.turnover > 0), Decimal(0))
                rows = [_row(str(k) if k is not None else "none",
                             names_by_id.get(k) if k is not None else None,
                             Compared(now.get(k) or Figures(), before.get(k) or Figures()),
                             grand, group_by=group_by)
                        for k in keys]
        return TurnoverReport(as_of=await ctx.as_of(), from_=period.start, to=period.end,
                              group_by=group_by, summary=summary, rows=rows,
                              total_rows=total_rows)

    @strawberry.field(description="The clients with the biggest turnover, growth or decline "
                                  "against the same period a year earlier (of those you may "
                                  "see). GROWTH lists only clients whose turnover grew, "
                                  "DECLINE only those whose turnover fell.")
    async def top_clients(self, info: strawberry.Info,
                          by: ClientRankingBy = ClientRankingBy.TURNOVER,
                          filter: TurnoverFilter | None = None, from_: FromDate = None,
                          to: ToDate = None, first: int = 10) -> list[ClientRanking]:
        ctx = context(info)
        check_first(first, MAX_ROWS)
        period: Period = period_of(from_, to, ctx.today)
        visible = q.both(_scope(filter), ctx.access.scope())
        async with ctx.runtime.reader.connect() as conn:
            now = await q.grouped(conn, visible, period.start, period.end, "client")
            earlier = period.previous_year()
            before = await q.grouped(conn, visible, earlier.start, earlier.end, "client")
        compared = {k: Compared(now.get(k) or Figures(), before.get(k) or Figures())
                    for k in set(now) | set(before) if k is not None}
        if by is ClientRankingBy.TURNOVER:
            order = sorted(compared, key=lambda k: (-compared[k].figures.turnover, str(k)))
        elif by is ClientRankingBy.GROWTH:  # the clients that grew, most first
            order = sorted((k for k in compared if compared[k].change.absolute > 0),
                           key=lambda k: (-compared[k].change.absolute, str(k)))
        else:  # the clients that declined, most first
            order = sorted((k for k in compared if compared[k].change.absolute < 0),
                           key=lambda k: (compared[k].change.absolute, str(k)))
        as_of = await ctx.as_of()
        return [ClientRanking(
            as_of=as_of, rank=i + 1, client=Client(id=strawberry.ID(str(k))),
            turnover=Money.eur(compared[k].figures.turnover),
            previous_year_turnover=Money.eur(compared[k].previous_year.turnover),
            change=Money.eur(compared[k].change.absolute),
            change_percent=compared[k].change.percent)
            for i, k in enumerate(order[:first])]

    @strawberry.field(description="When the sales data was last updated: the time of the "
                                  "latest ERP message applied.")
    async def sales_data_as_of(self, info: strawberry.Info) -> dt.datetime | None:
        return await context(info).as_of()

    @strawberry.field(description="ERP documents no CRM client matches yet (by CRM id, then "
                                  "EIK), newest first; matched automatically when the client "
                                  "appears. Admins only.")
    async def unmatched_erp_documents(self, info: strawberry.Info, first: int | None = None,
                                      after: str | None = None) -> ErpDocumentConnection:
        ctx = context(info)
        require_admin(ctx)
        size = requested_page_size(info, first)
        try:
            page = await ledger_queries.unmatched_documents(ctx.runtime.reader, first=size,
                                                            after=after)
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        counts = await ledger_queries.counts(ctx.runtime.reader)
        return ErpDocumentConnection(
            edges=[ErpDocumentEdge(cursor=c, node=ErpDocument.from_row(r))
                   for r, c in zip(page.rows, page.cursors, strict=True)],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            total_count=counts["unmatched"])

    @strawberry.field(description="ERP messages that could never apply (broken contract), "
                                  "kept with the reason, newest first. Admins only.")
    async def parked_erp_messages(self, info: strawberry.Info, first: int | None = None,
                                  after: str | None = None) -> ParkedErpMessageConnection:
        ctx = context(info)
        require_admin(ctx)
        size = requested_page_size(info, first)
        try:
            page = await ledger_queries.parked_messages(ctx.runtime.reader, first=size,
                                                        after=after)
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        counts = await ledger_queries.counts(ctx.runtime.reader)
        return ParkedErpMessageConnection(
            edges=[ParkedErpMessageEdge(cursor=c, node=ParkedErpMessage.from_row(r))
                   for r, c in zip(page.rows, page.cursors, strict=True)],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
            total_count=counts["parked"])


@strawberry.type
class Mutation(ReportMutation, ReportFileMutation):
    pass


def build_schema(extensions: Extensions | None = None) -> strawberry.Schema:
    return subgraph_schema(query=Query, mutation=Mutation,
                           types=[Client, ClientGroup, Employee], extensions=extensions)
