"""The clients subgraph: queries and mutations. Resolvers parse, call the service layer, map."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, cast

import strawberry

from crm_clients.graphql import SERVICE
from crm_clients.graphql.client_inputs import (
    AddAddressInput,
    AddBankAccountInput,
    AddContactPersonInput,
    ArchiveClientInput,
    ClientFilterInput,
    ClientOrder,
    CreateClientInput,
    OrderDirection,
    ReassignClientOwnerInput,
    RemoveInput,
    UpdateAddressInput,
    UpdateBankAccountInput,
    UpdateClientInput,
    UpdateContactPersonInput,
)
from crm_clients.graphql.client_types import (
    Address,
    BankAccount,
    Client,
    ClientConnection,
    ClientEdge,
    ContactPerson,
    Employee,
)
from crm_clients.graphql.contract_schema import ContractMutation, ContractQuery
from crm_clients.graphql.directory_schema import DirectoryMutation, DirectoryQuery
from crm_clients.graphql.inventory_schema import InventoryMutation, InventoryQuery
from crm_clients.service_layer import client as handlers
from crm_clients.service_layer import client_queries
from crm_clients.service_layer.search import normalise_term
from crm_common.db import read_retrying
from crm_common.graphql.connections import connection_of, requested_page_size
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.inputs import filter_id, to_raw
from crm_common.graphql.mutations import Stale, changed_in, mutate
from crm_common.graphql.schema import Extensions, subgraph_schema
from crm_common.parsing import lookup_id, parse_id


async def _client(info: strawberry.Info, client_id: uuid.UUID | None) -> Client | None:
    return await load_node(info.context.loaders.client, client_id, Client.from_row)


class _Written:
    """The client row a command returned (its INSERT's or UPDATE's RETURNING): the answer's
    client is made from it, not read again after the commit (one checkout and one SELECT fewer
    per write, issue 15). A command not run in this request (an idempotent replay) leaves it
    empty, and the answer is read through the loader as before."""

    def __init__(self) -> None:
        self.row: Mapping[Any, Any] | None = None

    def keep(self, row: Mapping[Any, Any]) -> uuid.UUID:
        self.row = row
        client_id: uuid.UUID = row["id"]
        return client_id

    async def client(self, info: strawberry.Info, client_id: uuid.UUID | None) -> Client | None:
        if client_id is not None and self.row is not None and self.row["id"] == client_id:
            return Client.from_row(self.row)
        return await _client(info, client_id)


@strawberry.type
class ClientPayload:
    client: Client | None
    user_errors: list[UserError]


@strawberry.type
class AddressPayload:
    address: Address | None
    client: Client | None
    user_errors: list[UserError]


@strawberry.type
class ContactPersonPayload:
    contact_person: ContactPerson | None
    client: Client | None
    user_errors: list[UserError]


@strawberry.type
class BankAccountPayload:
    bank_account: BankAccount | None
    client: Client | None
    user_errors: list[UserError]


@strawberry.type
class RemovePayload:
    removed_id: strawberry.ID | None
    client: Client | None
    user_errors: list[UserError]


@strawberry.type(description="A client whose name is very similar to the one being created.")
class DuplicateCandidate:
    id: strawberry.ID
    code: str
    legal_name: str
    similarity: float = strawberry.field(description="Trigram similarity of the names, 0–1.")


@strawberry.type
class CreateClientPayload:
    client: Client | None
    user_errors: list[UserError]
    duplicate_warnings: list[DuplicateCandidate] = strawberry.field(
        description="Existing clients with a very similar name: a warning, the client was "
                    "created all the same.")


@strawberry.type
class Query(DirectoryQuery, ContractQuery, InventoryQuery):
    @strawberry.field(description="One client's dossier; null when it does not exist or you may "
                                  "not see it.")
    async def client(self, info: strawberry.Info, id: strawberry.ID) -> Client | None:
        return await _client(info, lookup_id(id))

    @strawberry.field(description="Clients you may see, keyset-paged (first ≤ the page size cap).")
    async def clients(
        self,
        info: strawberry.Info,
        first: int | None = None,
        after: str | None = None,
        filter: ClientFilterInput | None = None,
        order_by: ClientOrder | None = None,
    ) -> ClientConnection:
        size = requested_page_size(info, first)
        flt = filter or ClientFilterInput()
        owner = filter_id(flt.owner_id, "ownerId")
        group = filter_id(flt.group_id, "groupId")
        term = None
        if flt.search is not None and flt.search.strip():
            try:
                term = normalise_term(flt.search)
            except ValueError as exc:
                raise bad_input(f"filter.search: {exc}") from None
        city = flt.city.strip()[:200] if flt.city else None
        order = order_by or ClientOrder()
        try:
            page = await client_queries.list_clients(
                info.context.runtime.reader, info.context.principal,
                client_queries.ClientFilter(status=flt.status.value if flt.status else None,
                                            owner_id=owner, city=city or None, group_id=group,
                                            search=term,
                                            has_contract_in_force=flt.has_contract_in_force),
                first=size, after=after, order=order.field.value,
                descending=order.direction is OrderDirection.DESC, grace=info.context.grace,
            )
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        for row in page.rows:
            info.context.loaders.client.prime(row["id"], row)
        return connection_of(page, ClientConnection, ClientEdge, Client.from_row)


@strawberry.type
class Mutation(DirectoryMutation, ContractMutation, InventoryMutation):
    @strawberry.mutation(description="Create a client with its addresses, contact persons and "
                                     "bank accounts. Refused when a non-archived client has the "
                                     "same EIK or VAT number; a very similar name is a warning.")
    async def create_client(self, info: strawberry.Info,
                            input: CreateClientInput) -> CreateClientPayload:
        ctx = info.context
        written = _Written()

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return written.keep(await handlers.create_client(uow, ctx.principal,
                                                                 to_raw(input)))

        client_id, errors = await mutate(info, act, service=SERVICE,
                                         changed=changed_in(ctx.loaders.client))
        warnings = []
        if client_id is not None:
            similar = await read_retrying(lambda: client_queries.similar_clients(
                ctx.runtime.reader, input.legal_name, exclude=client_id))
            warnings = [DuplicateCandidate(id=strawberry.ID(str(r["id"])), code=r["code"],
                                           legal_name=r["legal_name"],
                                           similarity=float(r["similarity"])) for r in similar]
        return CreateClientPayload(
            client=await written.client(info, client_id),
            user_errors=errors, duplicate_warnings=warnings)

    @strawberry.mutation(description="Give a client to another employee (managers, admins).")
    async def reassign_client_owner(self, info: strawberry.Info,
                                    input: ReassignClientOwnerInput) -> ClientPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            cid = parse_id(input.id, ("input", "id"))
            owner = parse_id(input.owner_id, ("input", "ownerId")) \
                if input.owner_id is not None else None
            reason = input.reason[:2000] if input.reason else None
            async with ctx.uow() as uow:
                return await handlers.reassign_owner(uow, ctx.principal, cid, input.version,
                                                     owner, reason, grace=ctx.grace)

        client_id, errors = await mutate(info, act, service=SERVICE,
                                         changed=changed_in(ctx.loaders.client))
        return ClientPayload(client=await _client(info, client_id) if client_id else None,
                             user_errors=errors)

    @strawberry.mutation(description="Change a client's fields; send the version you read.")
    async def update_client(self, info: strawberry.Info, input: UpdateClientInput) -> ClientPayload:
        ctx = info.context
        raw = to_raw(input)
        written = _Written()

        async def act() -> uuid.UUID:
            cid = parse_id(raw.pop("id"), ("input", "id"))
            version = raw.pop("version")
            async with ctx.uow() as uow:
                return written.keep(await handlers.update_client(
                    uow, ctx.principal, cid, version, raw, grace=ctx.grace))

        client_id, errors = await mutate(info, act, service=SERVICE,
                                         changed=changed_in(ctx.loaders.client))
        return ClientPayload(client=await written.client(info, client_id), user_errors=errors)

    @strawberry.mutation(description="Archive a client (managers and admins). Nothing is deleted.")
    async def archive_client(self, info: strawberry.Info,
                             input: ArchiveClientInput) -> ClientPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            cid = parse_id(input.id, ("input", "id"))
            reason = input.reason[:2000] if input.reason else None
            async with ctx.uow() as uow:
                return await handlers.archive_client(uow, ctx.principal, cid, input.version,
                                                     reason, grace=ctx.grace)

        client_id, errors = await mutate(info, act, service=SERVICE,
                                         changed=changed_in(ctx.loaders.client))
        return ClientPayload(client=await _client(info, client_id) if client_id else None,
                             user_errors=errors)

    @strawberry.mutation
    async def add_address(self, info: strawberry.Info, input: AddAddressInput) -> AddressPayload:
        payload = await _add(info, "address", input.client_id, to_raw(input.address))
        return cast(AddressPayload, payload)

    @strawberry.mutation
    async def update_address(self, info: strawberry.Info,
                             input: UpdateAddressInput) -> AddressPayload:
        return cast(AddressPayload, await _update(info, "address", to_raw(input)))

    @strawberry.mutation(description="Remove an address; its last state stays in the history.")
    async def remove_address(self, info: strawberry.Info, input: RemoveInput) -> RemovePayload:
        return await _remove(info, "address", input)

    @strawberry.mutation
    async def add_contact_person(self, info: strawberry.Info,
                                 input: AddContactPersonInput) -> ContactPersonPayload:
        payload = await _add(info, "contact_person", input.client_id, to_raw(input.contact_person))
        return cast(ContactPersonPayload, payload)

    @strawberry.mutation
    async def update_contact_person(self, info: strawberry.Info,
                                    input: UpdateContactPersonInput) -> ContactPersonPayload:
        return cast(ContactPersonPayload, await _update(info, "contact_person", to_raw(input)))

    @strawberry.mutation(description="Remove a contact person; the last state stays in history.")
    async def remove_contact_person(self, info: strawberry.Info,
                                    input: RemoveInput) -> RemovePayload:
        return await _remove(info, "contact_person", input)

    @strawberry.mutation(description="Add a bank account (IBAN checked; one default per currency).")
    async def add_bank_account(self, info: strawberry.Info,
                               input: AddBankAccountInput) -> BankAccountPayload:
        payload = await _add(info, "bank_account", input.client_id, to_raw(input.bank_account))
        return cast(BankAccountPayload, payload)

    @strawberry.mutation
    async def update_bank_account(self, info: strawberry.Info,
                                  input: UpdateBankAccountInput) -> BankAccountPayload:
        return cast(BankAccountPayload, await _update(info, "bank_account", to_raw(input)))

    @strawberry.mutation(description="Remove a bank account; the last state stays in history.")
    async def remove_bank_account(self, info: strawberry.Info,
                                  input: RemoveInput) -> RemovePayload:
        return await _remove(info, "bank_account", input)


_CHILD_LOADER = {"address": "addresses", "contact_person": "contacts",
                 "bank_account": "bank_accounts"}


def _child_changed(info: strawberry.Info, kind: str
                   ) -> Callable[[tuple[uuid.UUID, uuid.UUID]], list[Stale]]:
    """What a command on a client's address, contact or account made stale: the client's row
    and its list of children of that kind."""
    loaders = info.context.loaders
    return lambda ids: [(loaders.client, ids[1]), (getattr(loaders, _CHILD_LOADER[kind]), ids[1])]


async def _child_row(info: strawberry.Info, kind: str, child_id: uuid.UUID,
                     client_id: uuid.UUID) -> Any:
    rows = await getattr(info.context.loaders, _CHILD_LOADER[kind]).load(client_id)
    return next((r for r in rows if r["id"] == child_id), None)


async def _child_payload(info: strawberry.Info, kind: str, child_id: uuid.UUID | None,
                         client_id: uuid.UUID | None, errors: list[UserError]) -> Any:
    client = await _client(info, client_id) if client_id else None
    row = await _child_row(info, kind, child_id, client_id) \
        if client and child_id and client_id else None
    if kind == "address":
        return AddressPayload(address=Address.from_row(row) if row else None, client=client,
                              user_errors=errors)
    if kind == "bank_account":
        return BankAccountPayload(bank_account=BankAccount.from_row(row) if row else None,
                                  client=client, user_errors=errors)
    return ContactPersonPayload(contact_person=ContactPerson.from_row(row) if row else None,
                                client=client, user_errors=errors)


async def _add(info: strawberry.Info, kind: str, client_id_raw: Any, raw: dict[str, Any]) -> Any:
    ctx = info.context

    async def act() -> tuple[uuid.UUID, uuid.UUID]:
        cid = parse_id(client_id_raw, ("input", "clientId"))
        async with ctx.uow() as uow:
            return await handlers.add_child(uow, ctx.principal, kind, cid, raw,
                                              grace=ctx.grace), cid

    result, errors = await mutate(info, act, service=SERVICE, changed=_child_changed(info, kind))
    child_id, client_id = result if result else (None, None)
    return await _child_payload(info, kind, child_id, client_id, errors)


async def _update(info: strawberry.Info, kind: str, raw: dict[str, Any]) -> Any:
    ctx = info.context

    async def act() -> tuple[uuid.UUID, uuid.UUID]:
        child_id = parse_id(raw.pop("id"), ("input", "id"))
        version = raw.pop("version")
        async with ctx.uow() as uow:
            client_id = await handlers.update_child(uow, ctx.principal, kind, child_id, version,
                                                    raw, grace=ctx.grace)
        return child_id, client_id

    result, errors = await mutate(info, act, service=SERVICE, changed=_child_changed(info, kind))
    child_id, client_id = result if result else (None, None)
    return await _child_payload(info, kind, child_id, client_id, errors)


async def _remove(info: strawberry.Info, kind: str, input: RemoveInput) -> RemovePayload:
    ctx = info.context

    async def act() -> tuple[uuid.UUID, uuid.UUID]:
        child_id = parse_id(input.id, ("input", "id"))
        async with ctx.uow() as uow:
            client_id = await handlers.remove_child(uow, ctx.principal, kind, child_id,
                                                    input.version, grace=ctx.grace)
        return child_id, client_id

    result, errors = await mutate(info, act, service=SERVICE, changed=_child_changed(info, kind))
    child_id, client_id = result if result else (None, None)
    return RemovePayload(
        removed_id=strawberry.ID(str(child_id)) if child_id else None,
        client=await _client(info, client_id) if client_id else None, user_errors=errors)


def build_schema(extensions: Extensions | None = None) -> strawberry.Schema:
    return subgraph_schema(query=Query, mutation=Mutation, types=[Client, Employee],
                           extensions=extensions)
