"""The one place that wires the pricing service together (settings → schema → ASGI app):
GraphQL, the outbox relay, and the consumers of the ERP catalogue and of the platform's events."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Mapping
from typing import Any

from starlette.requests import Request

from crm_common.auth import Principal
from crm_common.background import every
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.messaging.consumer import ConsumerRunner
from crm_common.service import Runtime, create_service_app, state_of
from crm_common.settings import Settings
from crm_pricing.config import PricingConfig
from crm_pricing.consumers import register_consumers
from crm_pricing.graphql.context import Context
from crm_pricing.graphql.schema import build_schema
from crm_pricing.http.exports import export_routes
from crm_pricing.service_layer.pricing_inputs import RuleBook, RuleIndex
from crm_pricing.service_layer.tiers import sweep_tiers

SERVICE = "pricing"
DEFAULT_PORT = 8104


def create_app(settings: Settings | None = None,
               config: PricingConfig | None = None) -> ServiceMiddleware:
    settings = settings or Settings.from_env(SERVICE, DEFAULT_PORT)
    config = config or PricingConfig.from_env(settings)
    schema = build_schema(schema_extensions(settings))
    #: the process's parsed rules: requests and the turnover consumer read them through it
    book = RuleBook()

    def make_context(request: Request, principal: Principal, runtime: Runtime) -> Context:
        return Context(principal=principal, runtime=runtime, config=config,
                       rules=state_of(request, "rules", RuleBook))

    @contextlib.asynccontextmanager
    async def resources(runtime: Runtime) -> AsyncIterator[Mapping[str, Any] | None]:
        last_swept: tuple[dt.date, RuleIndex] | None = None

        async def sweep_when_due() -> object:
            """Sweep the tiers when the date or the rules moved since the last sweep."""
            nonlocal last_swept
            async with runtime.reader.connect() as conn:
                index = await book.index(conn)
            day = dt.datetime.now(dt.UTC).date()
            if last_swept is not None and last_swept[0] == day and last_swept[1] is index:
                return None
            moved = await sweep_tiers(runtime.engine, book, source=settings.source, today=day)
            if moved is not None:  # None: another process was sweeping; try again next round
                last_swept = (day, index)
            return moved

        if config.run_scheduler:  # stopped and awaited by the kit with its own background tasks
            runtime.tasks.append(asyncio.create_task(every(
                config.tier_sweep_interval.total_seconds(), runtime.stop, "tier sweep",
                sweep_when_due)))
        yield {"rules": book, "pricing_config": config}

    def setup_consumers(runner: ConsumerRunner, _runtime: Runtime) -> None:
        register_consumers(runner, erp_exchange=config.erp_exchange, source=settings.source,
                           book=book)

    return create_service_app(settings, schema, make_context=make_context,
                              setup_consumers=setup_consumers, extra_lifespan=resources,
                              extra_routes=export_routes())
