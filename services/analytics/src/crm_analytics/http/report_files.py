"""Report files over plain HTTP, outside GraphQL, authorised by the signed URL alone:
``GET /report-files/{id}/content?exp=..&sig=..&by=..`` streams the file from GridFS (the kit's
attachment download: ``crm_common.attachments.content``). The signature binds the file, the
download action, the expiry and the employee who asked for the file; a changed or expired URL
is refused (403). A file past its keeping time, failed, or not the signer's reads as not found
(404)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import RowMapping
from starlette.requests import Request
from starlette.routing import Route

from crm_analytics.adapters.tables import report_files
from crm_analytics.reports.files.resources import files_of
from crm_common.attachments import AttachmentMount, AttachmentStore, UploadPolicy
from crm_common.attachments.urls import Action, SignedUrls


def _store_of(request: Request) -> AttachmentStore:
    return files_of(request).store


async def _authorise(_request: Request, row: RowMapping, action: Action,
                     by: uuid.UUID | None) -> bool:
    return action is Action.DOWNLOAD and by is not None and by == row["requested_by"] \
        and row["expires_at"] > dt.datetime.now(dt.UTC)


def download_routes(urls: SignedUrls) -> list[Route]:
    """The download route only: nothing is ever uploaded to a report file from outside."""
    mount = AttachmentMount(table=report_files, urls=urls, store_of=_store_of,
                            policy=UploadPolicy(max_bytes=1), authorise=_authorise)
    return [Route(f"{urls.prefix}{{attachment_id}}/content", mount.download, methods=["GET"])]
