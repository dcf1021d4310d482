"""What a price is made from, read from the database as the domain's plain values: the rules
(``crm_pricing.domain.rule.Rule``), the client (group, latest turnover, contracts), the
products and their base prices.

**The base price** of a product on a day: its price in the *default* price list when that list
is valid on the day and holds the product; otherwise the ERP's base price (the price list of
``source = 'erp'``); otherwise the product has no base price and is not quoted. Prices of a list
kept in BGN convert to EUR at 1.95583 (unrounded).

Rules are read through a :class:`RuleBook`: parsed once per change of the rules table (one cheap
statement per request checks the table's stamp), and indexed by scope so that a line only looks
at the rules that can cover its product.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_common.erp.money import to_eur
from crm_pricing.adapters.tables import (
    client_groups,
    client_profiles,
    client_turnover,
    contracts,
    price_list_items,
    price_lists,
    pricing_rules,
    product_groups,
    products,
)
from crm_pricing.domain.resolution import Client, Contract, ContractDiscount
from crm_pricing.domain.rule import Rule, RuleStatus, ScopeKind, parse_rule
from crm_pricing.domain.turnover import Turnover, turnover_from_event


@dataclass(frozen=True)
class ProductRow:
    code: str
    name: str
    group_code: str
    group_name: str | None
    unit: str
    active: bool


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredRule:
    id: uuid.UUID
    rule: Rule


@dataclass
class RuleIndex:
    """The rules that are not retired, by what their scope names."""

    rules: list[StoredRule] = field(default_factory=list)
    by_product: dict[str, list[Rule]] = field(default_factory=lambda: defaultdict(list))
    by_group: dict[str, list[Rule]] = field(default_factory=lambda: defaultdict(list))
    everywhere: list[Rule] = field(default_factory=list)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)

    @classmethod
    def of(cls, stored: Iterable[StoredRule]) -> RuleIndex:
        index = cls()
        for s in stored:
            index.rules.append(s)
            index.ids[s.rule.code] = s.id
            scope = s.rule.scope
            if scope.kind is ScopeKind.PRODUCT:
                index.by_product[(scope.code or "").upper()].append(s.rule)
            elif scope.kind is ScopeKind.PRODUCT_GROUP:
                index.by_group[(scope.code or "").upper()].append(s.rule)
            else:
                index.everywhere.append(s.rule)
        return index

    def for_product(self, code: str, group_code: str | None) -> list[Rule]:
        """Every rule whose scope may cover the product (the audience is checked by the
        resolution)."""
        found = list(self.everywhere)
        found += self.by_product.get(code.upper(), ())
        if group_code:
            found += self.by_group.get(group_code.upper(), ())
        return found

    @property
    def all_rules(self) -> list[Rule]:
        return [s.rule for s in self.rules]

    def for_client(self, client: Client) -> RuleIndex:
        """The rules whose audience covers ``client`` (evaluated once, not per line)."""
        groups = client.group_ids
        return RuleIndex.of(s for s in self.rules
                            if s.rule.audience.covers(client.id, groups))


def rule_from_row(row: Any) -> Rule:
    """A stored rule as the domain's value (its definition is what ``parse_rule`` reads)."""
    definition = dict(row.definition)
    definition["status"] = row.status
    return parse_rule(definition, version=row.version)


async def read_rules(conn: AsyncConnection, *,
                     statuses: Sequence[str] = ("draft", "active")) -> list[StoredRule]:
    rows = await conn.execute(
        sa.select(pricing_rules.c.id, pricing_rules.c.definition, pricing_rules.c.status,
                  pricing_rules.c.version)
        .where(pricing_rules.c.status.in_(list(statuses))).order_by(pricing_rules.c.code))
    return [StoredRule(row.id, rule_from_row(row)) for row in rows]


_STAMP = sa.select(sa.func.count(), sa.func.max(pricing_rules.c.updated_at),
                   sa.func.coalesce(sa.func.sum(pricing_rules.c.version), 0)) \
    .select_from(pricing_rules)


class RuleBook:
    """The process's parsed and indexed rules, re-read when the table's stamp (count, latest
    change, sum of versions) moves. One per process (the app's lifespan); safe to share between
    concurrent requests."""

    def __init__(self) -> None:
        self._stamp: tuple[Any, ...] | None = None
        self._index = RuleIndex()
        self._lock = asyncio.Lock()

    async def index(self, conn: AsyncConnection) -> RuleIndex:
        stamp = tuple((await conn.execute(_STAMP)).one())
        if stamp == self._stamp:
            return self._index
        async with self._lock:
            if stamp != self._stamp:
                self._index = RuleIndex.of(await read_rules(conn))
                self._stamp = stamp
        return self._index


# --- clients -----------------------------------------------------------------------------------


def _contract(row: Any) -> Contract:
    discounts: list[ContractDiscount] = []
    for d in row.discounts or ():
        try:
            percent = Decimal(str(d.get("percent")))
        except ArithmeticError:
            continue
        if not percent.is_finite():
            continue
        discounts.append(ContractDiscount(
            percent=percent, product_code=d.get("productCode"),
            product_group_code=d.get("productGroupCode"),
            valid_from=_day(d.get("validFrom")), valid_until=_day(d.get("validUntil"))))
    return Contract(number=row.number, status=row.status, valid_from=row.valid_from,
                    valid_until=row.valid_until, discounts=tuple(discounts), version=row.version)


def _day(raw: Any) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class ClientFacts:
    """A client as the resolution sees it, and when its turnover figures were current."""

    client: Client
    turnover_as_of: dt.datetime | None
    turnover_version: int | None


async def load_clients(conn: AsyncConnection,
                       client_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ClientFacts]:
    """Group, latest turnover and contracts of each client (three statements). A client pricing
    has heard nothing of is still priced: no group, no turnover, no contracts."""
    ids = list(dict.fromkeys(client_ids))
    if not ids:
        return {}
    groups = {r.client_id: r.group_id for r in await conn.execute(
        sa.select(client_profiles.c.client_id, client_profiles.c.group_id)
        .where(client_profiles.c.client_id.in_(ids)))}
    turnovers: dict[uuid.UUID, tuple[Turnover, Any, int]] = {}
    for r in await conn.execute(
            sa.select(client_turnover.c.client_id, client_turnover.c.data,
                      client_turnover.c.as_of, client_turnover.c.version)
            .where(client_turnover.c.client_id.in_(ids))):
        turnovers[r.client_id] = (turnover_from_event(r.data), r.as_of, r.version)
    by_client: dict[uuid.UUID, list[Contract]] = defaultdict(list)
    for r in await conn.execute(
            sa.select(contracts).where(contracts.c.client_id.in_(ids))
            .order_by(contracts.c.number)):
        by_client[r.client_id].append(_contract(r))
    out: dict[uuid.UUID, ClientFacts] = {}
    for cid in ids:
        group = groups.get(cid)
        turnover = turnovers.get(cid)
        out[cid] = ClientFacts(
            Client(id=str(cid), group_ids=frozenset([str(group)]) if group else frozenset(),
                   turnover=turnover[0] if turnover else None,
                   contracts=tuple(by_client.get(cid, ()))),
            turnover[1] if turnover else None, turnover[2] if turnover else None)
    return out


async def names(conn: AsyncConnection) -> dict[str, str]:
    """Display names for the explanations: product groups by code, client groups by id (one
    statement: a round trip less on every quote)."""
    statement = sa.union_all(
        sa.select(sa.func.upper(product_groups.c.code).label("key"), product_groups.c.name),
        sa.select(sa.cast(client_groups.c.id, sa.Text).label("key"), client_groups.c.name))
    return {r.key: r.name for r in await conn.execute(statement)}


# --- products and base prices ------------------------------------------------------------------

_PRODUCT_COLUMNS = (products.c.code, products.c.name, products.c.group_code,
                    product_groups.c.name.label("group_name"), products.c.unit, products.c.active)


def product_from_row(row: Any) -> ProductRow:
    return ProductRow(row.code, row.name, row.group_code, row.group_name, row.unit, row.active)


async def load_products(conn: AsyncConnection,
                        codes: Sequence[str] | None) -> dict[str, ProductRow]:
    """The named products (or every product), by code as stored."""
    statement = sa.select(*_PRODUCT_COLUMNS).select_from(products.outerjoin(
        product_groups, product_groups.c.code == products.c.group_code))
    if codes is not None:
        statement = statement.where(products.c.code.in_(list(dict.fromkeys(codes))))
    return {r.code: product_from_row(r) for r in await conn.execute(statement)}


def _valid_on(day: dt.date) -> sa.ColumnElement[bool]:
    return sa.and_(sa.or_(price_lists.c.valid_from.is_(None), price_lists.c.valid_from <= day),
                   sa.or_(price_lists.c.valid_until.is_(None), price_lists.c.valid_until >= day))


@dataclass(frozen=True)
class BasePrice:
    price: Decimal
    price_list_code: str


async def base_prices(conn: AsyncConnection, codes: Sequence[str],
                      day: dt.date) -> dict[str, BasePrice]:
    """The base price of each product on ``day`` (module docstring: the default list, else the
    ERP's), in EUR; products without one are absent."""
    if not codes:
        return {}
    rows = await conn.execute(
        sa.select(price_list_items.c.product_code, price_list_items.c.price,
                  price_lists.c.currency, price_lists.c.code, price_lists.c.is_default)
        .select_from(price_list_items.join(
            price_lists, price_lists.c.id == price_list_items.c.price_list_id))
        .where(price_list_items.c.product_code.in_(list(dict.fromkeys(codes))),
               price_lists.c.archived_at.is_(None),
               sa.or_(sa.and_(price_lists.c.is_default, _valid_on(day)),
                      price_lists.c.source == "erp")))
    found: dict[str, BasePrice] = {}
    for r in sorted(rows, key=lambda r: r.is_default):  # the default list's price wins
        found[r.product_code] = BasePrice(to_eur(Decimal(r.price), r.currency), r.code)
    return found


def active_rules(rules: Iterable[Rule]) -> list[Rule]:
    return [r for r in rules if r.status is RuleStatus.ACTIVE]


async def load_rules(conn: AsyncConnection) -> list[Rule]:
    """Every draft and active rule (uncached; requests go through a :class:`RuleBook`)."""
    return [s.rule for s in await read_rules(conn)]
