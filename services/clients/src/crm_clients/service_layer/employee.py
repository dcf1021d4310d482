"""The staff directory: commands (admins); the reads (everyone signed in) are in
:mod:`employee_queries`.

Events ``crm.clients.employee.created|updated|deactivated`` carry the employee's full state, so
that other services can check assignees and owners (``crm_common.client_access``). Changes are
recorded in the audit history under the employee's id.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import employees
from crm_clients.domain.employee import may_manage_staff, validate_employee
from crm_clients.service_layer.history import diff, record_history
from crm_common.auth import Principal
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import forbidden, problem
from crm_common.uow import UnitOfWork
from crm_common.versioning import lock_versioned

EVENT_EMPLOYEE_CREATED = "crm.clients.employee.created"
EVENT_EMPLOYEE_UPDATED = "crm.clients.employee.updated"
EVENT_EMPLOYEE_DEACTIVATED = "crm.clients.employee.deactivated"

EMPLOYEE_FIELDS = ("id", "full_name", "email", "phone", "role", "manager_id", "active", "version",
                   "created_at", "updated_at")


def employee_state(row: Mapping[Any, Any]) -> dict[str, Any]:
    return snapshot(row, EMPLOYEE_FIELDS)


async def _record(uow: UnitOfWork, type_: str, employee_id: uuid.UUID) -> None:
    row = (await uow.session.execute(
        select(employees).where(employees.c.id == employee_id))).mappings().one()
    uow.record(DomainEvent(type=type_, subject=str(employee_id),
                           data={"employee": employee_state(row)}))


def _require_admin(principal: Principal) -> None:
    if not may_manage_staff(principal):
        raise forbidden("only admins manage the staff directory")


async def _check_manager(session: AsyncSession, manager_id: uuid.UUID | None,
                         employee_id: uuid.UUID | None) -> None:
    if manager_id is None:
        return
    row = (await session.execute(select(employees.c.active).where(
        employees.c.id == manager_id))).one_or_none()
    if row is None:
        raise problem(("input", "managerId"), "NOT_FOUND", "no employee with this id")
    if not row.active:
        raise problem(("input", "managerId"), "INACTIVE", "the manager is not an active employee")
    if employee_id is None:
        return
    # no cycles: walk up from the new manager; reaching the employee means a loop
    chain = select(employees.c.id, employees.c.manager_id).where(
        employees.c.id == manager_id).cte("chain", recursive=True)
    chain = chain.union(select(employees.c.id, employees.c.manager_id).where(
        employees.c.id == chain.c.manager_id))
    ids = set((await session.execute(select(chain.c.id))).scalars())
    if employee_id in ids:
        raise problem(("input", "managerId"), "INVALID_VALUE",
                      "this would make the employee their own (indirect) manager")


def _email_taken(exc: IntegrityError) -> bool:
    return "ux_employees_email" in str(exc.orig)


async def create_employee(uow: UnitOfWork, principal: Principal,
                          raw: Mapping[str, Any]) -> uuid.UUID:
    values = validate_employee(raw, creating=True)
    _require_admin(principal)
    session = uow.session
    employee_id: uuid.UUID = values["id"]
    if await session.scalar(select(employees.c.id).where(employees.c.id == employee_id)):
        raise problem(("input", "id"), "DUPLICATE", "an employee with this id already exists")
    await _check_manager(session, values.get("manager_id"), None)
    try:
        async with session.begin_nested():
            await session.execute(insert(employees).values(**values))
    except IntegrityError as exc:
        if _email_taken(exc):
            raise problem(("input", "email"), "DUPLICATE",
                          "another employee has this e-mail") from None
        raise problem(("input", "id"), "DUPLICATE",
                      "an employee with this id already exists") from None
    row = (await session.execute(
        select(employees).where(employees.c.id == employee_id))).mappings().one()
    await record_history(session, actor=principal.subject, entity_type="employee",
                         entity_id=employee_id, operation="create",
                         changes={"new": snapshot(row, EMPLOYEE_FIELDS)})
    await _record(uow, EVENT_EMPLOYEE_CREATED, employee_id)
    await uow.commit()
    return employee_id


async def _locked(session: AsyncSession, employee_id: uuid.UUID, version: int) -> RowMapping:
    row = await lock_versioned(session, employees, employee_id, version, what="employee")
    return row


async def update_employee(uow: UnitOfWork, principal: Principal, employee_id: uuid.UUID,
                          version: int, raw: Mapping[str, Any]) -> uuid.UUID:
    values = validate_employee({k: v for k, v in raw.items() if k != "id"}, creating=False)
    _require_admin(principal)
    session = uow.session
    row = await _locked(session, employee_id, version)
    if "manager_id" in values:
        if values["manager_id"] == employee_id:
            raise problem(("input", "managerId"), "INVALID_VALUE",
                          "an employee cannot be their own manager")
        await _check_manager(session, values["manager_id"], employee_id)
    if "active" in raw:
        if not isinstance(raw["active"], bool):
            raise problem(("input", "active"), "INVALID_TYPE", "active is true or false")
        values["active"] = raw["active"]
    changes = diff(row, values)
    if not changes:
        return employee_id
    try:
        async with session.begin_nested():
            await session.execute(update(employees).where(employees.c.id == employee_id).values(
                **values, version=employees.c.version + 1, updated_at=func.now()))
    except IntegrityError as exc:
        if _email_taken(exc):
            raise problem(("input", "email"), "DUPLICATE",
                          "another employee has this e-mail") from None
        raise
    await record_history(session, actor=principal.subject, entity_type="employee",
                         entity_id=employee_id, operation="update", changes=changes)
    deactivated = changes.get("active") == [True, False]
    await _record(uow, EVENT_EMPLOYEE_DEACTIVATED if deactivated else EVENT_EMPLOYEE_UPDATED,
                  employee_id)
    await uow.commit()
    return employee_id


async def deactivate_employee(uow: UnitOfWork, principal: Principal, employee_id: uuid.UUID,
                              version: int) -> uuid.UUID:
    """The employee left: they stay in the directory (history, owners, assignees) as inactive.
    Clients they own keep them as owner until a manager reassigns them."""
    _require_admin(principal)
    row = await _locked(uow.session, employee_id, version)
    if not row["active"]:
        raise problem(("input", "id"), "INACTIVE", "the employee is already inactive")
    return await update_employee(uow, principal, employee_id, version, {"active": False})


async def active_employee(session: AsyncSession, employee_id: uuid.UUID) -> bool:
    return bool(await session.scalar(
        select(employees.c.active).where(employees.c.id == employee_id)))
