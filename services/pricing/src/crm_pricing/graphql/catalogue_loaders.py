"""The per-request DataLoaders of the catalogue and the price lists (one statement per batch,
whatever the number of rows): ``Context.catalogue``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from crm_common.graphql.context import batch_loader
from crm_common.history import HistoryLoader
from crm_common.paging import Page
from crm_pricing.adapters.tables import history
from crm_pricing.service_layer import catalogue_queries as queries

#: (price list id, first, after, filter) → a page of its prices
PricesKey = tuple[uuid.UUID, int, str | None, queries.PriceFilter]


def _prices_loader(reader: AsyncEngine) -> DataLoader[PricesKey, Page]:
    async def load(keys: list[PricesKey]) -> list[Page]:
        groups: dict[tuple[int, str | None, queries.PriceFilter], list[uuid.UUID]] = {}
        for parent, first, after, flt in keys:
            groups.setdefault((first, after, flt), []).append(parent)
        answers: dict[PricesKey, Page] = {}
        for (first, after, flt), parents in groups.items():
            unique = list(dict.fromkeys(parents))
            pages = await queries.prices_by_list(reader, unique, flt, first=first, after=after)
            answers.update({(p, first, after, flt): page
                            for p, page in zip(unique, pages, strict=True)})
        return [answers[k] for k in keys]
    return batch_loader(load)


@dataclass
class CatalogueLoaders:
    product: DataLoader[str, RowMapping | None]
    product_group: DataLoader[str, RowMapping | None]
    erp_price: DataLoader[str, Decimal | None]
    price_list: DataLoader[uuid.UUID, RowMapping | None]
    prices: DataLoader[PricesKey, Page]
    history: HistoryLoader

    @classmethod
    def make(cls, reader: AsyncEngine) -> CatalogueLoaders:
        def loader(fn: Any) -> Any:
            return batch_loader(partial(fn, reader))
        return cls(
            product=loader(queries.products_by_codes),
            product_group=loader(queries.groups_by_codes),
            erp_price=loader(queries.erp_prices_by_codes),
            price_list=loader(queries.price_lists_by_ids),
            prices=_prices_loader(reader),
            history=HistoryLoader(reader, history, "entity_id"),
        )
