"""The one place that wires the clients service together (settings → schema → ASGI app)."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from sqlalchemy import Table
from starlette.requests import Request

from crm_clients.adapters.tables import audit_photos, placement_protocols
from crm_clients.consumers import setup_consumers
from crm_clients.graphql.context import JOB_SETTINGS, make_context
from crm_clients.graphql.schema import build_schema
from crm_clients.resources import (
    FILES,
    PHOTO_BUCKET,
    PROTOCOL_BUCKET,
    InventoryFiles,
    Urls,
    files_of,
)
from crm_clients.service_layer import contract_jobs, inventory_files
from crm_common.attachments import (
    AttachmentMount,
    AttachmentStore,
    StoreSettings,
    UploadPolicy,
    image_types,
    sweeper,
)
from crm_common.background import Job, running
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.service import Runtime, create_service_app
from crm_common.settings import Settings

SERVICE = "clients"
DEFAULT_PORT = 8101



def _pdf_or_image(detected: str | None) -> bool:
    """A signed protocol: the PDF, or a photo or scan of the paper."""
    return detected == "application/pdf" or image_types(detected)


def create_app(settings: Settings | None = None,
               store_settings: StoreSettings | None = None) -> ServiceMiddleware:
    settings = settings or Settings.from_env(SERVICE, DEFAULT_PORT)
    job = contract_jobs.JobSettings.from_env()  # the daily contract job (RUN_CONTRACT_JOB)
    store_cfg = store_settings or StoreSettings.from_env(settings)
    urls = Urls.of(store_cfg)
    mounts = [
        AttachmentMount(
            table=placement_protocols, urls=urls.protocols,
            store_of=lambda request: files_of(request).protocols,
            policy=UploadPolicy(store_cfg.max_bytes, accepts=_pdf_or_image,
                                accepted="a PDF or an image"),
            on_stored=inventory_files.protocol_stored, authorise=inventory_files.authorise),
        AttachmentMount(
            table=audit_photos, urls=urls.photos,
            store_of=lambda request: files_of(request).photos,
            policy=UploadPolicy(store_cfg.max_bytes, accepts=image_types, accepted="an image"),
            on_stored=inventory_files.photo_stored, authorise=inventory_files.authorise),
    ]
    schema = build_schema(schema_extensions(settings))

    @contextlib.asynccontextmanager
    async def lifespan(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        protocols = AttachmentStore.connect(store_cfg.mongodb_url, store_cfg.mongodb_database,
                                            bucket=PROTOCOL_BUCKET)
        photos = AttachmentStore.connect(store_cfg.mongodb_url, store_cfg.mongodb_database,
                                         bucket=PHOTO_BUCKET)
        def sweep_of(table: Table, store: AttachmentStore) -> Callable[[], Awaitable[object]]:
            """The kit's sweeper over one file table: abandoned uploads and removed files."""
            async def sweep() -> object:
                return await sweeper.sweep(runtime.engine, table, store,
                                           now=dt.datetime.now(dt.UTC),
                                           stale_after=store_cfg.stale_upload_after)
            return sweep

        # one loop per table (the kit's), stopped before the stores close
        sweeping: list[Job] = [
            (store_cfg.sweeper_interval, f"sweeping {table.name}", sweep_of(table, store))
            for table, store in ((placement_protocols, protocols), (audit_photos, photos))]
        try:
            async with running(sweeping), contract_jobs.contract_job_lifespan(runtime, job):
                # runContractMaintenance runs with the job's settings
                yield {JOB_SETTINGS: job,
                       FILES: InventoryFiles(store_cfg, urls, protocols, photos)}
        finally:
            await protocols.close()
            await photos.close()

    async def mongodb_ready(request: Request) -> bool:
        files = files_of(request)
        return await files.protocols.ping() and await files.photos.ping()

    return create_service_app(
        settings, schema, make_context=make_context, setup_consumers=setup_consumers,
        extra_lifespan=lifespan, extra_routes=[r for m in mounts for r in m.routes()],
        body_limit_exempt=(urls.protocols.prefix, urls.photos.prefix),
        ready_checks={"mongodb": mongodb_ready})

