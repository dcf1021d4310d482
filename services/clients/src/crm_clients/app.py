"""The one place that wires the clients service together (settings → schema → ASGI app)."""

from __future__ import annotations

from crm_clients.graphql.context import make_context
from crm_clients.graphql.schema import build_schema
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.service import create_service_app
from crm_common.settings import Settings

SERVICE = "clients"
DEFAULT_PORT = 8101


def create_app(settings: Settings | None = None) -> ServiceMiddleware:
    settings = settings or Settings.from_env(SERVICE, DEFAULT_PORT)
    schema = build_schema(schema_extensions(settings))
    return create_service_app(settings, schema, make_context=make_context)
