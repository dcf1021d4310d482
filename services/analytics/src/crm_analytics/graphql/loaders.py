"""Per-request DataLoaders: the monthly rollups of many clients, client groups or portfolios in
one statement per batch, the catalogue's names of many codes, and the sales metrics of many
clients in a fixed number of statements — so that a request costs the same number of
statements whether it asks for one client or fifty."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

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
    async def load_months(keys: list[MonthsKey]) -> list[dict[dt.date, Figures]]:
        spans: dict[tuple[dt.date, dt.date], list[uuid.UUID]] = defaultdict(list)
        for client, start, end in keys:
            spans[(start, end)].append(client)
        found: dict[MonthsKey, dict[dt.date, Figures]] = {}
        async with reader.connect() as conn:
            for (start, end), clients in spans.items():
                rows = await q.monthly_by_client(conn, clients, start, end)
                for client in clients:
                    found[(client, start, end)] = rows.get(client, {})
        return [found[key] for key in keys]

    async def load_items(keys: list[ItemsKey]) -> list[list[ItemMonth]]:
        spans: dict[tuple[dt.date, dt.date, bool], list[uuid.UUID]] = defaultdict(list)
        for client, start, end, product in keys:
            spans[(start, end, product)].append(client)
        found: dict[ItemsKey, list[ItemMonth]] = {}
        async with reader.connect() as conn:
            for (start, end, product), clients in spans.items():
                rows = await q.item_months_by_client(conn, clients, start, end, product=product)
                for client in clients:
                    found[(client, start, end, product)] = rows.get(client, [])
        return [found[key] for key in keys]

    async def load_keyed_months(keys: list[KeyedMonthsKey]) -> list[dict[dt.date, Figures]]:
        spans: dict[tuple[str, dt.date, dt.date], list[uuid.UUID]] = defaultdict(list)
        for key, ref, start, end in keys:
            spans[(key, start, end)].append(ref)
        found: dict[KeyedMonthsKey, dict[dt.date, Figures]] = {}
        async with reader.connect() as conn:
            for (key, start, end), refs in spans.items():
                rows = await q.monthly_by_key(conn, key, refs, access.scope(), start, end)
                for ref in refs:
                    found[(key, ref, start, end)] = rows.get(ref, {})
        return [found[k] for k in keys]

    async def load_keyed_items(keys: list[KeyedItemsKey]) -> list[list[ItemMonth]]:
        spans: dict[tuple[str, dt.date, dt.date, bool], list[uuid.UUID]] = defaultdict(list)
        for key, ref, start, end, product in keys:
            spans[(key, start, end, product)].append(ref)
        found: dict[KeyedItemsKey, list[ItemMonth]] = {}
        async with reader.connect() as conn:
            for (key, start, end, product), refs in spans.items():
                rows = await q.item_months_by_key(conn, key, refs, access.scope(), start, end,
                                                  product=product)
                for ref in refs:
                    found[(key, ref, start, end, product)] = rows.get(ref, [])
        return [found[k] for k in keys]

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

    return Loaders(months=batch_loader(load_months), item_months=batch_loader(load_items),
                   keyed_months=batch_loader(load_keyed_months),
                   keyed_item_months=batch_loader(load_keyed_items),
                   visible=batch_loader(load_visible), names=batch_loader(load_names),
                   sales_metrics=batch_loader(load_sales_metrics))
