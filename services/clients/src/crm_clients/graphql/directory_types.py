"""GraphQL types of the staff directory and client groups."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

import strawberry

from crm_clients.domain.employee import EmployeeRole
from crm_common.graphql.context import load_node
from crm_common.graphql.history import HistoryConnection, history_connection
from crm_common.parsing import lookup_id

strawberry.enum(EmployeeRole)


@strawberry.type
class EmployeeFields:
    """An employee's own fields. The GraphQL type ``Employee`` (in :mod:`client_types`, as its
    audits due refer to clients' placements) adds its relations."""

    id: strawberry.ID
    #: shareable: the activities service provides it under its ``Query.me`` (``@provides``, from
    #: its copy of the directory), so the gateway answers ``me { fullName agenda }`` there alone
    full_name: str = strawberry.federation.field(shareable=True,
                                                 description="The employee's full name.")
    email: str | None
    phone: str | None = strawberry.field(description="E.164.")
    role: EmployeeRole
    manager_id: strawberry.ID | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Self:
        return cls(id=strawberry.ID(str(r["id"])), full_name=r["full_name"], email=r["email"],
                   phone=r["phone"], role=EmployeeRole(r["role"]),
                   manager_id=strawberry.ID(str(r["manager_id"])) if r["manager_id"] else None,
                   active=r["active"], version=r["version"], created_at=r["created_at"],
                   updated_at=r["updated_at"])


@strawberry.federation.type(keys=["id"], description="A group of clients (the pricing service "
                            "discounts by group; the analytics service adds its turnover).")
class ClientGroup:
    id: strawberry.ID
    code: str
    name: str
    description: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> ClientGroup:
        return cls(id=strawberry.ID(str(r["id"])), code=r["code"], name=r["name"],
                   description=r["description"], version=r["version"],
                   created_at=r["created_at"], updated_at=r["updated_at"],
                   archived_at=r["archived_at"])

    @classmethod
    async def resolve_reference(cls, info: strawberry.Info,
                                id: strawberry.ID) -> ClientGroup | None:
        return await load_node(info.context.loaders.group, lookup_id(id), cls.from_row)

    @strawberry.field(description="Changes to this group, newest first.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await history_connection(info, info.context.loaders.entity_history,
                                        uuid.UUID(str(self.id)),
                                        first, after)
