"""The per-request GraphQL context: the principal, the runtime and fresh DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from crm_clients.adapters.tables import history
from crm_clients.graphql.contract_types import contract_loaders
from crm_clients.graphql.inventory_types import inventory_loaders
from crm_clients.resources import InventoryFiles, files_of
from crm_clients.service_layer import client_queries, employee_queries, group_queries
from crm_clients.service_layer.contract_jobs import JobSettings
from crm_common.auth import Principal
from crm_common.graphql.context import LazyLoaders, RequestContext, batch_loader
from crm_common.history import HistoryLoader
from crm_common.paging import Page
from crm_common.service import Runtime, state_of

#: the lifespan state's key of the contract job's settings
JOB_SETTINGS = "contract_job"


class Loaders(LazyLoaders):
    """The clients service's loaders, each made when first asked for (``LazyLoaders``)."""

    client: DataLoader[uuid.UUID, Any]
    addresses: DataLoader[uuid.UUID, list[Any]]
    contacts: DataLoader[uuid.UUID, list[Any]]
    bank_accounts: DataLoader[uuid.UUID, list[Any]]
    employee: DataLoader[uuid.UUID, Any]
    client_history: HistoryLoader
    entity_history: HistoryLoader
    group: DataLoader[uuid.UUID, Any]
    # contracts (the contracts module)
    contract: DataLoader[uuid.UUID, Any]
    contracts_by_client: DataLoader[Any, Page]
    contract_discounts: DataLoader[uuid.UUID, list[Any]]
    # the advertising inventory (inventory_types.inventory_loaders)
    asset_type: DataLoader[uuid.UUID, Any]
    asset: DataLoader[uuid.UUID, Any]
    placement: DataLoader[uuid.UUID, Any]
    open_placements: DataLoader[uuid.UUID, list[Any]]
    placements_by_asset: DataLoader[uuid.UUID, list[Any]]
    placed_value: DataLoader[uuid.UUID, Any]
    audit: DataLoader[uuid.UUID, Any]
    lines_by_audit: DataLoader[uuid.UUID, list[Any]]
    last_audit_line: DataLoader[uuid.UUID, Any]
    lines_by_asset: DataLoader[uuid.UUID, list[Any]]
    material_by_client: DataLoader[Any, Page]
    protocols: DataLoader[uuid.UUID, list[Any]]
    photos: DataLoader[uuid.UUID, list[Any]]


@dataclass
class Context(RequestContext):
    contract_job: JobSettings
    files: InventoryFiles
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        reader, principal, grace = self.runtime.reader, self.principal, self.grace
        self.loaders = Loaders({
            "client": lambda: batch_loader(partial(client_queries.clients_by_ids, reader,
                                                   principal, grace=grace)),
            "addresses": lambda: batch_loader(partial(client_queries.addresses_by_client,
                                                      reader)),
            "contacts": lambda: batch_loader(partial(client_queries.contacts_by_client, reader)),
            "bank_accounts": lambda: batch_loader(partial(client_queries.bank_accounts_by_client,
                                                          reader)),
            "employee": lambda: batch_loader(partial(employee_queries.employees_by_ids, reader)),
            "client_history": lambda: HistoryLoader(reader, history, "client_id"),
            "entity_history": lambda: HistoryLoader(reader, history, "entity_id"),
            "group": lambda: batch_loader(partial(group_queries.groups_by_ids, reader)),
            **contract_loaders(reader, principal, grace),
            **inventory_loaders(reader, principal, grace),
        })


def make_context(request: Request, principal: Principal, runtime: Runtime) -> Context:
    return Context(principal=principal, runtime=runtime,
                   contract_job=state_of(request, JOB_SETTINGS, JobSettings),
                   files=files_of(request))
