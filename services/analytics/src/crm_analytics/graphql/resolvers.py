"""The resolvers behind the analytics fields: parse the arguments, apply the access rule
(``service_layer.visibility``), call the service layer, map to the report types."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from decimal import Decimal

import strawberry
from graphql import GraphQLError

from crm_analytics.domain.metrics import Figures, share
from crm_analytics.domain.turnover import InvalidPeriod, ItemMonth, Period
from crm_analytics.graphql.context import Context
from crm_analytics.graphql.report_types import (
    AbcClassification,
    PaymentBehaviour,
    PeerProductGroup,
    ProductGroupRef,
    RfmScore,
    SalesMetrics,
    Source,
    Turnover,
    TurnoverGranularity,
)
from crm_analytics.service_layer import turnover_queries as q
from crm_common.graphql.errors import bad_input
from crm_common.graphql.money import Money
from crm_common.parsing import lookup_id


def context(info: strawberry.Info) -> Context:
    ctx = info.context
    assert isinstance(ctx, Context)
    return ctx


def period_of(from_: dt.date | None, to: dt.date | None, today: dt.date) -> Period:
    try:
        return Period.of(from_, to, today)
    except InvalidPeriod as exc:
        raise bad_input(str(exc)) from None


def forbidden(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def require_admin(ctx: Context) -> None:
    if not ctx.principal.is_admin:
        raise forbidden("only admins may list the ERP feed's unmatched and parked messages")


def client_source(ctx: Context, client_id: uuid.UUID) -> Source:
    """A client's figures through the request's loaders (one statement per batch)."""
    loaders = ctx.loaders

    async def months(p: Period) -> dict[dt.date, Figures]:
        return await loaders.months.load((client_id, p.start, p.end))

    async def items(p: Period, product: bool) -> list[ItemMonth]:
        return await loaders.item_months.load((client_id, p.start, p.end, product))

    return Source(months=months, items=items, names=ctx.names, as_of=ctx.as_of)


def keyed_source(ctx: Context, key: str, ref: uuid.UUID) -> Source:
    """The figures of a client group's (``key`` client_group) or an owner's (``owner``) clients
    that the principal may see, through the request's loaders (one statement per batch)."""
    loaders = ctx.loaders

    async def months(p: Period) -> dict[dt.date, Figures]:
        return await loaders.keyed_months.load((key, ref, p.start, p.end))

    async def items(p: Period, product: bool) -> list[ItemMonth]:
        return await loaders.keyed_item_months.load((key, ref, p.start, p.end, product))

    return Source(months=months, items=items, names=ctx.names, as_of=ctx.as_of)


def scope_source(ctx: Context, scope: q.Scope) -> Source:
    """A scope's figures through direct queries, each read once however many fields ask."""
    reader = ctx.runtime.reader
    read_months: dict[Period, asyncio.Future[dict[dt.date, Figures]]] = {}
    read_items: dict[tuple[Period, bool], asyncio.Future[list[ItemMonth]]] = {}

    async def load_months(p: Period) -> dict[dt.date, Figures]:
        async with reader.connect() as conn:
            return await q.monthly(conn, scope, p.start, p.end)

    async def load_items(p: Period, product: bool) -> list[ItemMonth]:
        async with reader.connect() as conn:
            return await q.item_months(conn, scope, p.start, p.end, product=product)

    async def months(p: Period) -> dict[dt.date, Figures]:
        if p not in read_months:
            read_months[p] = asyncio.ensure_future(load_months(p))
        return await asyncio.shield(read_months[p])

    async def items(p: Period, product: bool) -> list[ItemMonth]:
        if (p, product) not in read_items:
            read_items[(p, product)] = asyncio.ensure_future(load_items(p, product))
        return await asyncio.shield(read_items[(p, product)])

    return Source(months=months, items=items, names=ctx.names, as_of=ctx.as_of)


def _report(ctx: Context, source: Source, from_: dt.date | None, to: dt.date | None,
            granularity: TurnoverGranularity) -> Turnover:
    return Turnover(period=period_of(from_, to, ctx.today), granularity=granularity,
                    today=ctx.today, source=source)


async def client_turnover(info: strawberry.Info, id: strawberry.ID, from_: dt.date | None,
                          to: dt.date | None, granularity: TurnoverGranularity
                          ) -> Turnover | None:
    ctx = context(info)
    client_id = lookup_id(id)
    if client_id is None or not await ctx.loaders.visible.load(client_id):
        return None
    return _report(ctx, client_source(ctx, client_id), from_, to, granularity)


async def group_turnover(info: strawberry.Info, id: strawberry.ID, from_: dt.date | None,
                         to: dt.date | None, granularity: TurnoverGranularity
                         ) -> Turnover | None:
    ctx = context(info)
    group_id = lookup_id(id)
    if group_id is None:
        return None
    return _report(ctx, keyed_source(ctx, "client_group", group_id), from_, to, granularity)


async def portfolio_turnover(info: strawberry.Info, id: strawberry.ID, from_: dt.date | None,
                             to: dt.date | None, granularity: TurnoverGranularity
                             ) -> Turnover | None:
    ctx = context(info)
    owner = lookup_id(id)
    if owner is None:
        return None
    return _report(ctx, keyed_source(ctx, "owner", owner), from_, to, granularity)


def scoped_turnover(ctx: Context, scope: q.Scope, from_: dt.date | None, to: dt.date | None,
                    granularity: TurnoverGranularity) -> Turnover:
    return _report(ctx, scope_source(ctx, q.both(scope, ctx.access.scope())), from_, to,
                   granularity)


async def client_sales_metrics(info: strawberry.Info, id: strawberry.ID) -> SalesMetrics | None:
    ctx = context(info)
    client_id = lookup_id(id)
    if client_id is None or not await ctx.loaders.visible.load(client_id):
        return None
    s = await ctx.loaders.sales_metrics.load(client_id)
    codes = s.stopped_groups + [code for code, _ in s.peer_groups]
    names = await ctx.names(codes, False)
    p = s.payment
    return SalesMetrics(
        as_of=await ctx.as_of(),
        abc=None if s.abc is None else AbcClassification(
            abc_class=s.abc.abc_class, share=s.abc.share,
            cumulative_share=s.abc.cumulative_share, rank=s.abc.rank,
            clients=s.ranked_clients),
        rfm=None if s.rfm is None else RfmScore(
            recency=s.rfm.recency, frequency=s.rfm.frequency, monetary=s.rfm.monetary,
            score=s.rfm.score, segment=s.rfm.segment,
            days_since_last_invoice=s.rfm.days_since_last_invoice),
        trend=s.trend, trend_strength=s.trend_strength,
        payment=PaymentBehaviour(
            window_months=12, invoices_due=p.invoices_due, paid_within_term=p.paid_within_term,
            paid_within_term_share=share(Decimal(p.paid_within_term),
                                         Decimal(p.invoices_due)),
            average_days_late=p.average_days_late, max_days_late=p.max_days_late,
            overdue_amount=Money.eur(p.overdue_amount), overdue_invoices=p.overdue_invoices,
            payment_term_days=s.payment_term_days),
        stopped_product_groups=[ProductGroupRef(code=c, name=names.get(c))
                                for c in s.stopped_groups],
        product_groups_peers_buy=[PeerProductGroup(code=c, name=names.get(c), peer_share=part)
                                  for c, part in s.peer_groups])

