"""GraphQL input types of the staff directory and client groups."""

from __future__ import annotations

import strawberry

from crm_clients.domain.employee import EmployeeRole


@strawberry.input
class EmployeeFilterInput:
    active: bool | None = None
    role: EmployeeRole | None = None
    manager_id: strawberry.ID | None = None
    name: str | None = strawberry.field(default=None, description="Part of the full name.")


@strawberry.input
class CreateEmployeeInput:
    id: strawberry.ID = strawberry.field(description="The subject of the employee's tokens.")
    full_name: str
    role: EmployeeRole
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class UpdateEmployeeInput:
    id: strawberry.ID
    version: int
    full_name: str | None = strawberry.UNSET
    role: EmployeeRole | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    manager_id: strawberry.ID | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class VersionedIdInput:
    id: strawberry.ID
    version: int


@strawberry.input
class CreateClientGroupInput:
    code: str
    name: str
    description: str | None = strawberry.UNSET


@strawberry.input
class UpdateClientGroupInput:
    id: strawberry.ID
    version: int
    code: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
