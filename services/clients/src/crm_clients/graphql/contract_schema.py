"""Contract queries and mutations; the main ``Query`` and ``Mutation`` inherit these classes.
Resolvers parse, call the service layer, map."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import strawberry

from crm_clients.domain.contract import Action, business_today
from crm_clients.graphql import SERVICE
from crm_clients.graphql.client_types import (
    Contract,
    ContractConnection,
    ContractEdge,
)
from crm_clients.graphql.contract_inputs import (
    ActivateContractInput,
    ContractFilterInput,
    CreateContractInput,
    RunContractMaintenanceInput,
    SuspendContractInput,
    TerminateContractInput,
    UpdateContractInput,
)
from crm_clients.service_layer import contract as handlers
from crm_clients.service_layer import contract_jobs, contract_queries
from crm_common.graphql.connections import connection_of, requested_page_size
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.inputs import filter_id, to_raw
from crm_common.graphql.mutations import Stale, changed_in, mutate
from crm_common.parsing import lookup_id, parse_id
from crm_common.problems import forbidden


def _grace(info: strawberry.Info) -> dt.timedelta:
    grace: dt.timedelta = info.context.grace
    return grace


async def _contract(info: strawberry.Info, contract_id: uuid.UUID | None) -> Contract | None:
    """The contract as the caller may see it now."""
    return await load_node(info.context.loaders.contract, contract_id, Contract.from_row)


def _contract_changed(info: strawberry.Info) -> Callable[[uuid.UUID], list[Stale]]:
    """What a command on a contract made stale: its row and its discounts."""
    return changed_in(info.context.loaders.contract, info.context.loaders.contract_discounts)


@strawberry.type
class ContractPayload:
    contract: Contract | None
    user_errors: list[UserError]


@strawberry.type
class ContractMaintenancePayload:
    today: dt.date | None
    renewed: int
    expired: int
    notices: int = strawberry.field(description="crm.clients.contract.expiring events sent.")
    skipped: bool = strawberry.field(description="Another process was running it; nothing done.")
    user_errors: list[UserError]


@strawberry.type
class ContractQuery:
    @strawberry.field(description="One contract; null when it does not exist or you may not see "
                                  "its client.")
    async def contract(self, info: strawberry.Info, id: strawberry.ID) -> Contract | None:
        return await _contract(info, lookup_id(id))

    @strawberry.field(description="Contracts of the clients you may see, keyset-paged by number.")
    async def contracts(self, info: strawberry.Info, first: int | None = None,
                        after: str | None = None,
                        filter: ContractFilterInput | None = None) -> ContractConnection:
        size = requested_page_size(info, first)
        flt = filter or ContractFilterInput()
        client_id = filter_id(flt.client_id, "clientId")
        try:
            page = await contract_queries.list_contracts(
                info.context.runtime.reader, info.context.principal,
                contract_queries.ContractFilter(
                    client_id=client_id, status=flt.status.value if flt.status else None,
                    in_force_on=flt.in_force_on, expiring_within_days=flt.expiring_within_days),
                first=size, after=after, today=business_today(), grace=_grace(info))
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        except ValueError as exc:
            raise bad_input(f"filter: {exc}") from None
        for row in page.rows:
            info.context.loaders.contract.prime(row["id"], row)
        return connection_of(page, ContractConnection, ContractEdge, Contract.from_row)


@strawberry.type
class ContractMutation:
    @strawberry.mutation(description="Create a draft contract (managers, admins; a rep for the "
                                     "clients they own).")
    async def create_contract(self, info: strawberry.Info,
                              input: CreateContractInput) -> ContractPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await handlers.create_contract(uow, ctx.principal, to_raw(input),
                                                      grace=_grace(info))

        contract_id, errors = await mutate(info, act, service=SERVICE,
                                           changed=_contract_changed(info))
        return ContractPayload(contract=await _contract(info, contract_id), user_errors=errors)

    @strawberry.mutation(description="Change a contract's terms; send the version you read. "
                                     "Every change is recorded in its history.")
    async def update_contract(self, info: strawberry.Info,
                              input: UpdateContractInput) -> ContractPayload:
        ctx = info.context
        raw = to_raw(input)

        async def act() -> uuid.UUID:
            contract_id = parse_id(raw.pop("id"), ("input", "id"))
            version = raw.pop("version")
            async with ctx.uow() as uow:
                return await handlers.update_contract(uow, ctx.principal, contract_id, version,
                                                      raw, grace=_grace(info),
                                                      today=business_today())

        contract_id, errors = await mutate(info, act, service=SERVICE,
                                           changed=_contract_changed(info))
        return ContractPayload(contract=await _contract(info, contract_id), user_errors=errors)

    @strawberry.mutation(description="Bring a draft or suspended contract into force (managers).")
    async def activate_contract(self, info: strawberry.Info,
                                input: ActivateContractInput) -> ContractPayload:
        return await _transition(info, input.id, input.version, Action.ACTIVATE)

    @strawberry.mutation(description="Suspend an active contract (managers).")
    async def suspend_contract(self, info: strawberry.Info,
                               input: SuspendContractInput) -> ContractPayload:
        return await _transition(info, input.id, input.version, Action.SUSPEND,
                                 reason=input.reason)

    @strawberry.mutation(description="Terminate a contract (managers): the last day in force and "
                                     "a reason. It stays readable.")
    async def terminate_contract(self, info: strawberry.Info,
                                 input: TerminateContractInput) -> ContractPayload:
        return await _transition(info, input.id, input.version, Action.TERMINATE,
                                 reason=input.reason, terminated_on=input.terminated_on)

    @strawberry.mutation(description="Run the daily contract job now (admins): renew, expire, "
                                     "send expiry notices. Running it again changes nothing.")
    async def run_contract_maintenance(
        self, info: strawberry.Info, input: RunContractMaintenanceInput | None = None,
    ) -> ContractMaintenancePayload:
        ctx = info.context

        async def act() -> contract_jobs.MaintenanceResult:
            if not ctx.principal.is_admin:
                raise forbidden("only admins run the contract job")
            today = input.today if input is not None and input.today else business_today()
            async with ctx.uow() as uow:
                uow.actor_id = ctx.principal.subject
                return await contract_jobs.run_maintenance(
                    uow, today, ctx.contract_job.notice_days, ctx.principal.subject)

        result, errors = await mutate(info, act, service=SERVICE)
        if result is None:
            return ContractMaintenancePayload(today=None, renewed=0, expired=0, notices=0,
                                              skipped=False, user_errors=errors)
        return ContractMaintenancePayload(
            today=result.today, renewed=result.renewed, expired=result.expired,
            notices=result.notices, skipped=result.skipped, user_errors=errors)


async def _transition(info: strawberry.Info, raw_id: Any, version: int, action: Action,
                      **extra: Any) -> ContractPayload:
    ctx = info.context

    async def act() -> uuid.UUID:
        contract_id = parse_id(raw_id, ("input", "id"))
        async with ctx.uow() as uow:
            return await handlers.change_status(uow, ctx.principal, contract_id, version, action,
                                                grace=_grace(info), today=business_today(),
                                                **extra)

    contract_id, errors = await mutate(info, act, service=SERVICE,
                                       changed=_contract_changed(info))
    return ContractPayload(contract=await _contract(info, contract_id), user_errors=errors)
