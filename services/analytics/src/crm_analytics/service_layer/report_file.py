"""Making a report file (or a client brief) and keeping it: the commands.

A file is asked for (:func:`begin`: a row of ``report_files`` in ``uploading``/``writing``, its
GridFS id chosen and recorded first, DESIGN §8; ``file_state`` ``none`` until the upload
starts, then ``writing``), then made (:func:`produce`): the table is
written to a local temporary file by the format's renderer (rows streamed, never all in
memory), the temporary file is streamed into GridFS a chunk at a time while its size and
SHA-256 are computed, and the row becomes ``stored`` with its row count. Any failure leaves
the row ``failed`` with a code (``TOO_MANY_ROWS``, ``STORE_UNAVAILABLE``, ``FAILED``) and no
file (the partial one is deleted, or queued for the sweeper where the server refuses).

Files are kept for ``REPORT_FILE_RETENTION_HOURS``: :func:`sweep` turns expired files into
``removed`` and lets the kit's sweeper (``crm_common.attachments.sweeper``) delete them, with
its retries; the same pass fails rows whose maker died (``STALE_UPLOAD_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Table, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from crm_analytics.adapters.tables import report_files
from crm_analytics.reports.definition import Definition, Parameters, Plan, check
from crm_analytics.reports.engine import report_table, run_page
from crm_analytics.reports.files import FileFormat, TooManyRows
from crm_analytics.reports.files.brief import write_brief
from crm_analytics.reports.files.render import render
from crm_analytics.reports.files.resources import FileResources
from crm_analytics.reports.files.settings import FileSettings
from crm_analytics.reports.table import ReportTable
from crm_analytics.service_layer import saved_reports
from crm_analytics.service_layer.client_brief import load_brief
from crm_analytics.service_layer.client_metrics import Ranking
from crm_analytics.service_layer.report_jobs import FileForRun, Job
from crm_analytics.service_layer.visibility import Access
from crm_common.attachments import records
from crm_common.attachments import sweeper as kit_sweeper
from crm_common.attachments.files import AttachmentStore, FileRefused, new_file_id
from crm_common.attachments.names import safe_file_name
from crm_common.attachments.urls import Action
from crm_common.problems import not_found, problem
from crm_common.service import Runtime

log = logging.getLogger("crm.analytics.files")

Kind = Literal["report", "client_brief"]
#: what a file is made of: opened when the file is made (the engine's ``report_table``)
TableSource = Callable[[], AbstractAsyncContextManager[ReportTable]]
#: writes a file at the path it is given; the number of data rows written
FileWriter = Callable[[str], Awaitable[int]]
#: the process's ABC/RFM ranking of every client (the context's cache), for the brief
RankingSource = Callable[[AsyncConnection], Awaitable[Ranking]]
CHUNK = 256 * 1024
MAX_TITLE = 200


@dataclass(frozen=True)
class FileRequest:
    kind: Kind
    format: FileFormat
    title: str
    requested_by: uuid.UUID
    #: what it is made of (a saved report's id, a brief's client id), shown to the requester
    subject: str | None = None


def file_name(title: str, fmt: FileFormat, now: dt.datetime) -> str:
    """``<title> <YYYY-MM-DD>.<ext>``, made safe for a header and a file system."""
    stem = " ".join(title.split())[:120] or "report"
    return safe_file_name(f"{stem} {now.date().isoformat()}.{fmt.extension}")


async def begin(engine: AsyncEngine, table: Table, request: FileRequest, *,
                settings: FileSettings, now: dt.datetime) -> uuid.UUID:
    """Record the file about to be made (committed before any byte is written)."""
    file_id = uuid.uuid4()
    title = " ".join(request.title.split())[:MAX_TITLE] or "Report"
    async with engine.begin() as conn:
        await conn.execute(insert(table).values(
            id=file_id, requested_by=request.requested_by, file_id=new_file_id(),
            file_name=file_name(title, request.format, now),
            declared_type=request.format.media_type, status="uploading",
            file_state="none", created_by=request.requested_by,
            upload_expires_at=now + settings.store.stale_upload_after,
            upload_started_at=now, kind=request.kind, format=request.format.value,
            title=title, subject=request.subject, expires_at=now + settings.retention))
    return file_id


def _temporary_path(fmt: FileFormat) -> str:
    handle, path = tempfile.mkstemp(prefix="crm-report-", suffix=f".{fmt.extension}")
    os.close(handle)
    return path


def _chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def table_writer(source: TableSource, fmt: FileFormat, settings: FileSettings) -> FileWriter:
    """Write the table ``source`` opens as ``fmt``, within the format's row cap."""

    async def write(path: str) -> int:
        async with source() as report:
            return await render(report, fmt, path,
                                max_rows=settings.row_cap(fmt is FileFormat.PDF))
    return write


async def produce(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                  table: Table, store: AttachmentStore, file_row_id: uuid.UUID,
                  fmt: FileFormat, write: FileWriter) -> str:
    """Make the file of row ``file_row_id`` with ``write`` (a renderer writing a local file);
    its final status."""
    row = await records.attachment_by_id(engine, table, file_row_id)
    if row is None or row["status"] != "uploading":
        return "missing"
    path = _temporary_path(fmt)
    try:
        try:
            count = await write(path)
        except TooManyRows as exc:
            await _fail(engine, table, file_row_id, "TOO_MANY_ROWS",
                        f"the report has more than {exc.limit} rows, the most a "
                        f"{fmt.value.upper()} file may hold", deleted=True)
            return "failed"
        except Exception as exc:  # noqa: BLE001 - recorded on the row, the process goes on
            log.exception("report file %s could not be made", file_row_id)
            await _fail(engine, table, file_row_id, "FAILED",
                        f"the file could not be made ({type(exc).__name__})", deleted=True)
            return "failed"
        return await _store(engine, sessions, table, store, row["file_id"], row["file_name"],
                            file_row_id, fmt, path, count)
    except BaseException:
        # cancelled (shutdown) or a fault: the row must not stay "writing"
        await asyncio.shield(_fail(engine, table, file_row_id, "FAILED",
                                   "the service stopped while making the file", deleted=True))
        raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


async def _store(engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession],
                 table: Table, store: AttachmentStore, gridfs_id: str, name: str,
                 file_row_id: uuid.UUID, fmt: FileFormat, path: str, count: int) -> str:
    async with engine.begin() as conn:  # from here a GridFS file may exist: say so first
        claimed = await conn.execute(
            update(table).where(table.c.id == file_row_id, table.c.status == "uploading")
            .values(file_state="writing", upload_started_at=dt.datetime.now(dt.UTC)))
    if not claimed.rowcount:  # the sweeper took it for dead meanwhile
        return "failed"
    writer = store.writer(gridfs_id, name, {"reportFileId": str(file_row_id)})
    digest = hashlib.sha256()
    size = 0
    chunks = _chunks(path)
    try:
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            digest.update(chunk)
            size += len(chunk)
            await writer.write(chunk)
        await writer.finish()
    except FileRefused as exc:
        log.warning("report file %s could not be stored: %s", file_row_id, exc)
        deleted = True
        try:
            await writer.discard()
        except FileRefused:
            deleted = False
        await _fail(engine, table, file_row_id, "STORE_UNAVAILABLE",
                    "the file store failed; try again", deleted=deleted)
        return "failed"
    async with sessions() as session, session.begin():
        stored = await records.mark_stored(session, table, file_row_id, size=size,
                                           sha256=digest.hexdigest(),
                                           detected_type=fmt.media_type)
        if stored is not None:
            await session.execute(update(table).where(table.c.id == file_row_id)
                                  .values(row_count=count))
    if stored is None:  # the sweeper took it for dead meanwhile
        with contextlib.suppress(FileRefused):
            await writer.discard()
        return "failed"
    return "stored"


async def _fail(engine: AsyncEngine, table: Table, file_row_id: uuid.UUID, code: str,
                message: str, *, deleted: bool) -> None:
    now = dt.datetime.now(dt.UTC)
    await records.fail_upload(engine, table, file_row_id, message, deleted=deleted,
                              delete_error=None if deleted else message, now=now)
    async with engine.begin() as conn:
        await conn.execute(update(table).where(table.c.id == file_row_id)
                           .values(error_code=code))


async def expire(engine: AsyncEngine, table: Table, now: dt.datetime,
                 stale_after: dt.timedelta) -> tuple[int, int]:
    """Files past their keeping time become ``removed``, their GridFS files queued; files
    still being rendered (nothing in GridFS yet) long after they began are failed. The
    numbers of each."""
    async with engine.begin() as conn:
        expired = await conn.execute(
            update(table).where(table.c.status == "stored", table.c.expires_at <= now)
            .values(status="removed", file_state="to_delete", removed_at=now,
                    next_delete_at=now, version=table.c.version + 1))
        stale = await conn.execute(
            update(table).where(table.c.status == "uploading", table.c.file_state == "none",
                                table.c.upload_started_at < now - stale_after)
            .values(status="failed", file_state="deleted", error_code="FAILED",
                    failure="the file was never finished", version=table.c.version + 1))
    return expired.rowcount or 0, stale.rowcount or 0


async def sweep(engine: AsyncEngine, table: Table, store: AttachmentStore,
                settings: FileSettings, now: dt.datetime) -> dict[str, int]:
    """One pass: expire what is past its keeping time, then the kit's sweeper (files whose
    upload stalled failed, queued files deleted with retries)."""
    stale_after = settings.store.stale_upload_after
    expired, stale = await expire(engine, table, now, stale_after)
    result = await kit_sweeper.sweep(engine, table, store, now=now, stale_after=stale_after)
    return {"retentionExpired": expired, "staleRendering": stale, **result.as_dict()}


# -- a report run as a file (``createReportFile``) and a background job's file -----------------

async def plan_for(runtime: Runtime, access: Access, *, report_id: uuid.UUID | None,
                   definition: Definition | None, parameters: Parameters | None
                   ) -> tuple[Plan, str | None]:
    """The checked plan of a saved report (one the requester may run) or of an inline
    definition, and what the file is made of (the saved report's id)."""
    if (report_id is None) == (definition is None):
        raise problem(("input", "reportId"), "REQUIRED", "give a reportId or a definition")
    root: tuple[str, ...] = ("input", "definition")
    if report_id is not None:
        async with runtime.reader.connect() as conn:
            saved = saved_reports.require_visible(
                await saved_reports.get(conn, access.principal, report_id))
        definition, root = saved.definition, ("input", "report")
    assert definition is not None
    return check(definition, access.now.date(), parameters, root=root), \
        None if report_id is None else str(report_id)


async def request_report_file(runtime: Runtime, files: FileResources, access: Access, *,
                              report_id: uuid.UUID | None, definition: Definition | None,
                              parameters: Parameters | None, fmt: FileFormat) -> uuid.UUID:
    """Check the run, refuse one over the format's row cap (nothing is recorded then), record
    the file and start making it in the background; wait up to ``inline_wait`` for it (a small
    file is ready in the answer). The file's id."""
    plan, subject = await plan_for(runtime, access, report_id=report_id,
                                   definition=definition, parameters=parameters)
    settings = files.settings
    async with runtime.reader.connect() as conn:  # the whole run's count, with one row
        rows = (await run_page(conn, plan, access, first=1, after=None)).total_rows
    cap = settings.row_cap(fmt is FileFormat.PDF)
    if rows > cap:
        if rows <= settings.max_rows:
            raise problem(("input", "format"), "TOO_MANY_ROWS",
                          f"the report has {rows} rows; a PDF holds at most {cap}: choose CSV "
                          "or XLSX, or narrow the report")
        raise problem(("input", "reportId" if report_id is not None else "definition"),
                      "TOO_MANY_ROWS", f"the report has {rows} rows; a file holds at most "
                      f"{cap}: narrow the report (filters, a shorter period, a limit)")
    request = FileRequest("report", fmt, plan.title, access.principal.subject, subject)
    row_id = await begin(runtime.engine, report_files, request, settings=settings,
                         now=access.now)

    def source() -> AbstractAsyncContextManager[ReportTable]:
        return report_table(runtime.engine, plan, access)

    task = files.jobs.start(produce(runtime.engine, runtime.session_factory, report_files,
                                    files.store, row_id, fmt,
                                    table_writer(source, fmt, settings)))
    if settings.inline_wait > 0:
        await asyncio.wait({task}, timeout=settings.inline_wait)
    return row_id


def job_file_maker(engine: AsyncEngine, files: FileResources,
                   fmt: FileFormat = FileFormat.XLSX) -> FileForRun:
    """The report jobs' file hook (``report_jobs.run_worker(make_file=...)``): the job's table
    as a file of the requester, and the link the completion event carries (good until the
    file's keeping time ends, for mail delivery by an integration). A file that cannot be made
    fails the job with the reason."""

    async def make_file(job: Job, table: ReportTable) -> dict[str, Any] | None:
        now = dt.datetime.now(dt.UTC)
        request = FileRequest("report", fmt, job.title, job.requested_by,
                              None if job.report_id is None else str(job.report_id))
        row_id = await begin(engine, report_files, request, settings=files.settings, now=now)

        @contextlib.asynccontextmanager
        async def source() -> AsyncIterator[ReportTable]:
            yield table

        sessions = async_sessionmaker(engine, expire_on_commit=False)
        status = await produce(engine, sessions, report_files, files.store, row_id, fmt,
                               table_writer(source, fmt, files.settings))
        row = await records.attachment_by_id(engine, report_files, row_id)
        if status != "stored" or row is None:
            reason = row["failure"] if row is not None else None
            raise RuntimeError(f"the file could not be made: {reason or 'failed'}")
        url, expires = files.urls.signed_url(Action.DOWNLOAD, row_id, row["expires_at"],
                                             by=job.requested_by)
        return {"id": str(row_id), "format": fmt.value, "url": url,
                "expiresAt": expires.isoformat()}

    return make_file


# -- the client brief (``createClientBrief``) ---------------------------------------------------

async def request_client_brief(runtime: Runtime, files: FileResources, access: Access,
                               client_id: uuid.UUID, ranking: RankingSource) -> uuid.UUID:
    """Read the brief of a client the requester may see (else NOT_FOUND naming
    ``input.clientId``), record its file and lay it out in the background; wait up to
    ``inline_wait`` for it. The file's id."""
    async with runtime.reader.connect() as conn:
        brief = await load_brief(conn, access, client_id, await ranking(conn))
    if brief is None:
        raise not_found("client", field=("input", "clientId"))
    request = FileRequest("client_brief", FileFormat.PDF, f"Client brief {brief.client_name}",
                          access.principal.subject, str(client_id))
    row_id = await begin(runtime.engine, report_files, request, settings=files.settings,
                         now=access.now)

    async def write(path: str) -> int:
        await write_brief(brief, path)
        return 1

    task = files.jobs.start(produce(runtime.engine, runtime.session_factory, report_files,
                                    files.store, row_id, FileFormat.PDF, write))
    if files.settings.inline_wait > 0:
        await asyncio.wait({task}, timeout=files.settings.inline_wait)
    return row_id
