"""The attachment store mounted by a second use, as the clients service will mount it: its own
table (owned by an asset, with a ``use`` column choosing the policy), its own bucket, URL
purpose and prefix, images only for photos and PDF only for protocols, an ``authorise``
callback over the employee a URL was signed for, and an ``on_stored`` hook whose event is
committed with the row. A real uvicorn server over the session's throw-away PostgreSQL
database and the MongoDB-wire server (``MONGODB_URL``, else an nx-27017 started here)."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.requests import Request

from crm_common.attachments import (
    Action,
    AttachmentMount,
    AttachmentStore,
    SignedUrls,
    UploadPolicy,
    image_types,
    pdf_only,
    sweeper,
)
from crm_common.attachments.records import insert_pending, read_upload_request
from crm_common.attachments.tables import define_attachment_table
from crm_common.auth import Principal
from crm_common.devkeys import generate_key_pair
from crm_common.messaging.envelope import DomainEvent
from crm_common.service import Runtime, create_service_app, state_of
from crm_common.settings import Settings
from crm_common.testing import serving
from crm_common.uow import UnitOfWork
from crm_dev.procs import free_port

_, PUBLIC = generate_key_pair()
SECRET = b"m" * 32
PURPOSE = "crm-test-asset-file"
LIMIT = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"0" * 64

metadata = sa.MetaData()
asset_files = define_attachment_table(
    metadata, sa.Column("use", sa.Text, nullable=False), name="asset_files",
    owner=("asset", sa.Column("asset_id", sa.Uuid, nullable=False)))

POLICIES = {
    "photo": UploadPolicy(LIMIT, accepts=image_types, accepted="an image"),
    "protocol": UploadPolicy(LIMIT, accepts=pdf_only, accepted="a PDF"),
}


@pytest.fixture(scope="module")
def mongodb_url() -> Iterator[str]:
    if os.environ.get("MONGODB_URL"):
        yield os.environ["MONGODB_URL"]
        return
    from crm_dev import mongo

    workdir = Path(tempfile.mkdtemp(prefix="crm-common-mongo-"))
    try:
        with mongo.start(workdir / "data", log=workdir / "mongo.log", run_dir=workdir) as server:
            yield server.url
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass(frozen=True)
class Files:
    store: AttachmentStore


@dataclass
class Mounted:
    url: str
    urls: SignedUrls
    engine: AsyncEngine
    store: AttachmentStore
    http: httpx.AsyncClient

    async def pending(self, use: str, by: uuid.UUID, name: str = "f.bin") -> uuid.UUID:
        async with async_sessionmaker(self.engine)() as session, session.begin():
            grant = await insert_pending(
                session, asset_files, uuid.uuid4(),
                read_upload_request({"file_name": name}, max_bytes=LIMIT), created_by=by,
                now=dt.datetime.now(dt.UTC), ttl=dt.timedelta(minutes=5), use=use)
        return grant.attachment_id

    def signed(self, action: Action, attachment_id: uuid.UUID, by: uuid.UUID | None) -> str:
        url, _ = self.urls.signed_url(action, attachment_id, by=by)
        return url.replace("https://files.example", self.url)

    async def row(self, attachment_id: uuid.UUID) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            return dict((await conn.execute(sa.select(asset_files).where(
                asset_files.c.id == attachment_id))).mappings().one())

    async def events(self, attachment_id: uuid.UUID) -> int:
        async with self.engine.connect() as conn:
            return int((await conn.execute(sa.text(
                "SELECT count(*) FROM outbox WHERE envelope->>'subject' = :s"),
                {"s": str(attachment_id)})).scalar_one())


@strawberry.type
class Query:
    ok: bool = True


@pytest.fixture(scope="module")
async def mounted(engine: AsyncEngine, mongodb_url: str) -> AsyncIterator[Mounted]:
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    port = free_port()
    settings = Settings.from_env("mounttest", port, environ={
        "JWT_PUBLIC_KEY": PUBLIC, "CRM_ENV": "test", "RUN_RELAY": "false",
        "RUN_CONSUMERS": "false",
        "DATABASE_URL": engine.url.render_as_string(hide_password=False)})
    urls = SignedUrls(SECRET, PURPOSE, "https://files.example", "/inventory/files/")
    database = f"crm_common_test_{uuid.uuid4().hex[:8]}"

    async def stored(uow: UnitOfWork, row: Any) -> None:
        uow.record(DomainEvent(type="crm.test.asset_file.stored", subject=str(row["id"]),
                               data={"assetId": str(row["asset_id"])}))

    async def authorise(request: Request, row: Any, action: Action,
                        by: uuid.UUID | None) -> bool:
        return by is not None and by == row["created_by"]

    mount = AttachmentMount(
        table=asset_files, urls=urls, store_of=lambda r: state_of(r, "files", Files).store,
        policy=lambda row: POLICIES[row["use"]], on_stored=stored, authorise=authorise)

    @contextlib.asynccontextmanager
    async def own(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        store = AttachmentStore.connect(mongodb_url, database, bucket="asset_files")
        yield {"files": Files(store)}
        await store.close()

    def make_context(request: Request, principal: Principal, runtime: Runtime) -> object:
        return object()

    app = create_service_app(
        settings, strawberry.federation.Schema(query=Query), make_context=make_context,
        extra_routes=mount.routes(), extra_lifespan=own, body_limit_exempt=(urls.prefix,))
    store = AttachmentStore.connect(mongodb_url, database, bucket="asset_files")
    try:
        async with serving(app, port) as url, httpx.AsyncClient(timeout=60) as http:
            yield Mounted(url, urls, engine, store, http)
    finally:
        await store.close()


async def test_a_photo_is_stored_in_its_own_bucket_and_read_back_as_its_uploader(
        mounted: Mounted) -> None:
    rep, other = uuid.uuid4(), uuid.uuid4()
    photo = await mounted.pending("photo", rep, "../fridge 1.png")
    put = await mounted.http.put(mounted.signed(Action.UPLOAD, photo, rep), content=PNG)
    assert put.status_code == 201, put.text
    assert put.json()["detectedContentType"] == "image/png"
    assert put.json()["sha256"] == hashlib.sha256(PNG).hexdigest()
    row = await mounted.row(photo)
    assert row["status"] == "stored" and row["file_name"] == "fridge 1.png"
    assert await mounted.store.exists(row["file_id"])  # in the bucket asset_files
    assert await mounted.events(photo) == 1  # the hook's event, committed with the row
    got = await mounted.http.get(mounted.signed(Action.DOWNLOAD, photo, rep))
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    # the service's authorise callback: a URL for someone else, or for anyone, reads as absent
    for by in (other, None):
        assert (await mounted.http.get(mounted.signed(Action.DOWNLOAD, photo, by))
                ).status_code == 404


@pytest.mark.parametrize(("use", "body", "detected"), [
    ("photo", PDF, "application/pdf"),
    ("photo", b"just some text, not an image" * 10, None),
    ("photo", b"", None),
    ("protocol", PNG, "image/png"),
    ("photo", b"\x00" * (20 * 1024), None),  # judged on the first 8 KiB, mid-stream
])
async def test_content_of_a_type_the_use_refuses_is_415_and_nothing_is_kept(
        mounted: Mounted, use: str, body: bytes, detected: str | None) -> None:
    rep = uuid.uuid4()
    attachment_id = await mounted.pending(use, rep)
    put = await mounted.http.put(mounted.signed(Action.UPLOAD, attachment_id, rep),
                                 content=body)
    assert put.status_code == 415, put.text
    assert put.json()["error"]["code"] == "UNSUPPORTED_TYPE"
    assert (detected or "of no known type") in put.json()["error"]["message"]
    row = await mounted.row(attachment_id)
    assert row["status"] == "failed" and row["file_state"] == "deleted"
    assert row["detected_type"] is None and await mounted.events(attachment_id) == 0
    assert not await mounted.store.exists(row["file_id"])


async def test_a_protocol_takes_a_pdf(mounted: Mounted) -> None:
    rep = uuid.uuid4()
    protocol = await mounted.pending("protocol", rep, "протокол.pdf")
    put = await mounted.http.put(mounted.signed(Action.UPLOAD, protocol, rep), content=PDF)
    assert put.status_code == 201 and put.json()["detectedContentType"] == "application/pdf"


async def _stream(total: int) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        piece = PNG + b"\x00" * (1024 * 1024 - len(PNG))
        piece = piece[: total - sent]
        sent += len(piece)
        yield piece


async def test_a_60_mb_photo_is_413_and_nothing_is_kept(mounted: Mounted) -> None:
    rep = uuid.uuid4()
    photo = await mounted.pending("photo", rep)
    url = mounted.signed(Action.UPLOAD, photo, rep)
    # declared: refused before anything is claimed, the URL still good
    put = await mounted.http.put(url, content=b"x" * (LIMIT + 1))
    assert put.status_code == 413
    assert (await mounted.row(photo))["status"] == "pending"
    # streamed without Content-Length: refused while reading
    put = await mounted.http.put(url, content=_stream(60 * 1024 * 1024))
    assert put.status_code == 413 and put.json()["error"]["code"] == "TOO_LARGE"
    row = await mounted.row(photo)
    assert row["status"] == "failed" and row["file_state"] == "deleted"
    assert not await mounted.store.exists(row["file_id"]) and await mounted.events(photo) == 0


async def test_urls_of_another_use_another_employee_or_altered_are_refused(
        mounted: Mounted) -> None:
    rep = uuid.uuid4()
    photo = await mounted.pending("photo", rep)
    good = mounted.signed(Action.UPLOAD, photo, rep)
    tasks_urls = SignedUrls(SECRET, "crm-tasks-attachment", mounted.url, "/inventory/files/")
    other_use, _ = tasks_urls.signed_url(Action.UPLOAD, photo, by=rep)
    assert (await mounted.http.put(other_use, content=PNG)).status_code == 403
    forged = good.replace(f"by={rep}", f"by={uuid.uuid4()}")
    assert (await mounted.http.put(forged, content=PNG)).status_code == 403
    hostile = good.replace(f"by={rep}", "by=%27%3B%20DROP%20TABLE%20asset_files%3B--")
    assert (await mounted.http.put(hostile, content=PNG)).status_code == 403
    # signed for nobody: the authorise callback refuses it (as not found), nothing claimed
    anyone = mounted.signed(Action.UPLOAD, photo, None)
    assert (await mounted.http.put(anyone, content=PNG)).status_code == 404
    assert (await mounted.row(photo))["status"] == "pending"
    assert (await mounted.http.put(good, content=PNG)).status_code == 201


async def test_the_sweeper_works_on_the_second_table_and_bucket(mounted: Mounted) -> None:
    rep = uuid.uuid4()
    photo = await mounted.pending("photo", rep)
    assert (await mounted.http.put(mounted.signed(Action.UPLOAD, photo, rep), content=PNG)
            ).status_code == 201
    row = await mounted.row(photo)
    async with mounted.engine.begin() as conn:
        await conn.execute(sa.update(asset_files).where(asset_files.c.id == photo).values(
            status="removed", file_state="to_delete", next_delete_at=sa.func.now()))
    result = await sweeper.sweep(mounted.engine, asset_files, mounted.store,
                                 now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5),
                                 stale_after=dt.timedelta(hours=1))
    assert result.deleted >= 1
    assert (await mounted.row(photo))["file_state"] == "deleted"
    assert not await mounted.store.exists(row["file_id"])
