"""Report files kept and downloaded: made by the service layer from tables the tests make, on
the service's own PostgreSQL database and GridFS bucket (the MongoDB-wire server), downloaded
from the running service over signed URLs; the row caps, failures, expiry and the sweeper."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from crm_analytics.adapters.tables import report_files
from crm_analytics.reports.files import FileFormat
from crm_analytics.reports.table import Cell, Column, ReportTable
from crm_analytics.service_layer import report_file
from crm_analytics.service_layer.report_file import FileRequest
from crm_common.attachments import AttachmentStore
from crm_common.attachments.urls import Action

from .conftest import PDF_ROW_CAP, ROW_CAP, Service

pytestmark = pytest.mark.integration

COLUMNS = [Column("client", "Клиент", "text"), Column("turnover", "Оборот", "money")]


@pytest.fixture(scope="module")
async def engine(service: Service) -> AsyncIterator[AsyncEngine]:
    e = create_async_engine(service.database_url)
    yield e
    await e.dispose()


def _source(count: int, *, fail_after: int | None = None) -> Any:
    @contextlib.asynccontextmanager
    async def source() -> AsyncIterator[ReportTable]:
        async def rows() -> AsyncIterator[Sequence[Cell]]:
            for i in range(count):
                if fail_after is not None and i == fail_after:
                    raise RuntimeError("the database went away")
                yield (f"Клиент №{i}", Decimal(i) + Decimal("0.5"))

        yield ReportTable(title="Оборот по клиенти", columns=COLUMNS, rows=rows(),
                          data_as_of=dt.datetime.now(dt.UTC), totals=(None, Decimal(1)))
    return source


async def _make(service: Service, engine: AsyncEngine, store: AttachmentStore,
                fmt: FileFormat, count: int, *, who: uuid.UUID | None = None,
                fail_after: int | None = None) -> tuple[uuid.UUID, str, dict[str, Any]]:
    who = who or uuid.uuid4()
    request = FileRequest("report", fmt, "Оборот по клиенти", who, subject="test")
    now = dt.datetime.now(dt.UTC)
    row_id = await report_file.begin(engine, report_files, request, settings=service.files,
                                     now=now)
    status = await report_file.produce(
        engine, async_sessionmaker(engine), report_files, store, row_id, fmt,
        report_file.table_writer(_source(count, fail_after=fail_after), fmt, service.files))
    [row] = await service.sql("SELECT * FROM report_files WHERE id = :id", id=row_id)
    return row_id, status, row


def _url(service: Service, row_id: uuid.UUID, who: uuid.UUID,
         expires_at: dt.datetime | None = None) -> str:
    url, _ = service.files.urls().signed_url(Action.DOWNLOAD, row_id, expires_at, by=who)
    return url


async def test_a_csv_is_stored_in_gridfs_and_downloaded_over_its_signed_url(
        service: Service, engine: AsyncEngine, store: AttachmentStore) -> None:
    who = uuid.uuid4()
    row_id, status, row = await _make(service, engine, store, FileFormat.CSV, 1200, who=who)
    assert status == "stored"
    assert (row["status"], row["file_state"], row["row_count"]) == ("stored", "present", 1200)
    assert row["file_name"].startswith("Оборот по клиенти ") and row["file_name"].endswith(".csv")
    assert await store.exists(row["file_id"])
    response = await service.client.get(_url(service, row_id, who))
    assert response.status_code == 200, response.text
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf") and "Клиент №1199".encode() in body
    assert len(body) == row["size"] and hashlib.sha256(body).hexdigest() == row["sha256"]
    assert response.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "private, no-store"


async def test_xlsx_and_pdf_are_stored_with_their_types(
        service: Service, engine: AsyncEngine, store: AttachmentStore) -> None:
    who = uuid.uuid4()
    for fmt, magic in ((FileFormat.XLSX, b"PK\x03\x04"), (FileFormat.PDF, b"%PDF-")):
        row_id, status, row = await _make(service, engine, store, fmt, 50, who=who)
        assert status == "stored" and row["detected_type"] == fmt.media_type
        response = await service.client.get(_url(service, row_id, who))
        assert response.status_code == 200 and response.content.startswith(magic)


async def test_a_changed_expired_or_foreign_url_is_refused(
        service: Service, engine: AsyncEngine, store: AttachmentStore) -> None:
    who = uuid.uuid4()
    row_id, _, _ = await _make(service, engine, store, FileFormat.CSV, 3, who=who)
    other_id, _, _ = await _make(service, engine, store, FileFormat.CSV, 3, who=who)
    url = _url(service, row_id, who)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    base = f"{parts.scheme}://{parts.netloc}"

    async def get(path: str, params: dict[str, str]) -> int:
        return (await service.client.get(f"{base}{path}?{urlencode(params)}")).status_code

    flipped = query["sig"][:-1] + ("0" if query["sig"][-1] != "0" else "1")
    assert await get(parts.path, {**query, "sig": flipped}) == 403
    assert await get(parts.path, {**query, "by": str(uuid.uuid4())}) == 403
    assert await get(parts.path, {**query, "exp": str(int(query["exp"]) + 60)}) == 403
    assert await get(parts.path, {k: v for k, v in query.items() if k != "sig"}) == 403
    assert await get(parts.path.replace(str(row_id), str(other_id)), query) == 403
    assert await get(parts.path, {**query, "sig": "'; DROP TABLE report_files; --"}) == 403
    assert await get("/report-files/not-a-uuid/content", query) == 404
    past = _url(service, row_id, who, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5))
    response = await service.client.get(past)
    assert response.status_code == 403 and "expired" in response.text
    # nothing was touched by the refusals
    assert (await service.client.get(url)).status_code == 200
    # the upload side of the kit's store is not mounted for report files
    assert (await service.client.put(url, content=b"x")).status_code == 405


async def test_a_table_over_the_row_cap_leaves_no_file(
        service: Service, engine: AsyncEngine, store: AttachmentStore) -> None:
    who = uuid.uuid4()
    row_id, status, row = await _make(service, engine, store, FileFormat.XLSX, ROW_CAP + 1,
                                      who=who)
    assert status == "failed"
    assert (row["status"], row["error_code"], row["file_state"]) == (
        "failed", "TOO_MANY_ROWS", "deleted")
    assert str(ROW_CAP) in row["failure"]
    assert not await store.exists(row["file_id"])
    assert (await service.client.get(_url(service, row_id, who))).status_code == 404
    _, status, row = await _make(service, engine, store, FileFormat.PDF, PDF_ROW_CAP + 1)
    assert (status, row["error_code"]) == ("failed", "TOO_MANY_ROWS")
    _, status, row = await _make(service, engine, store, FileFormat.CSV, ROW_CAP)
    assert (status, row["row_count"]) == ("stored", ROW_CAP)


async def test_a_table_that_fails_mid_way_leaves_no_file(
        service: Service, engine: AsyncEngine, store: AttachmentStore) -> None:
    _, status, row = await _make(service, engine, store, FileFormat.CSV, 100, fail_after=50)
    assert (status, row["status"], row["error_code"]) == ("failed", "failed", "FAILED")
    assert "the database went away" not in row["failure"]  # no internals to the requester
    assert not await store.exists(row["file_id"])


async def test_expired_files_are_swept_and_no_longer_served(
        service: Service, engine: AsyncEngine, store: AttachmentStore) -> None:
    who = uuid.uuid4()
    row_id, _, row = await _make(service, engine, store, FileFormat.CSV, 10, who=who)
    kept_id, _, kept = await _make(service, engine, store, FileFormat.CSV, 10, who=who)
    url = _url(service, row_id, who)
    await service.sql("UPDATE report_files SET expires_at = now() - interval '1 second' "
                      "WHERE id = :id", id=row_id)
    assert (await service.client.get(url)).status_code == 404  # past its keeping time
    result = await report_file.sweep(engine, report_files, store, service.files,
                                     dt.datetime.now(dt.UTC))
    assert result["retentionExpired"] >= 1 and result["deleted"] >= 1
    [after] = await service.sql("SELECT status, file_state FROM report_files WHERE id = :id",
                                id=row_id)
    assert after == {"status": "removed", "file_state": "deleted"}
    assert not await store.exists(row["file_id"])
    assert await store.exists(kept["file_id"])
    assert (await service.client.get(_url(service, kept_id, who))).status_code == 200


async def test_a_file_whose_maker_died_is_failed_by_the_sweeper(
        service: Service, engine: AsyncEngine, store: AttachmentStore) -> None:
    request = FileRequest("report", FileFormat.CSV, "t", uuid.uuid4())
    long_ago = dt.datetime.now(dt.UTC) - service.files.store.stale_upload_after \
        - dt.timedelta(minutes=1)
    row_id = await report_file.begin(engine, report_files, request, settings=service.files,
                                     now=long_ago)
    result = await report_file.sweep(engine, report_files, store, service.files,
                                     dt.datetime.now(dt.UTC))
    [row] = await service.sql("SELECT status, file_state FROM report_files WHERE id = :id",
                              id=row_id)
    assert result["staleRendering"] >= 1, result
    assert row == {"status": "failed", "file_state": "deleted"}
    # a file no longer being made is never made afterwards
    status = await report_file.produce(
        engine, async_sessionmaker(engine), report_files, store, row_id, FileFormat.CSV,
        report_file.table_writer(_source(1), FileFormat.CSV, service.files))
    assert status == "missing"


def test_file_names_are_safe() -> None:
    now = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)
    assert report_file.file_name("Оборот / Q4: \"x\"\n", FileFormat.PDF, now).endswith(
        "2026-12-07.pdf")
    name = report_file.file_name("../../etc/passwd", FileFormat.CSV, now)
    assert "/" not in name and not name.startswith(".")
    assert report_file.file_name("   ", FileFormat.XLSX, now) == "report 2026-12-07.xlsx"
