"""The per-request GraphQL context: the principal, the runtime and fresh DataLoaders."""

from __future__ import annotations

import datetime as dt
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
from crm_common.history import HistoryLoader
from crm_common.paging import Page
from crm_common.service import Runtime, state_of
from crm_common.uow import UnitOfWork

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
class Context:
    principal: Principal
    runtime: Runtime
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
            client=DataLoader(load_fn=load_clients, max_batch_size=500),
            addresses=DataLoader(load_fn=load_addresses, max_batch_size=500),
            contacts=DataLoader(load_fn=load_contacts, max_batch_size=500),
            bank_accounts=DataLoader(load_fn=load_accounts, max_batch_size=500),
            employee=DataLoader(load_fn=load_employees, max_batch_size=500),
            client_history=HistoryLoader(reader, history, "client_id"),
            entity_history=HistoryLoader(reader, history, "entity_id"),
            group=DataLoader(load_fn=load_groups, max_batch_size=500),
            **contract_loaders(reader, principal, grace),
        )

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.runtime.session_factory, source=self.runtime.settings.source,
                          actor_id=self.principal.subject)

    @property
    def grace(self) -> dt.timedelta:
        """The access rule's grace period: the settings' (its one source)."""
        return self.runtime.settings.access_grace

    @property
    def max_page_size(self) -> int:
        return self.runtime.settings.max_page_size


def make_context(request: Request, principal: Principal, runtime: Runtime) -> Context:
    return Context(principal=principal, runtime=runtime,
                   contract_job=state_of(request, JOB_SETTINGS, JobSettings))
