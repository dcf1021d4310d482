"""The one place that wires the analytics service together (settings → schema → ASGI app):
GraphQL, the outbox relay, the consumers of the ERP feed and of the platform's events, the
publisher of ``client.turnover.updated``, the built-in reports' seeding, the worker of
background report jobs and schedules, and the report files (their GridFS store, download route,
background making and sweeper)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.requests import Request

from crm_analytics.adapters.tables import report_files
from crm_analytics.config import AnalyticsConfig
from crm_analytics.consumers import register_consumers
from crm_analytics.graphql.context import Context
from crm_analytics.graphql.schema import build_schema
from crm_analytics.http.report_files import download_routes
from crm_analytics.reports.files.resources import RESOURCES, FileJobs, FileResources, files_of
from crm_analytics.reports.files.settings import BUCKET, FileSettings
from crm_analytics.service_layer import report_file, report_jobs, report_schedules, saved_reports
from crm_analytics.service_layer.client_metrics import RankingCache
from crm_analytics.service_layer.turnover_events import run_publisher
from crm_common.attachments import AttachmentStore
from crm_common.auth import Principal
from crm_common.background import Job, running
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.messaging.consumer import ConsumerRunner
from crm_common.service import Runtime, create_service_app, state_of
from crm_common.settings import Settings

SERVICE = "analytics"
DEFAULT_PORT = 8105


def create_app(settings: Settings | None = None,
               config: AnalyticsConfig | None = None,
               files: FileSettings | None = None) -> ServiceMiddleware:
    settings = settings or Settings.from_env(SERVICE, DEFAULT_PORT)
    config = config or AnalyticsConfig.from_env()
    files = files or FileSettings.from_env(settings)
    urls = files.urls()
    schema = build_schema(schema_extensions(settings))

    def make_context(request: Request, principal: Principal, runtime: Runtime) -> Context:
        return Context(principal=principal, runtime=runtime, config=config,
                       rankings=state_of(request, "rankings", RankingCache),
                       report_files=files_of(request))

    def setup_consumers(runner: ConsumerRunner, _runtime: Runtime) -> None:
        register_consumers(runner, erp_exchange=config.erp_exchange)

    @contextlib.asynccontextmanager
    async def publisher(runtime: Runtime) -> AsyncIterator[Mapping[str, Any] | None]:
        tasks = []
        if config.run_turnover_events:
            tasks.append(asyncio.create_task(run_publisher(
                runtime.engine, runtime.stop, source=settings.source,
                debounce=dt.timedelta(seconds=config.turnover_debounce_seconds),
                interval=min(1.0, max(0.1, config.turnover_debounce_seconds / 5)))))
        # the built-in reports, present and runnable from the first start (idempotent)
        await saved_reports.seed_builtins(runtime.engine)
        store = AttachmentStore.connect(files.store.mongodb_url, files.store.mongodb_database,
                                        bucket=BUCKET)
        jobs = FileJobs()
        resources = FileResources(files, store, urls, jobs)
        if config.run_report_jobs:
            tasks.append(asyncio.create_task(report_jobs.run_worker(
                runtime.engine, runtime.stop, source=settings.source,
                grace=settings.access_grace, interval=config.report_job_interval_seconds,
                make_file=report_file.job_file_maker(runtime.engine, resources),
                before_each=lambda: report_schedules.enqueue_due(runtime.engine))))
        sweeping: list[Job] = []
        if files.run_sweeper:

            async def sweep() -> object:
                return await report_file.sweep(runtime.engine, report_files, store, files,
                                               dt.datetime.now(dt.UTC))

            sweeping.append((files.store.sweeper_interval, "report-file sweeper", sweep))
        try:
            # the report files last: the job worker below writes them too
            async with running(sweeping):
                try:
                    yield {"rankings": RankingCache(), RESOURCES: resources}
                finally:
                    if tasks:
                        runtime.stop.set()
                        for task in tasks:
                            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                                await asyncio.wait_for(task, timeout=10)
                    await jobs.stop()
        finally:
            await store.close()

    async def mongodb_ready(request: Request) -> bool:
        return await files_of(request).store.ping()

    return create_service_app(settings, schema, make_context=make_context,
                              setup_consumers=setup_consumers, extra_lifespan=publisher,
                              extra_routes=download_routes(urls),
                              ready_checks={"mongodb": mongodb_ready})
