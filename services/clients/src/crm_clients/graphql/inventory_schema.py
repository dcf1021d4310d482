"""Advertising inventory: queries and mutations (the main ``Query`` and ``Mutation`` inherit
these classes). Resolvers parse, call the service layer, map."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from crm_clients.domain.contract import business_today
from crm_clients.graphql import SERVICE
from crm_clients.graphql.client_types import (
    Asset,
    AssetConnection,
    Audit,
    AuditLineConnection,
    Placement,
    PlacementConnection,
    asset_connection,
    audit_line_connection,
    audits_due_connection,
)
from crm_clients.graphql.inventory_inputs import (
    AssetFilterInput,
    ChangeAssetStatusInput,
    CreateAssetInput,
    CreateAssetTypeInput,
    IssueMaterialInput,
    PlaceAssetInput,
    RecordAuditInput,
    RequestPhotoUploadInput,
    RequestProtocolUploadInput,
    ReturnAssetInput,
    UpdateAssetInput,
    UpdateAssetTypeInput,
    WriteOffAssetInput,
)
from crm_clients.graphql.inventory_types import AssetType, FileUpload, MaterialIssue
from crm_clients.service_layer import asset as assets
from crm_clients.service_layer import asset_queries, audit, inventory_files, placement
from crm_common.attachments import Action, UploadGrant
from crm_common.graphql.connections import requested_page_size
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.inputs import filter_id, to_raw
from crm_common.graphql.mutations import Stale, forget, mutate
from crm_common.parsing import lookup_id, parse_id


async def _asset(info: strawberry.Info, asset_id: uuid.UUID | None) -> Asset | None:
    return await load_node(info.context.loaders.asset, asset_id, Asset.from_row)


async def _type(info: strawberry.Info, type_id: uuid.UUID | None) -> AssetType | None:
    return await load_node(info.context.loaders.asset_type, type_id, AssetType.from_row)


def _asset_changed(info: strawberry.Info) -> Callable[[uuid.UUID], list[Stale]]:
    """What a command on an asset made stale: the asset and its placements, audit lines."""
    loaders = info.context.loaders
    return lambda key: [(loaders.asset, key), (loaders.placements_by_asset, key),
                        (loaders.lines_by_asset, key)]


@strawberry.type
class AssetTypePayload:
    asset_type: AssetType | None
    user_errors: list[UserError]


@strawberry.type
class AssetPayload:
    asset: Asset | None
    user_errors: list[UserError]


@strawberry.type
class PlacementPayload:
    placement: Placement | None
    user_errors: list[UserError]


@strawberry.type
class AuditPayload:
    audit: Audit | None
    user_errors: list[UserError]


@strawberry.type
class MaterialIssuePayload:
    material_issue: MaterialIssue | None
    user_errors: list[UserError]


@strawberry.type
class FileUploadPayload:
    upload: FileUpload | None
    user_errors: list[UserError]


@strawberry.type
class InventoryQuery:
    @strawberry.field(description="Asset types by name (at most 500); inactive ones on request.")
    async def asset_types(self, info: strawberry.Info,
                          include_inactive: bool = False) -> list[AssetType]:
        rows = await asset_queries.list_asset_types(info.context.runtime.reader,
                                                    include_inactive=include_inactive)
        return [AssetType.from_row(r) for r in rows]

    @strawberry.field(description="One asset; null when it does not exist or you may not see it "
                                  "(a rep sees assets placed at their clients).")
    async def asset(self, info: strawberry.Info, id: strawberry.ID) -> Asset | None:
        return await _asset(info, lookup_id(id))

    @strawberry.field(description="Assets you may see by status, type, client or client group, "
                                  "keyset-paged by inventory number.")
    async def assets(self, info: strawberry.Info, first: int | None = None,
                     after: str | None = None,
                     filter: AssetFilterInput | None = None) -> AssetConnection:
        size = requested_page_size(info, first)
        flt = filter or AssetFilterInput()
        number = flt.number.strip()[:64] if flt.number else None
        try:
            page = await asset_queries.list_assets(
                info.context.runtime.reader, info.context.principal,
                asset_queries.AssetFilter(
                    status=flt.status.value if flt.status else None,
                    type_id=filter_id(flt.type_id, "typeId"),
                    client_id=filter_id(flt.client_id, "clientId"),
                    client_group_id=filter_id(flt.client_group_id, "clientGroupId"),
                    number=number or None),
                first=size, after=after, grace=info.context.grace)
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        for row in page.rows:
            info.context.loaders.asset.prime(row["id"], row)
        return asset_connection(page)

    @strawberry.field(description="One audit; null when it does not exist or you may not see "
                                  "its client.")
    async def audit(self, info: strawberry.Info, id: strawberry.ID) -> Audit | None:
        return await load_node(info.context.loaders.audit, lookup_id(id), Audit.from_row)

    @strawberry.field(description="Assets found during audits where they are not recorded "
                                  "(UNRECORDED lines) at the clients you see, newest first: "
                                  "findings for a manager to act on (nothing was moved).")
    async def unrecorded_findings(self, info: strawberry.Info, first: int | None = None,
                                  after: str | None = None) -> AuditLineConnection:
        try:
            page = await asset_queries.unrecorded_findings(
                info.context.runtime.reader, info.context.principal,
                first=requested_page_size(info, first), after=after, grace=info.context.grace)
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        return audit_line_connection(page)

    @strawberry.field(description="Placements whose audit is due by dueBy (default today, "
                                  "Sofia) at the clients you see, optionally of one owner (rep), "
                                  "the most overdue first.")
    async def audits_due(self, info: strawberry.Info, first: int | None = None,
                         after: str | None = None, owner_id: strawberry.ID | None = None,
                         due_by: dt.date | None = None) -> PlacementConnection:
        return await audits_due_connection(info, filter_id(owner_id, "ownerId"), first, after,
                                           due_by)


async def _run(info: strawberry.Info, act: Callable[[Any], Awaitable[uuid.UUID]],
               changed: Callable[[uuid.UUID], list[Stale]] | None = None
               ) -> tuple[uuid.UUID | None, list[UserError]]:
    """``act(uow)`` in a unit of work, its problems as userErrors."""
    ctx = info.context

    async def action() -> uuid.UUID:
        async with ctx.uow() as uow:
            return await act(uow)

    return await mutate(info, action, service=SERVICE, changed=changed)


@strawberry.type
class InventoryMutation:
    @strawberry.mutation(description="Create an asset type (managers, admins).")
    async def create_asset_type(self, info: strawberry.Info,
                                input: CreateAssetTypeInput) -> AssetTypePayload:
        ctx = info.context
        type_id, errors = await _run(info, lambda uow: assets.create_asset_type(
            uow, ctx.principal, to_raw(input)))
        return AssetTypePayload(asset_type=await _type(info, type_id), user_errors=errors)

    @strawberry.mutation(description="Change an asset type (managers, admins); a new audit "
                                     "interval moves the next audit of its open placements.")
    async def update_asset_type(self, info: strawberry.Info,
                                input: UpdateAssetTypeInput) -> AssetTypePayload:
        ctx = info.context
        raw = to_raw(input)

        async def act(uow: Any) -> uuid.UUID:
            type_id = parse_id(raw.pop("id"), ("input", "id"))
            return await assets.update_asset_type(uow, ctx.principal, type_id,
                                                  raw.pop("version"), raw)

        type_id, errors = await _run(info, act, lambda key: [(ctx.loaders.asset_type, key)])
        return AssetTypePayload(asset_type=await _type(info, type_id), user_errors=errors)

    @strawberry.mutation(description="Register an asset of a serialized type, in stock "
                                     "(managers, admins).")
    async def create_asset(self, info: strawberry.Info, input: CreateAssetInput) -> AssetPayload:
        ctx = info.context
        asset_id, errors = await _run(info, lambda uow: assets.create_asset(
            uow, ctx.principal, to_raw(input)), _asset_changed(info))
        return AssetPayload(asset=await _asset(info, asset_id), user_errors=errors)

    @strawberry.mutation(description="Change an asset's fields (managers, admins); send the "
                                     "version you read.")
    async def update_asset(self, info: strawberry.Info, input: UpdateAssetInput) -> AssetPayload:
        ctx = info.context
        raw = to_raw(input)

        async def act(uow: Any) -> uuid.UUID:
            asset_id = parse_id(raw.pop("id"), ("input", "id"))
            return await assets.update_asset(uow, ctx.principal, asset_id, raw.pop("version"),
                                             raw)

        asset_id, errors = await _run(info, act, _asset_changed(info))
        return AssetPayload(asset=await _asset(info, asset_id), user_errors=errors)

    @strawberry.mutation(description="Set an asset that is not placed to IN_STOCK, IN_REPAIR or "
                                     "LOST (managers, admins).")
    async def change_asset_status(self, info: strawberry.Info,
                                  input: ChangeAssetStatusInput) -> AssetPayload:
        ctx = info.context

        async def act(uow: Any) -> uuid.UUID:
            asset_id = parse_id(input.id, ("input", "id"))
            return await assets.change_asset_status(uow, ctx.principal, asset_id, input.version,
                                                    input.status.value, input.reason)

        asset_id, errors = await _run(info, act, _asset_changed(info))
        return AssetPayload(asset=await _asset(info, asset_id), user_errors=errors)

    @strawberry.mutation(description="Write an asset off (managers, admins): final; it stays "
                                     "readable with its history.")
    async def write_off_asset(self, info: strawberry.Info,
                              input: WriteOffAssetInput) -> AssetPayload:
        ctx = info.context

        async def act(uow: Any) -> uuid.UUID:
            asset_id = parse_id(input.id, ("input", "id"))
            return await assets.write_off_asset(
                uow, ctx.principal, asset_id, input.version,
                {"reason": input.reason, "written_off_on": input.written_off_on},
                today=business_today())

        asset_id, errors = await _run(info, act, _asset_changed(info))
        return AssetPayload(asset=await _asset(info, asset_id), user_errors=errors)

    @strawberry.mutation(description="Place an asset in stock at one of a client's addresses "
                                     "(managers, admins, the rep who owns the client). An asset "
                                     "has at most one open placement.")
    async def place_asset(self, info: strawberry.Info,
                          input: PlaceAssetInput) -> PlacementPayload:
        ctx = info.context
        raw = to_raw(input)

        async def act(uow: Any) -> uuid.UUID:
            return await placement.place_asset(uow, ctx.principal, raw, grace=ctx.grace,
                                               today=business_today())

        placement_id, errors = await _run(info, act)
        _forget_asset(info, lookup_id(input.asset_id), lookup_id(input.client_id))
        return PlacementPayload(
            placement=await load_node(ctx.loaders.placement, placement_id, Placement.from_row),
            user_errors=errors)

    @strawberry.mutation(description="Take an asset back: closes its open placement with the "
                                     "condition found.")
    async def return_asset(self, info: strawberry.Info,
                           input: ReturnAssetInput) -> AssetPayload:
        ctx = info.context
        raw = to_raw(input)

        async def act(uow: Any) -> uuid.UUID:
            asset_id = parse_id(raw.pop("id"), ("input", "id"))
            return await placement.return_asset(uow, ctx.principal, asset_id,
                                                raw.pop("version"), raw, grace=ctx.grace,
                                                today=business_today())

        asset_id, errors = await _run(info, act, _asset_changed(info))
        return AssetPayload(asset=await _asset(info, asset_id), user_errors=errors)

    @strawberry.mutation(description="Record bulk material handed to a client (anyone who sees "
                                     "the client, during a visit).")
    async def issue_material(self, info: strawberry.Info,
                             input: IssueMaterialInput) -> MaterialIssuePayload:
        ctx = info.context
        raw = to_raw(input)
        issue_id, errors = await _run(info, lambda uow: assets.issue_material(
            uow, ctx.principal, raw, grace=ctx.grace, today=business_today()))
        row = None
        if issue_id is not None:
            row = await asset_queries.material_issue(ctx.runtime.reader, issue_id)
        return MaterialIssuePayload(material_issue=MaterialIssue.from_row(row) if row else None,
                                    user_errors=errors)

    @strawberry.mutation(description="Record an audit of the assets at a client (anyone who "
                                     "sees the client, during a visit): one line per asset.")
    async def record_audit(self, info: strawberry.Info, input: RecordAuditInput) -> AuditPayload:
        ctx = info.context
        raw = to_raw(input)
        audit_id, errors = await _run(info, lambda uow: audit.record_audit(
            uow, ctx.principal, raw, grace=ctx.grace))
        if audit_id is not None:
            for line in input.lines:
                _forget_asset(info, lookup_id(line.asset_id), lookup_id(input.client_id))
        return AuditPayload(
            audit=await load_node(ctx.loaders.audit, audit_id, Audit.from_row),
            user_errors=errors)

    @strawberry.mutation(description="An upload URL for the placement's signed handover "
                                     "protocol (a PDF or an image; who may place there).")
    async def request_placement_protocol_upload(
            self, info: strawberry.Info, input: RequestProtocolUploadInput) -> FileUploadPayload:
        return await _upload(info, "protocol", to_raw(input))

    @strawberry.mutation(description="An upload URL for a photo of an audit (any image format; "
                                     "anyone who sees the client).")
    async def request_audit_photo_upload(
            self, info: strawberry.Info, input: RequestPhotoUploadInput) -> FileUploadPayload:
        return await _upload(info, "photo", to_raw(input))


async def _upload(info: strawberry.Info, kind: str, raw: dict[str, Any]) -> FileUploadPayload:
    """Ask for an upload URL of a placement protocol or an audit photo, signed for the caller."""
    ctx = info.context
    cfg = ctx.files.settings
    command = inventory_files.request_protocol_upload if kind == "protocol" \
        else inventory_files.request_photo_upload

    async def action() -> UploadGrant:
        async with ctx.uow() as uow:
            return await command(uow, ctx.principal, raw, max_bytes=cfg.max_bytes,
                                 ttl=cfg.upload_url_ttl, now=dt.datetime.now(dt.UTC),
                                 grace=ctx.grace)

    grant, errors = await mutate(info, action, service=SERVICE)
    if grant is None:
        return FileUploadPayload(upload=None, user_errors=errors)
    urls = ctx.files.urls.protocols if kind == "protocol" else ctx.files.urls.photos
    url, expires = urls.signed_url(Action.UPLOAD, grant.attachment_id, grant.expires_at,
                                   by=ctx.principal.subject)
    return FileUploadPayload(upload=FileUpload(file_id=strawberry.ID(str(grant.attachment_id)),
                                               upload_url=url, expires_at=expires),
                             user_errors=[])


def _forget_asset(info: strawberry.Info, asset_id: uuid.UUID | None,
                  client_id: uuid.UUID | None) -> None:
    loaders = info.context.loaders
    if asset_id is not None:
        for loader in (loaders.asset, loaders.placements_by_asset, loaders.lines_by_asset):
            forget(loader, asset_id)
    if client_id is not None:
        for loader in (loaders.open_placements, loaders.placed_value):
            forget(loader, client_id)
