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
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_common.erp.money import to_eur
from crm_pricing.adapters.tables import (
    client_groups,
    price_list_items,
    price_lists,
    pricing_rules,
    product_groups,
    products,
)
from crm_pricing.domain.resolution import Client, Contract, ContractDiscount
from crm_pricing.domain.rule import AudienceKind, Rule, RuleStatus, ScopeKind, parse_rule
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
class ScopeIndex:
    """Rules by what their scope names: a product, a product group, everything."""

    by_product: dict[str, list[Rule]] = field(default_factory=lambda: defaultdict(list))
    by_group: dict[str, list[Rule]] = field(default_factory=lambda: defaultdict(list))
    everywhere: list[Rule] = field(default_factory=list)

    def add(self, rule: Rule) -> None:
        scope = rule.scope
        if scope.kind is ScopeKind.PRODUCT:
            self.by_product[(scope.code or "").upper()].append(rule)
        elif scope.kind is ScopeKind.PRODUCT_GROUP:
            self.by_group[(scope.code or "").upper()].append(rule)
        else:
            self.everywhere.append(rule)

    def extend(self, found: list[Rule], code: str, group_code: str | None) -> None:
        """Add the rules whose scope may cover the product to ``found``."""
        found += self.everywhere
        found += self.by_product.get(code, ())
        if group_code:
            found += self.by_group.get(group_code, ())


@dataclass(frozen=True)
class ClientRules:
    """The rules whose audience may cover one client: the parts of a :class:`RuleIndex` for
    everyone, for each of the client's groups and for the client (a few dict lookups)."""

    parts: tuple[ScopeIndex, ...]

    def for_product(self, code: str, group_code: str | None) -> list[Rule]:
        """Every rule whose scope may cover the product (the resolution checks scope and
        audience again, and sorts by code)."""
        found: list[Rule] = []
        upper, group = code.upper(), group_code.upper() if group_code else None
        for part in self.parts:
            part.extend(found, upper, group)
        return found


@dataclass
class RuleIndex:
    """The rules that are not retired, by their audience and then by what their scope names."""

    rules: list[StoredRule] = field(default_factory=list)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    #: by audience: for everyone, for a client group (by its id), for a client (by its id)
    everyone: ScopeIndex = field(default_factory=ScopeIndex)
    by_client_group: dict[str | None, ScopeIndex] = field(
        default_factory=lambda: defaultdict(ScopeIndex))
    by_client: dict[str | None, ScopeIndex] = field(
        default_factory=lambda: defaultdict(ScopeIndex))

    @classmethod
    def of(cls, stored: Iterable[StoredRule]) -> RuleIndex:
        index = cls()
        for s in stored:
            index.rules.append(s)
            index.ids[s.rule.code] = s.id
            audience = s.rule.audience
            if audience.kind is AudienceKind.ALL:
                index.everyone.add(s.rule)
            elif audience.kind is AudienceKind.CLIENT_GROUP:
                index.by_client_group[audience.id].add(s.rule)
            else:
                index.by_client[audience.id].add(s.rule)
        return index

    @property
    def all_rules(self) -> list[Rule]:
        return [s.rule for s in self.rules]

    def for_client(self, client: Client) -> ClientRules:
        """The rules whose audience covers ``client`` (``Audience.covers``: everyone, one of
        its groups by id, the client by id)."""
        parts = [self.everyone]
        parts += (self.by_client_group[g] for g in sorted(client.group_ids)
                  if g in self.by_client_group)
        if client.id in self.by_client:
            parts.append(self.by_client[client.id])
        return ClientRules(tuple(parts))


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


def _stamp_of(table: sa.Table, *, versioned: bool) -> sa.Subquery:
    parts: list[Any] = [sa.func.count().label("n"), sa.func.max(table.c.updated_at).label("at")]
    if versioned:
        parts.append(sa.func.coalesce(sa.func.sum(table.c.version), 0).label("v"))
    return sa.select(*parts).select_from(table).subquery()


#: clients whose parsed turnover a process keeps (~55 KB each for 25 months of five groups)
TURNOVER_CACHE_SIZE = 500

#: what moves when a rule or a display name changes (count, latest change, sum of versions),
#: in one statement
_STAMPS = (_stamp_of(pricing_rules, versioned=True), _stamp_of(product_groups, versioned=False),
           _stamp_of(client_groups, versioned=True))
_STAMP = sa.select(*(c for t in _STAMPS for c in t.c)).select_from(
    _STAMPS[0].join(_STAMPS[1], sa.true()).join(_STAMPS[2], sa.true()))
_RULES_STAMP = 3


@dataclass(frozen=True)
class Book:
    """What every quote reads besides its own rows: the indexed rules and the display names."""

    index: RuleIndex
    names: dict[str, str]


class RuleBook:
    """The process's parsed and indexed rules and the display names, re-read when the stamp of
    their tables (count, latest change, sum of versions) moves: one cheap statement per request.
    One per process (the app's lifespan); safe to share between concurrent requests. It also
    keeps the clients' parsed turnover (:class:`TurnoverCache`)."""

    def __init__(self, turnover_cache_size: int = TURNOVER_CACHE_SIZE) -> None:
        self._stamp: tuple[Any, ...] | None = None
        self._book = Book(RuleIndex(), {})
        self._lock = asyncio.Lock()
        self.turnovers = TurnoverCache(turnover_cache_size)

    async def read(self, conn: AsyncConnection) -> Book:
        stamp = tuple((await conn.execute(_STAMP)).one())
        if stamp == self._stamp:
            return self._book
        async with self._lock:
            if stamp != self._stamp:
                old = self._stamp
                index = self._book.index
                if old is None or stamp[:_RULES_STAMP] != old[:_RULES_STAMP]:
                    index = RuleIndex.of(await read_rules(conn))
                names_ = self._book.names
                if old is None or stamp[_RULES_STAMP:] != old[_RULES_STAMP:]:
                    names_ = await names(conn)
                self._book = Book(index, names_)
                self._stamp = stamp
        return self._book

    async def index(self, conn: AsyncConnection) -> RuleIndex:
        return (await self.read(conn)).index


# --- clients -----------------------------------------------------------------------------------


def _contract_of(row: Mapping[str, Any]) -> Contract:
    """A contract as ``_CLIENT_ROWS`` reads it (JSON: the days as ISO strings)."""
    return _contract(SimpleNamespace(**{
        **row, "valid_from": dt.date.fromisoformat(row["valid_from"]),
        "valid_until": dt.date.fromisoformat(row["valid_until"]) if row["valid_until"]
        else None}))


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


class TurnoverCache:
    """The clients' parsed turnover (``turnover_from_event``), by client, with the stored row's
    version and change time: a quote reads only those two when they have not moved, and reads
    and parses the figures when they have. Bounded: the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[uuid.UUID, tuple[int, dt.datetime, Turnover]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def known(self, client_id: uuid.UUID) -> tuple[int, dt.datetime, Turnover] | None:
        found = self._kept.get(client_id)
        if found is not None:
            self._kept.move_to_end(client_id)
        return found

    def keep(self, client_id: uuid.UUID, version: int, at: dt.datetime,
             turnover: Turnover) -> None:
        if self.size <= 0:
            return
        self._kept[client_id] = (version, at, turnover)
        self._kept.move_to_end(client_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)


#: each client's group and turnover; the figures only when they differ from the version and
#: change time the process already parsed
_CLIENT_ROWS = sa.text("""
    SELECT k.id, cp.group_id, ct.version, ct.as_of, ct.updated_at,
           CASE WHEN ct.version = k.version AND ct.updated_at = k.at THEN NULL
                ELSE ct.data END AS data,
           (SELECT json_agg(json_build_object(
                       'number', c.number, 'status', c.status, 'valid_from', c.valid_from,
                       'valid_until', c.valid_until, 'discounts', c.discounts,
                       'version', c.version) ORDER BY c.number)
            FROM contracts c WHERE c.client_id = k.id) AS contracts
    FROM unnest(:ids, :versions, :ats) AS k(id, version, at)
    LEFT JOIN client_profiles cp ON cp.client_id = k.id
    LEFT JOIN client_turnover ct ON ct.client_id = k.id
""").bindparams(sa.bindparam("ids", type_=ARRAY(UUID(as_uuid=True))),
                sa.bindparam("versions", type_=ARRAY(sa.BigInteger)),
                sa.bindparam("ats", type_=ARRAY(sa.DateTime(timezone=True)))) \
    .columns(sa.column("id", UUID(as_uuid=True)), sa.column("group_id", UUID(as_uuid=True)),
             sa.column("version", sa.BigInteger), sa.column("as_of", sa.DateTime(timezone=True)),
             sa.column("updated_at", sa.DateTime(timezone=True)), sa.column("data", JSONB),
             sa.column("contracts", JSONB))


async def load_clients(conn: AsyncConnection, client_ids: Sequence[uuid.UUID],
                       cache: TurnoverCache | None = None) -> dict[uuid.UUID, ClientFacts]:
    """Group, latest turnover and contracts of each client (one statement; the turnover's
    figures parsed once per version when a ``cache`` is given). A client pricing has heard
    nothing of is still priced: no group, no turnover, no contracts."""
    ids = list(dict.fromkeys(client_ids))
    if not ids:
        return {}
    known = {cid: cache.known(cid) for cid in ids} if cache is not None else {}
    groups: dict[uuid.UUID, Any] = {}
    turnovers: dict[uuid.UUID, tuple[Turnover, Any, int]] = {}
    by_client: dict[uuid.UUID, list[Contract]] = {}
    for r in await conn.execute(_CLIENT_ROWS, {
            "ids": ids, "versions": [k[0] if (k := known.get(cid)) else None for cid in ids],
            "ats": [k[1] if (k := known.get(cid)) else None for cid in ids]}):
        groups[r.id] = r.group_id
        by_client[r.id] = [_contract_of(c) for c in r.contracts or ()]
        if r.version is None:
            continue
        if r.data is None:  # unchanged since it was parsed
            kept = known[r.id]
            assert kept is not None
            turnover = kept[2]
        else:
            turnover = turnover_from_event(r.data)
            if cache is not None:
                cache.keep(r.id, r.version, r.updated_at, turnover)
        turnovers[r.id] = (turnover, r.as_of, r.version)
    out: dict[uuid.UUID, ClientFacts] = {}
    for cid in ids:
        group = groups.get(cid)
        read = turnovers.get(cid)
        out[cid] = ClientFacts(
            Client(id=str(cid), group_ids=frozenset([str(group)]) if group else frozenset(),
                   turnover=read[0] if read else None,
                   contracts=tuple(by_client.get(cid, ()))),
            read[1] if read else None, read[2] if read else None)
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


def _base_lists(day: dt.date) -> sa.ColumnElement[bool]:
    """The price lists a base price comes from (module docstring)."""
    return sa.and_(price_lists.c.archived_at.is_(None),
                   sa.or_(sa.and_(price_lists.c.is_default, _valid_on(day)),
                          price_lists.c.source == "erp"))


def _base_price_of(rows: Iterable[Any]) -> dict[str, BasePrice]:
    found: dict[str, BasePrice] = {}
    for r in sorted(rows, key=lambda r: r.is_default):  # the default list's price wins
        found[r.product_code] = BasePrice(to_eur(Decimal(r.price), r.currency), r.list_code)
    return found


async def base_prices(conn: AsyncConnection, codes: Sequence[str],
                      day: dt.date) -> dict[str, BasePrice]:
    """The base price of each product on ``day`` (module docstring: the default list, else the
    ERP's), in EUR; products without one are absent."""
    if not codes:
        return {}
    rows = await conn.execute(
        sa.select(price_list_items.c.product_code, price_list_items.c.price,
                  price_lists.c.currency, price_lists.c.code.label("list_code"),
                  price_lists.c.is_default)
        .select_from(price_list_items.join(
            price_lists, price_lists.c.id == price_list_items.c.price_list_id))
        .where(price_list_items.c.product_code.in_(list(dict.fromkeys(codes))),
               _base_lists(day)))
    return _base_price_of(rows)


def active_rules(rules: Iterable[Rule]) -> list[Rule]:
    return [r for r in rules if r.status is RuleStatus.ACTIVE]


async def load_rules(conn: AsyncConnection) -> list[Rule]:
    """Every draft and active rule (uncached; requests go through a :class:`RuleBook`)."""
    return [s.rule for s in await read_rules(conn)]
