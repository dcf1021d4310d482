"""The entities the pricing subgraph extends: ``Client`` (its personal price list and its
pricing tiers)."""

from __future__ import annotations

import datetime as dt

import strawberry

from crm_common.graphql.connections import requested_page_size
from crm_common.graphql.cursors import InvalidCursor, decode_cursor
from crm_common.graphql.entities import ExtendedEntity
from crm_common.graphql.errors import bad_input
from crm_common.parsing import lookup_id
from crm_pricing.graphql.quote_types import (
    ClientPriceConnection,
    ClientPriceFilter,
    PriceListExport,
    PriceListFormat,
    PricingTier,
)
from crm_pricing.http.exports import signed_url
from crm_pricing.service_layer import quote as q


def _after(after: str | None) -> str | None:
    if after is None:
        return None
    try:
        (code,) = decode_cursor(after, 1)
    except InvalidCursor as exc:
        raise bad_input(f"after: {exc}") from None
    if not isinstance(code, str):
        raise bad_input("after: malformed cursor")
    return code


def _day(info: strawberry.Info, date: dt.date | None) -> dt.date:
    day = date or info.context.today
    if not q.EARLIEST <= day <= q.LATEST:
        raise bad_input(f"date must be between {q.EARLIEST} and {q.LATEST}")
    return day


@strawberry.federation.type(keys=["id"], description="A client (the clients service owns it).")
class Client(ExtendedEntity):
    @strawberry.field(description="Where the client stands on each turnover rule that concerns "
                                  "it: reached in the basis period, the tier, the next "
                                  "threshold, the gap and the date by which to reach it; null "
                                  "when you may not see the client.")
    async def pricing_tier(self, info: strawberry.Info,
                           date: dt.date | None = None) -> list[PricingTier] | None:
        ctx = info.context
        client_id = lookup_id(self.id)
        if client_id is None:
            return None
        tiers = await q.client_tiers(ctx.runtime.reader, ctx.rules, ctx.access, client_id,
                                     _day(info, date))
        return None if tiers is None else [PricingTier.of(t) for t in tiers]

    @strawberry.field(description="The client's personal price list on a day (default today): "
                                  "every active product with a base price, the client's price "
                                  "for one unit and the rule that made it, by product code; "
                                  "null when you may not see the client.")
    async def price_list(self, info: strawberry.Info, date: dt.date | None = None,
                         filter: ClientPriceFilter | None = None, first: int | None = None,
                         after: str | None = None) -> ClientPriceConnection | None:
        ctx = info.context
        size = requested_page_size(info, first)
        day = _day(info, date)
        client_id = lookup_id(self.id)
        if client_id is None:
            return None
        f = filter or ClientPriceFilter()
        flt = q.PriceListFilter(
            product_group_code=(f.product_group_code or "").strip()[:64] or None,
            search=(f.search or "").strip()[:200] or None)
        page = await q.client_price_list(ctx.runtime.reader, ctx.rules, ctx.access, client_id,
                                         day, flt, after=_after(after), first=size,
                                         contract_priority=ctx.config.contract_priority)
        return None if page is None else ClientPriceConnection.of(page, day)

    @strawberry.field(description="The client's price list on a day (default today) as a CSV "
                                  "or XLSX file: a signed URL valid for a few minutes "
                                  "(EXPORT_URL_TTL_SECONDS); null when you may not see the "
                                  "client.")
    async def price_list_export(self, info: strawberry.Info, format: PriceListFormat,
                                date: dt.date | None = None) -> PriceListExport | None:
        ctx = info.context
        client_id = lookup_id(self.id)
        day = _day(info, date)
        if client_id is None:
            return None
        async with ctx.runtime.reader.connect() as conn:
            if not await ctx.access.may_see(conn, client_id):
                return None
        signed = signed_url(ctx.config, ctx.principal, client_id, day, format.value)
        return PriceListExport(url=signed.url, expires_at=signed.expires_at, format=format)
