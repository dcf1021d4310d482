"""Commands on contracts: small functions of (unit of work, principal, input).

Each handler validates with the domain, checks access through the contract's client (here, not
only in resolvers), changes rows, writes the audit history (``entity_type='contract'``) and
records the event, then commits. Any ``Problems`` raised before the commit leaves the database
untouched (the unit of work rolls back).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import contract_discounts, contracts
from crm_clients.domain import contract as domain
from crm_clients.domain.access import Decision
from crm_clients.domain.client import ClientStatus
from crm_clients.domain.contract import Action, ContractStatus
from crm_clients.service_layer.history import diff
from crm_clients.service_layer.history import record_history as write_history
from crm_clients.service_layer.visibility import client_for_command
from crm_common.auth import Principal
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.parsing import parse_uuid
from crm_common.problems import (
    Problems,
    camel,
    forbidden,
    not_found,
    problem,
)
from crm_common.uow import UnitOfWork
from crm_common.validation import Collector
from crm_common.versioning import check_version, lock_row

EVENT_CREATED = "crm.clients.contract.created"
EVENT_UPDATED = "crm.clients.contract.updated"
EVENT_ACTIVATED = "crm.clients.contract.activated"
EVENT_SUSPENDED = "crm.clients.contract.suspended"
EVENT_TERMINATED = "crm.clients.contract.terminated"
_TRANSITION_EVENTS = {Action.ACTIVATE: EVENT_ACTIVATED, Action.SUSPEND: EVENT_SUSPENDED,
                      Action.TERMINATE: EVENT_TERMINATED}

CONTRACT_FIELDS = (
    "id", "client_id", "number", "kind", "title", "status", "signed_on", "valid_from",
    "valid_until", "payment_term_days", "currency", "price_terms", "other_terms", "auto_renew",
    "renewal_term_months", "notice_period_days", "client_signatory", "our_signatory_id",
    "activated_on", "terminated_on", "termination_reason", "version", "created_at", "updated_at",
)
#: the fields an update may change (the rest belongs to transitions and bookkeeping)
TERM_FIELDS = (
    "number", "kind", "title", "signed_on", "valid_from", "valid_until", "payment_term_days",
    "currency", "price_terms", "other_terms", "auto_renew", "renewal_term_months",
    "notice_period_days", "client_signatory", "our_signatory_id",
)
DISCOUNT_FIELDS = ("product_group_code", "product_code", "percent", "valid_from", "valid_until")
WHAT = "contract"


# --- state, history, events --------------------------------------------------------------------

def discount_state(row: Mapping[Any, Any]) -> dict[str, Any]:
    return snapshot(row, ("id", *DISCOUNT_FIELDS))


async def contract_snapshot(session: AsyncSession, contract_id: uuid.UUID) -> dict[str, Any]:
    """The contract's full state, camelCase, as the contract events publish it."""
    row = (await session.execute(
        select(contracts).where(contracts.c.id == contract_id))).mappings().one()
    discounts = (await session.execute(
        select(contract_discounts).where(contract_discounts.c.contract_id == contract_id)
        .order_by(contract_discounts.c.position))).mappings().all()
    snap = snapshot(row, CONTRACT_FIELDS)
    snap["discounts"] = [discount_state(d) for d in discounts]
    return snap


async def record_history(session: AsyncSession, actor: uuid.UUID | None, row: Mapping[Any, Any],
                         operation: str, changes: dict[str, Any]) -> None:
    """One audit entry for the contract, in the client's dossier history too."""
    await write_history(session, actor=actor, client_id=row["client_id"], entity_type="contract",
                        entity_id=row["id"], operation=operation, changes=changes)


async def record_event(uow: UnitOfWork, type_: str, contract_id: uuid.UUID,
                       **extra: Any) -> dict[str, Any]:
    snap = await contract_snapshot(uow.session, contract_id)
    uow.record(DomainEvent(type=type_, subject=str(contract_id),
                           data={"contract": snap, **extra}))
    return snap


# --- reading what a command needs ----------------------------------------------------------------

async def _locked_contract(session: AsyncSession, principal: Principal, contract_id: uuid.UUID,
                           grace: dt.timedelta) -> tuple[RowMapping, RowMapping]:
    row = await lock_row(session, contracts, contract_id, what=WHAT)
    client, visible = await client_for_command(session, principal, row["client_id"], grace,
                                               lock=False)
    if client is None or not visible:
        raise not_found(WHAT)
    return row, client


def _check(decision: Decision, field: tuple[str, ...], message: str) -> None:
    if decision is Decision.NOT_FOUND:
        raise not_found("client" if field[-1] == "client_id" else WHAT, field=field)
    if decision is Decision.FORBIDDEN:
        raise forbidden(message, field=field)


async def _number_taken(session: AsyncSession, number: str,
                        exclude: uuid.UUID | None = None) -> bool:
    stmt = select(contracts.c.id).where(func.lower(contracts.c.number) == number.lower())
    if exclude is not None:
        stmt = stmt.where(contracts.c.id != exclude)
    return await session.scalar(stmt.limit(1)) is not None


def _duplicate_number() -> Problems:
    return problem(("input", "number"), "DUPLICATE",
                   "a contract with this number already exists (numbers are unique, "
                   "whatever the letter case)")


async def _insert_discounts(session: AsyncSession, contract_id: uuid.UUID,
                            items: list[dict[str, Any]]) -> None:
    if items:
        await session.execute(insert(contract_discounts), [
            {"id": uuid.uuid4(), "contract_id": contract_id, "position": i, **item}
            for i, item in enumerate(items)])


async def _stored_discounts(session: AsyncSession,
                            contract_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = (await session.execute(
        select(contract_discounts).where(contract_discounts.c.contract_id == contract_id)
        .order_by(contract_discounts.c.position))).mappings().all()
    return [{f: r[f] for f in DISCOUNT_FIELDS} for r in rows]


# --- commands ------------------------------------------------------------------------------------

async def create_contract(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                          grace: dt.timedelta) -> uuid.UUID:
    """A new contract is a draft; it comes into force with ``activate_contract``."""
    c = Collector()
    client_id = c.run("client_id", parse_uuid, raw.get("client_id"))
    data = c.merge(domain.validate_contract,
                   {k: v for k, v in raw.items() if k != "client_id"}, creating=True)
    c.done()
    assert client_id is not None and data is not None
    session = uow.session
    client, visible = await client_for_command(session, principal, client_id, grace, lock=True)
    field = ("input", "client_id")
    _check(domain.decide(principal, client["owner_id"] if client else None,
                         visible=visible, action="create"),
           field, "a sales rep creates contracts only for the clients they own")
    assert client is not None
    if client["status"] == ClientStatus.ARCHIVED.value:
        raise problem(field, "ARCHIVED", "an archived client gets no new contracts")
    if await _number_taken(session, data["number"]):
        raise _duplicate_number()
    discounts = data.pop("discounts")
    contract_id = uuid.uuid4()
    try:
        async with session.begin_nested():
            await session.execute(insert(contracts).values(
                id=contract_id, client_id=client_id, status=ContractStatus.DRAFT.value,
                created_by=principal.subject, updated_by=principal.subject, **data))
    except IntegrityError:
        if await _number_taken(session, data["number"]):  # a concurrent create won the race
            raise _duplicate_number() from None
        raise
    await _insert_discounts(session, contract_id, discounts)
    snap = await record_event(uow, EVENT_CREATED, contract_id)
    await record_history(session, principal.subject, {"id": contract_id, "client_id": client_id},
                         "create", {"new": snap})
    await uow.commit()
    return contract_id


async def update_contract(uow: UnitOfWork, principal: Principal, contract_id: uuid.UUID,
                          version: int, raw: Mapping[str, Any], *, grace: dt.timedelta,
                          today: dt.date) -> uuid.UUID:
    """Change the terms (discounts, when given, replace the stored list). A rep may change the
    drafts of clients they own; a contract in force is changed by managers, and every change is
    recorded in the contract's history with the old and new values."""
    data = domain.validate_contract(raw, creating=False)
    session = uow.session
    row, client = await _locked_contract(session, principal, contract_id, grace)
    status = ContractStatus(row["status"])
    _check(domain.decide(principal, client["owner_id"], visible=True, action="update",
                         status=status),
           ("input", "id"), "a sales rep changes only draft contracts of clients they own")
    check_version(row, version, what=WHAT)
    if status not in domain.OPEN:
        raise problem(("input", "id"), "INVALID_STATUS",
                      f"an {status.value} contract cannot be changed (it stays readable)")
    if client["status"] == ClientStatus.ARCHIVED.value:
        raise problem(("input", "id"), "ARCHIVED", "the client is archived")
    new_discounts = data.pop("discounts", None)
    merged = {**row, **data}
    rules = Collector()
    rules.extend(domain.contract_rule_problems(merged))
    if (notice := domain.notice_problem(row, data, today)) is not None:
        rules.extend([notice])
    rules.done()
    if "number" in data and data["number"] != row["number"] and \
            await _number_taken(session, data["number"], exclude=contract_id):
        raise _duplicate_number()
    changes = diff(row, data)
    if new_discounts is not None:
        old_discounts = await _stored_discounts(session, contract_id)
        if old_discounts != new_discounts:
            changes["discounts"] = [old_discounts, new_discounts]
    if not changes:
        return contract_id
    try:
        async with session.begin_nested():
            await session.execute(update(contracts).where(contracts.c.id == contract_id).values(
                **data, version=contracts.c.version + 1, updated_at=func.now(),
                updated_by=principal.subject))
    except IntegrityError:
        if "number" in data and await _number_taken(session, data["number"],
                                                    exclude=contract_id):
            raise _duplicate_number() from None
        raise
    if "discounts" in changes:
        assert new_discounts is not None
        await session.execute(delete(contract_discounts).where(
            contract_discounts.c.contract_id == contract_id))
        await _insert_discounts(session, contract_id, new_discounts)
    await record_history(session, principal.subject, row, "update", changes)
    await record_event(uow, EVENT_UPDATED, contract_id, changed=sorted(camel(k) for k in changes))
    await uow.commit()
    return contract_id


async def change_status(uow: UnitOfWork, principal: Principal, contract_id: uuid.UUID,
                        version: int, action: Action, *, grace: dt.timedelta, today: dt.date,
                        reason: Any = None, terminated_on: Any = None) -> uuid.UUID:
    """Activate, suspend or terminate (managers and admins). Terminating needs the last day in
    force and a reason; a terminated contract stays readable."""
    c = Collector()
    end: dt.date | None = None
    note = c.merge(domain.validate_reason, reason, required=action is Action.TERMINATE)
    if action is Action.TERMINATE:
        end = c.merge(domain.validate_date, terminated_on, "terminated_on")
    c.done()
    session = uow.session
    row, client = await _locked_contract(session, principal, contract_id, grace)
    status = ContractStatus(row["status"])
    _check(domain.decide(principal, client["owner_id"], visible=True, action=action.value,
                         status=status),
           ("input", "id"), f"only managers and admins {action.value} contracts")
    check_version(row, version, what=WHAT)
    target = domain.transition(status, action)
    if target is None:
        raise problem(("input", "id"), "INVALID_TRANSITION",
                      f"a {status.value} contract cannot be {_PAST[action]}")
    values: dict[str, Any] = {"status": target.value}
    changes: dict[str, Any] = {"status": [status.value, target.value]}
    if action is Action.ACTIVATE:
        if client["status"] == ClientStatus.ARCHIVED.value:
            raise problem(("input", "id"), "ARCHIVED", "the client is archived")
        if row["valid_until"] is not None and row["valid_until"] < today:
            raise problem(("input", "id"), "INVALID_TRANSITION",
                          f"the contract ended on {row['valid_until'].isoformat()}; "
                          "extend validUntil first or make a new contract")
        if row["activated_on"] is None:
            values["activated_on"] = today
            changes["activated_on"] = [None, today.isoformat()]
    if action is Action.TERMINATE:
        assert end is not None
        if row["valid_until"] is not None and end > row["valid_until"]:
            raise problem(("input", "terminated_on"), "INVALID_DATE_RANGE",
                          "terminated_on cannot be after the contract's valid_until")
        values.update(terminated_on=end, termination_reason=note)
        changes.update(terminated_on=[None, end.isoformat()], termination_reason=[None, note])
    elif note is not None:
        changes["reason"] = note
    await session.execute(update(contracts).where(contracts.c.id == contract_id).values(
        **values, version=contracts.c.version + 1, updated_at=func.now(),
        updated_by=principal.subject))
    await record_history(session, principal.subject, row, action.value, changes)
    await record_event(uow, _TRANSITION_EVENTS[action], contract_id,
                       previousStatus=status.value, reason=note)
    await uow.commit()
    return contract_id


_PAST = {Action.ACTIVATE: "activated", Action.SUSPEND: "suspended",
         Action.TERMINATE: "terminated", Action.EXPIRE: "expired"}


__all__ = [
    "CONTRACT_FIELDS", "EVENT_ACTIVATED", "EVENT_CREATED", "EVENT_SUSPENDED", "EVENT_TERMINATED",
    "EVENT_UPDATED", "change_status", "contract_snapshot", "create_contract", "record_event",
    "record_history", "update_contract",
]
