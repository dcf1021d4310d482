"""Every inventory mutation with missing, wrong, huge and hostile values: one userError naming
the field, and nothing stored changes (the client's inventory, the assets, types and their
history read the same before and after)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from crm_clients.domain.contract import business_today

from .conftest import Service
from .inventory_helpers import (
    ASSET,
    GET_ASSET,
    INVENTORY,
    TYPE,
    act,
    new_asset,
    new_client,
    new_type,
    placed,
    placement_input,
    unique,
)

pytestmark = pytest.mark.integration

MUTATIONS = {
    "createAssetType": ("CreateAssetTypeInput", f"assetType {{ {TYPE} }}"),
    "updateAssetType": ("UpdateAssetTypeInput", f"assetType {{ {TYPE} }}"),
    "createAsset": ("CreateAssetInput", f"asset {{ {ASSET} }}"),
    "updateAsset": ("UpdateAssetInput", f"asset {{ {ASSET} }}"),
    "changeAssetStatus": ("ChangeAssetStatusInput", f"asset {{ {ASSET} }}"),
    "writeOffAsset": ("WriteOffAssetInput", f"asset {{ {ASSET} }}"),
    "placeAsset": ("PlaceAssetInput", "placement { id }"),
    "returnAsset": ("ReturnAssetInput", f"asset {{ {ASSET} }}"),
    "issueMaterial": ("IssueMaterialInput", "materialIssue { id }"),
    "recordAudit": ("RecordAuditInput", "audit { id }"),
}
TYPES = (f"query {{ assetTypes(includeInactive: true) {{ {TYPE} "
         "history(first: 50) { edges { node { operation } } } } }")
MEGABYTE = "x" * 1_000_000  # fits in the 1 MiB request limit, so it reaches the validation
CONTROL = "Хладилник\x07\x1b[31m"
BIDI = "a\u202eb"


@pytest.fixture(scope="module")
async def world(service: Service) -> dict[str, Any]:
    """A client with a placed asset and one in stock, another client, a bulk type."""
    client_id, (address_id,) = await new_client(service)
    other_client, (other_address,) = await new_client(service)
    kind = await new_type(service)
    bulk = await new_type(service, tracking="BULK", category="POS_MATERIAL")
    placement, placed_asset = await placed(service, client_id, address_id, type_id=kind["id"])
    stock = await new_asset(service, kind["id"])
    archived, (archived_address,) = await new_client(service)
    version = (await service.data(service.token("manager"), INVENTORY, {"id": archived}))[
        "client"]["version"]
    payload = (await service.data(service.token("manager"), """mutation($input:
      ArchiveClientInput!) { archiveClient(input: $input) { userErrors { code } } }""",
                                  {"input": {"id": archived, "version": version}}))
    assert payload["archiveClient"]["userErrors"] == []
    return {"client": client_id, "address": address_id, "other_client": other_client,
            "other_address": other_address, "type": kind, "bulk": bulk,
            "placement": placement, "placed": placed_asset, "stock": stock,
            "archived": archived, "archived_address": archived_address}


def _cases(w: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[str], str]]:
    """(mutation, input, expected field path, expected code)."""
    kind, bulk, stock, placed_asset = w["type"], w["bulk"], w["stock"], w["placed"]
    missing = str(uuid.uuid4())
    today = business_today()

    def new_type_input(**change: Any) -> dict[str, Any]:
        return {"name": unique("Тип"), "category": "SIGN", "tracking": "SERIALIZED", **change}

    def asset_input(**change: Any) -> dict[str, Any]:
        return {"typeId": kind["id"], "inventoryNumber": unique("I"), "tagCode": unique("T"),
                "ownerCompany": "Напитки АД", **change}

    def place(**change: Any) -> dict[str, Any]:
        return {**placement_input(stock, w["client"], w["address"]), **change}

    def audit(lines: list[dict[str, Any]] | None = None, **change: Any) -> dict[str, Any]:
        return {"clientId": w["client"], "lines": lines if lines is not None else [
            {"assetId": placed_asset["id"], "result": "FOUND"}], **change}

    def issue(**change: Any) -> dict[str, Any]:
        return {"clientId": w["client"], "assetTypeId": bulk["id"], "quantity": 10, **change}

    line = ["input", "lines", "0"]
    return [
        # asset types
        ("createAssetType", new_type_input(name=MEGABYTE), ["input", "name"], "TOO_LONG"),
        ("createAssetType", new_type_input(name=CONTROL), ["input", "name"],
         "CONTROL_CHARACTERS"),
        ("createAssetType", new_type_input(name="  "), ["input", "name"], "REQUIRED"),
        ("createAssetType", new_type_input(name=kind["name"].upper()), ["input", "name"],
         "DUPLICATE"),
        ("createAssetType", new_type_input(value="-1"), ["input", "value"], "OUT_OF_RANGE"),
        ("createAssetType", new_type_input(value="NaN"), ["input", "value"], "INVALID_VALUE"),
        ("createAssetType", new_type_input(value="1e30"), ["input", "value"], "OUT_OF_RANGE"),
        ("createAssetType", new_type_input(auditIntervalDays=0), ["input", "auditIntervalDays"],
         "OUT_OF_RANGE"),
        ("createAssetType", new_type_input(auditIntervalDays=2_147_483_647),
         ["input", "auditIntervalDays"], "OUT_OF_RANGE"),
        ("createAssetType", new_type_input(serviceLifeMonths=-12),
         ["input", "serviceLifeMonths"], "OUT_OF_RANGE"),
        ("updateAssetType", {"id": kind["id"], "version": kind["version"], "name": None},
         ["input", "name"], "REQUIRED"),
        ("updateAssetType", {"id": kind["id"], "version": kind["version"] + 7, "name": "x"},
         ["input", "version"], "CONFLICT"),
        ("updateAssetType", {"id": missing, "version": 1, "name": "x"}, ["input", "id"],
         "NOT_FOUND"),
        ("updateAssetType", {"id": "'; DROP TABLE asset_types; --", "version": 1},
         ["input", "id"], "INVALID_ID"),
        ("updateAssetType", {"id": kind["id"], "version": kind["version"],
                             "auditIntervalDays": None}, ["input", "auditIntervalDays"],
         "REQUIRED"),
        # assets
        ("createAsset", asset_input(tagCode=stock["tagCode"].lower()), ["input", "tagCode"],
         "DUPLICATE"),
        ("createAsset", asset_input(inventoryNumber=stock["inventoryNumber"].upper()),
         ["input", "inventoryNumber"], "DUPLICATE"),
        ("createAsset", asset_input(inventoryNumber=""), ["input", "inventoryNumber"],
         "REQUIRED"),
        ("createAsset", asset_input(tagCode="Q" * 65), ["input", "tagCode"], "TOO_LONG"),
        ("createAsset", asset_input(tagCode="QR\u202e1"), ["input", "tagCode"],
         "CONTROL_CHARACTERS"),
        ("createAsset", asset_input(ownerCompany=MEGABYTE), ["input", "ownerCompany"],
         "TOO_LONG"),
        ("createAsset", asset_input(purchaseValue="12.345"), ["input", "purchaseValue"],
         "INVALID_VALUE"),
        ("createAsset", asset_input(purchaseDate="1900-01-01"), ["input", "purchaseDate"],
         "OUT_OF_RANGE"),
        ("createAsset", asset_input(typeId=missing), ["input", "typeId"], "NOT_FOUND"),
        ("createAsset", asset_input(typeId="nope"), ["input", "typeId"], "INVALID_ID"),
        ("createAsset", asset_input(typeId=bulk["id"]), ["input", "typeId"], "BULK_TYPE"),
        ("updateAsset", {"id": stock["id"], "version": stock["version"],
                         "tagCode": placed_asset["tagCode"]}, ["input", "tagCode"],
         "DUPLICATE"),
        ("updateAsset", {"id": stock["id"], "version": stock["version"], "notes": BIDI},
         ["input", "notes"], "CONTROL_CHARACTERS"),
        ("updateAsset", {"id": stock["id"], "version": stock["version"] - 1, "notes": "x"},
         ["input", "version"], "CONFLICT"),
        ("changeAssetStatus", {"id": placed_asset["id"], "version": placed_asset["version"],
                               "status": "LOST"}, ["input", "status"], "ASSET_PLACED"),
        ("changeAssetStatus", {"id": stock["id"], "version": stock["version"],
                               "status": "PLACED"}, ["input", "status"], "INVALID_VALUE"),
        ("changeAssetStatus", {"id": stock["id"], "version": stock["version"],
                               "status": "IN_REPAIR", "reason": MEGABYTE}, ["input", "reason"],
         "TOO_LONG"),
        ("writeOffAsset", {"id": placed_asset["id"], "version": placed_asset["version"],
                           "reason": "счупен"}, ["input", "id"], "ASSET_PLACED"),
        ("writeOffAsset", {"id": stock["id"], "version": stock["version"], "reason": " "},
         ["input", "reason"], "REQUIRED"),
        ("writeOffAsset", {"id": stock["id"], "version": stock["version"], "reason": "x",
                           "writtenOffOn": "2999-01-01"}, ["input", "writtenOffOn"],
         "OUT_OF_RANGE"),
        # placements
        ("placeAsset", {**placement_input(placed_asset, w["client"], w["address"])},
         ["input", "assetId"], "ALREADY_PLACED"),
        ("placeAsset", place(clientId=w["archived"], addressId=w["archived_address"]),
         ["input", "clientId"], "ARCHIVED"),
        ("placeAsset", place(addressId=w["other_address"]), ["input", "addressId"],
         "NOT_FOUND"),
        ("placeAsset", place(addressId="x"), ["input", "addressId"], "INVALID_ID"),
        ("placeAsset", place(clientId=missing), ["input", "clientId"], "NOT_FOUND"),
        ("placeAsset", place(assetId=missing), ["input", "assetId"], "NOT_FOUND"),
        ("placeAsset", place(contractId=missing), ["input", "contractId"], "NOT_FOUND"),
        ("placeAsset", place(version=stock["version"] + 1), ["input", "version"], "CONFLICT"),
        ("placeAsset", place(protocolNumber=""), ["input", "protocolNumber"], "REQUIRED"),
        ("placeAsset", place(protocolNumber=MEGABYTE), ["input", "protocolNumber"],
         "TOO_LONG"),
        ("placeAsset", place(clientSignatory=CONTROL), ["input", "clientSignatory"],
         "CONTROL_CHARACTERS"),
        ("placeAsset", place(deposit="-100"), ["input", "deposit"], "OUT_OF_RANGE"),
        ("placeAsset", place(minimumMonthlyPurchase="Infinity"),
         ["input", "minimumMonthlyPurchase"], "INVALID_VALUE"),
        ("placeAsset", place(placedOn=(today + dt.timedelta(days=30)).isoformat()),
         ["input", "placedOn"], "OUT_OF_RANGE"),
        ("placeAsset", place(expectedReturnOn=(today - dt.timedelta(days=1)).isoformat()),
         ["input", "expectedReturnOn"], "INVALID_DATE_RANGE"),
        ("placeAsset", place(terms="у" * 5_001), ["input", "terms"], "TOO_LONG"),
        ("placeAsset", place(ourSignatoryId="nobody"), ["input", "ourSignatoryId"],
         "INVALID_ID"),
        # returns
        ("returnAsset", {"id": stock["id"], "version": stock["version"], "condition": "GOOD"},
         ["input", "id"], "NOT_PLACED"),
        ("returnAsset", {"id": placed_asset["id"], "version": placed_asset["version"],
                         "condition": "GOOD",
                         "returnedOn": (today - dt.timedelta(days=3)).isoformat()},
         ["input", "returnedOn"], "INVALID_DATE_RANGE"),
        ("returnAsset", {"id": placed_asset["id"], "version": placed_asset["version"],
                         "condition": "GOOD", "assetStatus": "WRITTEN_OFF"},
         ["input", "assetStatus"], "INVALID_VALUE"),
        ("returnAsset", {"id": placed_asset["id"], "version": placed_asset["version"] + 1,
                         "condition": "GOOD"}, ["input", "version"], "CONFLICT"),
        ("returnAsset", {"id": placed_asset["id"], "version": placed_asset["version"],
                         "condition": "GOOD", "notes": MEGABYTE}, ["input", "notes"],
         "TOO_LONG"),
        # bulk material
        ("issueMaterial", issue(quantity=-5), ["input", "quantity"], "OUT_OF_RANGE"),
        ("issueMaterial", issue(quantity=0), ["input", "quantity"], "OUT_OF_RANGE"),
        ("issueMaterial", issue(quantity=2_000_000_000), ["input", "quantity"], "OUT_OF_RANGE"),
        ("issueMaterial", issue(assetTypeId=kind["id"]), ["input", "assetTypeId"],
         "SERIALIZED_TYPE"),
        ("issueMaterial", issue(assetTypeId=missing), ["input", "assetTypeId"], "NOT_FOUND"),
        ("issueMaterial", issue(clientId=w["archived"]), ["input", "clientId"], "ARCHIVED"),
        ("issueMaterial", issue(addressId=w["other_address"]), ["input", "addressId"],
         "NOT_FOUND"),
        ("issueMaterial", issue(activityId="1 OR 1=1"), ["input", "activityId"], "INVALID_ID"),
        ("issueMaterial", issue(notes=MEGABYTE), ["input", "notes"], "TOO_LONG"),
        # audits
        ("recordAudit", audit([{"assetId": stock["id"], "result": "FOUND"}]),
         line + ["assetId"], "NOT_PLACED_HERE"),
        ("recordAudit", audit([{"assetId": placed_asset["id"], "result": "UNRECORDED"}]),
         line + ["result"], "INVALID_VALUE"),
        ("recordAudit", audit([{"tagCode": unique("NOPE"), "result": "FOUND"}]),
         line + ["tagCode"], "NOT_FOUND"),
        ("recordAudit", audit([{"assetId": missing, "result": "MISSING"}]),
         line + ["assetId"], "NOT_FOUND"),
        ("recordAudit", audit([{"result": "FOUND"}]), line + ["assetId"], "REQUIRED"),
        ("recordAudit", audit([{"assetId": placed_asset["id"], "result": "FOUND"},
                               {"tagCode": placed_asset["tagCode"], "result": "FOUND"}]),
         ["input", "lines", "1", "tagCode"], "DUPLICATE"),
        ("recordAudit", audit([]), ["input", "lines"], "REQUIRED"),
        ("recordAudit", audit([{"assetId": placed_asset["id"], "result": "FOUND"}] * 201),
         ["input", "lines"], "TOO_MANY"),
        ("recordAudit", audit([{"assetId": placed_asset["id"], "result": "DAMAGED",
                                "condition": "NEW"}]), line + ["condition"], "INVALID_VALUE"),
        ("recordAudit", audit([{"assetId": placed_asset["id"], "result": "FOUND",
                                "notes": MEGABYTE}]), line + ["notes"], "TOO_LONG"),
        ("recordAudit", audit(geolocation={"latitude": "91", "longitude": "23"}),
         ["input", "geolocation", "latitude"], "OUT_OF_RANGE"),
        ("recordAudit", audit(geolocation={"latitude": "42", "longitude": "-180.5"}),
         ["input", "geolocation", "longitude"], "OUT_OF_RANGE"),
        ("recordAudit", audit(geolocation={"latitude": "NaN", "longitude": "23"}),
         ["input", "geolocation", "latitude"], "OUT_OF_RANGE"),
        ("recordAudit", audit(geolocation={"latitude": "42", "longitude": "23",
                                           "accuracyMeters": -1}),
         ["input", "geolocation", "accuracyMeters"], "OUT_OF_RANGE"),
        ("recordAudit", audit(auditedAt="2020-01-01T10:00:00+02:00"), ["input", "auditedAt"],
         "OUT_OF_RANGE"),
        ("recordAudit", audit(auditedAt=(dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
                              .isoformat()), ["input", "auditedAt"], "OUT_OF_RANGE"),
        ("recordAudit", audit(activityId="<script>"), ["input", "activityId"], "INVALID_ID"),
        ("recordAudit", audit(clientId=w["other_client"]), line + ["assetId"],
         "NOT_PLACED_HERE"),
        ("recordAudit", audit(clientId=w["archived"]), ["input", "clientId"], "ARCHIVED"),
        ("recordAudit", audit(addressId=w["other_address"]), ["input", "addressId"],
         "NOT_FOUND"),
        ("recordAudit", audit(notes=CONTROL), ["input", "notes"], "CONTROL_CHARACTERS"),
    ]


async def _state(service: Service, w: dict[str, Any]) -> Any:
    manager = service.token("manager")
    return (
        [(await service.data(manager, INVENTORY, {"id": w[k]}))["client"]
         for k in ("client", "other_client")],
        [(await service.data(manager, GET_ASSET, {"id": w[k]["id"]}))["asset"]
         for k in ("placed", "stock")],
        (await service.data(manager, TYPES))["assetTypes"],
    )


async def test_every_bad_input_is_a_user_error_and_changes_nothing(
        service: Service, world: dict[str, Any]) -> None:
    manager = service.token("manager")
    before = await _state(service, world)
    failures = []
    for name, input_, field, code in _cases(world):
        input_type, body = MUTATIONS[name]
        document = (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {body} "
                    "userErrors { field message code } } }")
        response = await service.gql(manager, document, {"input": input_})
        payload = response.json()
        if response.status_code != 200 or "errors" in payload:
            failures.append((name, field, payload))
            continue
        result = payload["data"][name]
        errors = result["userErrors"]
        if [e["field"] for e in errors][:1] != [field] or errors[0]["code"] != code:
            failures.append((name, field, code, errors))
        elif any(v is not None for k, v in result.items() if k != "userErrors"):
            failures.append((name, field, "payload not empty", result))
    assert failures == [], failures
    assert await _state(service, world) == before


async def test_hostile_values_are_stored_as_text(service: Service,
                                                 world: dict[str, Any]) -> None:
    """An injection attempt is an inventory number like any other (bound, never spliced)."""
    hostile = "'); DELETE FROM assets; -- " + uuid.uuid4().hex[:6]
    created = await act(service, service.token("manager"), f"""mutation($input:
      CreateAssetInput!) {{ createAsset(input: $input) {{ asset {{ {ASSET} }}
      userErrors {{ code }} }} }}""", typeId=world["type"]["id"], inventoryNumber=hostile,
                        tagCode=unique("T"), ownerCompany="<b>Напитки</b>")
    assert created["userErrors"] == []
    assert created["asset"]["inventoryNumber"] == hostile
    still = (await service.data(service.token("manager"), GET_ASSET,
                                {"id": world["stock"]["id"]}))["asset"]
    assert still["id"] == world["stock"]["id"]


@pytest.mark.parametrize(("query", "variables"), [
    ("query($a: String) { assets(first: 5, after: $a) { edges { cursor } } }",
     {"a": "garbage"}),
    ("query($t: ID) { assets(filter: { typeId: $t }) { edges { cursor } } }",
     {"t": "'; DROP TABLE assets; --"}),
    ("query($o: ID) { auditsDue(ownerId: $o) { edges { cursor } } }", {"o": "nobody"}),
    ("query($a: String) { auditsDue(after: $a) { edges { cursor } } }", {"a": "x" * 500}),
    ("query($a: String) { unrecordedFindings(after: $a) { edges { cursor } } }",
     {"a": "bm9wZQ=="}),
    ("query { assets(first: 100000) { edges { cursor } } }", {}),
])
async def test_bad_query_arguments_are_bad_user_input(service: Service, query: str,
                                                      variables: dict[str, Any]) -> None:
    response = await service.gql(service.token("manager"), query, variables)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
