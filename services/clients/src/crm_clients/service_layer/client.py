"""Commands on the client aggregate: small functions of (unit of work, principal, input), and
the client's snapshot as events and history carry it (plain JSON values).

Each handler validates with the domain, checks access (here, not only in resolvers), changes rows,
writes the audit history and records the event, then commits. Any ``Problems`` raised before the
commit leaves the database untouched (the unit of work rolls back).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    RowMapping,
    Table,
    bindparam,
    delete,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import (
    addresses,
    bank_accounts,
    client_code_seq,
    clients,
    contact_persons,
)
from crm_clients.domain import access
from crm_clients.domain.access import Decision
from crm_clients.domain.client import (
    MAX_ADDRESSES_ON_CREATE,
    MAX_BANK_ACCOUNTS_ON_CREATE,
    MAX_CONTACTS_ON_CREATE,
    ClientStatus,
    client_rule_problems,
    validate_address,
    validate_bank_account,
    validate_children,
    validate_client,
    validate_contact,
)
from crm_clients.service_layer.employee import active_employee
from crm_clients.service_layer.group import usable_group
from crm_clients.service_layer.history import diff, record_history
from crm_clients.service_layer.search import changes_search, refresh_search_document
from crm_clients.service_layer.visibility import can_see_client
from crm_common.auth import Principal
from crm_common.jsonvalues import jsonable, snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import Problems, forbidden, not_found, problem
from crm_common.uow import UnitOfWork
from crm_common.validation import Collector
from crm_common.versioning import check_version, lock_versioned

EVENT_CREATED = "crm.clients.client.created"
EVENT_UPDATED = "crm.clients.client.updated"
EVENT_ARCHIVED = "crm.clients.client.archived"
EVENT_OWNER_REASSIGNED = "crm.clients.client.owner_reassigned"

CLIENT_FIELDS = (
    "id", "code", "kind", "legal_name", "trade_name", "eik", "vat_number", "status", "owner_id",
    "phones", "emails", "website", "notes", "tags", "version", "created_at", "updated_at",
    "archived_at", "group_id", "payment_term_days", "currency", "credit_limit",
    "document_descriptions",
)
ADDRESS_FIELDS = ("id", "kind", "country", "city", "postal_code", "street", "is_default", "version")
BANK_ACCOUNT_FIELDS = ("id", "iban", "bic", "bank_name", "currency", "is_default", "version")
CONTACT_FIELDS = ("id", "name", "position", "phones", "emails", "is_primary", "notes", "version")


async def client_snapshot(session: AsyncSession, client_id: uuid.UUID) -> dict[str, Any]:
    """The client's full state, camelCase, as the clients.* events publish it."""
    row = (await session.execute(select(clients).where(clients.c.id == client_id))).mappings().one()
    addr = (await session.execute(
        select(addresses).where(addresses.c.client_id == client_id)
        .order_by(addresses.c.created_at, addresses.c.id)
    )).mappings().all()
    contacts = (await session.execute(
        select(contact_persons).where(contact_persons.c.client_id == client_id)
        .order_by(contact_persons.c.created_at, contact_persons.c.id)
    )).mappings().all()
    accounts = (await session.execute(
        select(bank_accounts).where(bank_accounts.c.client_id == client_id)
        .order_by(bank_accounts.c.created_at, bank_accounts.c.id)
    )).mappings().all()
    return _snapshot(row, accounts, addr, contacts)


def _snapshot(row: Mapping[Any, Any], accounts: Any, addr: Any, contacts: Any) -> dict[str, Any]:
    snap = snapshot(row, CLIENT_FIELDS)
    snap["bankAccounts"] = [snapshot(b, BANK_ACCOUNT_FIELDS) for b in accounts]
    snap["addresses"] = [snapshot(a, ADDRESS_FIELDS) for a in addr]
    snap["contactPersons"] = [snapshot(c, CONTACT_FIELDS) for c in contacts]
    return snap


def _children_json(table: Table, fields: tuple[str, ...], label: str) -> Any:
    """The client's rows of ``table`` as one JSON array of their snapshot ``fields``, in the
    snapshot's order (a scalar subquery for the client's UPDATE ... RETURNING). The children's
    snapshot fields are text, booleans, integers, arrays of text and UUIDs, which JSON carries
    as :func:`client_snapshot` writes them (UUIDs as their canonical text)."""
    obj = func.json_build_object(*(part for f in fields for part in (literal(f), table.c[f])))
    agg = func.json_agg(aggregate_order_by(obj, table.c.created_at, table.c.id))
    return (select(func.coalesce(agg, func.json_build_array(type_=JSON)).label(label))
            .where(table.c.client_id == clients.c.id)
            .scalar_subquery().label(label))


_CHILD_LISTS = (_children_json(bank_accounts, BANK_ACCOUNT_FIELDS, "_accounts"),
                _children_json(addresses, ADDRESS_FIELDS, "_addresses"),
                _children_json(contact_persons, CONTACT_FIELDS, "_contacts"))


@lru_cache(maxsize=128)
def _update_statement(fields: tuple[str, ...]) -> Any:
    """The client's UPDATE of ``fields`` (sorted) at a version, returning the new snapshot:
    the row and its three child lists in the same statement, instead of four reads after it.
    Built once per set of fields, over bind parameters (``new_<field>``, ``client_id``,
    ``at_version``, ``actor``; none is named as a column), so SQLAlchemy computes its cache
    key and compiles it once, not on every update (issue 15)."""
    return (update(clients)
            .where(clients.c.id == bindparam("client_id"),
                   clients.c.version == bindparam("at_version"))
            .values(**{f: bindparam(f"new_{f}", type_=clients.c[f].type) for f in fields},
                    version=clients.c.version + 1, updated_at=func.now(),
                    updated_by=bindparam("actor", type_=clients.c.updated_by.type))
            .returning(*clients.c, *_CHILD_LISTS))


async def _update_returning_snapshot(session: AsyncSession, client_id: uuid.UUID,
                                     version: int, data: Mapping[str, Any],
                                     actor: uuid.UUID) -> tuple[RowMapping, dict[str, Any]]:
    """Run the client's UPDATE; the row as it is now and the event's snapshot."""
    params = {f"new_{f}": v for f, v in data.items()}
    params.update(client_id=client_id, at_version=version, actor=actor)
    row = (await session.execute(_update_statement(tuple(sorted(data))), params)
           ).mappings().one()
    return row, _snapshot(row, row["_accounts"], row["_addresses"], row["_contacts"])


async def _event(uow: UnitOfWork, type_: str, client_id: uuid.UUID, **extra: Any) -> None:
    snap = await client_snapshot(uow.session, client_id)
    uow.record(DomainEvent(type=type_, subject=str(client_id), data={"client": snap, **extra}))


_LOCK_CLIENT = select(clients).where(clients.c.id == bindparam("client_id")).with_for_update()


async def _lock_client(session: AsyncSession, client_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(_LOCK_CLIENT, {"client_id": client_id})
            ).mappings().one_or_none()


async def _check_refs(session: AsyncSession, data: Mapping[str, Any]) -> None:
    """The group and the owner a change names must exist and be usable."""
    group_id = data.get("group_id")
    if group_id is not None and not await usable_group(session, group_id):
        raise problem(("input", "groupId"), "NOT_FOUND", "no active client group with this id")
    owner_id = data.get("owner_id")
    if owner_id is not None and not await active_employee(session, owner_id):
        raise problem(("input", "ownerId"), "NOT_FOUND",
                      "the owner must be an active employee of the staff directory")


def _check(decision: Decision, field: tuple[str, ...] = ("input", "id")) -> None:
    if decision is Decision.NOT_FOUND:
        raise not_found("client", field=field)
    if decision is Decision.FORBIDDEN:
        raise forbidden("you may not change this client", field=field)


async def _duplicate(session: AsyncSession, field: str, value: str | None,
                     exclude: uuid.UUID | None = None) -> RowMapping | None:
    """A non-archived client with the same EIK or VAT number."""
    if not value:
        return None
    stmt = select(clients.c.id, clients.c.code, clients.c.legal_name).where(
        clients.c[field] == value, clients.c.status != ClientStatus.ARCHIVED.value)
    if exclude is not None:
        stmt = stmt.where(clients.c.id != exclude)
    return (await session.execute(stmt.limit(1))).mappings().one_or_none()


_EIK, _VAT = bindparam("eik", type_=clients.c.eik.type), \
    bindparam("vat_number", type_=clients.c.vat_number.type)
#: createClient's two duplicate checks in one statement: a client with the EIK comes first, then
#: one with the VAT number (the order of the two checks it replaces)
_DUPLICATES = (
    select(clients.c.id, clients.c.code, clients.c.legal_name,
           func.coalesce(clients.c.eik == _EIK, False).label("same_eik"))
    .where(or_(clients.c.eik == _EIK, clients.c.vat_number == _VAT),
           clients.c.status != ClientStatus.ARCHIVED.value)
    .order_by(literal_column("same_eik").desc()).limit(1))


async def _raise_duplicates(session: AsyncSession, data: Mapping[str, Any]) -> None:
    """``DUPLICATE`` on ``eik`` or ``vat_number`` when a non-archived client has either."""
    eik, vat = data.get("eik") or None, data.get("vat_number") or None
    if eik is None and vat is None:
        return
    dup = (await session.execute(_DUPLICATES, {"eik": eik, "vat_number": vat})
           ).mappings().one_or_none()
    if dup is not None:
        raise _duplicate_problem("eik" if dup["same_eik"] else "vat_number", dup)


#: the next client code, C000001 …, in the INSERT itself (one round trip fewer than asking the
#: sequence first): six digits at least, all of them past 999,999, as ``f"C{n:06d}"`` wrote it
_NEXT_CODE: ColumnElement[str] = literal_column(
    f"(SELECT 'C' || lpad(n::text, greatest(6, length(n::text)), '0') "
    f"FROM nextval('{client_code_seq.name}') AS n)")


@lru_cache(maxsize=128)
def _insert_statement(fields: tuple[str, ...]) -> Any:
    """The client's INSERT of ``fields`` (sorted; bind parameters ``new_<field>``), its code
    from the sequence, returning the row; a conflict with a unique index (a concurrent create
    with the same EIK or VAT number) returns no row instead of failing the transaction, so no
    savepoint is needed around it. Built once per set of fields."""
    return (pg_insert(clients)
            .values(**{f: bindparam(f"new_{f}", type_=clients.c[f].type) for f in fields},
                    code=_NEXT_CODE)
            .on_conflict_do_nothing()
            .returning(*clients.c))


_CHILD_INSERTS = {table.name: insert(table).returning(*table.c)
                  for table in (bank_accounts, addresses, contact_persons)}


def _duplicate_problem(field: str, dup: Mapping[Any, Any]) -> Exception:
    return problem(("input", field), "DUPLICATE",
                   f"client {dup['code']} ({dup['legal_name']}, id {dup['id']}) already has this "
                   f"{'EIK' if field == 'eik' else 'VAT number'}")


async def create_client(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any]
                        ) -> RowMapping:
    """Returns the new client's row (as its INSERT returned it, for the answer)."""
    c = Collector()
    data = c.merge(validate_client, raw, creating=True)
    address_rows = c.merge(validate_children, raw.get("addresses"), key="addresses",
                           limit=MAX_ADDRESSES_ON_CREATE, validator=validate_address) or []
    contact_rows = c.merge(validate_children, raw.get("contact_persons"), key="contact_persons",
                           limit=MAX_CONTACTS_ON_CREATE, validator=validate_contact) or []
    account_rows = c.merge(validate_children, raw.get("bank_accounts"), key="bank_accounts",
                           limit=MAX_BANK_ACCOUNTS_ON_CREATE,
                           validator=validate_bank_account) or []
    c.done()
    assert data is not None
    decision, owner = access.owner_on_create(principal, data.pop("owner_id", None))
    if decision is not Decision.ALLOW:
        raise forbidden("a sales rep creates clients they own", field=("input", "ownerId"))
    session = uow.session
    # a manager's named owner must be in the staff directory; a rep's own id is their token's
    await _check_refs(session, {**data, "owner_id": owner if principal.sees_all_clients else None})
    await _raise_duplicates(session, data)
    client_id = uuid.uuid4()
    values = {"id": client_id, "owner_id": owner, "created_by": principal.subject,
              "updated_by": principal.subject, **data}
    row = (await session.execute(_insert_statement(tuple(sorted(values))),
                                 {f"new_{f}": v for f, v in values.items()})
           ).mappings().one_or_none()
    if row is None:
        # a concurrent create with the same EIK or VAT number won the race (unique indexes)
        await _raise_duplicates(session, data)
        raise RuntimeError("the new client conflicts with a unique index, but no live client "
                           "has its EIK or VAT number")
    # each row comes back from its INSERT, so the event's snapshot needs no reads after them
    # (issue 15); in the snapshot's order (created_at, id): one transaction, one created_at
    children = [[
        (await session.execute(_CHILD_INSERTS[table.name],
                               {"id": uuid.uuid4(), "client_id": client_id, **child})
         ).mappings().one()
        for child in rows]
        for table, rows in ((bank_accounts, account_rows), (addresses, address_rows),
                            (contact_persons, contact_rows))]
    accounts, addr, contacts = (sorted(rows, key=lambda r: (r["created_at"], r["id"]))
                                for rows in children)
    await refresh_search_document(session, client_id)
    snap = _snapshot(row, accounts, addr, contacts)
    await record_history(session, actor=principal.subject, client_id=client_id,
                         entity_type="client", entity_id=client_id, operation="create",
                         changes={"new": snap})
    uow.record(DomainEvent(type=EVENT_CREATED, subject=str(client_id), data={"client": snap}))
    await uow.commit()
    return row


async def update_client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID,
                        version: int, raw: Mapping[str, Any], *, grace: timedelta
                        ) -> RowMapping:
    """Returns the client's row as it is after the command (its UPDATE returned it), for the
    answer."""
    data = validate_client(raw, creating=False)
    if "owner_id" in data:
        raise problem(("input", "ownerId"), "NOT_SUPPORTED",
                      "the owner is changed by reassigning the client, not by updating it")
    session = uow.session
    row = await _lock_client(session, client_id)
    if row is None or not await can_see_client(session, principal, client_id, grace=grace):
        raise not_found("client")
    _check(access.can_edit(principal, row["owner_id"], granted=True))  # visible: owned or granted
    check_version(row, version, what="client")
    if row["status"] == ClientStatus.ARCHIVED.value:
        raise problem(("input", "id"), "ARCHIVED", "an archived client cannot be changed")
    for field in ("eik", "vat_number"):
        if field in data and (dup := await _duplicate(session, field, data[field],
                                                      exclude=client_id)):
            raise _duplicate_problem(field, dup)
    if data.get("group_id") is not None and data["group_id"] != row["group_id"]:
        await _check_refs(session, {"group_id": data["group_id"]})
    if rule_problems := client_rule_problems({**row, **data}):  # the rules on the result
        raise Problems(rule_problems)
    changes = diff(row, data)
    if not changes:
        return row
    # one statement writes the change and returns the event's snapshot; the search document is
    # rebuilt only when a column it is made of changed (not for notes, terms, group, …)
    new, snap = await _update_returning_snapshot(session, client_id, version, data,
                                                 principal.subject)
    if changes_search(changes):
        await refresh_search_document(session, client_id)
    await record_history(session, actor=principal.subject, client_id=client_id,
                         entity_type="client", entity_id=client_id, operation="update",
                         changes=changes)
    uow.record(DomainEvent(type=EVENT_UPDATED, subject=str(client_id),
                           data={"client": snap, "changed": sorted(changes)}))
    await uow.commit()
    return new


async def archive_client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID,
                         version: int, reason: str | None, *, grace: timedelta) -> uuid.UUID:
    session = uow.session
    row = await _lock_client(session, client_id)
    if row is None or not await can_see_client(session, principal, client_id, grace=grace):
        raise not_found("client")
    _check(access.can_archive(principal, row["owner_id"], granted=True))
    check_version(row, version, what="client")
    if row["status"] == ClientStatus.ARCHIVED.value:
        raise problem(("input", "id"), "ARCHIVED", "the client is already archived")
    await session.execute(update(clients).where(clients.c.id == client_id).values(
        status=ClientStatus.ARCHIVED.value, archived_at=func.now(), updated_at=func.now(),
        updated_by=principal.subject, version=clients.c.version + 1))
    await record_history(session, actor=principal.subject, client_id=client_id,
                         entity_type="client", entity_id=client_id, operation="archive",
                         changes={"status": [row["status"], "archived"], "reason": reason})
    await _event(uow, EVENT_ARCHIVED, client_id, reason=reason)
    await uow.commit()
    return client_id


async def reassign_owner(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID,
                         version: int, owner_id: uuid.UUID | None,
                         reason: str | None, *, grace: timedelta) -> uuid.UUID:
    """Give the client to another employee (managers and admins); recorded and published as
    ``crm.clients.client.owner_reassigned``. ``owner_id`` None leaves the client unowned."""
    session = uow.session
    row = await _lock_client(session, client_id)
    if row is None or not await can_see_client(session, principal, client_id, grace=grace):
        raise not_found("client")
    if not principal.sees_all_clients:
        raise forbidden("only managers and admins reassign clients", field=("input", "id"))
    check_version(row, version, what="client")
    if row["status"] == ClientStatus.ARCHIVED.value:
        raise problem(("input", "id"), "ARCHIVED", "an archived client cannot be changed")
    if owner_id is not None and not await active_employee(session, owner_id):
        raise problem(("input", "ownerId"), "NOT_FOUND",
                      "the owner must be an active employee of the staff directory")
    if owner_id == row["owner_id"]:
        return client_id
    await session.execute(update(clients).where(clients.c.id == client_id).values(
        owner_id=owner_id, version=clients.c.version + 1, updated_at=func.now(),
        updated_by=principal.subject))
    await record_history(session, actor=principal.subject, client_id=client_id,
                         entity_type="client", entity_id=client_id, operation="reassign",
                         changes={"owner_id": [row["owner_id"], owner_id], "reason": reason})
    await _event(uow, EVENT_OWNER_REASSIGNED, client_id,
                 previousOwnerId=jsonable(row["owner_id"]), reason=reason)
    await uow.commit()
    return client_id


# --- addresses and contact persons -----------------------------------------------------------

_CHILDREN = {
    "address": (addresses, ADDRESS_FIELDS, validate_address, "is_default", ("kind",)),
    "contact_person": (contact_persons, CONTACT_FIELDS, validate_contact, "is_primary", ()),
    "bank_account": (bank_accounts, BANK_ACCOUNT_FIELDS, validate_bank_account, "is_default",
                     ("currency",)),
}


# Columns unique within one client: a second row with the same value is a userError, not a fault.
_UNIQUE_PER_CLIENT = {"bank_account": "iban"}


async def _check_unique(session: AsyncSession, kind: str, client_id: uuid.UUID,
                        values: Mapping[str, Any], exclude: uuid.UUID | None,
                        prefix: tuple[str, ...]) -> None:
    column = _UNIQUE_PER_CLIENT.get(kind)
    if column is None or values.get(column) is None:
        return
    table = _CHILDREN[kind][0]
    stmt = select(table.c.id).where(table.c.client_id == client_id,
                                    table.c[column] == values[column])
    if exclude is not None:
        stmt = stmt.where(table.c.id != exclude)
    if await session.scalar(stmt.limit(1)) is not None:
        raise problem(prefix + (column,), "DUPLICATE",
                      f"this client already has a {kind.replace('_', ' ')} with this {column}")


async def _editable_client(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID,
                           field: tuple[str, ...], grace: timedelta) -> RowMapping:
    row = await _lock_client(uow.session, client_id)
    if row is None or not await can_see_client(uow.session, principal, client_id, grace=grace):
        raise not_found("client", field=field)
    _check(access.can_edit(principal, row["owner_id"], granted=True), field)
    if row["status"] == ClientStatus.ARCHIVED.value:
        raise problem(field, "ARCHIVED", "an archived client cannot be changed")
    return row


async def _clear_flag(session: AsyncSession, kind: str, client_id: uuid.UUID,
                      keep: uuid.UUID, values: Mapping[str, Any],
                      row: Mapping[Any, Any] | None) -> None:
    table, _, _, flag, scope = _CHILDREN[kind]
    stmt = update(table).where(table.c.client_id == client_id, table.c.id != keep,
                               table.c[flag].is_(True))
    for col in scope:
        stmt = stmt.where(table.c[col] == (values.get(col) or (row[col] if row else None)))
    await session.execute(stmt.values(**{flag: False}, version=table.c.version + 1,
                                      updated_at=func.now()))


async def add_child(uow: UnitOfWork, principal: Principal, kind: str, client_id: uuid.UUID,
                    raw: Mapping[str, Any], *, grace: timedelta) -> uuid.UUID:
    table, fields, validator, flag, _ = _CHILDREN[kind]
    values = validator(raw, creating=True, prefix=("input", _input_key(kind)))
    await _editable_client(uow, principal, client_id, ("input", "clientId"), grace)
    child_id = uuid.uuid4()
    session = uow.session
    await _check_unique(session, kind, client_id, values, None, ("input", _input_key(kind)))
    if values.get(flag):
        await _clear_flag(session, kind, client_id, child_id, values, None)
    await session.execute(insert(table).values(id=child_id, client_id=client_id, **values))
    new = (await session.execute(select(table).where(table.c.id == child_id))).mappings().one()
    await refresh_search_document(session, client_id)
    await record_history(session, actor=principal.subject, client_id=client_id, entity_type=kind,
                         entity_id=child_id, operation="create",
                         changes={"new": snapshot(new, fields)})
    await _event(uow, EVENT_UPDATED, client_id, changed=[_plural(kind)])
    await uow.commit()
    return child_id


async def _locked_child(uow: UnitOfWork, principal: Principal, kind: str,
                        child_id: uuid.UUID, version: int, grace: timedelta) -> RowMapping:
    table = _CHILDREN[kind][0]
    session = uow.session
    client_id = await session.scalar(select(table.c.client_id).where(table.c.id == child_id))
    if client_id is None:
        raise not_found(kind.replace("_", " "))
    await _editable_client(uow, principal, client_id, ("input", "id"), grace)
    return await lock_versioned(session, table, child_id, version, what=kind.replace("_", " "))


async def update_child(uow: UnitOfWork, principal: Principal, kind: str, child_id: uuid.UUID,
                       version: int, raw: Mapping[str, Any], *, grace: timedelta) -> uuid.UUID:
    """Returns the id of the client the child belongs to."""
    table, fields, validator, flag, _ = _CHILDREN[kind]
    values = validator(raw, creating=False, prefix=("input",))
    row = await _locked_child(uow, principal, kind, child_id, version, grace)
    changes = diff(row, values)
    client_id: uuid.UUID = row["client_id"]
    if not changes:
        return client_id
    session = uow.session
    await _check_unique(session, kind, client_id, values, child_id, ("input",))
    if values.get(flag):
        await _clear_flag(session, kind, client_id, child_id, values, row)
    await session.execute(update(table).where(table.c.id == child_id).values(
        **values, version=table.c.version + 1, updated_at=func.now()))
    await refresh_search_document(session, client_id)
    await record_history(session, actor=principal.subject, client_id=client_id, entity_type=kind,
                         entity_id=child_id, operation="update", changes=changes)
    await _event(uow, EVENT_UPDATED, client_id, changed=[_plural(kind)])
    await uow.commit()
    return client_id


async def remove_child(uow: UnitOfWork, principal: Principal, kind: str, child_id: uuid.UUID,
                       version: int, *, grace: timedelta) -> uuid.UUID:
    """Removes the row; its last state stays in the client's history (nothing is lost)."""
    table, fields, _, _, _ = _CHILDREN[kind]
    row = await _locked_child(uow, principal, kind, child_id, version, grace)
    client_id: uuid.UUID = row["client_id"]
    session = uow.session
    await session.execute(delete(table).where(table.c.id == child_id))
    await refresh_search_document(session, client_id)
    await record_history(session, actor=principal.subject, client_id=client_id, entity_type=kind,
                         entity_id=child_id, operation="remove",
                         changes={"old": snapshot(row, fields)})
    await _event(uow, EVENT_UPDATED, client_id, changed=[_plural(kind)])
    await uow.commit()
    return client_id


def _plural(kind: str) -> str:
    return {"address": "addresses", "contact_person": "contactPersons",
            "bank_account": "bankAccounts"}[kind]


def _input_key(kind: str) -> str:
    return {"address": "address", "contact_person": "contactPerson",
            "bank_account": "bankAccount"}[kind]


__all__ = [
    "EVENT_ARCHIVED", "EVENT_CREATED", "EVENT_OWNER_REASSIGNED", "EVENT_UPDATED", "CLIENT_FIELDS",
    "add_child", "archive_client", "create_client", "reassign_owner", "remove_child",
    "update_child", "update_client",
]
