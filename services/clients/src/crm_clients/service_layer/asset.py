"""Commands on the inventory's catalogue: asset types, assets, their status and write-off, and
bulk material issued to a client. Managers and admins manage types and assets; material is
issued by anyone who sees the client (during a visit).

Every change is written to the history in the same transaction; events go through the outbox:
``crm.clients.asset.written_off`` and ``crm.clients.material.issued`` (catalogue:
events/asyncapi.yaml).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import addresses, asset_types, assets, material_issues, placements
from crm_clients.domain import asset as domain
from crm_clients.domain import audit as audit_domain
from crm_clients.domain.access import Decision
from crm_clients.domain.asset import AssetStatus, Tracking
from crm_clients.domain.client import ClientStatus
from crm_clients.service_layer.history import diff, record_history
from crm_clients.service_layer.visibility import client_for_command
from crm_common.auth import Principal
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.parsing import parse_uuid
from crm_common.problems import Problems, forbidden, not_found, problem
from crm_common.uow import UnitOfWork
from crm_common.validation import Collector
from crm_common.versioning import check_version, lock_row

EVENT_WRITTEN_OFF = "crm.clients.asset.written_off"
EVENT_MATERIAL_ISSUED = "crm.clients.material.issued"

TYPE_FIELDS = ("id", "name", "category", "tracking", "unit", "value", "service_life_months",
               "audit_interval_days", "active", "version")
ASSET_FIELDS = ("id", "type_id", "inventory_number", "tag_code", "serial_number",
                "owner_company", "status", "condition", "purchase_date", "purchase_value",
                "notes", "last_audited_at", "written_off_on", "written_off_reason", "version")
ISSUE_FIELDS = ("id", "type_id", "client_id", "address_id", "quantity", "issued_on",
                "activity_id", "notes", "issued_by")


def _manager(principal: Principal, what: str) -> None:
    if not domain.manages_inventory(principal):
        raise forbidden(f"only managers and admins {what}")


async def asset_snapshot(session: AsyncSession, asset_id: uuid.UUID) -> dict[str, Any]:
    """The asset's state, camelCase, with its type's name, as the inventory events carry it."""
    row = (await session.execute(
        select(assets, asset_types.c.name.label("type_name"))
        .join(asset_types, asset_types.c.id == assets.c.type_id)
        .where(assets.c.id == asset_id))).mappings().one()
    snap = snapshot(row, ASSET_FIELDS)
    snap["assetTypeName"] = row["type_name"]
    return snap


# --- asset types -------------------------------------------------------------------------------

def _duplicate_type() -> Problems:
    return problem(("input", "name"), "DUPLICATE",
                   "an asset type with this name already exists (whatever the letter case)")


async def _type_name_taken(session: AsyncSession, name: str,
                           exclude: uuid.UUID | None = None) -> bool:
    stmt = select(asset_types.c.id).where(func.lower(asset_types.c.name) == name.lower())
    if exclude is not None:
        stmt = stmt.where(asset_types.c.id != exclude)
    return await session.scalar(stmt.limit(1)) is not None


async def create_asset_type(uow: UnitOfWork, principal: Principal,
                            raw: Mapping[str, Any]) -> uuid.UUID:
    _manager(principal, "manage asset types")
    data = domain.validate_asset_type(raw, creating=True)
    session = uow.session
    if await _type_name_taken(session, data["name"]):
        raise _duplicate_type()
    type_id = uuid.uuid4()
    try:
        async with session.begin_nested():
            await session.execute(insert(asset_types).values(id=type_id, **data))
    except IntegrityError:
        if await _type_name_taken(session, data["name"]):
            raise _duplicate_type() from None
        raise
    await record_history(session, actor=principal.subject, client_id=None,
                         entity_type="asset_type", entity_id=type_id, operation="create",
                         changes={"new": {k: data.get(k) for k in data}})
    await uow.commit()
    return type_id


async def update_asset_type(uow: UnitOfWork, principal: Principal, type_id: uuid.UUID,
                            version: int, raw: Mapping[str, Any]) -> uuid.UUID:
    """A new audit interval moves the next audit of every open placement of the type."""
    _manager(principal, "manage asset types")
    data = domain.validate_asset_type(raw, creating=False)
    session = uow.session
    row = await lock_row(session, asset_types, type_id, what="asset type")
    check_version(row, version, what="asset type")
    if "name" in data and await _type_name_taken(session, data["name"], exclude=type_id):
        raise _duplicate_type()
    changes = diff(row, data)
    if not changes:
        return type_id
    await session.execute(update(asset_types).where(asset_types.c.id == type_id).values(
        **data, version=asset_types.c.version + 1, updated_at=func.now()))
    if "audit_interval_days" in changes:
        p = placements.c
        await session.execute(
            update(placements)
            .where(p.returned_on.is_(None), p.asset_id == assets.c.id,
                   assets.c.type_id == type_id)
            .values(next_audit_due=func.coalesce(p.last_audited_on, p.placed_on)
                    + data["audit_interval_days"]))
    await record_history(session, actor=principal.subject, client_id=None,
                         entity_type="asset_type", entity_id=type_id, operation="update",
                         changes=changes)
    await uow.commit()
    return type_id


# --- assets ------------------------------------------------------------------------------------

async def _taken(session: AsyncSession, data: Mapping[str, Any],
                 exclude: uuid.UUID | None = None) -> list[tuple[str, str]]:
    """The unique fields of ``data`` another asset already has: (field, message)."""
    found = []
    for key, what in (("inventory_number", "inventory number"), ("tag_code", "tag code")):
        if key not in data:
            continue
        stmt = select(assets.c.id).where(func.lower(assets.c[key]) == data[key].lower())
        if exclude is not None:
            stmt = stmt.where(assets.c.id != exclude)
        if await session.scalar(stmt.limit(1)) is not None:
            found.append((key, f"another asset has this {what} (unique, whatever the case)"))
    return found


async def _check_unique(session: AsyncSession, data: Mapping[str, Any],
                        exclude: uuid.UUID | None = None) -> None:
    c = Collector()
    for key, message in await _taken(session, data, exclude):
        c.add(key, "DUPLICATE", message)
    c.done()


async def create_asset(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any]) -> uuid.UUID:
    """A new asset is in stock. Its type must be a serialized, active one."""
    _manager(principal, "register assets")
    c = Collector()
    type_id = c.run("type_id", parse_uuid, raw.get("type_id"), what="asset type id")
    data = c.merge(domain.validate_asset, {k: v for k, v in raw.items() if k != "type_id"},
                   creating=True)
    c.done()
    assert type_id is not None and data is not None
    session = uow.session
    kind = (await session.execute(select(asset_types).where(asset_types.c.id == type_id))
            ).mappings().one_or_none()
    if kind is None:
        raise not_found("asset type", field=("input", "type_id"))
    if kind["tracking"] != Tracking.SERIALIZED.value:
        raise problem(("input", "type_id"), "BULK_TYPE",
                      "a bulk type's material is issued in quantities, not registered unit by "
                      "unit (issueMaterial)")
    if not kind["active"]:
        raise problem(("input", "type_id"), "INACTIVE", "this asset type is no longer in use")
    await _check_unique(session, data)
    asset_id = uuid.uuid4()
    try:
        async with session.begin_nested():
            await session.execute(insert(assets).values(
                id=asset_id, type_id=type_id, status=AssetStatus.IN_STOCK.value,
                created_by=principal.subject, updated_by=principal.subject, **data))
    except IntegrityError:
        await _check_unique(session, data)  # a concurrent create won the race
        raise
    snap = await asset_snapshot(session, asset_id)
    await record_history(session, actor=principal.subject, client_id=None, entity_type="asset",
                         entity_id=asset_id, operation="create", changes={"new": snap})
    await uow.commit()
    return asset_id


async def update_asset(uow: UnitOfWork, principal: Principal, asset_id: uuid.UUID,
                       version: int, raw: Mapping[str, Any]) -> uuid.UUID:
    _manager(principal, "change assets")
    data = domain.validate_asset(raw, creating=False)
    session = uow.session
    row = await lock_row(session, assets, asset_id, what="asset")
    check_version(row, version, what="asset")
    if row["status"] == AssetStatus.WRITTEN_OFF.value:
        raise problem(("input", "id"), "WRITTEN_OFF", "a written-off asset stays as it was")
    changes = diff(row, data)
    if not changes:
        return asset_id
    await _check_unique(session, {k: v for k, v in data.items() if k in changes}, asset_id)
    try:
        async with session.begin_nested():
            await session.execute(update(assets).where(assets.c.id == asset_id).values(
                **data, version=assets.c.version + 1, updated_at=func.now(),
                updated_by=principal.subject))
    except IntegrityError:
        await _check_unique(session, data, asset_id)
        raise
    await record_history(session, actor=principal.subject, client_id=None, entity_type="asset",
                         entity_id=asset_id, operation="update", changes=changes)
    await uow.commit()
    return asset_id


async def change_asset_status(uow: UnitOfWork, principal: Principal, asset_id: uuid.UUID,
                              version: int, raw_status: Any, reason: Any) -> uuid.UUID:
    """In stock, in repair or lost, for an asset that is not placed (a placed asset comes back
    through a return) and not written off."""
    _manager(principal, "change an asset's status")
    c = Collector({"status": raw_status, "reason": reason})
    target = c.choice("status", AssetStatus, required=True)
    note = c.text("reason", max_length=domain.MAX_NOTES, multiline=True)
    if target is not None and target not in domain.SETTABLE:
        c.add("status", "INVALID_VALUE", "status is set to IN_STOCK, IN_REPAIR or LOST here; "
                                         "placing and writing off have their own mutations")
    c.done()
    assert target is not None
    session = uow.session
    row = await lock_row(session, assets, asset_id, what="asset")
    check_version(row, version, what="asset")
    current = AssetStatus(row["status"])
    if current is AssetStatus.PLACED:
        raise problem(("input", "status"), "ASSET_PLACED",
                      "the asset is placed at a client: return it (returnAsset) first")
    if current is AssetStatus.WRITTEN_OFF:
        raise problem(("input", "id"), "WRITTEN_OFF", "a written-off asset stays written off")
    if current is target:
        return asset_id
    await session.execute(update(assets).where(assets.c.id == asset_id).values(
        status=target.value, version=assets.c.version + 1, updated_at=func.now(),
        updated_by=principal.subject))
    await record_history(session, actor=principal.subject, client_id=None, entity_type="asset",
                         entity_id=asset_id, operation="status",
                         changes={"status": [current.value, target.value], "reason": note})
    await uow.commit()
    return asset_id


async def write_off_asset(uow: UnitOfWork, principal: Principal, asset_id: uuid.UUID,
                          version: int, raw: Mapping[str, Any], *, today: dt.date) -> uuid.UUID:
    """Final: the asset stays readable with its history. A placed asset is returned first."""
    _manager(principal, "write assets off")
    when, reason = domain.validate_write_off(raw, today)
    session = uow.session
    row = await lock_row(session, assets, asset_id, what="asset")
    check_version(row, version, what="asset")
    current = AssetStatus(row["status"])
    if current is AssetStatus.PLACED:
        raise problem(("input", "id"), "ASSET_PLACED",
                      "the asset is placed at a client: return it (returnAsset) first")
    if current is AssetStatus.WRITTEN_OFF:
        raise problem(("input", "id"), "WRITTEN_OFF", "the asset is already written off")
    await session.execute(update(assets).where(assets.c.id == asset_id).values(
        status=AssetStatus.WRITTEN_OFF.value, written_off_on=when, written_off_reason=reason,
        version=assets.c.version + 1, updated_at=func.now(), updated_by=principal.subject))
    snap = await asset_snapshot(session, asset_id)
    await record_history(session, actor=principal.subject, client_id=None, entity_type="asset",
                         entity_id=asset_id, operation="write_off",
                         changes={"status": [current.value, AssetStatus.WRITTEN_OFF.value],
                                  "written_off_on": [None, when.isoformat()],
                                  "written_off_reason": [None, reason]})
    uow.record(DomainEvent(type=EVENT_WRITTEN_OFF, subject=str(asset_id),
                           data={"asset": snap, "previousStatus": current.value}))
    await uow.commit()
    return asset_id


# --- bulk material -------------------------------------------------------------------------------

async def client_address(session: AsyncSession, client_id: uuid.UUID, raw: Any,
                         field: tuple[str, ...], *, required: bool) -> uuid.UUID | None:
    """The id of one of the client's own addresses (NOT_FOUND for another client's)."""
    if raw is None:
        if required:
            raise problem(field, "REQUIRED", "name one of the client's addresses")
        return None
    c = Collector()
    address_id = c.run(field[1:], parse_uuid, raw, what="address id")
    c.done()
    found = await session.scalar(select(addresses.c.id).where(
        addresses.c.id == address_id, addresses.c.client_id == client_id))
    if found is None:
        raise problem(field, "NOT_FOUND", "the client has no such address")
    return address_id


async def visited_client(session: AsyncSession, principal: Principal, raw_id: Any, *,
                         grace: dt.timedelta) -> RowMapping:
    """The client of a visit's record (an audit, material issued): visible to the principal and
    not archived; the row is locked so that the client's dossier does not change meanwhile."""
    c = Collector()
    client_id = c.run("client_id", parse_uuid, raw_id, what="client id")
    c.done()
    assert client_id is not None
    client, visible = await client_for_command(session, principal, client_id, grace, lock=True)
    if client is None or audit_domain.decide(principal, client["owner_id"],
                                             visible=visible) is not Decision.ALLOW:
        raise not_found("client", field=("input", "client_id"))
    if client["status"] == ClientStatus.ARCHIVED.value:
        raise problem(("input", "client_id"), "ARCHIVED", "the client is archived")
    return client


async def issue_material(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                         grace: dt.timedelta, today: dt.date) -> uuid.UUID:
    """Bulk material (a bulk type) handed to a client in a quantity. Stock of bulk material is
    not kept: the issues are the record."""
    c = Collector()
    type_id = c.run("asset_type_id", parse_uuid, raw.get("asset_type_id"),
                    what="asset type id")
    activity_id = None if raw.get("activity_id") is None else \
        c.run("activity_id", parse_uuid, raw["activity_id"], what="activity id")
    data = c.merge(domain.validate_material_issue, raw, today)
    c.done()
    assert data is not None
    session = uow.session
    client = await visited_client(session, principal, raw.get("client_id"), grace=grace)
    kind = (await session.execute(select(asset_types).where(asset_types.c.id == type_id))
            ).mappings().one_or_none()
    if kind is None:
        raise not_found("asset type", field=("input", "asset_type_id"))
    if kind["tracking"] != Tracking.BULK.value:
        raise problem(("input", "asset_type_id"), "SERIALIZED_TYPE",
                      "units of a serialized type are placed one by one (placeAsset)")
    if not kind["active"]:
        raise problem(("input", "asset_type_id"), "INACTIVE",
                      "this asset type is no longer in use")
    address_id = await client_address(session, client["id"], raw.get("address_id"),
                                       ("input", "address_id"), required=False)
    issue_id = uuid.uuid4()
    values = {"id": issue_id, "type_id": type_id, "client_id": client["id"],
              "address_id": address_id, "activity_id": activity_id,
              "issued_by": principal.subject, "notes": data.get("notes"),
              "quantity": data["quantity"], "issued_on": data["issued_on"]}
    await session.execute(insert(material_issues).values(**values))
    snap = snapshot(values, ISSUE_FIELDS)
    snap["assetTypeName"] = kind["name"]
    snap["unit"] = kind["unit"]
    await record_history(session, actor=principal.subject, client_id=client["id"],
                         entity_type="material_issue", entity_id=issue_id, operation="issue",
                         changes={"new": snap})
    uow.record(DomainEvent(type=EVENT_MATERIAL_ISSUED, subject=str(client["id"]),
                           data={"issue": snap}))
    await uow.commit()
    return issue_id


__all__ = [
    "ASSET_FIELDS", "EVENT_MATERIAL_ISSUED", "EVENT_WRITTEN_OFF", "asset_snapshot",
    "change_asset_status", "client_address", "create_asset", "create_asset_type",
    "issue_material", "update_asset", "update_asset_type", "visited_client", "write_off_asset",
]
