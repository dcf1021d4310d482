"""Products, product groups and price lists: reads (every employee) and the managers' mutations.
Resolvers parse, call the service layer (``catalogue_queries``, ``price_list``), map."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from crm_common.graphql.connections import requested_page_size
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import bad_input
from crm_common.graphql.inputs import to_raw
from crm_common.graphql.mutations import mutate
from crm_common.parsing import lookup_id, parse_uuid
from crm_common.validation import Collector
from crm_pricing.graphql.catalogue_types import (
    MAX_SEARCH,
    ArchivePriceListInput,
    CreatePriceListInput,
    PriceList,
    PriceListConnection,
    PriceListPayload,
    Product,
    ProductConnection,
    ProductFilterInput,
    ProductGroup,
    SetPricesInput,
    UpdatePriceListInput,
    price_list_connection,
    product_connection,
)
from crm_pricing.service_layer import catalogue_queries as queries
from crm_pricing.service_layer import price_list as commands

SERVICE = "pricing"
MAX_CODE = 50


async def _page(fn: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await fn()
    except InvalidCursor as exc:
        raise bad_input(f"after: {exc}") from None


def _target(raw: dict[str, Any], key: str = "id") -> tuple[uuid.UUID, Any]:
    """The id (and version) a mutation names: REQUIRED / INVALID_ID userErrors."""
    c = Collector(raw)
    target = c.run(key, lambda: parse_uuid(raw[key])) if c.required(key) else None
    c.required("version")
    c.done()
    assert target is not None
    return target, raw["version"]


async def _payload(info: strawberry.Info, action: Callable[[], Awaitable[uuid.UUID]]
                   ) -> PriceListPayload:
    loaders = info.context.catalogue
    price_list_id, errors = await mutate(
        info, action, service=SERVICE,
        changed=lambda key: [(loaders.price_list, key)])
    if price_list_id is None:
        return PriceListPayload(price_list=None, user_errors=errors)
    # a price list's prices and history changed too: fresh loaders for the payload
    info.context.__dict__.pop("catalogue", None)
    return PriceListPayload(
        price_list=await load_node(info.context.catalogue.price_list, price_list_id,
                                   PriceList.from_row),
        user_errors=errors)


@strawberry.type
class CatalogueQuery:
    @strawberry.field(description="The ERP's products by code: active ones unless the filter "
                                  "says otherwise.")
    async def products(self, info: strawberry.Info, filter: ProductFilterInput | None = None,
                       first: int | None = None, after: str | None = None
                       ) -> ProductConnection:
        size = requested_page_size(info, first)
        f = filter or ProductFilterInput()
        if f.search is not None and len(f.search) > MAX_SEARCH:
            raise bad_input(f"filter.search: at most {MAX_SEARCH} characters")
        flt = queries.ProductFilter(search=(f.search or "").strip() or None,
                                    product_group_code=f.product_group_code or None,
                                    active=f.active)
        page = await _page(lambda: queries.list_products(info.context.runtime.reader, flt,
                                                         first=size, after=after))
        return product_connection(page)

    @strawberry.field(description="One product by its ERP code (withdrawn ones too); null "
                                  "when unknown.")
    async def product(self, info: strawberry.Info, code: str) -> Product | None:
        if not code or len(code) > MAX_CODE:
            return None
        return await load_node(info.context.catalogue.product, code, Product.from_row)

    @strawberry.field(description="Every product group, by code.")
    async def product_groups(self, info: strawberry.Info) -> list[ProductGroup]:
        return [ProductGroup.from_row(r)
                for r in await queries.list_groups(info.context.runtime.reader)]

    @strawberry.field(description="Price lists by code, the ERP's included; archived ones only "
                                  "with includeArchived.")
    async def price_lists(self, info: strawberry.Info, first: int | None = None,
                          after: str | None = None, include_archived: bool = False
                          ) -> PriceListConnection:
        size = requested_page_size(info, first)
        page = await _page(lambda: queries.list_price_lists(
            info.context.runtime.reader, include_archived=include_archived, first=size,
            after=after))
        return price_list_connection(page)

    @strawberry.field(description="One price list; null when unknown.")
    async def price_list(self, info: strawberry.Info, id: strawberry.ID) -> PriceList | None:
        return await load_node(info.context.catalogue.price_list, lookup_id(id),
                               PriceList.from_row)


@strawberry.type
class CatalogueMutation:
    @strawberry.mutation(description="A new price list (managers and admins).")
    async def create_price_list(self, info: strawberry.Info, input: CreatePriceListInput
                                ) -> PriceListPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await commands.create_price_list(uow, ctx.access, to_raw(input))

        return await _payload(info, act)

    @strawberry.mutation(description="Change a price list's name, validity or default flag; "
                                     "send the version you read.")
    async def update_price_list(self, info: strawberry.Info, input: UpdatePriceListInput
                                ) -> PriceListPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            ctx.access.require_manager("keep price lists")
            raw = to_raw(input)
            price_list_id, version = _target(raw)
            raw.pop("id"), raw.pop("version")
            async with ctx.uow() as uow:
                return await commands.update_price_list(uow, ctx.access, price_list_id,
                                                        version, raw)

        return await _payload(info, act)

    @strawberry.mutation(description="Archive a price list: no longer offered nor the default; "
                                     "kept with its prices and history.")
    async def archive_price_list(self, info: strawberry.Info, input: ArchivePriceListInput
                                 ) -> PriceListPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            ctx.access.require_manager("keep price lists")
            price_list_id, version = _target(to_raw(input))
            async with ctx.uow() as uow:
                return await commands.archive_price_list(uow, ctx.access, price_list_id,
                                                         version)

        return await _payload(info, act)

    @strawberry.mutation(description="Set up to 5,000 prices of a price list at once (price "
                                     "null: remove); send the version you read.")
    async def set_prices(self, info: strawberry.Info, input: SetPricesInput) -> PriceListPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            ctx.access.require_manager("keep price lists")
            raw = to_raw(input)
            price_list_id, version = _target(raw, "price_list_id")
            async with ctx.uow() as uow:
                return await commands.set_prices(uow, ctx.access, price_list_id, version,
                                                 raw["prices"])

        return await _payload(info, act)
