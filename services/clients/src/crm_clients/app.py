"""The one place that wires the clients service together (settings → schema → ASGI app)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from crm_clients.consumers import setup_consumers
from crm_clients.graphql.context import JOB_SETTINGS, make_context
from crm_clients.graphql.schema import build_schema
from crm_clients.service_layer import contract_jobs
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.service import Runtime, create_service_app
from crm_common.settings import Settings

SERVICE = "clients"
DEFAULT_PORT = 8101


def create_app(settings: Settings | None = None) -> ServiceMiddleware:
    settings = settings or Settings.from_env(SERVICE, DEFAULT_PORT)
    job = contract_jobs.JobSettings.from_env()  # the daily contract job (RUN_CONTRACT_JOB)
    schema = build_schema(schema_extensions(settings))

    @contextlib.asynccontextmanager
    async def lifespan(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        async with contract_jobs.contract_job_lifespan(runtime, job):
            yield {JOB_SETTINGS: job}  # runContractMaintenance runs with the same settings

    return create_service_app(settings, schema, make_context=make_context,
                              setup_consumers=setup_consumers, extra_lifespan=lifespan)
