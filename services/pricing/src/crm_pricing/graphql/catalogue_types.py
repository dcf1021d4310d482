"""GraphQL types of the catalogue and the price lists: ``Product``, ``ProductGroup``,
``PriceList``, ``PriceListItem``, their connections, inputs and payloads."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import strawberry
from strawberry import UNSET

from crm_common.graphql.connections import (
    PageInfo,
    connection_of,
    load_page,
    requested_page_size,
)
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.history import HistoryConnection, history_connection
from crm_common.graphql.money import Money
from crm_common.paging import Page
from crm_pricing.service_layer.catalogue_queries import PriceFilter


def _ctx(info: strawberry.Info) -> Any:
    return info.context


@strawberry.type(description="A product group of the ERP's catalogue.")
class ProductGroup:
    code: str
    name: str

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> ProductGroup:
        return cls(code=r["code"], name=r["name"])


@strawberry.type(description="A product of the ERP's catalogue (the ERP owns it; read-only here).")
class Product:
    code: str
    name: str
    unit: str
    vat_rate: Decimal = strawberry.field(description="VAT in percent (20, 9).")
    active: bool = strawberry.field(
        description="False once the ERP withdrew it: not listed by default, never quoted.")
    erp_version: int = strawberry.field(description="The ERP's version of the product record.")
    updated_at: dt.datetime
    product_group_code: strawberry.Private[str]

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Product:
        return cls(code=r["code"], name=r["name"], unit=r["unit"], vat_rate=r["vat_rate"],
                   active=r["active"], erp_version=r["version"], updated_at=r["updated_at"],
                   product_group_code=r["group_code"])

    @strawberry.field
    async def product_group(self, info: strawberry.Info) -> ProductGroup:
        row = await _ctx(info).catalogue.product_group.load(self.product_group_code)
        if row is None:  # not possible: the group is written with the product
            return ProductGroup(code=self.product_group_code, name=self.product_group_code)
        return ProductGroup.from_row(row)

    @strawberry.field(description="The ERP's base price per unit, net of VAT, in EUR (BGN "
                                  "converted at 1.95583, four decimals); null when the ERP "
                                  "sent none.")
    async def base_price(self, info: strawberry.Info) -> Money | None:
        price = await _ctx(info).catalogue.erp_price.load(self.code)
        return Money.exact(price) if price is not None else None


@strawberry.type
class ProductEdge:
    cursor: str
    node: Product


@strawberry.type
class ProductConnection:
    edges: list[ProductEdge]
    page_info: PageInfo


def product_connection(page: Page) -> ProductConnection:
    return connection_of(page, ProductConnection, ProductEdge, Product.from_row)


@strawberry.enum(description="Where a price list's prices come from.")
class PriceListSource(enum.Enum):
    MANUAL = "manual"
    ERP = "erp"


@strawberry.type(description="A product's price in a price list.")
class PriceListItem:
    product_code: str
    product_name: str
    product_active: bool
    price: Money = strawberry.field(description="Per unit, net of VAT, in the list's currency.")
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any], currency: str = "EUR") -> PriceListItem:
        return cls(product_code=r["product_code"], product_name=r["product_name"],
                   product_active=r["active"], price=Money.exact(r["price"], currency),
                   updated_at=r["updated_at"])

    @strawberry.field
    async def product(self, info: strawberry.Info) -> Product | None:
        row = await _ctx(info).catalogue.product.load(self.product_code)
        return Product.from_row(row) if row is not None else None


@strawberry.type
class PriceListItemEdge:
    cursor: str
    node: PriceListItem


@strawberry.type
class PriceListItemConnection:
    edges: list[PriceListItemEdge]
    page_info: PageInfo


@strawberry.input(description="Which prices of a list: by product name or code, product group; "
                              "withdrawn products only with includeInactive.")
class PriceFilterInput:
    search: str | None = None
    product_group_code: str | None = None
    include_inactive: bool = False


MAX_SEARCH = 200


@strawberry.type(description="A price list: base prices per product, kept by managers (or the "
                             "ERP's own list of its base prices).")
class PriceList:
    id: strawberry.ID
    code: str
    name: str
    currency: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    is_default: bool = strawberry.field(
        description="The list quotes use when it is valid on the quote's date (else the ERP's).")
    source: PriceListSource
    archived: bool
    archived_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> PriceList:
        return cls(id=strawberry.ID(str(r["id"])), code=r["code"], name=r["name"],
                   currency=r["currency"], valid_from=r["valid_from"],
                   valid_until=r["valid_until"], is_default=r["is_default"],
                   source=PriceListSource(r["source"]), archived=r["archived_at"] is not None,
                   archived_at=r["archived_at"], version=r["version"],
                   created_at=r["created_at"], updated_at=r["updated_at"])

    @strawberry.field(description="The list's prices by product code.")
    async def prices(self, info: strawberry.Info, first: int | None = None,
                     after: str | None = None, filter: PriceFilterInput | None = None
                     ) -> PriceListItemConnection:
        size = requested_page_size(info, first)
        f = filter or PriceFilterInput()
        if f.search is not None and len(f.search) > MAX_SEARCH:
            raise bad_input(f"filter.search: at most {MAX_SEARCH} characters")
        flt = PriceFilter(search=(f.search or "").strip() or None,
                          product_group_code=f.product_group_code or None,
                          include_inactive=bool(f.include_inactive))
        page = await load_page(_ctx(info).catalogue.prices,
                               (uuid.UUID(str(self.id)), size, after, flt))
        currency = self.currency
        return connection_of(page, PriceListItemConnection, PriceListItemEdge,
                             lambda r: PriceListItem.from_row(r, currency))

    @strawberry.field(description="Every change of the list, its prices included, newest first.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await history_connection(info, _ctx(info).catalogue.history,
                                        uuid.UUID(str(self.id)), first, after)


@strawberry.type
class PriceListEdge:
    cursor: str
    node: PriceList


@strawberry.type
class PriceListConnection:
    edges: list[PriceListEdge]
    page_info: PageInfo


def price_list_connection(page: Page) -> PriceListConnection:
    return connection_of(page, PriceListConnection, PriceListEdge, PriceList.from_row)


@strawberry.input(description="Products: by name or code (search), product group, and active "
                              "(true by default; false lists the withdrawn ones, null all).")
class ProductFilterInput:
    search: str | None = None
    product_group_code: str | None = None
    active: bool | None = True


@strawberry.input(description="Required: code (letters, digits, . _ / -; at most 40), name. "
                              "currency: EUR (the default and, since 2026-01-01, the only "
                              "one). Dates: both days included.")
class CreatePriceListInput:
    code: str | None = UNSET
    name: str | None = UNSET
    currency: str | None = UNSET
    valid_from: dt.date | None = UNSET
    valid_until: dt.date | None = UNSET
    is_default: bool | None = UNSET


@strawberry.input(description="Fields left out stay as they are; null clears a date. Making a "
                              "list the default un-defaults the previous one.")
class UpdatePriceListInput:
    id: strawberry.ID
    version: int
    name: str | None = UNSET
    valid_from: dt.date | None = UNSET
    valid_until: dt.date | None = UNSET
    is_default: bool | None = UNSET


@strawberry.input
class ArchivePriceListInput:
    id: strawberry.ID
    version: int


@strawberry.input(description="One price: null removes the product from the list.")
class PriceInput:
    product_code: str
    price: Decimal | None = None


@strawberry.input(description="Up to 5,000 prices at once (upserted); the version you read.")
class SetPricesInput:
    price_list_id: strawberry.ID
    version: int
    prices: list[PriceInput]


@strawberry.type
class PriceListPayload:
    price_list: PriceList | None
    user_errors: list[UserError]
