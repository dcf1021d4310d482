"""The one place that wires the activities service together (settings → schema → ASGI app)."""

from __future__ import annotations

from starlette.requests import Request

from crm_activities.calendar_route import calendar_routes
from crm_activities.consumers import setup_consumers
from crm_activities.graphql.context import Context
from crm_activities.graphql.schema import build_schema
from crm_common.auth import Principal
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.service import Runtime, create_service_app
from crm_common.settings import EnvReader, Settings

SERVICE = "activities"
DEFAULT_PORT = 8102


def create_app(settings: Settings | None = None,
               calendar_base_url: str | None = None) -> ServiceMiddleware:
    """``calendar_base_url``: where this service is reached from outside, for the calendar feed
    URLs (env ``CALENDAR_BASE_URL``; default ``http://<SERVICE_HOST>:<SERVICE_PORT>``)."""
    settings = settings or Settings.from_env(SERVICE, DEFAULT_PORT)
    base = calendar_base_url.rstrip("/") if calendar_base_url else EnvReader().url(
        "CALENDAR_BASE_URL", f"http://{settings.host}:{settings.port}")
    schema = build_schema(schema_extensions(settings))

    def make_context(_request: Request, principal: Principal, runtime: Runtime) -> Context:
        return Context(principal=principal, runtime=runtime, calendar_base_url=base)

    return create_service_app(
        settings, schema, make_context=make_context, setup_consumers=setup_consumers,
        extra_routes=calendar_routes())
