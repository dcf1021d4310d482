"""Files of the inventory through the kit's attachment store, against the real service, its
PostgreSQL and the MongoDB-wire server: a placement's signed protocol (PDF or image), audit
photos (any image format), a photo that is not an image (415) or of 60 MB (413) keeps nothing."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from .conftest import Service
from .inventory_helpers import AUDIT_MUTATION, new_client, ok, placed

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 256
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 256
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 256
UPLOAD = "upload { fileId uploadUrl expiresAt }"
PROTOCOL = f"""mutation($input: RequestProtocolUploadInput!) {{
  requestPlacementProtocolUpload(input: $input) {{ {UPLOAD} userErrors {{ field code }} }} }}"""
PHOTO = f"""mutation($input: RequestPhotoUploadInput!) {{
  requestAuditPhotoUpload(input: $input) {{ {UPLOAD} userErrors {{ field code }} }} }}"""
FILES = """query($client: ID!, $audit: ID!) {
  client(id: $client) { inventory { placements { id protocols {
    id fileName detectedContentType size sha256 downloadUrl } } } }
  audit(id: $audit) { photos { id fileName detectedContentType assetId downloadUrl } } }"""
CLIENT_HISTORY = """query($id: ID!) { client(id: $id) { history(first: 50) {
  edges { node { operation entityType } } } } }"""


async def _upload_url(service: Service, token: str, document: str, **input_: Any) -> str:
    data = await service.data(token, document, {"input": input_})
    (payload,) = data.values()
    assert payload["userErrors"] == [], payload
    return str(payload["upload"]["uploadUrl"])


@pytest.fixture(scope="module")
async def visit(service: Service) -> dict[str, Any]:
    """A rep's client with a placed asset, audited once."""
    rep = await service.employee()
    client_id, (address_id,) = await new_client(service, owner=rep)
    placement, asset = await placed(service, client_id, address_id)
    token = service.token("sales_rep", rep)
    audit = (await ok(service, token, AUDIT_MUTATION, clientId=client_id, lines=[
        {"assetId": asset["id"], "result": "FOUND"}]))["audit"]
    return {"rep": rep, "token": token, "client": client_id, "placement": placement,
            "asset": asset, "audit": audit}


async def test_protocol_and_photos_are_stored_and_read_back(service: Service,
                                                            visit: dict[str, Any]) -> None:
    token = visit["token"]
    url = await _upload_url(service, token, PROTOCOL, placementId=visit["placement"]["id"],
                            fileName="протокол 12.pdf", contentType="application/pdf")
    put = await service.client.put(url, content=PDF)
    assert put.status_code == 201, put.text
    for body, name in ((PNG, "хладилник.png"), (JPEG, "IMG_0001.jpg")):
        photo = await _upload_url(service, token, PHOTO, auditId=visit["audit"]["id"],
                                  assetId=visit["asset"]["id"], fileName=name)
        assert (await service.client.put(photo, content=body)).status_code == 201
    data = await service.data(token, FILES, {"client": visit["client"],
                                             "audit": visit["audit"]["id"]})
    (placement,) = data["client"]["inventory"]["placements"]
    (protocol,) = placement["protocols"]
    assert protocol["fileName"] == "протокол 12.pdf"
    assert protocol["detectedContentType"] == "application/pdf"
    assert protocol["sha256"] == hashlib.sha256(PDF).hexdigest()
    got = await service.client.get(protocol["downloadUrl"])
    assert got.status_code == 200 and got.content == PDF
    photos = data["audit"]["photos"]
    assert [p["detectedContentType"] for p in photos] == ["image/png", "image/jpeg"]
    assert {p["assetId"] for p in photos} == {visit["asset"]["id"]}
    assert (await service.client.get(photos[1]["downloadUrl"])).content == JPEG
    history = (await service.data(service.token("manager"), CLIENT_HISTORY,
                                  {"id": visit["client"]}))["client"]["history"]["edges"]
    operations = [e["node"]["operation"] for e in history]
    assert operations.count("photo_attached") == 2 and "protocol_attached" in operations


async def _count_files(service: Service, visit: dict[str, Any]) -> tuple[int, int]:
    data = await service.data(service.token("manager"), FILES, {
        "client": visit["client"], "audit": visit["audit"]["id"]})
    (placement,) = data["client"]["inventory"]["placements"]
    return len(placement["protocols"]), len(data["audit"]["photos"])


@pytest.mark.parametrize("body", [PDF, b"just text, not an image " * 20, b""])
async def test_a_photo_that_is_not_an_image_is_415_and_nothing_is_kept(
        service: Service, visit: dict[str, Any], body: bytes) -> None:
    before = await _count_files(service, visit)
    url = await _upload_url(service, visit["token"], PHOTO, auditId=visit["audit"]["id"],
                            fileName="photo.jpg", contentType="image/jpeg")
    put = await service.client.put(url, content=body)
    assert put.status_code == 415, put.text
    assert await _count_files(service, visit) == before


async def _sixty_megabytes() -> AsyncIterator[bytes]:
    chunk = PNG + b"\x00" * (1024 * 1024 - len(PNG))
    for _ in range(60):
        yield chunk


async def test_a_60_mb_photo_is_413_and_nothing_is_kept(service: Service,
                                                       visit: dict[str, Any]) -> None:
    before = await _count_files(service, visit)
    url = await _upload_url(service, visit["token"], PHOTO, auditId=visit["audit"]["id"],
                            fileName="huge.png")
    put = await service.client.put(url, content=_sixty_megabytes())
    assert put.status_code == 413, put.text
    assert await _count_files(service, visit) == before
    # declared too large: refused before a URL is handed out
    refused = await service.data(visit["token"], PHOTO, {"input": {
        "auditId": visit["audit"]["id"], "fileName": "huge.png", "size": 60 * 1024 * 1024}})
    assert refused["requestAuditPhotoUpload"]["userErrors"] == [
        {"field": ["input", "size"], "code": "TOO_LARGE"}]


async def test_an_upload_url_is_the_askers_and_access_is_the_dossiers(
        service: Service, visit: dict[str, Any]) -> None:
    stranger = service.token("sales_rep", await service.employee())
    refused = await service.data(stranger, PHOTO, {"input": {
        "auditId": visit["audit"]["id"], "fileName": "x.png"}})
    assert refused["requestAuditPhotoUpload"]["userErrors"] == [
        {"field": ["input", "auditId"], "code": "NOT_FOUND"}]
    refused = await service.data(stranger, PROTOCOL, {"input": {
        "placementId": visit["placement"]["id"], "fileName": "x.pdf"}})
    assert refused["requestPlacementProtocolUpload"]["userErrors"] == [
        {"field": ["input", "placementId"], "code": "NOT_FOUND"}]
    refused = await service.data(visit["token"], PHOTO, {"input": {
        "auditId": visit["audit"]["id"], "assetId": str(uuid.uuid4()), "fileName": "x.png"}})
    assert refused["requestAuditPhotoUpload"]["userErrors"] == [
        {"field": ["input", "assetId"], "code": "NOT_IN_AUDIT"}]
    refused = await service.data(visit["token"], PHOTO, {"input": {
        "auditId": visit["audit"]["id"], "fileName": "  "}})
    assert refused["requestAuditPhotoUpload"]["userErrors"] == [
        {"field": ["input", "fileName"], "code": "REQUIRED"}]
    # a URL signed for the rep does not work once its signature names someone else
    url = await _upload_url(service, visit["token"], PHOTO, auditId=visit["audit"]["id"],
                            fileName="x.png")
    forged = url.replace(f"by={visit['rep']}", f"by={uuid.uuid4()}")
    assert forged != url
    assert (await service.client.put(forged, content=PNG)).status_code == 403
    assert (await service.client.put(url, content=PNG)).status_code == 201
