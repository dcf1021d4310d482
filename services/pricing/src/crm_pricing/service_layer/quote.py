"""The quote (``quote(input)``), the client's personal price list and the client's tiers: reads
that run the one resolution function (``crm_pricing.domain.resolution.resolve_line``) over what
``pricing_inputs`` reads. Nothing is stored.

A quote is checked whole before anything is priced: every line's problem is reported at once,
naming the field (``input.lines.3.productCode``). What a quote refuses: a client the caller may
not see (NOT_FOUND, as if it did not exist), a date outside 2000–2100, a payment term outside
0–3650 days, no lines or more than :data:`MAX_LINES`, an unknown product, a product the ERP
deactivated, a product without a base price, a quantity that is not a positive number of at most
three decimals below 10^9.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_common.parsing import lookup_id
from crm_common.problems import FieldProblem, Problems
from crm_pricing.adapters.tables import price_list_items, price_lists, product_groups, products
from crm_pricing.domain.conditions import TierStatus, pricing_tiers
from crm_pricing.domain.resolution import (
    LinePrice,
    Memo,
    Product,
    Quote,
    QuoteLine,
    QuotePrice,
    Settings,
    resolve_line,
    resolve_quote,
)
from crm_pricing.service_layer.pricing_inputs import (
    BasePrice,
    ClientFacts,
    ClientRules,
    ProductRow,
    RuleBook,
    TurnoverCache,
    base_prices,
    load_clients,
    load_products,
    product_from_row,
)
from crm_pricing.service_layer.visibility import Access

MAX_LINES = 1000
MAX_QUANTITY = Decimal("1000000000")
EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
MAX_TERM_DAYS = 3650


@dataclass(frozen=True)
class QuoteRequest:
    client_id: uuid.UUID
    date: dt.date
    payment_term_days: int | None
    lines: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True)
class PricedQuote:
    request: QuoteRequest
    price: QuotePrice
    products: Mapping[str, ProductRow]
    base: Mapping[str, BasePrice]
    turnover_as_of: dt.datetime | None
    #: (rule code, version) of every rule a line applied or considered, by code
    rules_used: tuple[tuple[str, int], ...]


def _quantity(c: list[FieldProblem], at: tuple[str, ...], raw: Any) -> Decimal | None:
    if raw is None:
        c.append(FieldProblem(at, "REQUIRED", "quantity is required"))
        return None
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip()[:50])
    except InvalidOperation:
        c.append(FieldProblem(at, "INVALID_TYPE", "quantity must be a number"))
        return None
    if not value.is_finite():
        c.append(FieldProblem(at, "INVALID_TYPE", "quantity must be a finite number"))
    elif value <= 0:
        c.append(FieldProblem(at, "INVALID_VALUE", "quantity must be more than 0"))
    elif value > MAX_QUANTITY:
        c.append(FieldProblem(at, "INVALID_VALUE", f"quantity must be below {MAX_QUANTITY:,}"))
    elif value != value.quantize(Decimal("0.001")):
        c.append(FieldProblem(at, "INVALID_VALUE", "quantity has at most 3 decimals"))
    else:
        return value
    return None


def parse_quote(raw: Mapping[str, Any], today: dt.date) -> QuoteRequest:
    """The quote's input (snake_case keys) as a request, or ``Problems`` naming every field."""
    p: list[FieldProblem] = []
    client_id = lookup_id(raw.get("client_id"))
    if client_id is None:
        p.append(FieldProblem(("input", "client_id"), "INVALID_ID" if raw.get("client_id")
                              else "REQUIRED", "clientId must be a client's id"))
    day = raw.get("date") or today
    if not isinstance(day, dt.date) or not EARLIEST <= day <= LATEST:
        p.append(FieldProblem(("input", "date"), "INVALID_VALUE",
                              f"date must be between {EARLIEST} and {LATEST}"))
    term = raw.get("payment_term_days")
    if term is not None and (isinstance(term, bool) or not isinstance(term, int)
                             or not 0 <= term <= MAX_TERM_DAYS):
        p.append(FieldProblem(("input", "payment_term_days"), "INVALID_VALUE",
                              f"paymentTermDays must be a whole number from 0 to {MAX_TERM_DAYS}"))
    lines_raw = raw.get("lines")
    lines: list[tuple[str, Decimal]] = []
    if not isinstance(lines_raw, Sequence) or isinstance(lines_raw, str) or not lines_raw:
        p.append(FieldProblem(("input", "lines"), "REQUIRED", "a quote needs at least one line"))
    elif len(lines_raw) > MAX_LINES:
        p.append(FieldProblem(("input", "lines"), "TOO_MANY",
                              f"a quote has at most {MAX_LINES} lines ({len(lines_raw)} given)"))
    else:
        for i, line in enumerate(lines_raw):
            at = ("input", "lines", str(i))
            code = line.get("product_code") if isinstance(line, Mapping) else None
            if not isinstance(code, str) or not code.strip():
                p.append(FieldProblem(at + ("product_code",), "REQUIRED",
                                      "productCode is required"))
                code = None
            elif len(code) > 64 or any(ord(ch) < 32 for ch in code):
                p.append(FieldProblem(at + ("product_code",), "INVALID_VALUE",
                                      "productCode is not a product code"))
                code = None
            quantity = _quantity(p, at + ("quantity",),
                                 line.get("quantity") if isinstance(line, Mapping) else None)
            if code is not None and quantity is not None:
                lines.append((code.strip(), quantity))
    if p:
        raise Problems(p)
    assert client_id is not None and isinstance(day, dt.date)
    return QuoteRequest(client_id, day, term, tuple(lines))


def _not_found(field: tuple[str, ...], what: str) -> Problems:
    return Problems([FieldProblem(field, "NOT_FOUND", f"{what} not found")])


async def visible_client_facts(conn: AsyncConnection, access: Access, client_id: uuid.UUID,
                               cache: TurnoverCache | None = None) -> ClientFacts | None:
    """The client as pricing sees it, or None when ``access`` may not see it (DESIGN §6)."""
    if not await access.may_see(conn, client_id):
        return None
    return (await load_clients(conn, [client_id], cache))[client_id]


def _settings(names_: Mapping[str, str], contract_priority: int | None) -> Settings:
    return Settings(contract_priority=contract_priority, names=names_)


async def price_quote(reader: AsyncEngine, book: RuleBook, access: Access, raw: Mapping[str, Any],
                      *, today: dt.date, contract_priority: int | None) -> PricedQuote:
    """Price a quote; ``Problems`` for bad input (nothing is stored either way)."""
    request = parse_quote(raw, today)
    async with reader.connect() as conn:
        facts = await visible_client_facts(conn, access, request.client_id, book.turnovers)
        if facts is None:
            raise _not_found(("input", "client_id"), "client")
        found = await load_products(conn, [code for code, _ in request.lines])
        by_upper = {code.upper(): row for code, row in found.items()}
        base = await base_prices(conn, list(found), request.date)
        inputs = await book.read(conn)
    p: list[FieldProblem] = []
    lines: list[QuoteLine] = []
    for i, (code, quantity) in enumerate(request.lines):
        at = ("input", "lines", str(i), "product_code")
        product = found.get(code) or by_upper.get(code.upper())
        if product is None:
            p.append(FieldProblem(at, "UNKNOWN_PRODUCT", f"no product {code} in the catalogue"))
        elif not product.active:
            p.append(FieldProblem(at, "INACTIVE_PRODUCT",
                                  f"product {product.code} is no longer sold (the ERP "
                                  "deactivated it)"))
        elif product.code not in base:
            p.append(FieldProblem(at, "NO_BASE_PRICE",
                                  f"product {product.code} has no base price on "
                                  f"{request.date.isoformat()}"))
        else:
            lines.append(QuoteLine(Product(product.code, product.group_code), quantity,
                                   base[product.code].price))
    if p:
        raise Problems(p)
    quote = Quote(request.date, tuple(lines), request.payment_term_days)
    view = inputs.index.for_client(facts.client)
    price = resolve_quote(quote, facts.client, (), _settings(inputs.names, contract_priority),
                          select=lambda p: view.for_product(p.code, p.group_code))
    used = sorted({(s.rule_code, s.rule_version) for lp in price.lines for s in lp.steps
                   if s.rule_code is not None and s.rule_version is not None}
                  | {(n.rule_code, n.rule_version) for lp in price.lines for n in lp.not_applied})
    return PricedQuote(request, price, {r.code: r for r in found.values()}, base,
                       facts.turnover_as_of, tuple(used))


# --- the client's tiers ------------------------------------------------------------------------


async def client_tiers(reader: AsyncEngine, book: RuleBook, access: Access,
                       client_id: uuid.UUID, day: dt.date) -> list[TierStatus] | None:
    """``Client.pricingTier``: None when the client is not the caller's to see."""
    async with reader.connect() as conn:
        facts = await visible_client_facts(conn, access, client_id, book.turnovers)
        if facts is None:
            return None
        index = await book.index(conn)
    client = facts.client
    return pricing_tiers(client.id, client.group_ids, client.turnover, index.all_rules, day)


# --- the client's price list -------------------------------------------------------------------


@dataclass(frozen=True)
class PriceListEntry:
    product: ProductRow
    base: BasePrice
    price: LinePrice


@dataclass(frozen=True)
class PriceListFilter:
    product_group_code: str | None = None
    search: str | None = None


def _price_list_statement(day: dt.date, flt: PriceListFilter, after: str | None,
                          limit: int) -> sa.Select[Any]:
    """Active products with a base price on ``day``, by code, after the cursor's code."""
    in_list = sa.exists().where(
        price_list_items.c.product_code == products.c.code,
        price_lists.c.id == price_list_items.c.price_list_id,
        price_lists.c.archived_at.is_(None),
        sa.or_(price_lists.c.source == "erp", sa.and_(
            price_lists.c.is_default,
            sa.or_(price_lists.c.valid_from.is_(None), price_lists.c.valid_from <= day),
            sa.or_(price_lists.c.valid_until.is_(None), price_lists.c.valid_until >= day))))
    statement = sa.select(products.c.code, products.c.name, products.c.group_code,
                          product_groups.c.name.label("group_name"), products.c.unit,
                          products.c.active) \
        .select_from(products.outerjoin(product_groups,
                                        product_groups.c.code == products.c.group_code)) \
        .where(products.c.active, in_list)
    if flt.product_group_code:
        statement = statement.where(products.c.group_code == flt.product_group_code.upper())
    if flt.search:
        pattern = "%" + flt.search.replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_") + "%"
        statement = statement.where(sa.or_(products.c.code.ilike(pattern),
                                           products.c.name.ilike(pattern)))
    if after is not None:
        statement = statement.where(products.c.code > after)
    return statement.order_by(products.c.code).limit(limit)


@dataclass(frozen=True)
class PriceListPage:
    entries: list[PriceListEntry]
    has_next: bool
    turnover_as_of: dt.datetime | None


@dataclass
class ListPricer:
    """What pricing a client's products on a day needs beyond the products: the rules whose
    audience covers the client, the names for the sentences, and the memo of condition outcomes
    (kept across pages, so that an export evaluates each condition once)."""

    facts: ClientFacts
    day: dt.date
    view: ClientRules
    settings: Settings
    memo: Memo = field(default_factory=lambda: Memo(one_unit=True))

    @classmethod
    async def make(cls, conn: AsyncConnection, book: RuleBook, facts: ClientFacts,
                   day: dt.date, contract_priority: int | None) -> ListPricer:
        inputs = await book.read(conn)
        return cls(facts, day, inputs.index.for_client(facts.client),
                   _settings(inputs.names, contract_priority))

    def price(self, product: ProductRow, base: BasePrice) -> PriceListEntry:
        line = QuoteLine(Product(product.code, product.group_code), Decimal(1), base.price)
        return PriceListEntry(product, base, resolve_line(
            line, Quote(self.day, (line,)), self.facts.client,
            self.view.for_product(product.code, product.group_code), self.settings,
            self.memo))


async def price_list_page(conn: AsyncConnection, pricer: ListPricer, flt: PriceListFilter, *,
                          after: str | None, first: int) -> PriceListPage:
    """One page of the client's price list: each active product with a base price, priced for
    one unit on the pricer's day (order-size tiers show as hints, not prices), by product
    code."""
    rows = list(await conn.execute(_price_list_statement(pricer.day, flt, after, first + 1)))
    has_next = len(rows) > first
    items = [product_from_row(r) for r in rows[:first]]
    base = await base_prices(conn, [p.code for p in items], pricer.day)
    entries = [pricer.price(product, base[product.code]) for product in items
               if product.code in base]  # (a price removed between the two statements)
    return PriceListPage(entries, has_next, pricer.facts.turnover_as_of)


async def client_price_list(reader: AsyncEngine, book: RuleBook, access: Access,
                            client_id: uuid.UUID, day: dt.date, flt: PriceListFilter, *,
                            after: str | None, first: int,
                            contract_priority: int | None) -> PriceListPage | None:
    """``Client.priceList``: None when the client is not the caller's to see."""
    async with reader.connect() as conn:
        facts = await visible_client_facts(conn, access, client_id, book.turnovers)
        if facts is None:
            return None
        pricer = await ListPricer.make(conn, book, facts, day, contract_priority)
        return await price_list_page(conn, pricer, flt, after=after, first=first)
