"""Client groups: commands (managers, admins); the reads are in :mod:`group_queries`.

Events ``crm.clients.group.created|updated|archived`` carry the group's state (the pricing
service gives discounts by group). A client joins a group through ``updateClient(groupId)``,
which is a change of the client (its history and ``crm.clients.client.updated``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import client_groups, clients
from crm_clients.domain.group import may_manage_groups, validate_group
from crm_clients.service_layer.history import diff, record_history
from crm_common.auth import Principal
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import forbidden, problem
from crm_common.uow import UnitOfWork
from crm_common.versioning import lock_versioned

EVENT_GROUP_CREATED = "crm.clients.group.created"
EVENT_GROUP_UPDATED = "crm.clients.group.updated"
EVENT_GROUP_ARCHIVED = "crm.clients.group.archived"

GROUP_FIELDS = ("id", "code", "name", "description", "version", "created_at", "updated_at",
                "archived_at")


async def _record(uow: UnitOfWork, type_: str, group_id: uuid.UUID) -> None:
    row = (await uow.session.execute(
        select(client_groups).where(client_groups.c.id == group_id))).mappings().one()
    uow.record(DomainEvent(type=type_, subject=str(group_id),
                           data={"group": snapshot(row, GROUP_FIELDS)}))


def _require_manager(principal: Principal) -> None:
    if not may_manage_groups(principal):
        raise forbidden("only managers and admins manage client groups")


async def _code_taken(session: AsyncSession, code: str, exclude: uuid.UUID | None) -> None:
    stmt = select(client_groups.c.id).where(client_groups.c.code == code)
    if exclude is not None:
        stmt = stmt.where(client_groups.c.id != exclude)
    if await session.scalar(stmt) is not None:
        raise problem(("input", "code"), "DUPLICATE", f"a client group with code {code} exists")


async def create_group(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any]) -> uuid.UUID:
    values = validate_group(raw, creating=True)
    _require_manager(principal)
    session = uow.session
    await _code_taken(session, values["code"], None)
    group_id = uuid.uuid4()
    try:
        async with session.begin_nested():
            await session.execute(insert(client_groups).values(id=group_id, **values))
    except IntegrityError:  # a concurrent create with the same code won
        raise problem(("input", "code"), "DUPLICATE",
                      f"a client group with code {values['code']} exists") from None
    await record_history(session, actor=principal.subject,
                         entity_type="client_group", entity_id=group_id, operation="create",
                         changes={"new": {k: v for k, v in values.items()}})
    await _record(uow, EVENT_GROUP_CREATED, group_id)
    await uow.commit()
    return group_id


async def _locked(session: AsyncSession, group_id: uuid.UUID, version: int) -> RowMapping:
    row = await lock_versioned(session, client_groups, group_id, version, what="client group")
    if row["archived_at"] is not None:
        raise problem(("input", "id"), "ARCHIVED", "an archived group cannot be changed")
    return row


async def update_group(uow: UnitOfWork, principal: Principal, group_id: uuid.UUID, version: int,
                       raw: Mapping[str, Any]) -> uuid.UUID:
    values = validate_group(raw, creating=False)
    _require_manager(principal)
    session = uow.session
    row = await _locked(session, group_id, version)
    if "code" in values:
        await _code_taken(session, values["code"], group_id)
    changes = diff(row, values)
    if not changes:
        return group_id
    await session.execute(update(client_groups).where(client_groups.c.id == group_id).values(
        **values, version=client_groups.c.version + 1, updated_at=func.now()))
    await record_history(session, actor=principal.subject,
                         entity_type="client_group", entity_id=group_id, operation="update",
                         changes=changes)
    await _record(uow, EVENT_GROUP_UPDATED, group_id)
    await uow.commit()
    return group_id


async def archive_group(uow: UnitOfWork, principal: Principal, group_id: uuid.UUID,
                        version: int) -> uuid.UUID:
    """Archiving a group with members is refused: move the clients out first (so that no
    client silently loses its group discounts)."""
    _require_manager(principal)
    session = uow.session
    await _locked(session, group_id, version)
    members = await session.scalar(select(func.count()).select_from(clients).where(
        clients.c.group_id == group_id, clients.c.status != "archived"))
    if members:
        raise problem(("input", "id"), "IN_USE",
                      f"{members} client(s) are in this group; move them out first")
    await session.execute(update(client_groups).where(client_groups.c.id == group_id).values(
        archived_at=func.now(), version=client_groups.c.version + 1, updated_at=func.now()))
    await record_history(session, actor=principal.subject,
                         entity_type="client_group", entity_id=group_id, operation="archive",
                         changes={})
    await _record(uow, EVENT_GROUP_ARCHIVED, group_id)
    await uow.commit()
    return group_id


async def usable_group(session: AsyncSession, group_id: uuid.UUID) -> bool:
    """The group exists and is not archived (a client may join it)."""
    return await session.scalar(select(client_groups.c.id).where(
        client_groups.c.id == group_id, client_groups.c.archived_at.is_(None))) is not None
