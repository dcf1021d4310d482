"""The per-request GraphQL context: the principal, the runtime and fresh DataLoaders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from strawberry.dataloader import DataLoader

from crm_clients.adapters.tables import history
from crm_clients.graphql.contract_types import contract_loaders
from crm_clients.service_layer import client_queries, employee_queries, group_queries
from crm_clients.service_layer.contract_jobs import JobSettings
from crm_common.auth import Principal
from crm_common.graphql.context import RequestContext, batch_loader
from crm_common.history import HistoryLoader
from crm_common.paging import Page
from crm_common.service import Runtime, state_of

#: the lifespan state's key of the contract job's settings
JOB_SETTINGS = "contract_job"


@dataclass
class Loaders:
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


@dataclass
class Context(RequestContext):
    contract_job: JobSettings
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        reader = self.runtime.reader
        principal = self.principal
        grace = self.grace

        async def load_clients(ids: list[uuid.UUID]) -> list[Any]:
            return await client_queries.clients_by_ids(reader, principal, ids, grace=grace)

        async def load_addresses(ids: list[uuid.UUID]) -> list[list[Any]]:
            return await client_queries.addresses_by_client(reader, ids)

        async def load_contacts(ids: list[uuid.UUID]) -> list[list[Any]]:
            return await client_queries.contacts_by_client(reader, ids)

        async def load_accounts(ids: list[uuid.UUID]) -> list[list[Any]]:
            return await client_queries.bank_accounts_by_client(reader, ids)

        async def load_employees(ids: list[uuid.UUID]) -> list[Any]:
            return await employee_queries.employees_by_ids(reader, ids)

        async def load_groups(ids: list[uuid.UUID]) -> list[Any]:
            return await group_queries.groups_by_ids(reader, ids)

        self.loaders = Loaders(
            client=batch_loader(load_clients),
            addresses=batch_loader(load_addresses),
            contacts=batch_loader(load_contacts),
            bank_accounts=batch_loader(load_accounts),
            employee=batch_loader(load_employees),
            client_history=HistoryLoader(reader, history, "client_id"),
            entity_history=HistoryLoader(reader, history, "entity_id"),
            group=batch_loader(load_groups),
            **contract_loaders(reader, principal, grace),
        )


def make_context(request: Request, principal: Principal, runtime: Runtime) -> Context:
    return Context(principal=principal, runtime=runtime,
                   contract_job=state_of(request, JOB_SETTINGS, JobSettings))
