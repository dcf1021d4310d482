"""GraphQL input types of the advertising inventory (converted to plain dicts with ``to_raw``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from crm_clients.domain.audit import AuditResult
from crm_clients.graphql.inventory_types import (
    AssetCategory,
    AssetStatus,
    Condition,
    Tracking,
)


@strawberry.input
class CreateAssetTypeInput:
    name: str
    category: AssetCategory
    tracking: Tracking
    unit: str | None = strawberry.UNSET
    value: Decimal | None = strawberry.field(default=strawberry.UNSET,
                                             description="Of one unit, EUR.")
    service_life_months: int | None = strawberry.UNSET
    audit_interval_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="1..3650; default 90.")


@strawberry.input(description="Fields left out stay as they are; tracking cannot change.")
class UpdateAssetTypeInput:
    id: strawberry.ID
    version: int
    name: str | None = strawberry.UNSET
    category: AssetCategory | None = strawberry.UNSET
    unit: str | None = strawberry.UNSET
    value: Decimal | None = strawberry.UNSET
    service_life_months: int | None = strawberry.UNSET
    audit_interval_days: int | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET


@strawberry.input
class CreateAssetInput:
    type_id: strawberry.ID
    inventory_number: str
    tag_code: str
    owner_company: str
    serial_number: str | None = strawberry.UNSET
    condition: Condition | None = strawberry.UNSET
    purchase_date: date | None = strawberry.UNSET
    purchase_value: Decimal | None = strawberry.field(default=strawberry.UNSET,
                                                      description="EUR.")
    notes: str | None = strawberry.UNSET


@strawberry.input(description="Fields left out stay as they are; null clears an optional one.")
class UpdateAssetInput:
    id: strawberry.ID
    version: int
    inventory_number: str | None = strawberry.UNSET
    tag_code: str | None = strawberry.UNSET
    owner_company: str | None = strawberry.UNSET
    serial_number: str | None = strawberry.UNSET
    condition: Condition | None = strawberry.UNSET
    purchase_date: date | None = strawberry.UNSET
    purchase_value: Decimal | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class ChangeAssetStatusInput:
    id: strawberry.ID
    version: int
    status: AssetStatus = strawberry.field(description="IN_STOCK, IN_REPAIR or LOST.")
    reason: str | None = None


@strawberry.input
class WriteOffAssetInput:
    id: strawberry.ID
    version: int
    reason: str
    written_off_on: date | None = strawberry.field(default=None,
                                                   description="Default today (Sofia).")


@strawberry.input
class PlaceAssetInput:
    asset_id: strawberry.ID
    version: int = strawberry.field(description="The asset's version you read.")
    client_id: strawberry.ID
    address_id: strawberry.ID = strawberry.field(description="One of the client's addresses.")
    protocol_number: str = strawberry.field(description="The handover protocol's number.")
    placed_on: date
    client_signatory: str = strawberry.field(description="Who signed for the client.")
    contract_id: strawberry.ID | None = strawberry.UNSET
    expected_return_on: date | None = strawberry.UNSET
    deposit: Decimal | None = strawberry.field(default=strawberry.UNSET, description="EUR.")
    terms: str | None = strawberry.UNSET
    minimum_monthly_purchase: Decimal | None = strawberry.field(default=strawberry.UNSET,
                                                                description="EUR.")
    our_signatory_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class ReturnAssetInput:
    id: strawberry.ID = strawberry.field(description="The asset.")
    version: int = strawberry.field(description="The asset's version you read.")
    condition: Condition = strawberry.field(description="The condition it came back in.")
    returned_on: date | None = strawberry.field(default=strawberry.UNSET,
                                                description="Default today (Sofia).")
    notes: str | None = strawberry.UNSET
    asset_status: AssetStatus | None = strawberry.field(
        default=strawberry.UNSET, description="IN_STOCK (default), IN_REPAIR or LOST.")


@strawberry.input
class IssueMaterialInput:
    client_id: strawberry.ID
    asset_type_id: strawberry.ID = strawberry.field(description="A BULK type.")
    quantity: int
    address_id: strawberry.ID | None = strawberry.UNSET
    issued_on: date | None = strawberry.field(default=strawberry.UNSET,
                                              description="Default today (Sofia).")
    activity_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The visit (activities service), if known.")
    notes: str | None = strawberry.UNSET


@strawberry.input(description="Decimal degrees (WGS 84) as the phone reported them.")
class GeolocationInput:
    latitude: Decimal
    longitude: Decimal
    accuracy_meters: int | None = None


@strawberry.input(description="Name the asset by its id or by the tag code the app scanned.")
class AuditLineInput:
    result: AuditResult
    asset_id: strawberry.ID | None = strawberry.UNSET
    tag_code: str | None = strawberry.UNSET
    condition: Condition | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class RecordAuditInput:
    client_id: strawberry.ID
    lines: list[AuditLineInput]
    address_id: strawberry.ID | None = strawberry.UNSET
    activity_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The visit (activities service), if known.")
    meeting_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The meeting (activities service), if known.")
    audited_at: datetime | None = strawberry.field(
        default=strawberry.UNSET, description="Default now; within the last 30 days.")
    geolocation: GeolocationInput | None = strawberry.UNSET
    notes: str | None = strawberry.UNSET


@strawberry.input
class AssetFilterInput:
    status: AssetStatus | None = None
    type_id: strawberry.ID | None = None
    client_id: strawberry.ID | None = strawberry.field(default=None,
                                                       description="Placed at it now.")
    client_group_id: strawberry.ID | None = strawberry.field(
        default=None, description="Placed now at a client of this group.")
    number: str | None = strawberry.field(
        default=None, description="The start of an inventory number or tag code, any case.")


@strawberry.input
class RequestProtocolUploadInput:
    placement_id: strawberry.ID
    file_name: str
    content_type: str | None = strawberry.field(default=strawberry.UNSET,
                                                description="Declared; the content decides.")
    size: int | None = strawberry.field(default=strawberry.UNSET, description="Bytes, if known.")


@strawberry.input
class RequestPhotoUploadInput:
    audit_id: strawberry.ID
    file_name: str
    asset_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="The asset of one of the audit's lines it shows.")
    content_type: str | None = strawberry.field(default=strawberry.UNSET,
                                                description="Declared; the content decides.")
    size: int | None = strawberry.field(default=strawberry.UNSET, description="Bytes, if known.")
