"""Read side of contracts. Access goes through the client: a contract is visible exactly when its
client is (``client_queries.clients_by_ids`` for single contracts, ``visibility.visible_clients``
as a SQL condition for lists across clients).

Each function checks out its own connection from the autocommit reader, so DataLoaders running
concurrently never share one; the batched ones take the ids as one array parameter.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import RowMapping, Select, any_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_clients.adapters.tables import clients, contract_discounts, contracts
from crm_clients.domain.contract import ContractStatus
from crm_clients.service_layer import client_queries
from crm_clients.service_layer.client_queries import contract_in_force as in_force_condition
from crm_clients.service_layer.visibility import visible_clients
from crm_common.auth import Principal
from crm_common.db import fetch_rows
from crm_common.paging import (
    IDS,
    Page,
    keyset_page,
    keyset_pages_by_parent,
)

Row = RowMapping

_CONTRACTS_BY_IDS = select(contracts).where(contracts.c.id == any_(IDS))
_DISCOUNTS_BY_CONTRACT = select(contract_discounts).where(
    contract_discounts.c.contract_id == any_(IDS)).order_by(
    contract_discounts.c.contract_id, contract_discounts.c.position)

#: a contract is in force on a day when it was activated, its validity covers the day, it was not
#: terminated before the day, and it is not suspended (suspension periods are not kept)
_RUNNING = (ContractStatus.ACTIVE.value, ContractStatus.SUSPENDED.value)
MAX_DAYS_AHEAD = 3650


async def contracts_by_ids(reader: AsyncEngine, principal: Principal,
                           ids: Sequence[uuid.UUID], *, grace: dt.timedelta) -> list[Row | None]:
    """Two statements for any number of ids: the contracts, then their clients through the
    access rule; a contract whose client the principal may not see is None (not found)."""
    async with reader.connect() as conn:
        found = {r["id"]: r for r in (await conn.execute(
            _CONTRACTS_BY_IDS, {"ids": list(ids)})).mappings()}
    client_ids = list({r["client_id"] for r in found.values()})
    visible: set[uuid.UUID] = set()
    if client_ids:
        rows = await client_queries.clients_by_ids(reader, principal, client_ids, grace=grace)
        visible = {r["id"] for r in rows if r is not None}
    return [r if (r := found.get(i)) is not None and r["client_id"] in visible else None
            for i in ids]


@dataclass(frozen=True)
class ClientContractsKey:
    """One ``Client.contracts`` page: whose, how many, of which status, after which cursor."""

    client_id: uuid.UUID
    first: int
    status: str | None = None
    after: str | None = None


@lru_cache(maxsize=16)
def _with_status(status: str | None) -> Select[Any]:
    """The contracts of one status (any with None), built once per status."""
    statement = select(contracts)
    return statement if status is None else statement.where(contracts.c.status == status)


async def contracts_by_client(reader: AsyncEngine, keys: Sequence[ClientContractsKey]
                              ) -> list[Page]:
    """Callers pass only ids of clients the principal may see (resolved through the client).
    A keyset page per client, latest validity first: one statement per distinct (page size,
    status, cursor), whatever the number of clients; the first pages' statements are built once
    per shape. Raises ``InvalidCursor``."""
    groups: dict[tuple[int, str | None, str | None], list[uuid.UUID]] = defaultdict(list)
    for k in keys:
        groups[(k.first, k.status, k.after)].append(k.client_id)
    found: dict[ClientContractsKey, Page] = {}
    for (first, status, after), ids in groups.items():
        # latest validity first: ``ix_contracts_client`` read backwards
        pages = await keyset_pages_by_parent(
            reader, ids, contracts.c.client_id, _with_status(status), key=contracts.c.valid_from,
            key_type=dt.date, id_col=contracts.c.id, first=first, after=after, descending=True,
            built_once=True)
        found.update({ClientContractsKey(i, first, status, after): p
                      for i, p in zip(ids, pages, strict=True)})
    return [found[k] for k in keys]


async def discounts_by_contract(reader: AsyncEngine,
                                contract_ids: Sequence[uuid.UUID]) -> list[list[Row]]:
    """Callers pass only ids of contracts already read through the access rule."""
    grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
    for r in await fetch_rows(reader, _DISCOUNTS_BY_CONTRACT, {"ids": list(contract_ids)}):
        grouped[r["contract_id"]].append(r)
    return [grouped.get(i, []) for i in contract_ids]


@dataclass(frozen=True)
class ContractFilter:
    client_id: uuid.UUID | None = None
    status: str | None = None
    in_force_on: dt.date | None = None
    #: active or suspended contracts whose end falls within ``today`` .. ``today`` + N days
    expiring_within_days: int | None = None


async def list_contracts(reader: AsyncEngine, principal: Principal, flt: ContractFilter, *,
                         first: int, after: str | None, today: dt.date,
                         grace: dt.timedelta) -> Page:
    """Contracts of the clients the principal may see, keyset-paged by number
    (``WHERE number > :cursor`` over ``ix_contracts_number``). Raises ``InvalidCursor``."""
    c = contracts.c
    stmt = select(contracts)
    if not principal.sees_all_clients:
        stmt = stmt.join(clients, clients.c.id == c.client_id).where(
            visible_clients(principal, grace=grace))
    if flt.client_id is not None:
        stmt = stmt.where(c.client_id == flt.client_id)
    if flt.status is not None:
        stmt = stmt.where(c.status == flt.status)
    if flt.in_force_on is not None:
        stmt = stmt.where(in_force_condition(flt.in_force_on))
    if flt.expiring_within_days is not None:
        if not 0 <= flt.expiring_within_days <= MAX_DAYS_AHEAD:
            raise ValueError(f"expiringWithinDays must be between 0 and {MAX_DAYS_AHEAD}")
        stmt = stmt.where(c.status.in_(_RUNNING), c.valid_until >= today,
                          c.valid_until <= today + dt.timedelta(days=flt.expiring_within_days))
    return await keyset_page(reader, stmt, key=c.number, key_type=str, id_col=c.id,
                             first=first, after=after)


__all__ = ["ClientContractsKey", "ContractFilter", "contracts_by_client",
           "contracts_by_ids", "discounts_by_contract", "in_force_condition", "list_contracts"]
