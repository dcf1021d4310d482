"""Placing an asset at a client and taking it back.

An asset has at most one open placement: the handler locks the asset row and checks its status,
and the partial unique index ``ux_placements_open_asset`` refuses a second open placement even if
two transactions got past that check (then the loser gets ALREADY_PLACED, not a fault).

History entries are the asset's (entity ``asset``) in the client's dossier (``client_id``), so
that one entry shows in ``Asset.history`` and ``Client.history``. Events through the outbox:
``crm.clients.asset.placed`` and ``crm.clients.asset.returned``, subject = the asset id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import asset_types, assets, contracts, placements
from crm_clients.domain import placement as domain
from crm_clients.domain.access import Decision
from crm_clients.domain.asset import AssetStatus
from crm_clients.domain.client import ClientStatus
from crm_clients.service_layer.asset import asset_snapshot, client_address
from crm_clients.service_layer.history import record_history
from crm_clients.service_layer.visibility import client_for_command, visible_assets
from crm_common.auth import Principal
from crm_common.jsonvalues import snapshot
from crm_common.messaging.envelope import DomainEvent
from crm_common.parsing import parse_uuid
from crm_common.problems import Problems, forbidden, not_found, problem
from crm_common.uow import UnitOfWork
from crm_common.validation import Collector
from crm_common.versioning import check_version, lock_row

EVENT_PLACED = "crm.clients.asset.placed"
EVENT_RETURNED = "crm.clients.asset.returned"

PLACEMENT_FIELDS = (
    "id", "asset_id", "client_id", "address_id", "contract_id", "protocol_number", "placed_on",
    "expected_return_on", "deposit", "terms", "minimum_monthly_purchase", "client_signatory",
    "our_signatory_id", "last_audited_on", "next_audit_due", "returned_on", "return_condition",
    "return_notes", "version",
)


async def placement_snapshot(session: AsyncSession, placement_id: uuid.UUID) -> dict[str, Any]:
    row = (await session.execute(select(placements).where(placements.c.id == placement_id))
           ).mappings().one()
    return snapshot(row, PLACEMENT_FIELDS)


def _check(decision: Decision, field: tuple[str, ...]) -> None:
    if decision is Decision.NOT_FOUND:
        raise not_found("client", field=field)
    if decision is Decision.FORBIDDEN:
        raise forbidden("a sales rep places and takes back assets only at the clients they own",
                        field=field)


def _already_placed() -> Problems:
    return problem(("input", "asset_id"), "ALREADY_PLACED",
                   "the asset already has an open placement: return it first")


async def _open_placement(session: AsyncSession, asset_id: uuid.UUID) -> RowMapping | None:
    return (await session.execute(select(placements).where(
        placements.c.asset_id == asset_id, placements.c.returned_on.is_(None)))
    ).mappings().one_or_none()


async def place_asset(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                      grace: dt.timedelta, today: dt.date) -> uuid.UUID:
    """Place an asset that is in stock at one of a client's addresses (managers and admins, and
    the rep who owns the client). The asset becomes PLACED; its first audit falls due after the
    type's audit interval."""
    c = Collector()
    asset_id = c.run("asset_id", parse_uuid, raw.get("asset_id"), what="asset id")
    client_id = c.run("client_id", parse_uuid, raw.get("client_id"), what="client id")
    contract_id = None if raw.get("contract_id") is None else \
        c.run("contract_id", parse_uuid, raw["contract_id"], what="contract id")
    data = c.merge(domain.validate_placement, raw, today)
    c.done()
    assert asset_id is not None and client_id is not None and data is not None
    session = uow.session
    client, visible = await client_for_command(session, principal, client_id, grace, lock=True)
    _check(domain.decide(principal, client["owner_id"] if client else None, visible=visible),
           ("input", "client_id"))
    assert client is not None
    if client["status"] == ClientStatus.ARCHIVED.value:
        raise problem(("input", "client_id"), "ARCHIVED", "an archived client gets no assets")
    address_id = await client_address(session, client_id, raw.get("address_id"),
                                      ("input", "address_id"), required=True)
    if contract_id is not None:
        owner = await session.scalar(select(contracts.c.client_id).where(
            contracts.c.id == contract_id))
        if owner != client_id:
            raise problem(("input", "contract_id"), "NOT_FOUND", "the client has no such contract")
    asset = await lock_row(session, assets, asset_id, what="asset", field=("input", "asset_id"))
    status = AssetStatus(asset["status"])
    if status is AssetStatus.PLACED:  # before the version: the reason a racer lost
        raise _already_placed()
    check_version(asset, raw.get("version"), what="asset")
    if status is not AssetStatus.IN_STOCK:
        raise problem(("input", "asset_id"), "NOT_IN_STOCK",
                      f"only an asset in stock can be placed (this one is {status.value})")
    interval = await session.scalar(select(asset_types.c.audit_interval_days).where(
        asset_types.c.id == asset["type_id"]))
    assert interval is not None
    placement_id = uuid.uuid4()
    try:
        async with session.begin_nested():
            await session.execute(insert(placements).values(
                id=placement_id, asset_id=asset_id, client_id=client_id, address_id=address_id,
                contract_id=contract_id, next_audit_due=domain.next_audit_due(
                    data["placed_on"], interval),
                created_by=principal.subject, updated_by=principal.subject, **data))
    except IntegrityError:
        if await _open_placement(session, asset_id) is not None:  # ux_placements_open_asset
            raise _already_placed() from None
        raise
    await session.execute(update(assets).where(assets.c.id == asset_id).values(
        status=AssetStatus.PLACED.value, version=assets.c.version + 1, updated_at=func.now(),
        updated_by=principal.subject))
    snap = await placement_snapshot(session, placement_id)
    await record_history(session, actor=principal.subject, client_id=client_id,
                         entity_type="asset", entity_id=asset_id, operation="place",
                         changes={"status": [status.value, AssetStatus.PLACED.value],
                                  "placement": snap})
    uow.record(DomainEvent(type=EVENT_PLACED, subject=str(asset_id), data={
        "placement": snap, "asset": await asset_snapshot(session, asset_id),
        "clientOwnerId": str(client["owner_id"]) if client["owner_id"] else None}))
    await uow.commit()
    return placement_id


async def return_asset(uow: UnitOfWork, principal: Principal, asset_id: uuid.UUID,
                       version: int, raw: Mapping[str, Any], *, grace: dt.timedelta,
                       today: dt.date) -> uuid.UUID:
    """Close the asset's open placement with the condition found. The asset becomes IN_STOCK
    (or IN_REPAIR, or LOST when it was not there to take back) with that condition."""
    data = domain.validate_return(raw, today)
    session = uow.session
    asset = await lock_row(session, assets, asset_id, what="asset")
    open_ = await _open_placement(session, asset_id)
    if open_ is None:
        if not await _sees_asset(session, principal, asset_id, grace):
            raise not_found("asset")
        raise problem(("input", "id"), "NOT_PLACED", "the asset has no open placement to close")
    client, visible = await client_for_command(session, principal, open_["client_id"], grace,
                                               lock=False)
    decision = domain.decide(principal, client["owner_id"] if client else None,
                             visible=visible)
    if decision is Decision.NOT_FOUND:
        raise not_found("asset")
    _check(decision, ("input", "id"))
    check_version(asset, version, what="asset")
    if data["returned_on"] < open_["placed_on"]:
        raise problem(("input", "returned_on"), "INVALID_DATE_RANGE",
                      f"the asset was placed on {open_['placed_on'].isoformat()}: it cannot "
                      "come back before that")
    await session.execute(update(placements).where(placements.c.id == open_["id"]).values(
        returned_on=data["returned_on"], return_condition=data["condition"],
        return_notes=data.get("notes"), version=placements.c.version + 1, updated_at=func.now(),
        updated_by=principal.subject))
    await session.execute(update(assets).where(assets.c.id == asset_id).values(
        status=data["asset_status"], condition=data["condition"],
        version=assets.c.version + 1, updated_at=func.now(), updated_by=principal.subject))
    snap = await placement_snapshot(session, open_["id"])
    await record_history(session, actor=principal.subject, client_id=open_["client_id"],
                         entity_type="asset", entity_id=asset_id, operation="return",
                         changes={"status": [asset["status"], data["asset_status"]],
                                  "condition": [asset["condition"], data["condition"]],
                                  "placement": snap})
    uow.record(DomainEvent(type=EVENT_RETURNED, subject=str(asset_id), data={
        "placement": snap, "asset": await asset_snapshot(session, asset_id)}))
    await uow.commit()
    return asset_id


async def _sees_asset(session: AsyncSession, principal: Principal, asset_id: uuid.UUID,
                      grace: dt.timedelta) -> bool:
    """Managers and admins see every asset; a rep only those placed at clients they see."""
    if principal.sees_all_clients:
        return True
    return bool(await session.scalar(select(assets.c.id).where(
        assets.c.id == asset_id, visible_assets(principal, grace=grace))))


__all__ = ["EVENT_PLACED", "EVENT_RETURNED", "PLACEMENT_FIELDS", "place_asset",
           "placement_snapshot", "return_asset"]
