"""The demo advertising inventory ``./crm seed`` creates through the API (after the clients): two
asset types (a serialized fridge, bulk leaflets), three fridges, two of them placed at the first
two clients with an address, and a few leaflets issued. Running it again changes nothing: what
exists (by name, inventory number, an open placement) is left as it is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

TYPES = [
    {"name": "Хладилна витрина 400 л", "category": "FRIDGE", "tracking": "SERIALIZED",
     "value": "1450.00", "serviceLifeMonths": 84, "auditIntervalDays": 60},
    {"name": "Листовки А5", "category": "POS_MATERIAL", "tracking": "BULK", "unit": "бр.",
     "value": "0.04", "auditIntervalDays": 365},
]
FRIDGES = [("INV-DEMO-001", "QR-DEMO-001"), ("INV-DEMO-002", "QR-DEMO-002"),
           ("INV-DEMO-003", "QR-DEMO-003")]

_TYPES = "query { assetTypes(includeInactive: true) { id name } }"
_CREATE_TYPE = """mutation($input: CreateAssetTypeInput!) { createAssetType(input: $input) {
  assetType { id } userErrors { code message } } }"""
_ASSET = """query($n: String) { assets(first: 1, filter: { number: $n }) {
  edges { node { id version status inventoryNumber } } } }"""
_CREATE_ASSET = """mutation($input: CreateAssetInput!) { createAsset(input: $input) {
  asset { id version status inventoryNumber } userErrors { code message } } }"""
_CLIENTS = """query { clients(first: 20) { edges { node { id legalName addresses { id } } } } }"""
_PLACE = """mutation($input: PlaceAssetInput!) { placeAsset(input: $input) {
  placement { id } userErrors { code message } } }"""
_ISSUE = """mutation($input: IssueMaterialInput!) { issueMaterial(input: $input) {
  materialIssue { id } userErrors { code message } } }"""


def _data(http: httpx.Client, url: str, query: str, variables: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    body = http.post(url, json={"query": query, "variables": variables or {}}).json()
    if body.get("errors"):
        raise RuntimeError(f"inventory seed: {body['errors']}")
    data: dict[str, Any] = body["data"]
    return data


def _payload(data: dict[str, Any]) -> dict[str, Any]:
    (payload,) = data.values()
    return dict(payload)


def seed_inventory(http: httpx.Client, url: str, today: dt.date) -> list[str]:
    """Create the demo inventory with a manager's token (``http`` carries it); the lines to
    print."""
    out: list[str] = []
    known = {t["name"]: t["id"] for t in _data(http, url, _TYPES)["assetTypes"]}
    type_ids = []
    for kind in TYPES:
        if kind["name"] not in known:
            payload = _payload(_data(http, url, _CREATE_TYPE, {"input": kind}))
            if payload["userErrors"]:
                return out + [f"  FAILED   asset type {kind['name']}: {payload['userErrors']}"]
            known[kind["name"]] = payload["assetType"]["id"]
            out.append(f"  type     {kind['name']}")
        type_ids.append(known[kind["name"]])
    fridge_type, leaflets = type_ids
    assets = []
    for number, tag in FRIDGES:
        found = _data(http, url, _ASSET, {"n": number})["assets"]["edges"]
        if found:
            assets.append(found[0]["node"])
            continue
        payload = _payload(_data(http, url, _CREATE_ASSET, {"input": {
            "typeId": fridge_type, "inventoryNumber": number, "tagCode": tag,
            "ownerCompany": "Демо Напитки АД", "purchaseDate": "2025-03-01",
            "purchaseValue": "1390.00"}}))
        if payload["userErrors"]:
            return out + [f"  FAILED   asset {number}: {payload['userErrors']}"]
        assets.append(payload["asset"])
        out.append(f"  asset    {number}")
    clients = [e["node"] for e in _data(http, url, _CLIENTS)["clients"]["edges"]
               if e["node"]["addresses"]][:2]
    for asset, client in zip(assets, clients, strict=False):
        if asset["status"] != "IN_STOCK":
            continue
        payload = _payload(_data(http, url, _PLACE, {"input": {
            "assetId": asset["id"], "version": asset["version"], "clientId": client["id"],
            "addressId": client["addresses"][0]["id"],
            "protocolNumber": f"ПП-{asset['inventoryNumber']}",
            "placedOn": (today - dt.timedelta(days=75)).isoformat(),
            "clientSignatory": "Управител", "deposit": "200.00",
            "terms": "Само наши продукти в хладилника"}}))
        if payload["userErrors"]:
            out.append(f"  FAILED   placing {asset['inventoryNumber']}: {payload['userErrors']}")
            continue
        out.append(f"  placed   {asset['inventoryNumber']} at {client['legalName']} "
                   "(its audit is overdue)")
        issued = _payload(_data(http, url, _ISSUE, {"input": {
            "clientId": client["id"], "assetTypeId": leaflets, "quantity": 200}}))
        if issued["userErrors"]:
            out.append(f"  FAILED   leaflets for {client['legalName']}: {issued['userErrors']}")
    return out
