"""The per-request GraphQL context: the principal, the runtime, the access moment and fresh
DataLoaders (one statement per batch, whatever the number of rows)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader

from crm_activities.adapters.tables import access, history
from crm_activities.service_layer import (
    activity_queries,
    competitor_queries,
    meeting_queries,
)
from crm_activities.service_layer.visibility import Access
from crm_common.client_access import projected_employees
from crm_common.graphql.context import LazyLoaders, RequestContext, batch_loader
from crm_common.history import HistoryLoader
from crm_common.paging import Page

#: (parent id, first, after, extra filter key) → a page
PageKey = tuple[uuid.UUID, int, str | None, Any]


def _grouped(load: Any) -> Any:
    """A DataLoader function for keys (parent, first, after, extra): one query per distinct
    (first, after, extra) — in practice one — for all the parents."""
    async def load_fn(keys: list[PageKey]) -> list[Any]:
        groups: dict[tuple[int, str | None, Any], list[uuid.UUID]] = {}
        for parent, first, after, extra in keys:
            groups.setdefault((first, after, extra), []).append(parent)
        results: dict[PageKey, Any] = {}
        for (first, after, extra), parents in groups.items():
            values = await load(parents, first, after, extra)
            for parent, value in zip(parents, values, strict=True):
                results[(parent, first, after, extra)] = value
        return [results[k] for k in keys]
    return load_fn


class Loaders(LazyLoaders):
    """The activities service's loaders, each made when first asked for (``LazyLoaders``)."""

    activity: DataLoader[uuid.UUID, Any]
    meeting: DataLoader[uuid.UUID, Any]
    competitor: DataLoader[uuid.UUID, Any]
    client_activities: DataLoader[PageKey, Page]
    client_observations: DataLoader[PageKey, Page]
    competitor_observations: DataLoader[PageKey, Page]
    last_contact: DataLoader[uuid.UUID, dt.datetime | None]
    next_meeting: DataLoader[uuid.UUID, Any]
    agenda: DataLoader[PageKey, Page]
    history: HistoryLoader
    #: the staff directory projection's rows (``me`` and ``Employee.fullName``)
    employee: DataLoader[uuid.UUID, Any]


@dataclass
class Context(RequestContext):
    calendar_base_url: str
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    loaders: Loaders = field(init=False)

    @property
    def access(self) -> Access:
        return Access(self.principal, self.now, self.grace)

    def __post_init__(self) -> None:
        reader, who = self.runtime.reader, self.access

        async def client_activities(ids: list[uuid.UUID], first: int, after: str | None,
                                    flt: Any) -> list[Page]:
            return await activity_queries.activities_by_client(
                reader, who, ids, flt or activity_queries.ActivityFilter(), first=first,
                after=after)

        def observations(parent: str) -> Any:
            async def load(ids: list[uuid.UUID], first: int, after: str | None,
                           _extra: Any) -> list[Page]:
                return await competitor_queries.observations_by_parent(
                    reader, who, parent, ids, first=first, after=after)
            return load

        async def agenda(ids: list[uuid.UUID], first: int, after: str | None,
                         window: Any) -> list[Page]:
            return await meeting_queries.agendas(reader, who, ids, window, first=first,
                                                 after=after)

        self.loaders = Loaders({
            "activity": lambda: batch_loader(partial(activity_queries.activities_by_ids, reader,
                                                     who)),
            "meeting": lambda: batch_loader(partial(meeting_queries.meetings_by_ids, reader, who)),
            "competitor": lambda: batch_loader(partial(competitor_queries.competitors_by_ids,
                                                       reader)),
            "client_activities": lambda: batch_loader(_grouped(client_activities)),
            "client_observations": lambda: batch_loader(_grouped(observations("client"))),
            "competitor_observations": lambda: batch_loader(_grouped(observations("competitor"))),
            "last_contact": lambda: batch_loader(partial(activity_queries.last_contact_by_client,
                                                         reader, who)),
            "next_meeting": lambda: batch_loader(partial(meeting_queries.next_meeting_by_client,
                                                         reader, who)),
            "agenda": lambda: batch_loader(_grouped(agenda)),
            "history": lambda: HistoryLoader(reader, history, "entity_id"),
            "employee": lambda: batch_loader(partial(projected_employees, reader, access)),
        })
