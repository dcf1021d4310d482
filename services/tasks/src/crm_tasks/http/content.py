"""Attachment bytes over plain HTTP, outside GraphQL, authorised by the signed URL alone.

``PUT /attachments/{id}/content?exp=..&sig=..`` streams the request body into GridFS (never the
whole file in memory), enforcing the size limit while reading (413, nothing kept), computing
size and SHA-256 and detecting the real type from the first bytes. ``GET`` on the same path
streams the file back with its original name. Anything that stops an upload half-way (limit,
client gone, file server error, shutdown) leaves no attachment, and its partial file is deleted
or queued for the sweeper.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import filetype
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from crm_common.service import Runtime, runtime_of
from crm_common.uow import UnitOfWork
from crm_tasks.adapters.files import FileMissing, FileRefused, Writer
from crm_tasks.domain.attachment import ascii_fallback
from crm_tasks.domain.signing import Action, BadSignature, verify
from crm_tasks.resources import Resources, resources_of
from crm_tasks.service_layer import attachment, attachment_queries

log = logging.getLogger("crm.tasks.content")
#: bytes kept for type detection (filetype needs the first 261)
HEAD_BYTES = 8192
PREFIX = "/attachments/"


class TooLarge(Exception):
    pass


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers={"cache-control": "no-store"})


def _authorise(request: Request, resources: Resources, action: Action
               ) -> uuid.UUID | Response:
    try:
        attachment_id = uuid.UUID(request.path_params["attachment_id"])
    except ValueError:
        return _error(404, "NOT_FOUND", "no such attachment")
    try:
        verify(resources.settings.url_secret, action, attachment_id,
               request.query_params.get("exp"), request.query_params.get("sig"), time.time())
    except BadSignature as exc:
        return _error(403, "BAD_SIGNATURE", f"the URL is not valid: {exc.reason}")
    return attachment_id


def content_routes() -> list[Route]:
    """The upload and download routes; they find the runtime and the store in the request's
    lifespan state."""
    return [Route("/attachments/{attachment_id}/content", upload, methods=["PUT"]),
            Route("/attachments/{attachment_id}/content", download, methods=["GET"])]


async def upload(request: Request) -> Response:
    resources = resources_of(request)
    found = _authorise(request, resources, Action.UPLOAD)
    if isinstance(found, Response):
        return found
    limit = resources.settings.max_attachment_bytes
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > limit):
        return _error(413, "TOO_LARGE", f"files are limited to {limit} bytes")
    runtime = runtime_of(request)
    row = await attachment.begin_upload(runtime.engine, found, dt.datetime.now(dt.UTC))
    if row is None:
        return _error(409, "NOT_UPLOADABLE",
                      "this attachment is not waiting for an upload (used or expired)")
    writer = resources.store.writer(row["file_id"], row["file_name"],
                                    {"attachmentId": str(row["id"]),
                                     "taskId": str(row["task_id"])})
    try:
        size, digest, head = await _stream(request.stream(), writer, limit)
    except TooLarge:
        await _abandon(runtime, writer, row["id"], "larger than the limit")
        return _error(413, "TOO_LARGE", f"files are limited to {limit} bytes")
    except ClientDisconnect:
        await _abandon(runtime, writer, row["id"], "the client went away mid-upload")
        return _error(400, "INCOMPLETE", "the upload was interrupted")
    except FileRefused as exc:
        log.warning("upload of attachment %s failed: %s", row["id"], exc)
        await _abandon(runtime, writer, row["id"], f"file server: {exc}")
        return _error(503, "STORE_UNAVAILABLE", "the file store failed; try again")
    except BaseException:
        # cancelled (shutdown) or a fault: clean up without being cancelled half-way
        await asyncio.shield(_abandon(runtime, writer, row["id"], "upload aborted"))
        raise
    detected = filetype.guess_mime(head) if head else None
    async with UnitOfWork(runtime.session_factory, source=runtime.settings.source,
                          actor_id=row["created_by"]) as uow:
        stored = await attachment.finish_upload(uow, row["id"], size=size, sha256=digest,
                                                 detected_type=detected)
    if stored is None:
        await _abandon(runtime, writer, row["id"], "taken for dead by the sweeper", closed=True)
        return _error(409, "NOT_UPLOADABLE", "the upload took too long")
    return JSONResponse({"id": str(stored["id"]), "size": size, "sha256": digest,
                         "detectedContentType": detected}, status_code=201)


async def _abandon(runtime: Runtime, writer: Writer, attachment_id: uuid.UUID, reason: str, *,
                   closed: bool = False) -> None:
    engine = runtime.engine
    try:
        await writer.discard()
    except FileRefused as exc:
        await attachment.fail_upload(engine, attachment_id, reason, deleted=False,
                                      delete_error=str(exc), now=dt.datetime.now(dt.UTC))
        return
    await attachment.fail_upload(engine, attachment_id, reason, deleted=True,
                                  delete_error=None, now=dt.datetime.now(dt.UTC))


async def download(request: Request) -> Response:
    resources = resources_of(request)
    found = _authorise(request, resources, Action.DOWNLOAD)
    if isinstance(found, Response):
        return found
    row = await attachment_queries.attachment_by_id(runtime_of(request).reader, found)
    if row is None or row["status"] != "stored":
        return _error(404, "NOT_FOUND", "no such attachment")
    try:
        chunks = await resources.store.read(row["file_id"])
    except FileMissing:
        log.error("attachment %s is stored but its file %s is missing", row["id"],
                  row["file_id"])
        return _error(404, "NOT_FOUND", "the file is missing")
    return StreamingResponse(chunks, media_type=row["detected_type"] or
                             "application/octet-stream", headers=_download_headers(row))


def _download_headers(row: Any) -> dict[str, str]:
    name = row["file_name"]
    disposition = (f'attachment; filename="{ascii_fallback(name)}"; '
                   f"filename*=UTF-8''{quote(name, safe='')}")
    return {
        "content-length": str(row["size"]),
        "content-disposition": disposition,
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox; default-src 'none'",
        "cache-control": "private, no-store",
        "x-content-sha256": row["sha256"] or "",
    }


async def _stream(body: AsyncIterator[bytes], writer: Writer, limit: int
                  ) -> tuple[int, str, bytes]:
    size = 0
    digest = hashlib.sha256()
    head = b""
    async for chunk in body:
        if not chunk:
            continue
        size += len(chunk)
        if size > limit:
            raise TooLarge()
        digest.update(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        await writer.write(chunk)
    await writer.finish()
    return size, digest.hexdigest(), head
