"""End to end through the gateway: a manager places a fridge at a rep's client, the rep audits
it during a visit and finds it missing, attaches a photo straight to the clients service, and
the tasks service raises one task for the client's owner from the audit's events."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from typing import Any

import httpx
import pytest

from .conftest import Platform

pytestmark = pytest.mark.e2e

CREATE_CLIENT = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id addresses { id } } userErrors { field code message } } }"""
CREATE_TYPE = """mutation($input: CreateAssetTypeInput!) { createAssetType(input: $input) {
  assetType { id } userErrors { field code message } } }"""
CREATE_ASSET = """mutation($input: CreateAssetInput!) { createAsset(input: $input) {
  asset { id version } userErrors { field code message } } }"""
PLACE = """mutation($input: PlaceAssetInput!) { placeAsset(input: $input) {
  placement { id } userErrors { field code message } } }"""
AUDIT = """mutation($input: RecordAuditInput!) { recordAudit(input: $input) {
  audit { id lines { result } } userErrors { field code message } } }"""
PHOTO = """mutation($input: RequestPhotoUploadInput!) { requestAuditPhotoUpload(
  input: $input) { upload { uploadUrl } userErrors { field code message } } }"""
CLIENT = """query($id: ID!) { client(id: $id) { inventory { assetCount
  placements { lastAudit { result auditId } } }
  tasks(first: 10) { edges { node { id title assignee { id } } } } } }"""
PHOTOS = """query($id: ID!) { audit(id: $id) { photos { detectedContentType } } }"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 128


def _until(check: Any, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        time.sleep(0.2)


def test_a_missing_fridge_becomes_a_task_for_the_owner(platform: Platform) -> None:
    rep = platform.employee(name="Иван Одитов")
    manager_token = platform.token("manager", platform.employee(role="manager"))
    client = platform.data(manager_token, CREATE_CLIENT, {"input": {
        "kind": "COMPANY", "legalName": f"Инвентар {uuid.uuid4().hex[:6]} ООД",
        "ownerId": str(rep),
        "addresses": [{"kind": "OFFICE", "city": "Пловдив", "street": "ул. Гладстон 1"}]}})[
        "createClient"]
    assert client["userErrors"] == []
    client_id, address_id = client["client"]["id"], client["client"]["addresses"][0]["id"]
    kind = platform.data(manager_token, CREATE_TYPE, {"input": {
        "name": f"Хладилник {uuid.uuid4().hex[:6]}", "category": "FRIDGE",
        "tracking": "SERIALIZED"}})["createAssetType"]["assetType"]
    asset = platform.data(manager_token, CREATE_ASSET, {"input": {
        "typeId": kind["id"], "inventoryNumber": f"E2E-{uuid.uuid4().hex[:8]}",
        "tagCode": f"QR-{uuid.uuid4().hex[:8]}", "ownerCompany": "Напитки АД"}})[
        "createAsset"]["asset"]
    placed = platform.data(manager_token, PLACE, {"input": {
        "assetId": asset["id"], "version": asset["version"], "clientId": client_id,
        "addressId": address_id, "protocolNumber": "ПП-1", "clientSignatory": "Управител",
        "placedOn": dt.date.today().isoformat()}})["placeAsset"]
    assert placed["userErrors"] == []

    rep_token = platform.token("sales_rep", rep)
    audit = platform.data(rep_token, AUDIT, {"input": {"clientId": client_id, "lines": [
        {"assetId": asset["id"], "result": "MISSING", "notes": "няма го"}]}})["recordAudit"]
    assert audit["userErrors"] == [] and audit["audit"]["lines"] == [{"result": "MISSING"}]
    upload = platform.data(rep_token, PHOTO, {"input": {
        "auditId": audit["audit"]["id"], "fileName": "празно място.png"}})[
        "requestAuditPhotoUpload"]
    assert upload["userErrors"] == []
    # the bytes go straight to the clients service, not through the gateway
    put = httpx.put(upload["upload"]["uploadUrl"], content=PNG, timeout=30)
    assert put.status_code == 201, put.text

    def task() -> list[dict[str, Any]]:
        seen = platform.data(rep_token, CLIENT, {"id": client_id})["client"]
        return [e["node"] for e in seen["tasks"]["edges"]]

    (raised,) = _until(task)
    assert raised["assignee"]["id"] == str(rep)
    seen = platform.data(rep_token, CLIENT, {"id": client_id})["client"]["inventory"]
    assert seen["assetCount"] == 1
    (placement,) = seen["placements"]
    assert placement["lastAudit"] == {"result": "MISSING", "auditId": audit["audit"]["id"]}
    photos = platform.data(rep_token, PHOTOS, {"id": audit["audit"]["id"]})["audit"]["photos"]
    assert photos == [{"detectedContentType": "image/png"}]
    time.sleep(2)  # a second event (audited + missing) must not make a second task
    assert len(task()) == 1
