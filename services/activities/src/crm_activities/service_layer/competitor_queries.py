"""Read side of competitor tracking: competitors, and the timeline of observations."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import RowMapping, Select, func, select, text, true
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_activities.adapters.tables import competitors, observations
from crm_activities.service_layer.visibility import Access, observation_visible
from crm_common.paging import Page, after_condition, by_ids, fetch_page, pages_by_parent

_ORDER = (observations.c.observed_on.desc(), observations.c.id.desc())


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_competitors(reader: AsyncEngine, *, search: str | None, product_group: str | None,
                           first: int, after: str | None) -> Page:
    """Competitors by name (every employee sees them all)."""
    statement = select(competitors)
    if search:
        statement = statement.where(
            competitors.c.name.ilike(f"%{_like_escape(search)}%", escape="\\"))
    if product_group:
        statement = statement.where(text(
            "EXISTS (SELECT 1 FROM unnest(competitors.product_groups) AS g "
            "WHERE lower(g) = lower(:group))").bindparams(group=product_group))
    if after:
        statement = statement.where(after_condition(
            after, competitors.c.name, str, competitors.c.id, descending=False))
    return await fetch_page(reader, statement.order_by(competitors.c.name, competitors.c.id),
                            first, "name")


async def competitors_by_ids(reader: AsyncEngine,
                             ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    return await by_ids(reader, competitors, true(), ids)


async def observations_by_ids(reader: AsyncEngine, who: Access,
                              ids: Sequence[uuid.UUID]) -> list[RowMapping | None]:
    return await by_ids(reader, observations,
                        observation_visible(who.principal, who.now, who.grace), ids)


@dataclass(frozen=True)
class ObservationFilter:
    competitor_id: uuid.UUID | None = None
    client_id: uuid.UUID | None = None
    kinds: tuple[str, ...] = ()
    product_group: str | None = None
    observed_from: dt.date | None = None
    observed_to: dt.date | None = None


def _filtered(flt: ObservationFilter, who: Access, after: str | None) -> Select[Any]:
    statement = select(observations).where(observation_visible(who.principal, who.now, who.grace))
    if flt.competitor_id is not None:
        statement = statement.where(observations.c.competitor_id == flt.competitor_id)
    if flt.client_id is not None:
        statement = statement.where(observations.c.client_id == flt.client_id)
    if flt.kinds:
        statement = statement.where(observations.c.kind.in_(flt.kinds))
    if flt.product_group:
        statement = statement.where(
            func.lower(observations.c.product_group) == flt.product_group.lower())
    if flt.observed_from is not None:
        statement = statement.where(observations.c.observed_on >= flt.observed_from)
    if flt.observed_to is not None:
        statement = statement.where(observations.c.observed_on <= flt.observed_to)
    if after:
        statement = statement.where(after_condition(
            after, observations.c.observed_on, dt.date, observations.c.id, descending=True))
    return statement.order_by(*_ORDER)


async def list_observations(reader: AsyncEngine, who: Access, flt: ObservationFilter, *,
                            first: int, after: str | None) -> Page:
    """Observations newest first, by competitor, client, kind, product group and period."""
    return await fetch_page(reader, _filtered(flt, who, after), first, "observed_on")


async def observations_by_parent(reader: AsyncEngine, who: Access, parent: str,
                                 ids: Sequence[uuid.UUID], *, first: int,
                                 after: str | None) -> list[Page]:
    """``Client.competitorObservations`` / ``Competitor.observations`` for many at once."""
    column = observations.c.client_id if parent == "client" else observations.c.competitor_id
    return await pages_by_parent(reader, ids, column, _filtered(ObservationFilter(), who, after),
                                 first, "observed_on")
