"""Attachment bytes over plain HTTP, outside GraphQL, authorised by the signed URL (and the
service's ``authorise`` callback, when it gives one).

``PUT <prefix>{id}/content?exp=..&sig=..`` streams the request body into GridFS (never the
whole file in memory), enforcing the use's size limit while reading (413, nothing kept),
computing size and SHA-256 and detecting the real type from the first bytes; a use that
accepts only some types (images, PDF) refuses any other as soon as the first 8 KiB are read
(415, nothing kept). ``GET`` on the same path streams the file back with its original name.
Anything that stops an upload half-way (limit, type, client gone, file server error, shutdown)
leaves no attachment, and its partial file is deleted or queued for the sweeper.

A service mounts one :class:`AttachmentMount` per use (its table, URLs, store, policy and
callbacks) and serves ``mount.routes()`` beside its GraphQL endpoint, exempting
``mount.urls.prefix`` from the request-body limit (the route enforces its own).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import filetype
from sqlalchemy import RowMapping, Table
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from crm_common.attachments import records
from crm_common.attachments.files import AttachmentStore, FileMissing, FileRefused, Writer
from crm_common.attachments.names import ascii_fallback
from crm_common.attachments.tables import owner_column
from crm_common.attachments.urls import Action, BadSignature, SignedUrls
from crm_common.service import Runtime, runtime_of
from crm_common.uow import UnitOfWork

log = logging.getLogger("crm.attachments.content")
#: bytes kept for type detection (filetype reads at most this many)
HEAD_BYTES = 8192


def any_type(_detected: str | None) -> bool:
    return True


def image_types(detected: str | None) -> bool:
    """Any image format ``filetype`` recognises (JPEG, PNG, HEIC, WebP, GIF, TIFF, ...)."""
    return detected is not None and detected.startswith("image/")


def pdf_only(detected: str | None) -> bool:
    return detected == "application/pdf"


@dataclass(frozen=True)
class UploadPolicy:
    """What one use accepts: at most ``max_bytes``, and files whose detected type (a MIME type,
    or None when not recognised) ``accepts``; ``accepted`` says which in the refusal."""

    max_bytes: int
    accepts: Callable[[str | None], bool] = any_type
    accepted: str = "any file"

    def __post_init__(self) -> None:
        if self.max_bytes < 1:
            raise ValueError("max_bytes is at least 1")


#: after the row became ``stored``, in the same transaction: the service's history entry and
#: event (the caller commits)
StoredHook = Callable[[UnitOfWork, RowMapping], Awaitable[None]]
#: may this request (signed for ``by``, when the URL names one) do ``action`` on the row?
#: False answers 404 as if there were no such attachment
Authorise = Callable[[Request, RowMapping, Action, uuid.UUID | None], Awaitable[bool]]


@dataclass(frozen=True)
class AttachmentMount:
    """One use of the store in a service (task attachments; an asset's photos)."""

    table: Table
    urls: SignedUrls
    #: the store (GridFS bucket) of this use, from the request's lifespan state
    store_of: Callable[[Request], AttachmentStore]
    #: one policy, or one per row (e.g. by a ``use`` column of the table)
    policy: UploadPolicy | Callable[[RowMapping], UploadPolicy]
    on_stored: StoredHook | None = None
    authorise: Authorise | None = None

    def routes(self) -> list[Route]:
        path = f"{self.urls.prefix}{{attachment_id}}/content"
        return [Route(path, self.upload, methods=["PUT"]),
                Route(path, self.download, methods=["GET"])]

    def policy_of(self, row: RowMapping) -> UploadPolicy:
        return self.policy if isinstance(self.policy, UploadPolicy) else self.policy(row)

    async def upload(self, request: Request) -> Response:
        found = self._verify(request, Action.UPLOAD)
        if isinstance(found, Response):
            return found
        attachment_id, by = found
        runtime = runtime_of(request)
        policy = self.policy if isinstance(self.policy, UploadPolicy) else None
        if policy is None or self.authorise is not None:
            current = await records.attachment_by_id(runtime.reader, self.table, attachment_id)
            if current is None or current["status"] != "pending":
                return _not_uploadable()
            if self.authorise is not None and not await self.authorise(
                    request, current, Action.UPLOAD, by):
                return _error(404, "NOT_FOUND", "no such attachment")
            policy = self.policy_of(current)
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > policy.max_bytes):
            return _too_large(policy)
        row = await records.begin_upload(runtime.engine, self.table, attachment_id,
                                         dt.datetime.now(dt.UTC))
        if row is None:
            return _not_uploadable()
        owner = owner_column(self.table).name
        writer = self.store_of(request).writer(
            row["file_id"], row["file_name"],
            {"attachmentId": str(row["id"]), _camel(owner): str(row[owner])})
        try:
            size, digest, detected = await _stream(request.stream(), writer, policy)
        except TooLarge:
            await self._abandon(runtime, writer, row["id"], "larger than the limit")
            return _too_large(policy)
        except Unaccepted as exc:
            await self._abandon(runtime, writer, row["id"],
                                f"content type {exc.detected or 'unknown'} not accepted")
            return _error(415, "UNSUPPORTED_TYPE",
                          f"only {policy.accepted} is accepted here (the content is "
                          f"{exc.detected or 'of no known type'})")
        except ClientDisconnect:
            await self._abandon(runtime, writer, row["id"], "the client went away mid-upload")
            return _error(400, "INCOMPLETE", "the upload was interrupted")
        except FileRefused as exc:
            log.warning("upload of attachment %s failed: %s", row["id"], exc)
            await self._abandon(runtime, writer, row["id"], f"file server: {exc}")
            return _error(503, "STORE_UNAVAILABLE", "the file store failed; try again")
        except BaseException:
            # cancelled (shutdown) or a fault: clean up without being cancelled half-way
            await asyncio.shield(self._abandon(runtime, writer, row["id"], "upload aborted"))
            raise
        async with UnitOfWork(runtime.session_factory, source=runtime.settings.source,
                              actor_id=row["created_by"]) as uow:
            stored = await records.mark_stored(uow.session, self.table, row["id"], size=size,
                                               sha256=digest, detected_type=detected)
            if stored is not None:
                if self.on_stored is not None:
                    await self.on_stored(uow, stored)
                await uow.commit()
        if stored is None:
            await self._abandon(runtime, writer, row["id"], "taken for dead by the sweeper")
            return _error(409, "NOT_UPLOADABLE", "the upload took too long")
        return JSONResponse({"id": str(stored["id"]), "size": size, "sha256": digest,
                             "detectedContentType": detected}, status_code=201)

    async def download(self, request: Request) -> Response:
        found = self._verify(request, Action.DOWNLOAD)
        if isinstance(found, Response):
            return found
        attachment_id, by = found
        row = await records.attachment_by_id(runtime_of(request).reader, self.table,
                                             attachment_id)
        if row is None or row["status"] != "stored":
            return _error(404, "NOT_FOUND", "no such attachment")
        if self.authorise is not None and not await self.authorise(
                request, row, Action.DOWNLOAD, by):
            return _error(404, "NOT_FOUND", "no such attachment")
        try:
            chunks = await self.store_of(request).read(row["file_id"])
        except FileMissing:
            log.error("attachment %s is stored but its file %s is missing", row["id"],
                      row["file_id"])
            return _error(404, "NOT_FOUND", "the file is missing")
        return StreamingResponse(chunks, media_type=row["detected_type"] or
                                 "application/octet-stream", headers=_download_headers(row))

    def _verify(self, request: Request, action: Action
                ) -> tuple[uuid.UUID, uuid.UUID | None] | Response:
        try:
            attachment_id = uuid.UUID(request.path_params["attachment_id"])
        except ValueError:
            return _error(404, "NOT_FOUND", "no such attachment")
        query = request.query_params
        try:
            by = self.urls.verify(action, attachment_id, query.get("exp"), query.get("sig"),
                                  query.get("by"), time.time())
        except BadSignature as exc:
            return _error(403, "BAD_SIGNATURE", f"the URL is not valid: {exc.reason}")
        return attachment_id, by

    async def _abandon(self, runtime: Runtime, writer: Writer, attachment_id: uuid.UUID,
                       reason: str) -> None:
        engine, now = runtime.engine, dt.datetime.now(dt.UTC)
        try:
            await writer.discard()
        except FileRefused as exc:
            await records.fail_upload(engine, self.table, attachment_id, reason, deleted=False,
                                      delete_error=str(exc), now=now)
            return
        await records.fail_upload(engine, self.table, attachment_id, reason, deleted=True,
                                  delete_error=None, now=now)


class TooLarge(Exception):
    pass


class Unaccepted(Exception):
    def __init__(self, detected: str | None) -> None:
        super().__init__(detected)
        self.detected = detected


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status,
                        headers={"cache-control": "no-store"})


def _not_uploadable() -> Response:
    return _error(409, "NOT_UPLOADABLE",
                  "this attachment is not waiting for an upload (used or expired)")


def _too_large(policy: UploadPolicy) -> Response:
    return _error(413, "TOO_LARGE", f"files are limited to {policy.max_bytes} bytes")


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


def detect(head: bytes) -> str | None:
    """The MIME type of content starting with ``head``; None when not recognised."""
    return filetype.guess_mime(head) if head else None


async def _stream(body: AsyncIterator[bytes], writer: Writer, policy: UploadPolicy
                  ) -> tuple[int, str, str | None]:
    """Write ``body`` through ``writer``: (size, SHA-256, detected type). The type is judged as
    soon as ``HEAD_BYTES`` were read (or at the end of a smaller file), before more is kept."""
    size = 0
    digest = hashlib.sha256()
    head = b""
    detected: str | None = None
    judged = False
    async for chunk in body:
        if not chunk:
            continue
        size += len(chunk)
        if size > policy.max_bytes:
            raise TooLarge()
        digest.update(chunk)
        if not judged:
            head += chunk[: HEAD_BYTES - len(head)]
            if len(head) >= HEAD_BYTES:
                detected, judged = _judge(head, policy), True
        await writer.write(chunk)
    if not judged:
        detected = _judge(head, policy)
    await writer.finish()
    return size, digest.hexdigest(), detected


def _judge(head: bytes, policy: UploadPolicy) -> str | None:
    detected = detect(head)
    if not policy.accepts(detected):
        raise Unaccepted(detected)
    return detected
