"""Recording an audit of the assets at a client during a visit.

Each line is checked against what is stored: FOUND, MISSING, MOVED and DAMAGED are for assets
whose open placement is at the audited client; UNRECORDED is for an asset found there although it
is not placed there (recorded as a finding; the asset is not moved). The lines' assets are
locked in id order, so that two audits never deadlock and a concurrent return or placement waits.

Per line with a placement: the placement's last audit and next audit due (the type's interval
after the audit's day in Sofia) and the asset's condition (when given) and last audit change,
and the asset's version grows. An UNRECORDED line changes nothing stored but the audit itself.

Events through the outbox, one ``crm.clients.asset.audited`` per line and, for a MISSING line,
``crm.clients.asset.missing`` as well, subject = the asset id, with the data of the contract the
tasks service builds to (docs/clients.md, "Events of the inventory").
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import asset_types, assets, audit_lines, audits, placements
from crm_clients.domain import audit as domain
from crm_clients.domain.audit import AuditResult
from crm_clients.domain.contract import business_today
from crm_clients.domain.placement import next_audit_due
from crm_clients.service_layer.asset import client_address, visited_client
from crm_clients.service_layer.history import record_history
from crm_common.auth import Principal
from crm_common.messaging.envelope import DomainEvent
from crm_common.problems import camel
from crm_common.uow import UnitOfWork
from crm_common.validation import Collector

EVENT_AUDITED = "crm.clients.asset.audited"
EVENT_MISSING = "crm.clients.asset.missing"


async def _assets_of(session: AsyncSession, lines: list[dict[str, Any]]) -> list[RowMapping]:
    """The lines' assets with their type and open placement, locked in id order."""
    ids = [line["asset_id"] for line in lines if line["asset_id"]]
    tags = [line["tag_code"].lower() for line in lines if line["tag_code"]]
    found = (await session.execute(
        select(assets.c.id).where(or_(assets.c.id.in_(ids),
                                      func.lower(assets.c.tag_code).in_(tags)))
        .order_by(assets.c.id).with_for_update())).scalars().all()
    stmt = (select(assets, asset_types.c.name.label("type_name"),
                   asset_types.c.audit_interval_days,
                   placements.c.id.label("placement_id"),
                   placements.c.client_id.label("placed_client_id"))
            .join(asset_types, asset_types.c.id == assets.c.type_id)
            .outerjoin(placements, (placements.c.asset_id == assets.c.id)
                       & placements.c.returned_on.is_(None))
            .where(assets.c.id.in_(list(found))))
    return list((await session.execute(stmt)).mappings())


def _match(lines: list[dict[str, Any]], rows: list[RowMapping], client_id: uuid.UUID
           ) -> list[RowMapping]:
    """Each line's asset, or every problem at once: an unknown asset, a result that does not
    fit where the asset is placed."""
    by_id = {r["id"]: r for r in rows}
    by_tag = {r["tag_code"].lower(): r for r in rows}
    c = Collector(prefix=("input", "lines"))
    matched: list[RowMapping] = []
    seen: dict[uuid.UUID, int] = {}
    for i, line in enumerate(lines):
        field = (str(i), "asset_id" if line["asset_id"] else "tag_code")
        row = by_id.get(line["asset_id"]) if line["asset_id"] else \
            by_tag.get(line["tag_code"].lower())
        if row is None:
            c.add(field, "NOT_FOUND", "no asset has this id" if line["asset_id"]
                  else "no asset has this tag code")
            continue
        if row["id"] in seen:  # once by id, once by tag code
            c.add(field, "DUPLICATE", f"line {seen[row['id']] + 1} is about the same asset")
            continue
        seen[row["id"]] = i
        here = row["placed_client_id"] == client_id
        result = AuditResult(line["result"])
        if result in domain.PLACED_HERE and not here:
            c.add(field, "NOT_PLACED_HERE",
                  f"{row['inventory_number']} is not placed at this client: record it as "
                  "UNRECORDED if it was found here")
        elif result is AuditResult.UNRECORDED and here:
            c.add((str(i), "result"), "INVALID_VALUE",
                  f"{row['inventory_number']} is placed at this client: FOUND, MISSING, MOVED "
                  "or DAMAGED")
        matched.append(row)
    c.done()
    return matched


async def record_audit(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any], *,
                       grace: dt.timedelta, now: dt.datetime | None = None) -> uuid.UUID:
    """Record an audit at a client the principal sees (its owner, a rep with a meeting there,
    managers, admins)."""
    now = now or dt.datetime.now(dt.UTC)
    data = domain.validate_audit(raw, now)
    session = uow.session
    client = await visited_client(session, principal, raw.get("client_id"), grace=grace)
    client_id = client["id"]
    address_id = await client_address(session, client_id, raw.get("address_id"),
                                      ("input", "address_id"), required=False)
    lines = data.pop("lines")
    rows = _match(lines, await _assets_of(session, lines), client_id)
    audit_id = uuid.uuid4()
    audited_at: dt.datetime = data["audited_at"]
    audited_on = business_today(audited_at)
    await session.execute(insert(audits).values(
        id=audit_id, client_id=client_id, address_id=address_id, audited_by=principal.subject,
        **data))
    await session.execute(insert(audit_lines), [
        {"id": uuid.uuid4(), "audit_id": audit_id, "position": i, "asset_id": row["id"],
         "placement_id": row["placement_id"] if line["result"] != "unrecorded" else None,
         "result": line["result"], "condition": line["condition"], "notes": line["notes"],
         "audited_at": audited_at}
        for i, (line, row) in enumerate(zip(lines, rows, strict=True))])
    for line, row in zip(lines, rows, strict=True):
        result = AuditResult(line["result"])
        version = row["version"]
        placement_id = None
        if result is not AuditResult.UNRECORDED:
            placement_id = row["placement_id"]
            await session.execute(update(placements).where(
                placements.c.id == placement_id).values(
                last_audited_on=audited_on, next_audit_due=next_audit_due(
                    audited_on, row["audit_interval_days"]),
                version=placements.c.version + 1, updated_at=func.now()))
            values: dict[str, Any] = {"last_audited_at": audited_at}
            if line["condition"] is not None:
                values["condition"] = line["condition"]
            version = await session.scalar(
                update(assets).where(assets.c.id == row["id"]).values(
                    **values, version=assets.c.version + 1, updated_at=func.now(),
                    updated_by=principal.subject).returning(assets.c.version))
        changes: dict[str, Any] = {"audit_id": str(audit_id), "result": line["result"],
                                   "notes": line["notes"]}
        if line["condition"] is not None:
            changes["condition"] = [row["condition"], line["condition"]]
        await record_history(session, actor=principal.subject, client_id=client_id,
                             entity_type="asset", entity_id=row["id"], operation="audit",
                             changes=changes)
        event = {
            "auditId": str(audit_id), "assetId": str(row["id"]),
            "inventoryNumber": row["inventory_number"], "assetTypeName": row["type_name"],
            "clientId": str(client_id),
            "clientOwnerId": str(client["owner_id"]) if client["owner_id"] else None,
            "placementId": str(placement_id) if placement_id else None,
            "result": line["result"], "condition": line["condition"], "notes": line["notes"],
            "auditedBy": str(principal.subject),
            "auditedAt": audited_at.isoformat().replace("+00:00", "Z"),
            "activityId": str(data["activity_id"]) if data["activity_id"] else None,
            "version": version,
        }
        uow.record(DomainEvent(type=EVENT_AUDITED, subject=str(row["id"]), data=event))
        if result is AuditResult.MISSING:
            uow.record(DomainEvent(type=EVENT_MISSING, subject=str(row["id"]), data=event))
    await uow.commit()
    return audit_id


#: the fields of the audit events, as the contract names them (for the docs and tests)
EVENT_FIELDS = tuple(camel(f) for f in (
    "audit_id", "asset_id", "inventory_number", "asset_type_name", "client_id",
    "client_owner_id", "placement_id", "result", "condition", "notes", "audited_by",
    "audited_at", "activity_id", "version"))

__all__ = ["EVENT_AUDITED", "EVENT_FIELDS", "EVENT_MISSING", "record_audit"]
