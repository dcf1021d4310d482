"""Read side of pricing rules: the list (keyset pages by code), rules by id and by code, and
the earlier versions of rules. Every employee reads every rule (reps included: issue 11)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from sqlalchemy import ColumnElement, RowMapping, and_, any_, bindparam, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from crm_common.graphql.context import batch_loader
from crm_common.history import HistoryLoader
from crm_common.paging import Page, by_ids, keyset_page
from crm_pricing.adapters.tables import (
    client_profiles,
    history,
    pricing_rule_versions,
    pricing_rules,
)
from crm_pricing.adapters.tables import products as products_table

c = pricing_rules.c


@dataclass(frozen=True)
class RuleFilter:
    """Every field narrows the list (and together).

    - ``product_code``: rules that cover the product: scope all, the product itself, or its
      product group (as the catalogue knows it);
    - ``product_group_code``: rules that touch the group: scope all, the group, or a product of it;
    - ``client_id``: rules whose audience covers the client: all, the client itself, or the
      client group pricing knows it in;
    - ``client_group_id``: audience all or that client group;
    - with ``scope_kind`` / ``audience_kind`` on top, only that kind (``audience_kind: CLIENT``
      and ``client_id``: the client's own rules);
    - ``search``: part of the code or the name, any case.
    """

    statuses: tuple[str, ...] = ()
    scope_kind: str | None = None
    product_group_code: str | None = None
    product_code: str | None = None
    audience_kind: str | None = None
    client_id: uuid.UUID | None = None
    client_group_id: uuid.UUID | None = None
    search: str | None = None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(flt: RuleFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if flt.statuses:
        found.append(c.status.in_(list(flt.statuses)))
    if flt.scope_kind:
        found.append(c.scope_kind == flt.scope_kind)
    if flt.audience_kind:
        found.append(c.audience_kind == flt.audience_kind)
    if flt.product_code:
        code = flt.product_code.upper()
        group = select(func.upper(products_table.c.group_code)).where(
            func.upper(products_table.c.code) == code).scalar_subquery()
        found.append(or_(c.scope_kind == "all",
                         and_(c.scope_kind == "product", c.scope_code == code),
                         and_(c.scope_kind == "product_group", c.scope_code == group)))
    if flt.product_group_code:
        code = flt.product_group_code.upper()
        members = select(func.upper(products_table.c.code)).where(
            func.upper(products_table.c.group_code) == code)
        found.append(or_(c.scope_kind == "all",
                         and_(c.scope_kind == "product_group", c.scope_code == code),
                         and_(c.scope_kind == "product", c.scope_code.in_(members))))
    if flt.client_id is not None:
        group = select(func.cast(client_profiles.c.group_id, pricing_rules.c.audience_id.type)
                       ).where(client_profiles.c.client_id == flt.client_id).scalar_subquery()
        found.append(or_(c.audience_kind == "all",
                         and_(c.audience_kind == "client", c.audience_id == str(flt.client_id)),
                         and_(c.audience_kind == "client_group", c.audience_id == group)))
    if flt.client_group_id is not None:
        found.append(or_(c.audience_kind == "all",
                         and_(c.audience_kind == "client_group",
                              c.audience_id == str(flt.client_group_id))))
    if flt.search:
        pattern = f"%{_like_escape(flt.search)}%"
        found.append(or_(c.code.ilike(pattern, escape="\\"), c.name.ilike(pattern, escape="\\")))
    return found


async def list_rules(reader: AsyncEngine, flt: RuleFilter, *, first: int,
                     after: str | None) -> Page:
    """Rules by code (keyset on (code, id)); raises ``InvalidCursor``."""
    statement = select(pricing_rules).where(*_conditions(flt))
    return await keyset_page(reader, statement, key=c.code, key_type=str, id_col=c.id,
                             first=first, after=after)


async def rules_by_ids(reader: AsyncEngine, ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    return await by_ids(reader, pricing_rules, true(), ids)


_CODES = bindparam("codes", type_=ARRAY(pricing_rules.c.code.type))


async def rules_by_codes(reader: AsyncEngine, codes: Sequence[str]) -> list[RowMapping | None]:
    """Rules by code, any case (codes are unique)."""
    statement = select(pricing_rules).where(func.upper(c.code) == any_(_CODES))
    async with reader.connect() as conn:
        found = {r["code"].upper(): r for r in (await conn.execute(
            statement, {"codes": [code.upper() for code in codes]})).mappings()}
    return [found.get(code.upper()) for code in codes]


async def earlier_versions(reader: AsyncEngine,
                           ids: Sequence[uuid.UUID]) -> list[list[RowMapping]]:
    """Each rule's versions before its current one, newest first (one statement)."""
    v = pricing_rule_versions.c
    statement = (select(pricing_rule_versions, pricing_rules.c.created_at,
                        pricing_rules.c.id.label("id"))
                 .join(pricing_rules, pricing_rules.c.id == v.rule_id)
                 .where(v.rule_id.in_(list(ids)), v.version < pricing_rules.c.version)
                 .order_by(v.rule_id, v.version.desc()))
    grouped: dict[uuid.UUID, list[RowMapping]] = defaultdict(list)
    async with reader.connect() as conn:
        for row in (await conn.execute(statement)).mappings():
            grouped[row["rule_id"]].append(row)
    return [grouped.get(i, []) for i in ids]


@dataclass
class RuleLoaders:
    """The per-request loaders of the rules area (one statement per batch)."""

    rule: DataLoader[uuid.UUID, RowMapping | None]
    rule_by_code: DataLoader[str, RowMapping | None]
    versions: DataLoader[uuid.UUID, list[RowMapping]]
    history: HistoryLoader

    @classmethod
    def create(cls, reader: AsyncEngine) -> RuleLoaders:
        return cls(rule=batch_loader(partial(rules_by_ids, reader)),
                   rule_by_code=batch_loader(partial(rules_by_codes, reader)),
                   versions=batch_loader(partial(earlier_versions, reader)),
                   history=HistoryLoader(reader, history, "entity_id"))
