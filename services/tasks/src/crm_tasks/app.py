"""The one place that wires the tasks service together (settings → schema → ASGI app)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request

from crm_common.attachments import AttachmentMount, AttachmentStore, UploadPolicy, sweeper
from crm_common.background import Job, running
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.service import Runtime, create_service_app
from crm_common.settings import Settings
from crm_tasks.adapters.tables import attachments
from crm_tasks.config import TasksSettings
from crm_tasks.consumers import consumer_setup
from crm_tasks.graphql.context import make_context
from crm_tasks.graphql.schema import build_schema
from crm_tasks.resources import RESOURCES, Resources, attachment_urls, resources_of
from crm_tasks.service_layer import reminder
from crm_tasks.service_layer.attachment import attachment_stored

SERVICE = "tasks"
DEFAULT_PORT = 8103

log = logging.getLogger("crm.tasks")


def create_app(settings: Settings | None = None,
               tasks_settings: TasksSettings | None = None) -> ServiceMiddleware:
    settings = settings or Settings.from_env(SERVICE, DEFAULT_PORT)
    cfg = tasks_settings or TasksSettings.from_env(settings)
    store_cfg = cfg.store
    urls = attachment_urls(cfg)
    # task attachments: any type, up to ATTACHMENT_MAX_BYTES; the signed URL alone authorises
    mount = AttachmentMount(
        table=attachments, urls=urls, store_of=lambda request: resources_of(request).store,
        policy=UploadPolicy(store_cfg.max_bytes), on_stored=attachment_stored)

    @contextlib.asynccontextmanager
    async def lifespan(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        store = AttachmentStore.connect(store_cfg.mongodb_url, store_cfg.mongodb_database)
        jobs: list[Job] = []
        if cfg.run_scheduler:

            async def remind() -> object:
                return await reminder.send_due_reminders(
                    runtime.engine, source=settings.source, tz=cfg.timezone,
                    lead=cfg.reminder_lead, now=dt.datetime.now(dt.UTC))

            async def sweep() -> object:
                return await sweeper.sweep(runtime.engine, attachments, store,
                                           now=dt.datetime.now(dt.UTC),
                                           stale_after=store_cfg.stale_upload_after)

            jobs = [(cfg.reminder_interval, "reminders", remind),
                    (store_cfg.sweeper_interval, "sweeper", sweep)]
        try:
            # the kit's loops, stopped before the store closes
            async with running(jobs):
                yield {RESOURCES: Resources(cfg, store, urls)}
        finally:
            await store.close()

    async def mongodb_ready(request: Request) -> bool:
        return await resources_of(request).store.ping()

    schema = build_schema(schema_extensions(settings))
    return create_service_app(
        settings, schema, make_context=make_context,
        setup_consumers=consumer_setup(cfg), extra_routes=mount.routes(),
        extra_lifespan=lifespan, body_limit_exempt=(urls.prefix,),
        ready_checks={"mongodb": mongodb_ready},
    )
