"""Attachments end to end over plain HTTP: signed upload and download URLs, streaming into
GridFS (nx-27017), the size limit while streaming, hostile names, tampered and expired URLs,
interrupted uploads, removal and the sweeper."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest

from crm_common.attachments import Action, AttachmentStore, sweeper
from crm_common.attachments.files import new_file_id
from crm_common.attachments.urls import sign
from crm_common.settings import Settings
from crm_tasks.adapters.tables import attachments
from crm_tasks.resources import URL_PURPOSE

from .conftest import SECRET, EventTap, Service, World, service_environ, serving, wait_until
from .helpers import GET, REMOVE_ATTACHMENT, REQUEST_UPLOAD, commitment, nodes

pytestmark = pytest.mark.integration
MB = 1024 * 1024
PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


async def request_upload(service: Service, token: str, task_id: str, name: str = "offer.pdf",
                         **extra: Any) -> dict[str, Any]:
    payload = (await service.data(token, REQUEST_UPLOAD, {"input": {
        "taskId": task_id, "fileName": name, **extra}}))["requestAttachmentUpload"]
    assert payload["userErrors"] == [], payload
    return payload  # type: ignore[no-any-return]


async def chunks(total: int, seed: bytes = b"", size: int = 256 * 1024
                 ) -> AsyncIterator[bytes]:
    """``total`` pseudo-random bytes, made on the fly (never held whole by the test either)."""
    sent = 0
    block = 0
    while sent < total:
        piece = hashlib.sha256(seed + block.to_bytes(8, "big")).digest() * (size // 32)
        piece = piece[: total - sent]
        sent += len(piece)
        block += 1
        yield piece


def expected_digest(total: int, seed: bytes = b"", size: int = 256 * 1024) -> str:
    digest = hashlib.sha256()
    sent = block = 0
    while sent < total:
        piece = (hashlib.sha256(seed + block.to_bytes(8, "big")).digest() * (size // 32))
        piece = piece[: total - sent]
        digest.update(piece)
        sent += len(piece)
        block += 1
    return digest.hexdigest()


async def download_digest(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, str, int]:
    digest = hashlib.sha256()
    size = 0
    async with client.stream("GET", url) as response:
        async for piece in response.aiter_bytes():
            digest.update(piece)
            size += len(piece)
    return response, digest.hexdigest(), size


async def attachment_row(service: Service, attachment_id: str) -> dict[str, Any]:
    (row,) = await service.sql("SELECT * FROM attachments WHERE id = :id",
                               id=uuid.UUID(attachment_id))
    return row


async def test_upload_and_download_a_pdf(service: Service, world: World, tap: EventTap,
                                         store: AttachmentStore) -> None:
    task = await commitment(service, world)
    rep = service.token("sales_rep", world.rep)
    grant = await request_upload(service, rep, task["id"], "Оферта 2026.pdf",
                                 contentType="image/png", size=4096)
    assert grant["attachment"]["status"] == "PENDING"
    body = PDF_HEAD + os.urandom(4000)
    response = await service.client.put(grant["uploadUrl"], content=body)
    assert response.status_code == 201, response.text
    assert response.json()["sha256"] == hashlib.sha256(body).hexdigest()
    got = (await service.data(rep, GET, {"id": task["id"]}))["task"]
    (att,) = nodes(got["attachments"])
    assert att["size"] == len(body) and att["sha256"] == hashlib.sha256(body).hexdigest()
    # the real type is detected from the content and kept beside the declared one
    assert att["detectedContentType"] == "application/pdf"
    assert att["declaredContentType"] == "image/png"
    assert got["history"]["edges"][-1]["node"]["operation"] == "attachment_added"
    response = await service.client.get(att["downloadUrl"])
    assert response.status_code == 200 and response.content == body
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert "%D0%9E%D1%84%D0%B5%D1%80%D1%82%D0%B0%202026.pdf" in disposition
    assert response.headers["x-content-type-options"] == "nosniff"
    (event,) = await tap.wait_for_type("crm.tasks.attachment.added", att["id"])
    assert event["data"]["taskId"] == task["id"]
    assert event["data"]["attachment"]["sha256"] == att["sha256"]
    # the URL was for one upload only
    again = await service.client.put(grant["uploadUrl"], content=b"second")
    assert again.status_code == 409
    row = await attachment_row(service, att["id"])
    assert await store.exists(row["file_id"])


async def test_thirty_megabytes_up_and_down_checked_by_hash(service: Service, world: World
                                                            ) -> None:
    task = await commitment(service, world)
    manager = service.token("manager", world.manager)
    grant = await request_upload(service, manager, task["id"], "big.bin")
    total = 30 * MB
    response = await service.client.put(grant["uploadUrl"], content=chunks(total, b"30"))
    assert response.status_code == 201, response.text
    assert response.json()["size"] == total
    assert response.json()["sha256"] == expected_digest(total, b"30")
    (att,) = nodes((await service.data(manager, GET, {"id": task["id"]}))["task"]["attachments"])
    response, digest, size = await download_digest(service.client, att["downloadUrl"])
    assert response.status_code == 200
    assert (size, digest) == (total, expected_digest(total, b"30"))


async def test_hostile_file_names_are_stored_and_served_safely(service: Service, world: World
                                                               ) -> None:
    task = await commitment(service, world)
    manager = service.token("manager", world.manager)
    names = {
        "../../etc/passwd": "passwd",
        "C:\\Windows\\System32\\evil.exe": "evil.exe",
        'a"\r\nSet-Cookie: x=1;.txt': "a___Set-Cookie_ x=1_.txt",
        "я" * 2000 + ".docx": None,
    }
    # a control character other than a line break or tab is refused, as in every argument of
    # every service (issue 14: crm_common.graphql.text_arguments), with nothing recorded
    for raw in ("\x00\x1b[31m", "\x00\x01", "report\x07.pdf"):
        payload = (await service.data(manager, REQUEST_UPLOAD, {"input": {
            "taskId": task["id"], "fileName": raw}}))["requestAttachmentUpload"]
        assert payload["attachment"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "fileName"], "CONTROL_CHARACTERS")]
    for raw, stored in names.items():
        grant = await request_upload(service, manager, task["id"], raw)
        name = grant["attachment"]["fileName"]
        if stored is not None:
            assert name == stored
        assert len(name) <= 255 and "/" not in name and "\\" not in name
        assert all(ord(c) >= 32 for c in name)
        response = await service.client.put(grant["uploadUrl"], content=b"hello")
        assert response.status_code == 201
    got = (await service.data(manager, GET, {"id": task["id"]}))["task"]
    attachments = nodes(got["attachments"])
    assert len(attachments) == len(names)
    for att in attachments:
        response = await service.client.get(att["downloadUrl"])
        assert response.status_code == 200 and response.content == b"hello"
        header = response.headers["content-disposition"]
        assert "\r" not in header and "\n" not in header and "set-cookie" not in response.headers
        assert header.isascii()


def _tamper(url: str, **changes: str) -> str:
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    query.update(changes)
    return parsed._replace(query=urlencode(query)).geturl()


async def test_altered_expired_and_misused_urls_are_refused(service: Service, world: World
                                                            ) -> None:
    task = await commitment(service, world)
    manager = service.token("manager", world.manager)
    grant = await request_upload(service, manager, task["id"])
    url = grant["uploadUrl"]
    exp = parse_qs(urlparse(url).query)["exp"][0]
    other = uuid.uuid4()
    bad = [
        _tamper(url, exp=str(int(exp) + 60)),
        _tamper(url, sig="0" * 64),
        _tamper(url, sig=""),
        url.split("?")[0],
        url.replace(grant["attachment"]["id"], str(other)),
        # a valid signature, but for downloading
        _tamper(url, sig=sign(SECRET.encode(), URL_PURPOSE, Action.DOWNLOAD,
                              uuid.UUID(grant["attachment"]["id"]), int(exp))),
        # expired, correctly signed
        _tamper(url, exp="1000", sig=sign(SECRET.encode(), URL_PURPOSE, Action.UPLOAD,
                                          uuid.UUID(grant["attachment"]["id"]), 1000)),
    ]
    for candidate in bad:
        response = await service.client.put(candidate, content=b"x")
        assert response.status_code == 403, (candidate, response.text)
    response = await service.client.put(url.replace(grant["attachment"]["id"], "not-an-id"),
                                        content=b"x")
    assert response.status_code == 404
    # nothing of it was kept: the real URL still works once
    assert (await service.client.put(url, content=b"ok")).status_code == 201
    (att,) = nodes((await service.data(manager, GET, {"id": task["id"]}))["task"]["attachments"])
    download = att["downloadUrl"]
    assert (await service.client.get(_tamper(download, sig="f" * 64))).status_code == 403
    assert (await service.client.get(url)).status_code == 403  # upload URL cannot download


@pytest.fixture(scope="module")
async def small_limit(service: Service, keys: tuple[str, str], exchange_name: str,
                      mongodb_url: str, mongodb_database: str) -> AsyncIterator[Service]:
    """A second instance of the service on the same stores, with a 1 MB limit."""
    from crm_dev import procs

    port = procs.free_port()
    environ = {**service_environ(port, service.settings.database_url, keys[1], exchange_name,
                                 mongodb_url, mongodb_database),
               "ATTACHMENT_MAX_BYTES": str(MB), "RUN_RELAY": "false",
               "RUN_CONSUMERS": "false"}
    settings = Settings.from_env("tasks", port, environ=environ)
    async with serving(settings, environ, service.private_key, service.db) as other:
        yield other


async def test_the_size_limit_is_enforced_while_streaming(small_limit: Service, world: World,
                                                         store: AttachmentStore) -> None:
    svc = small_limit
    task = await commitment(svc, world)
    manager = svc.token("manager", world.manager)
    # declared too large up front: refused before any URL is made
    payload = (await svc.data(manager, REQUEST_UPLOAD, {"input": {
        "taskId": task["id"], "fileName": "x.bin", "size": 2 * MB}}))["requestAttachmentUpload"]
    assert payload["uploadUrl"] is None
    assert payload["userErrors"][0]["field"] == ["input", "size"]
    # Content-Length over the limit: 413 at once
    grant = await request_upload(svc, manager, task["id"], "x.bin")
    response = await svc.client.put(grant["uploadUrl"], content=b"x" * (MB + 1))
    assert response.status_code == 413
    # no Content-Length (chunked): 413 while streaming, nothing kept
    response = await svc.client.put(grant["uploadUrl"], content=chunks(3 * MB, b"big"))
    assert response.status_code == 413
    row = await attachment_row(svc, grant["attachment"]["id"])
    assert row["status"] == "failed" and row["file_state"] == "deleted"
    assert not await store.exists(row["file_id"])
    assert nodes((await svc.data(manager, GET, {"id": task["id"]}))["task"]["attachments"]) == []
    # exactly at the limit is fine
    grant = await request_upload(svc, manager, task["id"], "edge.bin")
    response = await svc.client.put(grant["uploadUrl"], content=chunks(MB, b"edge"))
    assert response.status_code == 201


async def test_an_interrupted_upload_leaves_no_attachment_and_no_file(
        service: Service, world: World, store: AttachmentStore) -> None:
    task = await commitment(service, world)
    manager = service.token("manager", world.manager)
    grant = await request_upload(service, manager, task["id"], "cut.bin")
    url = urlparse(grant["uploadUrl"])
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    head = (f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Length: {5 * MB}\r\n\r\n").encode()
    writer.write(head + os.urandom(2 * MB))
    await writer.drain()
    writer.close()  # the client goes away half-way
    await writer.wait_closed()

    async def settled() -> bool:
        row = await attachment_row(service, grant["attachment"]["id"])
        return row["status"] == "failed" and row["file_state"] in {"deleted", "to_delete"}

    await wait_until(settled)
    row = await attachment_row(service, grant["attachment"]["id"])
    if row["file_state"] == "to_delete":  # the server refused: the sweeper has it
        assert row["delete_attempts"] == 1 and row["next_delete_at"] is not None
    else:
        assert not await store.exists(row["file_id"])
    got = (await service.data(manager, GET, {"id": task["id"]}))["task"]
    assert nodes(got["attachments"]) == []


async def test_removing_an_attachment_removes_its_file(service: Service, world: World,
                                                      tap: EventTap,
                                                      store: AttachmentStore) -> None:
    task = await commitment(service, world)
    rep = service.token("sales_rep", world.rep)
    grant = await request_upload(service, rep, task["id"], "sample.jpg")
    assert (await service.client.put(grant["uploadUrl"], content=b"\xff\xd8\xff\xe0" + b"0" * 64)
            ).status_code == 201
    (att,) = nodes((await service.data(rep, GET, {"id": task["id"]}))["task"]["attachments"])
    assert att["detectedContentType"] == "image/jpeg"
    download = att["downloadUrl"]
    row = await attachment_row(service, att["id"])
    assert await store.exists(row["file_id"])
    # a rep who cannot see the task cannot remove it either
    stranger = service.token("sales_rep", world.other_rep)
    payload = (await service.data(stranger, REMOVE_ATTACHMENT, {"input": {"id": att["id"]}}))
    assert payload["removeAttachment"]["userErrors"][0]["code"] == "NOT_FOUND"
    payload = (await service.data(rep, REMOVE_ATTACHMENT, {"input": {
        "id": att["id"], "version": att["version"]}}))["removeAttachment"]
    assert payload["userErrors"] == [] and payload["removedId"] == att["id"]
    row = await attachment_row(service, att["id"])
    assert row["status"] == "removed" and row["file_state"] == "deleted"
    assert not await store.exists(row["file_id"])
    assert (await service.client.get(download)).status_code == 404
    await tap.wait_for_type("crm.tasks.attachment.removed", att["id"])
    assert nodes((await service.data(rep, GET, {"id": task["id"]}))["task"]["attachments"]) == []


async def test_the_sweeper_retries_refused_deletes_and_clears_dead_uploads(
        service: Service, world: World, store: AttachmentStore) -> None:
    task = await commitment(service, world)
    now = dt.datetime.now(dt.UTC)
    # (a) a file whose upload never closed: nx-27017 refuses to delete it
    unclosed = new_file_id()
    writer = store.writer(unclosed, "half.bin", {})
    await writer.write(os.urandom(600 * 1024))  # more than two chunks reach the server
    # (b) an upload whose process died long ago, its file complete
    dead = new_file_id()
    finished = store.writer(dead, "dead.bin", {})
    await finished.write(b"abc")
    await finished.finish()
    # (c) a URL handed out and never used
    ids = [uuid.uuid4() for _ in range(3)]
    for attachment_id, file_id, status, state, started in (
            (ids[0], unclosed, "failed", "to_delete", None),
            (ids[1], dead, "uploading", "writing", now - dt.timedelta(hours=2)),
            (ids[2], new_file_id(), "pending", "none", None)):
        await service.sql(
            "INSERT INTO attachments (id, task_id, file_id, file_name, status, file_state, "
            "created_by, upload_expires_at, upload_started_at, next_delete_at) VALUES (:id, "
            ":task, :file, 'f', :status, :state, :by, :exp, :started, :next)",
            id=attachment_id, task=uuid.UUID(task["id"]), file=file_id, status=status,
            state=state, by=world.manager, exp=now - dt.timedelta(hours=1), started=started,
            next=now if state == "to_delete" else None)
    result = await sweeper.sweep(service.db, attachments, store, now=now,
                                 stale_after=dt.timedelta(hours=1))
    assert result.expired >= 1 and result.stale >= 1
    rows = {r["id"]: r for r in await service.sql(
        "SELECT * FROM attachments WHERE id = ANY(:ids)", ids=ids)}
    assert rows[ids[2]]["status"] == "failed" and rows[ids[2]]["file_state"] == "none"
    assert rows[ids[1]]["file_state"] == "deleted" and not await store.exists(dead)
    refused = rows[ids[0]]
    assert refused["file_state"] == "to_delete" and refused["delete_attempts"] == 1
    assert refused["last_delete_error"] and refused["next_delete_at"] > now
    # not due again yet: the next pass leaves it alone; a later one tries again (back-off)
    await sweeper.sweep(service.db, attachments, store, now=now,
                        stale_after=dt.timedelta(hours=1))
    (again,) = await service.sql("SELECT * FROM attachments WHERE id = :id", id=ids[0])
    assert again["delete_attempts"] == 1
    later = refused["next_delete_at"] + dt.timedelta(seconds=1)
    await sweeper.sweep(service.db, attachments, store, now=later,
                        stale_after=dt.timedelta(hours=1))
    (again,) = await service.sql("SELECT * FROM attachments WHERE id = :id", id=ids[0])
    assert again["delete_attempts"] == 2
    assert again["next_delete_at"] - later > refused["next_delete_at"] - now
