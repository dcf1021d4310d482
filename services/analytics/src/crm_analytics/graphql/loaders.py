"""Per-request DataLoaders: the monthly rollups of many clients in one statement per batch."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from crm_analytics.domain.metrics import Figures
from crm_analytics.domain.turnover import ItemMonth
from crm_analytics.service_layer import turnover_queries as q
from crm_analytics.service_layer.visibility import Access
from crm_common.graphql.context import batch_loader

#: (client, first month, last month)
MonthsKey = tuple[uuid.UUID, dt.date, dt.date]
#: (client, first month, last month, by product?)
ItemsKey = tuple[uuid.UUID, dt.date, dt.date, bool]


@dataclass
class Loaders:
    months: DataLoader[MonthsKey, dict[dt.date, Figures]]
    item_months: DataLoader[ItemsKey, list[ItemMonth]]
    #: may the principal see this client's figures
    visible: DataLoader[uuid.UUID, bool]


def make_loaders(reader: AsyncEngine, access: Access) -> Loaders:
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

    async def load_visible(keys: list[uuid.UUID]) -> list[bool]:
        if access.sees_all:
            return [True] * len(keys)
        async with reader.connect() as conn:
            seen = await access.visible_among(conn, keys)
        return [key in seen for key in keys]

    return Loaders(months=batch_loader(load_months), item_months=batch_loader(load_items),
                   visible=batch_loader(load_visible))



