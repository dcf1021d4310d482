"""Files of the inventory, kept by the kit's attachment store (``crm_common.attachments``): the
signed handover protocol of a placement (a PDF or an image of it) and the photos of an audit
(any image format). What is the clients service's own is here: who may ask for an upload URL
on which placement or audit, what is recorded when a file is stored, and who may use a URL.

A URL to upload is signed for the employee who asked for it and works only for them
(:func:`authorise`); a download URL is handed out only with a placement or audit the reader may
see, and works for its short lifetime. A stored file adds an entry to the asset's history in the
client's dossier; no event is published for files.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import RowMapping, select
from starlette.requests import Request

from crm_clients.adapters.tables import audit_lines, audit_photos, audits, placement_protocols
from crm_clients.adapters.tables import placements as placement_table
from crm_clients.domain import audit as audit_domain
from crm_clients.domain import placement as placement_domain
from crm_clients.domain.access import Decision
from crm_clients.service_layer.history import record_history
from crm_clients.service_layer.visibility import client_for_command
from crm_common.attachments import Action, records
from crm_common.attachments.records import UploadGrant
from crm_common.auth import Principal
from crm_common.parsing import parse_id
from crm_common.problems import forbidden, not_found, problem
from crm_common.uow import UnitOfWork


async def _client_decision(uow: UnitOfWork, principal: Principal, client_id: uuid.UUID,
                           grace: dt.timedelta, *, placing: bool) -> Decision:
    client, visible = await client_for_command(uow.session, principal, client_id, grace,
                                               lock=False)
    owner = client["owner_id"] if client else None
    if placing:
        return placement_domain.decide(principal, owner, visible=visible)
    return audit_domain.decide(principal, owner, visible=visible)


async def request_protocol_upload(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any],
                                  *, max_bytes: int, ttl: dt.timedelta, now: dt.datetime,
                                  grace: dt.timedelta) -> UploadGrant:
    """A pending protocol file of a placement (who may place at the client may attach it)."""
    placement_id = parse_id(raw.get("placement_id"), ("input", "placementId"))
    request = records.read_upload_request(raw, max_bytes=max_bytes)
    row = (await uow.session.execute(select(placement_table).where(
        placement_table.c.id == placement_id))).mappings().one_or_none()
    decision = Decision.NOT_FOUND if row is None else await _client_decision(
        uow, principal, row["client_id"], grace, placing=True)
    if decision is Decision.NOT_FOUND:
        raise not_found("placement", field=("input", "placement_id"))
    if decision is Decision.FORBIDDEN:
        raise forbidden("a sales rep attaches protocols only at the clients they own",
                        field=("input", "placement_id"))
    grant = await records.insert_pending(uow.session, placement_protocols, placement_id,
                                         request, created_by=principal.subject, now=now,
                                         ttl=ttl)
    await uow.commit()
    return grant


async def request_photo_upload(uow: UnitOfWork, principal: Principal, raw: Mapping[str, Any],
                               *, max_bytes: int, ttl: dt.timedelta, now: dt.datetime,
                               grace: dt.timedelta) -> UploadGrant:
    """A pending photo of an audit, optionally of one of its lines' assets (anyone who sees the
    audited client)."""
    audit_id = parse_id(raw.get("audit_id"), ("input", "auditId"))
    asset_id = None if raw.get("asset_id") is None else \
        parse_id(raw["asset_id"], ("input", "assetId"))
    request = records.read_upload_request(raw, max_bytes=max_bytes)
    session = uow.session
    row = (await session.execute(select(audits).where(audits.c.id == audit_id))
           ).mappings().one_or_none()
    if row is None or await _client_decision(uow, principal, row["client_id"], grace,
                                             placing=False) is not Decision.ALLOW:
        raise not_found("audit", field=("input", "audit_id"))
    if asset_id is not None and await session.scalar(select(audit_lines.c.id).where(
            audit_lines.c.audit_id == audit_id, audit_lines.c.asset_id == asset_id)) is None:
        raise problem(("input", "asset_id"), "NOT_IN_AUDIT", "the audit has no line about "
                                                             "this asset")
    grant = await records.insert_pending(session, audit_photos, audit_id, request,
                                         created_by=principal.subject, now=now, ttl=ttl,
                                         asset_id=asset_id)
    await uow.commit()
    return grant


async def protocol_stored(uow: UnitOfWork, row: RowMapping) -> None:
    """The upload route's hook: the asset's history entry, in the client's dossier."""
    placement = (await uow.session.execute(select(placement_table).where(
        placement_table.c.id == row["placement_id"]))).mappings().one()
    await record_history(uow.session, actor=row["created_by"], client_id=placement["client_id"],
                         entity_type="asset", entity_id=placement["asset_id"],
                         operation="protocol_attached", changes={
                             "protocol": records.attachment_snapshot(placement_protocols, row)})


async def photo_stored(uow: UnitOfWork, row: RowMapping) -> None:
    """The upload route's hook: an entry in the client's dossier history (the asset's, when
    the photo is of one asset; else the audit's)."""
    audit = (await uow.session.execute(select(audits).where(audits.c.id == row["audit_id"]))
             ).mappings().one()
    await record_history(uow.session, actor=row["created_by"], client_id=audit["client_id"],
                         entity_type="asset" if row["asset_id"] else "audit",
                         entity_id=row["asset_id"] or row["audit_id"],
                         operation="photo_attached",
                         changes={"photo": records.attachment_snapshot(audit_photos, row)})


async def authorise(request: Request, row: RowMapping, action: Action,
                    by: uuid.UUID | None) -> bool:
    """An upload URL works only for the employee it was signed for, who asked for it; a
    download URL was handed out with something its reader may see."""
    if action is Action.UPLOAD:
        return by is not None and by == row["created_by"]
    return True


__all__ = ["authorise", "photo_stored", "protocol_stored", "request_photo_upload",
           "request_protocol_upload"]
