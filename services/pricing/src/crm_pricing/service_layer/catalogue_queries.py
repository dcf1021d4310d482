"""Read side of the catalogue and the price lists: products, product groups, price lists and
their prices. Every employee reads them (a sales rep quotes from them); keyset pages throughout.

Withdrawn products (``active = false``) are not listed unless a filter asks for them, and not
in a list's prices unless ``includeInactive``; ``product(code)`` still finds one (a quote of the
past names it)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    and_,
    any_,
    bindparam,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, TEXT
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor
from crm_common.paging import Page, by_ids, keyset_page, keyset_pages_by_parent
from crm_pricing.adapters.tables import (
    ERP_PRICE_LIST_ID,
    price_list_items,
    price_lists,
    product_groups,
    products,
)

_CODES = bindparam("codes", type_=ARRAY(TEXT))
MAX_GROUPS = 1000


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _code_after(after: str) -> str:
    (raw,) = decode_cursor(after, 1)
    if not isinstance(raw, str):
        raise InvalidCursor("malformed cursor")
    return raw


def _code_page(rows: Sequence[RowMapping], first: int) -> Page:
    return Page.of(rows, first, lambda r: encode_cursor([r["code"]]))


@dataclass(frozen=True)
class ProductFilter:
    search: str | None = None
    product_group_code: str | None = None
    #: True: the ERP's active products (the default); False: the withdrawn ones; None: all
    active: bool | None = True


def _product_conditions(flt: ProductFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if flt.search:
        pattern = _like(flt.search)
        out.append(or_(products.c.name.ilike(pattern, escape="\\"),
                       products.c.code.ilike(pattern, escape="\\")))
    if flt.product_group_code:
        out.append(products.c.group_code == flt.product_group_code)
    if flt.active is not None:
        out.append(products.c.active.is_(flt.active))
    return out


async def list_products(reader: AsyncEngine, flt: ProductFilter, *, first: int,
                        after: str | None) -> Page:
    """Products by code."""
    statement = select(products).where(*_product_conditions(flt))
    if after:
        statement = statement.where(products.c.code > _code_after(after))
    async with reader.connect() as conn:
        rows = list((await conn.execute(
            statement.order_by(products.c.code).limit(first + 1))).mappings())
    return _code_page(rows, first)


async def _by_codes(reader: AsyncEngine, table: Any, codes: Sequence[str]
                    ) -> list[RowMapping | None]:
    async with reader.connect() as conn:
        found = {r["code"]: r for r in (await conn.execute(
            select(table).where(table.c.code == any_(_CODES)),
            {"codes": list(codes)})).mappings()}
    return [found.get(c) for c in codes]


async def products_by_codes(reader: AsyncEngine, codes: Sequence[str]
                            ) -> list[RowMapping | None]:
    return await _by_codes(reader, products, codes)


async def groups_by_codes(reader: AsyncEngine, codes: Sequence[str]) -> list[RowMapping | None]:
    return await _by_codes(reader, product_groups, codes)


async def list_groups(reader: AsyncEngine) -> list[RowMapping]:
    """Every product group by code (a catalogue has tens of them; capped at
    :data:`MAX_GROUPS`)."""
    async with reader.connect() as conn:
        return list((await conn.execute(select(product_groups).order_by(product_groups.c.code)
                                        .limit(MAX_GROUPS))).mappings())


async def erp_prices_by_codes(reader: AsyncEngine, codes: Sequence[str]) -> list[Decimal | None]:
    """The ERP's base price of each product (None: the ERP sent none)."""
    items = price_list_items.c
    async with reader.connect() as conn:
        found = {r.product_code: r.price for r in await conn.execute(
            select(items.product_code, items.price).where(
                items.price_list_id == ERP_PRICE_LIST_ID, items.product_code == any_(_CODES)),
            {"codes": list(codes)})}
    return [found.get(c) for c in codes]


# --- price lists ------------------------------------------------------------------------------

async def list_price_lists(reader: AsyncEngine, *, include_archived: bool, first: int,
                           after: str | None) -> Page:
    """Price lists by code (the ERP's among them)."""
    statement = select(price_lists)
    if not include_archived:
        statement = statement.where(price_lists.c.archived_at.is_(None))
    return await keyset_page(reader, statement, key=price_lists.c.code, key_type=str,
                             id_col=price_lists.c.id, first=first, after=after)


async def price_lists_by_ids(reader: AsyncEngine, ids: Sequence[uuid.UUID]
                             ) -> list[RowMapping | None]:
    return await by_ids(reader, price_lists, true(), ids)


@dataclass(frozen=True)
class PriceFilter:
    search: str | None = None
    product_group_code: str | None = None
    include_inactive: bool = False


def _prices_statement(flt: PriceFilter) -> Select[Any]:
    items = price_list_items.c
    statement = (select(items.price_list_id.label("id"), items.product_code, items.price,
                        items.updated_at, products.c.name.label("product_name"),
                        products.c.group_code, products.c.active)
                 .select_from(price_list_items.join(
                     products, products.c.code == items.product_code)))
    conditions = _product_conditions(ProductFilter(
        search=flt.search, product_group_code=flt.product_group_code,
        active=None if flt.include_inactive else True))
    return statement.where(and_(true(), *conditions))


async def prices_by_list(reader: AsyncEngine, ids: Sequence[uuid.UUID], flt: PriceFilter, *,
                         first: int, after: str | None) -> list[Page]:
    """``PriceList.prices``: one page per list, by product code, in one statement. A row's
    ``id`` is its list's (the cursor is (product code, list id))."""
    return await keyset_pages_by_parent(
        reader, ids, price_list_items.c.price_list_id, _prices_statement(flt),
        key=price_list_items.c.product_code, key_type=str,
        id_col=price_list_items.c.price_list_id, first=first, after=after,
        key_name="product_code")
