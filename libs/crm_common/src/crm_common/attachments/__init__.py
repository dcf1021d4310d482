"""The attachment store: files kept in GridFS, their bookkeeping in the service's PostgreSQL,
their bytes moved over short-lived signed URLs outside GraphQL. One implementation for every
service that keeps files (the tasks service's attachments; the clients service's asset photos
and signed protocols).

What it does: signed upload and download URLs (``urls``, over :mod:`crm_common.signing`);
streaming into GridFS through PyMongo's async bucket API, never a whole file in memory
(``files``); size, SHA-256 and the real type detected from the first bytes, a size limit while
streaming (413) and an optional type predicate per use (415) (``content``); safe file names
(``names``); the table and its life cycle (``tables``, ``records``); the sweeper of abandoned
uploads and removed files, with back-off where the file server refuses (``sweeper``); the
settings every such service reads (``settings``).

How a service mounts it (the tasks service is the worked example: ``crm_tasks.app``,
``crm_tasks.resources``, ``crm_tasks.service_layer.attachment``):

1. **Table.** In ``adapters/tables.py``::

       photos = define_attachment_table(
           metadata, Column("use", Text, nullable=False),          # the service's own columns
           name="asset_photos",
           owner=("asset", Column("asset_id", UUID(as_uuid=True), ForeignKey("assets.id"),
                                  nullable=False)))

   and the same table in an Alembic migration (copy the tasks service's ``attachments``).
2. **Settings.** ``StoreSettings.from_env(settings)`` reads ``MONGODB_URL``,
   ``ATTACHMENT_URL_SECRET``, ``PUBLIC_BASE_URL``, ``ATTACHMENT_MAX_BYTES``, the URL lifetimes
   and the sweeper's timing (see :mod:`.settings`).
3. **Store, in the lifespan.** ``AttachmentStore.connect(cfg.mongodb_url,
   cfg.mongodb_database, bucket="asset_photos")``, yielded into the lifespan state with the
   use's ``SignedUrls`` (``cfg.urls("crm-clients-asset-photo", "/inventory/photos/")``: one
   purpose and one prefix per use); closed when the lifespan ends. Add ``store.ping`` to the
   ready checks, and run :func:`.sweeper.sweep` (table, store) on a timer and from the command
   line.
4. **Routes.** An :class:`.content.AttachmentMount` per use: the table, the ``SignedUrls``,
   ``store_of(request)`` (finds the store in ``request.state``), the
   :class:`.content.UploadPolicy` (``max_bytes``, ``accepts=image_types`` or ``pdf_only`` or
   any predicate of the detected MIME type; or a function of the row choosing one, e.g. by a
   ``use`` column), ``on_stored(uow, row)`` (the service's history entry and event, committed
   with the row) and, if the signed URL alone is not enough, ``authorise(request, row, action,
   by)`` (``by``: the employee a URL was signed for with ``signed_url(..., by=...)``; False
   answers 404). Pass ``mount.routes()`` as ``extra_routes`` and ``mount.urls.prefix`` in
   ``body_limit_exempt`` of ``create_service_app``.
5. **Commands.** The service's mutation checks who may attach to the owner, then
   ``read_upload_request(raw, max_bytes=...)`` and ``insert_pending(session, table, owner_id,
   request, created_by=..., now=..., ttl=...)`` in its unit of work, and answers
   ``urls.signed_url(Action.UPLOAD, grant.attachment_id, grant.expires_at)``. Removal locks the
   row, checks who may, calls ``mark_removed`` and records its event; after the commit,
   ``sweeper.delete_now`` deletes the file (the sweeper retries what the server refuses).
   Reads: ``attachment_by_id``, ``stored_by_owner`` (a DataLoader's batch function) and
   ``urls.signed_url(Action.DOWNLOAD, id)``.

Tested here against the MongoDB-wire stand-in nx-27017 (DESIGN §8), not MongoDB itself.
"""

from __future__ import annotations

from crm_common.attachments import records, sweeper
from crm_common.attachments.content import (
    AttachmentMount,
    UploadPolicy,
    any_type,
    image_types,
    pdf_only,
)
from crm_common.attachments.files import AttachmentStore, FileMissing, FileRefused
from crm_common.attachments.records import (
    AttachmentKey,
    UploadGrant,
    UploadRequest,
    attachment_by_id,
    attachment_snapshot,
    insert_pending,
    mark_removed,
    read_upload_request,
    stored_by_owner,
)
from crm_common.attachments.settings import StoreSettings
from crm_common.attachments.tables import define_attachment_table
from crm_common.attachments.urls import Action, SignedUrls

__all__ = [
    "Action", "AttachmentKey", "AttachmentMount", "AttachmentStore", "FileMissing",
    "FileRefused", "SignedUrls", "StoreSettings", "UploadGrant", "UploadPolicy",
    "UploadRequest", "any_type", "attachment_by_id", "attachment_snapshot",
    "define_attachment_table", "image_types", "insert_pending", "mark_removed", "pdf_only",
    "read_upload_request", "records", "stored_by_owner", "sweeper",
]
