"""The one place that wires the clients service together (settings → schema → ASGI app)."""

from __future__ import annotations

from datetime import timedelta

from crm_clients.consumers import setup_consumers
from crm_clients.graphql.context import make_context
from crm_clients.graphql.schema import build_schema
from crm_clients.service_layer import contract_jobs, visibility
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.service import create_service_app
from crm_common.settings import Settings

SERVICE = "clients"
DEFAULT_PORT = 8101


def create_app(settings: Settings | None = None) -> ServiceMiddleware:
    settings = settings or Settings.from_env(SERVICE, DEFAULT_PORT)
    visibility.configure(timedelta(hours=settings.access_grace_hours))
    job = contract_jobs.JobSettings.from_env()  # the daily contract job (RUN_CONTRACT_JOB)
    contract_jobs.configure(job)
    schema = build_schema(schema_extensions(settings))
    return create_service_app(settings, schema, make_context=make_context,
                              setup_consumers=setup_consumers,
                              extra_lifespan=lambda runtime: contract_jobs.contract_job_lifespan(
                                  runtime, job))
