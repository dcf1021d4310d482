"""Per-request DataLoaders: the monthly rollups of many clients, client groups or portfolios in
one statement per batch, the catalogue's names of many codes, and the sales metrics of many
clients in a fixed number of statements — so that a request costs the same number of
statements whether it asks for one client or fifty."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strawberry.dataloader import DataLoader

from crm_analytics.domain.metrics import Figures
from crm_analytics.domain.turnover import ItemMonth
from crm_analytics.service_layer import client_metrics
from crm_analytics.service_layer import turnover_queries as q
from crm_analytics.service_layer.visibility import Access
from crm_common.graphql.context import batch_loader

#: (client, first month, last month)
MonthsKey = tuple[uuid.UUID, dt.date, dt.date]
#: (client, first month, last month, by product?)
ItemsKey = tuple[uuid.UUID, dt.date, dt.date, bool]
#: ("client_group" or "owner", its id, first month, last month)
KeyedMonthsKey = tuple[str, uuid.UUID, dt.date, dt.date]
#: ("client_group" or "owner", its id, first month, last month, by product?)
KeyedItemsKey = tuple[str, uuid.UUID, dt.date, dt.date, bool]
#: (product or product group code, a product's?)
NameKey = tuple[str, bool]
V = TypeVar("V")
#: reads the values of several ids that share the rest of their keys
Fetch = Callable[[AsyncConnection, list[uuid.UUID], tuple[Any, ...]],
                 Awaitable[Mapping[uuid.UUID, V]]]
#: the ranking of all clients (ABC, RFM), through the process's cache
RankingSource = Callable[[AsyncConnection], Awaitable[client_metrics.Ranking]]


@dataclass
class Loaders:
    months: DataLoader[MonthsKey, dict[dt.date, Figures]]
    item_months: DataLoader[ItemsKey, list[ItemMonth]]
    #: the figures of a client group's or an owner's clients that the principal may see
    keyed_months: DataLoader[KeyedMonthsKey, dict[dt.date, Figures]]
    keyed_item_months: DataLoader[KeyedItemsKey, list[ItemMonth]]
    #: may the principal see this client's figures
    visible: DataLoader[uuid.UUID, bool]
    names: DataLoader[NameKey, str | None]
    sales_metrics: DataLoader[uuid.UUID, client_metrics.SalesMetrics]


def make_loaders(reader: AsyncEngine, access: Access, today: dt.date,
                 ranking: RankingSource) -> Loaders:
    def by_ids(id_at: int, fetch: Fetch[V], empty: Callable[[], V]) -> DataLoader[Any, V]:
        """A loader of keys that hold an id at ``id_at`` and a shared rest (the months, by
        product or not, …): one ``fetch(conn, ids, rest)`` per distinct rest, for all the ids
        (``empty()`` for an id it finds nothing for)."""
        async def load(keys: list[tuple[Any, ...]]) -> list[V]:
            ids_by_rest: dict[tuple[Any, ...], list[uuid.UUID]] = defaultdict(list)
            for key in keys:
                ids_by_rest[key[:id_at] + key[id_at + 1:]].append(key[id_at])
            found: dict[tuple[Any, ...], V] = {}
            async with reader.connect() as conn:
                for rest, ids in ids_by_rest.items():
                    rows = await fetch(conn, ids, rest)
                    for ref in ids:
                        found[rest[:id_at] + (ref,) + rest[id_at:]] = rows.get(ref, empty())
            return [found[key] for key in keys]
        return batch_loader(load)

    async def months(conn: AsyncConnection, ids: list[uuid.UUID], rest: tuple[Any, ...]
                     ) -> Mapping[uuid.UUID, dict[dt.date, Figures]]:
        start, end = rest
        return await q.monthly_by_client(conn, ids, start, end)

    async def item_months(conn: AsyncConnection, ids: list[uuid.UUID], rest: tuple[Any, ...]
                          ) -> Mapping[uuid.UUID, list[ItemMonth]]:
        start, end, product = rest
        return await q.item_months_by_client(conn, ids, start, end, product=product)

    async def keyed_months(conn: AsyncConnection, ids: list[uuid.UUID], rest: tuple[Any, ...]
                           ) -> Mapping[uuid.UUID, dict[dt.date, Figures]]:
        key, start, end = rest
        return await q.monthly_by_key(conn, key, ids, access.scope(), start, end)

    async def keyed_item_months(conn: AsyncConnection, ids: list[uuid.UUID],
                                rest: tuple[Any, ...]) -> Mapping[uuid.UUID, list[ItemMonth]]:
        key, start, end, product = rest
        return await q.item_months_by_key(conn, key, ids, access.scope(), start, end,
                                          product=product)

    async def load_visible(keys: list[uuid.UUID]) -> list[bool]:
        if access.sees_all:
            return [True] * len(keys)
        async with reader.connect() as conn:
            seen = await access.visible_among(conn, keys)
        return [key in seen for key in keys]

    async def load_names(keys: list[NameKey]) -> list[str | None]:
        found: dict[NameKey, str] = {}
        async with reader.connect() as conn:
            for product in (False, True):
                codes = sorted({code for code, p in keys if p == product})
                if codes:
                    names = await q.names(conn, codes, product=product)
                    found.update({(code, product): name for code, name in names.items()})
        return [found.get(key) for key in keys]

    async def load_sales_metrics(keys: list[uuid.UUID]) -> list[client_metrics.SalesMetrics]:
        async with reader.connect() as conn:
            found = await client_metrics.sales_metrics_of(conn, keys, today,
                                                          await ranking(conn))
        return [found[key] for key in keys]

    return Loaders(months=by_ids(0, months, dict), item_months=by_ids(0, item_months, list),
                   keyed_months=by_ids(1, keyed_months, dict),
                   keyed_item_months=by_ids(1, keyed_item_months, list),
                   visible=batch_loader(load_visible), names=batch_loader(load_names),
                   sales_metrics=batch_loader(load_sales_metrics))
