"""GraphQL documents and helpers of the inventory's integration tests."""

from __future__ import annotations

import uuid
from typing import Any

from crm_clients.domain.contract import business_today

from .conftest import Service
from .fragments import CREATE, company

ERRORS = "userErrors { field message code }"
TYPE = ("id name category tracking unit value serviceLifeMonths auditIntervalDays active "
        "version")
ASSET = ("id typeId inventoryNumber tagCode serialNumber ownerCompany status condition "
         "purchaseDate purchaseValue notes lastAuditedAt writtenOffOn writtenOffReason version")
PLACEMENT = ("id assetId clientId addressId contractId protocolNumber placedOn expectedReturnOn "
             "deposit terms minimumMonthlyPurchase clientSignatory ourSignatoryId lastAuditedOn "
             "nextAuditDue returnedOn returnCondition returnNotes version")
LINE = "id auditId assetId placementId result condition notes auditedAt"
AUDIT = (f"id clientId addressId activityId meetingId auditedAt auditedBy notes "
         f"geolocation {{ latitude longitude accuracyMeters }} lines {{ {LINE} }}")


def _m(name: str, input_type: str, body: str) -> str:
    return (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {body} {ERRORS} }} }}")


CREATE_TYPE = _m("createAssetType", "CreateAssetTypeInput", f"assetType {{ {TYPE} }}")
UPDATE_TYPE = _m("updateAssetType", "UpdateAssetTypeInput", f"assetType {{ {TYPE} }}")
CREATE_ASSET = _m("createAsset", "CreateAssetInput", f"asset {{ {ASSET} }}")
UPDATE_ASSET = _m("updateAsset", "UpdateAssetInput", f"asset {{ {ASSET} }}")
CHANGE_STATUS = _m("changeAssetStatus", "ChangeAssetStatusInput", f"asset {{ {ASSET} }}")
WRITE_OFF = _m("writeOffAsset", "WriteOffAssetInput", f"asset {{ {ASSET} }}")
PLACE = _m("placeAsset", "PlaceAssetInput", f"placement {{ {PLACEMENT} }}")
RETURN = _m("returnAsset", "ReturnAssetInput", f"asset {{ {ASSET} }}")
ISSUE = _m("issueMaterial", "IssueMaterialInput",
           "materialIssue { id assetTypeId clientId addressId quantity issuedOn activityId "
           "notes issuedBy assetType { name } }")
AUDIT_MUTATION = _m("recordAudit", "RecordAuditInput", f"audit {{ {AUDIT} }}")

INVENTORY = f"""query($id: ID!) {{ client(id: $id) {{ id version
  inventory {{ assetCount placedValue {{ amount currency }}
    placements {{ {PLACEMENT} asset {{ id inventoryNumber status }} lastAudit {{ {LINE} }}
                 address {{ id city }} }}
    materialIssues(first: 50) {{ id quantity assetTypeId }} }}
  history(first: 100) {{ edges {{ node {{ operation entityType entityId changes }} }} }} }} }}"""
GET_ASSET = f"""query($id: ID!) {{ asset(id: $id) {{ {ASSET}
  type {{ id name }} openPlacement {{ id clientId }}
  placements {{ id clientId placedOn returnedOn returnCondition }}
  auditLines {{ {LINE} }}
  history(first: 100) {{ edges {{ node {{ operation changes }} }} }} }} }}"""
LIST_ASSETS = f"""query($first: Int, $after: String, $filter: AssetFilterInput) {{
  assets(first: $first, after: $after, filter: $filter) {{
    edges {{ cursor node {{ {ASSET} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
AUDITS_DUE = f"""query($owner: ID, $dueBy: Date, $first: Int, $after: String) {{
  auditsDue(ownerId: $owner, dueBy: $dueBy, first: $first, after: $after) {{
    edges {{ cursor node {{ {PLACEMENT} client {{ id legalName }} }} }}
    pageInfo {{ hasNextPage endCursor }} }} }}"""


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def act(service: Service, token: str, document: str, **input_: Any) -> dict[str, Any]:
    data = await service.data(token, document, {"input": input_})
    (payload,) = data.values()
    return dict(payload)


async def ok(service: Service, token: str, document: str, **input_: Any) -> dict[str, Any]:
    payload = await act(service, token, document, **input_)
    assert payload["userErrors"] == [], payload
    return payload


async def new_type(service: Service, *, tracking: str = "SERIALIZED", **extra: Any
                   ) -> dict[str, Any]:
    payload = await ok(service, service.token("manager"), CREATE_TYPE, **{
        "name": unique("Хладилна витрина"), "category": "FRIDGE", "tracking": tracking,
        "value": "1200.00", **extra})
    return dict(payload["assetType"])


async def new_asset(service: Service, type_id: str, **extra: Any) -> dict[str, Any]:
    payload = await ok(service, service.token("manager"), CREATE_ASSET, **{
        "typeId": type_id, "inventoryNumber": unique("INV"), "tagCode": unique("QR"),
        "ownerCompany": "Напитки АД", **extra})
    return dict(payload["asset"])


async def new_client(service: Service, owner: uuid.UUID | None = None,
                     cities: tuple[str, ...] = ("София",)) -> tuple[str, list[str]]:
    """A client with one address per city: (client id, address ids)."""
    addresses = [{"kind": "DELIVERY" if i else "REGISTERED", "city": city,
                  "street": f"ул. Витоша {i + 1}"} for i, city in enumerate(cities)]
    data = await service.data(service.token("manager"), CREATE, {"input": company(
        unique("Магазин"), owner=str(owner) if owner else None, addresses=addresses)})
    payload = data["createClient"]
    assert payload["userErrors"] == [], payload
    client = payload["client"]
    return client["id"], [a["id"] for a in client["addresses"]]


def placement_input(asset: dict[str, Any], client_id: str, address_id: str,
                    **extra: Any) -> dict[str, Any]:
    return {"assetId": asset["id"], "version": asset["version"], "clientId": client_id,
            "addressId": address_id, "protocolNumber": unique("ПП"),
            "placedOn": business_today().isoformat(), "clientSignatory": "Иван Иванов",
            **extra}


async def placed(service: Service, client_id: str, address_id: str, *,
                 token: str | None = None, type_id: str | None = None,
                 **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new asset placed at the client: (placement, asset as it is now)."""
    asset = await new_asset(service, type_id or (await new_type(service))["id"])
    payload = await ok(service, token or service.token("manager"), PLACE,
                       **placement_input(asset, client_id, address_id, **extra))
    asset_now = (await service.data(service.token("manager"), GET_ASSET,
                                    {"id": asset["id"]}))["asset"]
    return dict(payload["placement"]), dict(asset_now)
