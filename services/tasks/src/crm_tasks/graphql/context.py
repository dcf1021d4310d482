"""The per-request GraphQL context: the principal, the runtime, the service's own resources and
fresh DataLoaders (one set per request)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from crm_common.auth import Principal
from crm_common.graphql.context import RequestContext, batch_loader
from crm_common.history import HistoryLoader
from crm_common.paging import Page
from crm_common.service import Runtime
from crm_tasks.adapters.tables import task_history
from crm_tasks.domain.reminder import today_in
from crm_tasks.resources import Resources, resources_of
from crm_tasks.service_layer import attachment_queries, task_queries


@dataclass
class Loaders:
    task: DataLoader[uuid.UUID, Any]
    attachments: DataLoader[attachment_queries.AttachmentKey, Page]
    owner_tasks: DataLoader[task_queries.OwnerKey, Page]
    task_history: HistoryLoader


@dataclass
class Context(RequestContext):
    resources: Resources
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        reader, principal, grace = self.runtime.reader, self.principal, self.grace
        self.loaders = Loaders(
            task=batch_loader(partial(task_queries.tasks_by_ids, reader, principal, grace=grace)),
            attachments=batch_loader(partial(attachment_queries.attachments_by_task, reader)),
            owner_tasks=batch_loader(partial(task_queries.tasks_by_owner, reader, principal,
                                             grace=grace)),
            task_history=HistoryLoader(reader, task_history, "task_id", newest_first=False),
        )

    @property
    def today(self) -> dt.date:
        return today_in(self.resources.settings.timezone)


def make_context(request: Request, principal: Principal, runtime: Runtime) -> Context:
    return Context(principal=principal, runtime=runtime, resources=resources_of(request))
