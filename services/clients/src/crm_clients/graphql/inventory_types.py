"""GraphQL object types of the advertising inventory; thin mappings of service-layer rows, and
the per-request DataLoaders they read through.

Assets, placements and audits refer to clients and clients to their inventory, so the types with
those relations (``Asset``, ``Placement``, ``AuditLine``, ``Audit``, ``ClientInventory``) are
composed in :mod:`client_types` from the own fields defined here (``AssetFields``, ...)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Self

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_clients.adapters.tables import audit_photos, placement_protocols
from crm_clients.domain import asset as domain
from crm_clients.domain.audit import AuditResult
from crm_clients.service_layer import asset_queries
from crm_common.attachments import Action, SignedUrls, stored_by_owner
from crm_common.auth import Principal
from crm_common.graphql.context import batch_loader, load_node
from crm_common.graphql.history import HistoryConnection, history_connection
from crm_common.parsing import lookup_id

# The domain's enums, exposed as they are (FRIDGE, SERIALIZED, IN_STOCK, ...).
AssetCategory = domain.AssetCategory
Tracking = domain.Tracking
AssetStatus = domain.AssetStatus
Condition = domain.Condition
strawberry.enum(AssetCategory)
strawberry.enum(Tracking, description="SERIALIZED: each unit is an asset with its inventory "
                                      "number and tag. BULK: issued in quantities.")
strawberry.enum(AssetStatus)
strawberry.enum(Condition)
strawberry.enum(AuditResult, description=(
    "FOUND, MISSING, MOVED (at the client, not where recorded), DAMAGED: for an asset placed at "
    "the audited client. UNRECORDED: an asset found at the client although it is not placed "
    "there (a finding; the asset is not moved)."))

def _id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


def _uuid(value: strawberry.ID | None) -> uuid.UUID | None:
    return lookup_id(value)


@strawberry.type(description="A kind of asset or material (fridge, display stand, leaflets ...).")
class AssetType:
    id: strawberry.ID
    name: str
    category: AssetCategory
    tracking: Tracking
    unit: str | None = strawberry.field(description="Bulk material's unit (pcs, pack).")
    value: Decimal | None = strawberry.field(description="Value of one unit, EUR.")
    service_life_months: int | None
    audit_interval_days: int = strawberry.field(
        description="Each placement of this type is due for audit this many days after it was "
                    "placed or last audited.")
    active: bool
    version: int

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> AssetType:
        return cls(id=strawberry.ID(str(r["id"])), name=r["name"],
                   category=AssetCategory(r["category"]), tracking=Tracking(r["tracking"]),
                   unit=r["unit"], value=r["value"], service_life_months=r["service_life_months"],
                   audit_interval_days=r["audit_interval_days"], active=r["active"],
                   version=r["version"])

    @strawberry.field(description="Changes to this type, newest first.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await history_connection(info, info.context.loaders.entity_history,
                                        uuid.UUID(str(self.id)), first, after)


@strawberry.type
class AssetFields:
    """An asset's own fields (``Asset`` in :mod:`client_types` adds its relations)."""

    id: strawberry.ID
    type_id: strawberry.ID
    inventory_number: str = strawberry.field(description="Unique, whatever the letter case.")
    tag_code: str = strawberry.field(description="The QR/tag code; unique, whatever the case.")
    serial_number: str | None
    owner_company: str = strawberry.field(description="Which of our companies owns it.")
    status: AssetStatus
    condition: Condition
    purchase_date: date | None
    purchase_value: Decimal | None = strawberry.field(description="EUR.")
    notes: str | None
    last_audited_at: datetime | None
    written_off_on: date | None
    written_off_reason: str | None
    version: int

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Self:
        return cls(
            id=strawberry.ID(str(r["id"])), type_id=strawberry.ID(str(r["type_id"])),
            inventory_number=r["inventory_number"], tag_code=r["tag_code"],
            serial_number=r["serial_number"], owner_company=r["owner_company"],
            status=AssetStatus(r["status"]), condition=Condition(r["condition"]),
            purchase_date=r["purchase_date"], purchase_value=r["purchase_value"],
            notes=r["notes"], last_audited_at=r["last_audited_at"],
            written_off_on=r["written_off_on"], written_off_reason=r["written_off_reason"],
            version=r["version"])

    @strawberry.field
    async def type(self, info: strawberry.Info) -> AssetType | None:
        return await load_node(info.context.loaders.asset_type, _uuid(self.type_id),
                               AssetType.from_row)

    @strawberry.field(description="Its full history (created, changed, placed, returned, "
                                  "audited, status changes, written off), newest first. "
                                  "Managers and admins only: it spans every client; null for "
                                  "anyone else.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection | None:
        if not domain.manages_inventory(info.context.principal):
            return None
        return await history_connection(info, info.context.loaders.entity_history,
                                        uuid.UUID(str(self.id)), first, after)


@strawberry.type
class PlacementFields:
    """A placement's own fields (``Placement`` in :mod:`client_types` adds its relations)."""

    id: strawberry.ID
    asset_id: strawberry.ID
    client_id: strawberry.ID
    address_id: strawberry.ID
    contract_id: strawberry.ID | None
    protocol_number: str = strawberry.field(description="The handover protocol's number.")
    placed_on: date
    expected_return_on: date | None
    deposit: Decimal | None = strawberry.field(description="EUR.")
    terms: str | None = strawberry.field(description="E.g. only our products in the fridge.")
    minimum_monthly_purchase: Decimal | None = strawberry.field(description="EUR.")
    client_signatory: str = strawberry.field(description="Who signed for the client.")
    our_signatory_id: strawberry.ID | None = strawberry.field(
        description="The employee who signed for us.")
    last_audited_on: date | None
    next_audit_due: date = strawberry.field(description="Placed on (or last audited on) plus "
                                                        "the type's audit interval.")
    returned_on: date | None = strawberry.field(description="Null while the placement is open.")
    return_condition: Condition | None
    return_notes: str | None
    version: int

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Self:
        return cls(
            id=strawberry.ID(str(r["id"])), asset_id=strawberry.ID(str(r["asset_id"])),
            client_id=strawberry.ID(str(r["client_id"])),
            address_id=strawberry.ID(str(r["address_id"])), contract_id=_id(r["contract_id"]),
            protocol_number=r["protocol_number"], placed_on=r["placed_on"],
            expected_return_on=r["expected_return_on"], deposit=r["deposit"], terms=r["terms"],
            minimum_monthly_purchase=r["minimum_monthly_purchase"],
            client_signatory=r["client_signatory"], our_signatory_id=_id(r["our_signatory_id"]),
            last_audited_on=r["last_audited_on"], next_audit_due=r["next_audit_due"],
            returned_on=r["returned_on"],
            return_condition=Condition(r["return_condition"]) if r["return_condition"] else None,
            return_notes=r["return_notes"], version=r["version"])


@strawberry.type
class AuditLineFields:
    """An audit line's own fields (``AuditLine`` in :mod:`client_types` adds its relations)."""

    id: strawberry.ID
    audit_id: strawberry.ID
    asset_id: strawberry.ID
    placement_id: strawberry.ID | None = strawberry.field(
        description="The placement audited; null for an UNRECORDED finding.")
    result: AuditResult
    condition: Condition | None
    notes: str | None
    audited_at: datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Self:
        return cls(id=strawberry.ID(str(r["id"])), audit_id=strawberry.ID(str(r["audit_id"])),
                   asset_id=strawberry.ID(str(r["asset_id"])),
                   placement_id=_id(r["placement_id"]), result=AuditResult(r["result"]),
                   condition=Condition(r["condition"]) if r["condition"] else None,
                   notes=r["notes"], audited_at=r["audited_at"])


@strawberry.type(description="Where the audit was made, as the app reported it.")
class Geolocation:
    latitude: Decimal
    longitude: Decimal
    accuracy_meters: int | None


@strawberry.type
class AuditFields:
    """An audit's own fields (``Audit`` in :mod:`client_types` adds its lines)."""

    id: strawberry.ID
    client_id: strawberry.ID
    address_id: strawberry.ID | None
    activity_id: strawberry.ID | None = strawberry.field(
        description="The visit (activities service) it was made during, if given.")
    meeting_id: strawberry.ID | None = strawberry.field(
        description="The meeting (activities service) it was made during, if given.")
    audited_at: datetime
    audited_by: strawberry.ID
    geolocation: Geolocation | None
    notes: str | None

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Self:
        geo = None if r["latitude"] is None else Geolocation(
            latitude=r["latitude"], longitude=r["longitude"],
            accuracy_meters=r["accuracy_meters"])
        return cls(id=strawberry.ID(str(r["id"])), client_id=strawberry.ID(str(r["client_id"])),
                   address_id=_id(r["address_id"]), activity_id=_id(r["activity_id"]),
                   meeting_id=_id(r["meeting_id"]), audited_at=r["audited_at"],
                   audited_by=strawberry.ID(str(r["audited_by"])), geolocation=geo,
                   notes=r["notes"])


@strawberry.type(description="Bulk material handed to a client.")
class MaterialIssue:
    id: strawberry.ID
    asset_type_id: strawberry.ID
    client_id: strawberry.ID
    address_id: strawberry.ID | None
    quantity: int
    issued_on: date
    activity_id: strawberry.ID | None
    notes: str | None
    issued_by: strawberry.ID

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> MaterialIssue:
        return cls(id=strawberry.ID(str(r["id"])), asset_type_id=strawberry.ID(str(r["type_id"])),
                   client_id=strawberry.ID(str(r["client_id"])), address_id=_id(r["address_id"]),
                   quantity=r["quantity"], issued_on=r["issued_on"],
                   activity_id=_id(r["activity_id"]), notes=r["notes"],
                   issued_by=strawberry.ID(str(r["issued_by"])))

    @strawberry.field
    async def asset_type(self, info: strawberry.Info) -> AssetType | None:
        return await load_node(info.context.loaders.asset_type, _uuid(self.asset_type_id),
                               AssetType.from_row)


@strawberry.type(description="A file of the inventory: a placement's signed protocol or an "
                             "audit's photo.")
class InventoryFile:
    id: strawberry.ID
    file_name: str = strawberry.field(description="The name sent, made safe.")
    detected_content_type: str | None = strawberry.field(
        description="The type detected from the content (a PDF or an image).")
    size: int | None
    sha256: str | None
    asset_id: strawberry.ID | None = strawberry.field(
        description="An audit photo's asset, when it shows one asset.")
    created_by: strawberry.ID
    stored_at: datetime | None
    download_url: str = strawberry.field(description="A short-lived signed URL that streams "
                                                     "the file.")

    @classmethod
    def from_row(cls, r: Mapping[Any, Any], urls: SignedUrls) -> InventoryFile:
        url, _ = urls.signed_url(Action.DOWNLOAD, r["id"])
        return cls(id=strawberry.ID(str(r["id"])), file_name=r["file_name"],
                   detected_content_type=r["detected_type"], size=r["size"],
                   sha256=r["sha256"], asset_id=_id(r.get("asset_id")),
                   created_by=strawberry.ID(str(r["created_by"])), stored_at=r["stored_at"],
                   download_url=url)


@strawberry.type(description="Where to PUT the file's bytes (no token: the URL is signed for "
                             "you and works once, until expiresAt).")
class FileUpload:
    file_id: strawberry.ID
    upload_url: str
    expires_at: datetime


#: files listed per placement or audit
MAX_FILES = 50


def inventory_loaders(reader: AsyncEngine, principal: Principal,
                      grace: timedelta) -> dict[str, Callable[[], Any]]:
    """The factories of the per-request DataLoaders of the inventory (loaders of the context's
    ``Loaders``, made when first asked for)."""
    q = asset_queries
    return {
        "asset_type": lambda: batch_loader(partial(q.types_by_ids, reader)),
        "asset": lambda: batch_loader(partial(q.assets_by_ids, reader, principal, grace=grace)),
        "placement": lambda: batch_loader(partial(q.placements_by_ids, reader, principal,
                                                  grace=grace)),
        "open_placements": lambda: batch_loader(partial(q.open_placements_by_client, reader)),
        "placements_by_asset": lambda: batch_loader(partial(q.placements_by_asset, reader,
                                                            principal, grace=grace)),
        "placed_value": lambda: batch_loader(partial(q.placed_value_by_client, reader)),
        "audit": lambda: batch_loader(partial(q.audits_by_ids, reader, principal, grace=grace)),
        "lines_by_audit": lambda: batch_loader(partial(q.lines_by_audit, reader)),
        "last_audit_line": lambda: batch_loader(partial(q.last_line_by_placement, reader)),
        "lines_by_asset": lambda: batch_loader(partial(q.lines_by_asset, reader, principal,
                                                       grace=grace)),
        "material_by_client": lambda: batch_loader(partial(q.material_by_client, reader)),
        "protocols": lambda: batch_loader(partial(_files, reader, placement_protocols)),
        "photos": lambda: batch_loader(partial(_files, reader, audit_photos)),
    }


async def _files(reader: AsyncEngine, table: Any, owner_ids: list[uuid.UUID]) -> list[list[Any]]:
    """The stored files of owners the caller already resolved (so may see), oldest first."""
    pages = await stored_by_owner(reader, table, [(i, MAX_FILES, None) for i in owner_ids])
    return [list(p.rows) for p in pages]
