"""What the command handlers share: the audit history, JSON snapshots, and the checks of a client
and an employee against this service's projections (crm_common.client_access)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_activities.adapters.tables import access, history
from crm_activities.domain import access as rules
from crm_activities.service_layer.errors import forbidden, not_found, problem
from crm_activities.service_layer.visibility import can_see_client
from crm_common.auth import Principal
from crm_common.client_access import active_employee
from crm_common.correlation import correlation_id
from crm_common.problems import camel

#: a client in this status takes no new meetings
CLIENT_ARCHIVED = "archived"


def jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    return value


def snapshot(row: Mapping[Any, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The row's fields, camelCase keys, JSON values (as events and history carry them)."""
    return {camel(f): jsonable(row[f]) for f in fields}


def diff(old: Mapping[Any, Any], new: Mapping[Any, Any]) -> dict[str, list[Any]]:
    return {k: [jsonable(old[k]), jsonable(v)] for k, v in new.items() if old[k] != v}


async def write_history(session: AsyncSession, actor: uuid.UUID, entity_type: str,
                        entity_id: uuid.UUID, operation: str, changes: dict[str, Any],
                        client_id: uuid.UUID | None = None) -> None:
    await session.execute(insert(history).values(
        entity_type=entity_type, entity_id=entity_id, client_id=client_id, operation=operation,
        actor_id=actor, correlation_id=correlation_id.get(), changes=jsonable(changes)))


async def client_row(session: AsyncSession, client_id: uuid.UUID) -> Mapping[Any, Any] | None:
    c = access.require_clients()
    return (await session.execute(
        select(c).where(c.c.client_id == client_id))).mappings().one_or_none()


async def check_client(session: AsyncSession, principal: Principal, client_id: uuid.UUID,
                       field: tuple[str, ...], now: dt.datetime,
                       grace: dt.timedelta) -> Mapping[Any, Any]:
    """The client exists (in the projection) and ``principal`` may see it; else NOT_FOUND — the
    same answer for both, so that a rep learns nothing of clients they may not see."""
    row = await client_row(session, client_id)
    if row is None or not await can_see_client(session, principal, client_id, now, grace):
        raise not_found(field, "client")
    return row


async def check_employee(session: AsyncSession, principal: Principal,
                         employee_id: uuid.UUID, field: tuple[str, ...]) -> None:
    """Anyone acts for themself (even before the staff directory projection knows them); only
    managers and admins act for others, and only for active employees of the directory."""
    if employee_id == principal.subject:
        return
    if not rules.may_act_as(principal, employee_id):
        raise forbidden(field, "a sales rep records and schedules only for themself")
    if not await active_employee(session, access, employee_id):
        raise problem(field, "UNKNOWN_EMPLOYEE",
                      "no active employee with this id in the staff directory")
