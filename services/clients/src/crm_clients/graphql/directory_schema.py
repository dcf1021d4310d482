"""Staff directory and client groups: queries and mutations (merged into the clients schema)."""

from __future__ import annotations

import uuid

import strawberry

from crm_clients.graphql import SERVICE
from crm_clients.graphql.client_types import Employee
from crm_clients.graphql.directory_inputs import (
    CreateClientGroupInput,
    CreateEmployeeInput,
    EmployeeFilterInput,
    UpdateClientGroupInput,
    UpdateEmployeeInput,
    VersionedIdInput,
)
from crm_clients.graphql.directory_types import ClientGroup
from crm_clients.service_layer import employee, employee_queries, group, group_queries
from crm_common.graphql.connections import PageInfo, connection_of, requested_page_size
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.inputs import to_raw
from crm_common.graphql.mutations import changed_in, mutate
from crm_common.parsing import lookup_id, parse_id


@strawberry.type
class EmployeeEdge:
    cursor: str
    node: Employee


@strawberry.type
class EmployeeConnection:
    edges: list[EmployeeEdge]
    page_info: PageInfo


@strawberry.type
class ClientGroupEdge:
    cursor: str
    node: ClientGroup


@strawberry.type
class ClientGroupConnection:
    edges: list[ClientGroupEdge]
    page_info: PageInfo


@strawberry.type
class EmployeePayload:
    employee: Employee | None
    user_errors: list[UserError]


@strawberry.type
class ClientGroupPayload:
    group: ClientGroup | None
    user_errors: list[UserError]


async def _employee(info: strawberry.Info, employee_id: uuid.UUID | None) -> Employee | None:
    return await load_node(info.context.loaders.employee, employee_id, Employee.from_row)


async def _group(info: strawberry.Info, group_id: uuid.UUID | None) -> ClientGroup | None:
    return await load_node(info.context.loaders.group, group_id, ClientGroup.from_row)


@strawberry.type
class DirectoryQuery:
    # shareable: the activities service answers it too, from its copy of the directory
    @strawberry.federation.field(shareable=True, description=(
        "The staff directory entry of the caller (token subject); null when unknown."))
    async def me(self, info: strawberry.Info) -> Employee | None:
        return await _employee(info, info.context.principal.subject)

    @strawberry.field(description="One employee; null when unknown.")
    async def employee(self, info: strawberry.Info, id: strawberry.ID) -> Employee | None:
        return await _employee(info, lookup_id(id))

    @strawberry.field(description="The staff directory, by name, keyset-paged.")
    async def employees(self, info: strawberry.Info, first: int | None = None,
                        after: str | None = None,
                        filter: EmployeeFilterInput | None = None) -> EmployeeConnection:
        flt = filter or EmployeeFilterInput()
        try:
            size = requested_page_size(info, first)
            manager = uuid.UUID(str(flt.manager_id)) if flt.manager_id else None
            page = await employee_queries.list_employees(
                info.context.runtime.reader, first=size, after=after, active=flt.active,
                role=flt.role.value if flt.role else None, manager_id=manager,
                name=flt.name.strip()[:200] if flt.name else None)
        except (InvalidCursor, ValueError) as exc:
            raise bad_input(f"employees: {exc}") from None
        return connection_of(page, EmployeeConnection, EmployeeEdge, Employee.from_row)

    @strawberry.field(description="Client groups by code (archived ones on request), "
                                  "keyset-paged.")
    async def client_groups(self, info: strawberry.Info, first: int | None = None,
                            after: str | None = None,
                            include_archived: bool = False) -> ClientGroupConnection:
        size = requested_page_size(info, first)
        try:
            page = await group_queries.list_groups(info.context.runtime.reader, first=size,
                                            after=after, include_archived=include_archived)
        except (InvalidCursor, ValueError) as exc:
            raise bad_input(f"clientGroups: {exc}") from None
        return connection_of(page, ClientGroupConnection, ClientGroupEdge, ClientGroup.from_row)

    @strawberry.field
    async def client_group(self, info: strawberry.Info, id: strawberry.ID) -> ClientGroup | None:
        return await _group(info, lookup_id(id))


@strawberry.type
class DirectoryMutation:
    @strawberry.mutation(description="Add an employee to the staff directory (admins).")
    async def create_employee(self, info: strawberry.Info,
                              input: CreateEmployeeInput) -> EmployeePayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await employee.create_employee(uow, ctx.principal, to_raw(input))

        employee_id, errors = await mutate(info, act, service=SERVICE,
                                           changed=changed_in(ctx.loaders.employee))
        return EmployeePayload(employee=await _employee(info, employee_id), user_errors=errors)

    @strawberry.mutation(description="Change an employee (admins); `active: false` deactivates.")
    async def update_employee(self, info: strawberry.Info,
                              input: UpdateEmployeeInput) -> EmployeePayload:
        ctx = info.context
        raw = to_raw(input)

        async def act() -> uuid.UUID:
            employee_id = parse_id(raw.pop("id"), ("input", "id"))
            version = raw.pop("version")
            async with ctx.uow() as uow:
                return await employee.update_employee(uow, ctx.principal, employee_id, version, raw)

        employee_id, errors = await mutate(info, act, service=SERVICE,
                                           changed=changed_in(ctx.loaders.employee))
        return EmployeePayload(employee=await _employee(info, employee_id), user_errors=errors)

    @strawberry.mutation(description="The employee left: inactive, kept in the directory.")
    async def deactivate_employee(self, info: strawberry.Info,
                                  input: VersionedIdInput) -> EmployeePayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            employee_id = parse_id(input.id, ("input", "id"))
            async with ctx.uow() as uow:
                return await employee.deactivate_employee(uow, ctx.principal, employee_id,
                                                       input.version)

        employee_id, errors = await mutate(info, act, service=SERVICE,
                                           changed=changed_in(ctx.loaders.employee))
        return EmployeePayload(employee=await _employee(info, employee_id), user_errors=errors)

    @strawberry.mutation(description="Create a client group (managers, admins).")
    async def create_client_group(self, info: strawberry.Info,
                                  input: CreateClientGroupInput) -> ClientGroupPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await group.create_group(uow, ctx.principal, to_raw(input))

        group_id, errors = await mutate(info, act, service=SERVICE,
                                        changed=changed_in(ctx.loaders.group))
        return ClientGroupPayload(group=await _group(info, group_id), user_errors=errors)

    @strawberry.mutation
    async def update_client_group(self, info: strawberry.Info,
                                  input: UpdateClientGroupInput) -> ClientGroupPayload:
        ctx = info.context
        raw = to_raw(input)

        async def act() -> uuid.UUID:
            group_id = parse_id(raw.pop("id"), ("input", "id"))
            version = raw.pop("version")
            async with ctx.uow() as uow:
                return await group.update_group(uow, ctx.principal, group_id, version, raw)

        group_id, errors = await mutate(info, act, service=SERVICE,
                                        changed=changed_in(ctx.loaders.group))
        return ClientGroupPayload(group=await _group(info, group_id), user_errors=errors)

    @strawberry.mutation(description="Archive an empty client group (managers, admins).")
    async def archive_client_group(self, info: strawberry.Info,
                                   input: VersionedIdInput) -> ClientGroupPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            group_id = parse_id(input.id, ("input", "id"))
            async with ctx.uow() as uow:
                return await group.archive_group(uow, ctx.principal, group_id, input.version)

        group_id, errors = await mutate(info, act, service=SERVICE,
                                        changed=changed_in(ctx.loaders.group))
        return ClientGroupPayload(group=await _group(info, group_id), user_errors=errors)
