"""Builds a service's ASGI app: GraphQL, health, metrics, relay and consumers in one lifespan.

A service's ``app.py`` calls :func:`create_service_app` with its settings, its schema and two
callbacks (the per-request GraphQL context, and the consumer registrations). Resources (engine,
broker connections) are created in the lifespan and handed down through the lifespan state, as
Starlette documents it: the lifespan yields ``{"runtime": runtime, ...}`` and every request sees
it as ``request.state.runtime`` (:func:`runtime_of`). A service's own resources (the tasks
service's attachment store) are yielded by its ``extra_lifespan`` and join the same state
(:func:`state_of`). Nothing is built at import; there are no module globals and no holders.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import strawberry
from cross_web import HTTPException  # what strawberry answers as an HTTP status
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.asgi import GraphQL

from crm_common import idempotency
from crm_common.auth import Principal, TokenVerifier
from crm_common.db import make_engine, make_reader, make_session_factory
from crm_common.http import BodyTooLarge, ServiceMiddleware
from crm_common.logging import configure_logging
from crm_common.messaging.consumer import ConsumerRunner
from crm_common.messaging.relay import OutboxRelay
from crm_common.metrics import metrics_endpoint
from crm_common.settings import Settings

log = logging.getLogger("crm.service")


@dataclass
class Runtime:
    """What a running service holds: handed to the GraphQL context and consumers."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    reader: AsyncEngine
    relay: OutboxRelay | None = None
    consumers: ConsumerRunner | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)


T = TypeVar("T")

#: builds the GraphQL context of a request (its lifespan state is ``request.state``)
ContextFactory = Callable[[Request, Principal, Runtime], Awaitable[Any] | Any]
ConsumerSetup = Callable[[ConsumerRunner, Runtime], None]
#: a readiness check of the service's own; it finds its resources in ``request.state``
ReadyCheck = Callable[[Request], Awaitable[bool]]
#: entered once the runtime exists, left before the engine is disposed (own resources, workers);
#: what it yields (a mapping, or None) is added to the lifespan state beside ``runtime``
ExtraLifespan = Callable[
    [Runtime], contextlib.AbstractAsyncContextManager[Mapping[str, Any] | None]]

#: the lifespan state's key of the :class:`Runtime`
RUNTIME = "runtime"


def state_of(request: Request, name: str, kind: type[T]) -> T:
    """``request.state.<name>``, put there by the lifespan; a clear error outside it."""
    value = getattr(request.state, name, None)
    if not isinstance(value, kind):
        raise RuntimeError(f"no {name} in the lifespan state: the service is not started")
    return value


def runtime_of(request: Request) -> Runtime:
    """The running service's :class:`Runtime`, from the request's lifespan state."""
    return state_of(request, RUNTIME, Runtime)


class _GraphQLApp(GraphQL[Any, Any]):
    def __init__(
        self,
        schema: strawberry.Schema,
        make_context: ContextFactory,
        development: bool,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if development else None,
            allow_queries_via_get=False,
        )
        self._make_context = make_context

    def decode_json(self, data: str | bytes) -> object:
        """The request body; JSON nested deeper than the decoder's recursion allows (a
        5,000-deep array in the variables) is the client's mistake, answered 400, not a 500."""
        try:
            return super().decode_json(data)
        except RecursionError:
            raise HTTPException(400, "Request body is nested too deeply to be read as JSON") \
                from None

    async def get_context(self, request: Request, response: Any) -> Any:  # type: ignore[override]
        principal = state_of(request, "principal", Principal)
        ctx = self._make_context(request, principal, runtime_of(request))
        if asyncio.iscoroutine(ctx):
            ctx = await ctx
        return ctx

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except BodyTooLarge as exc:
            await JSONResponse(
                {"errors": [{"message": str(exc), "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]},
                status_code=413,
            )(scope, receive, send)


def create_service_app(
    settings: Settings,
    schema: strawberry.Schema,
    *,
    make_context: ContextFactory,
    setup_consumers: ConsumerSetup | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    extra_lifespan: ExtraLifespan | None = None,
    body_limit_exempt: tuple[str, ...] = (),
    ready_checks: Mapping[str, ReadyCheck] | None = None,
) -> ServiceMiddleware:
    """``extra_routes`` are served beside ``/graphql`` (no bearer token is checked on them: they
    authorise requests themselves; they find the runtime with :func:`runtime_of`);
    ``extra_lifespan(runtime)`` is entered after the runtime is built and left before it is torn
    down, and the mapping it yields joins the lifespan state (``request.state``); paths
    starting with a prefix in ``body_limit_exempt`` are not held to ``MAX_BODY_BYTES`` (their
    route enforces its own limit while reading);
    ``ready_checks`` are more dependencies ``/readyz`` reports (name → async check of the
    request, returning True when usable; an exception or 2 s without an answer counts as not
    ready)."""
    configure_logging(settings.service_name, settings.log_level)
    verifier = TokenVerifier(settings.jwt_public_key, settings.jwt_issuer, settings.jwt_audience)
    graphql_app = _GraphQLApp(schema, make_context, settings.development)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        runtime = Runtime(settings, engine, make_session_factory(engine), make_reader(engine))
        if settings.run_relay:
            runtime.relay = OutboxRelay(
                engine, settings.amqp_url, exchange=settings.events_exchange,
                service_name=settings.service_name,
            )
            runtime.tasks.append(asyncio.create_task(runtime.relay.run(runtime.stop)))
        runtime.tasks.append(asyncio.create_task(idempotency.run_sweeper(engine, runtime.stop)))
        if settings.run_consumers and setup_consumers is not None:
            runtime.consumers = ConsumerRunner(
                engine,
                settings.amqp_url,
                exchange=settings.events_exchange,
                service_name=settings.service_name,
                queue_prefix=settings.queue_prefix,
            )
            setup_consumers(runtime.consumers, runtime)
            runtime.tasks.append(asyncio.create_task(runtime.consumers.run(runtime.stop)))
        # Objects alive after start-up (schema, modules) live as long as the process: move them
        # out of the collector's view so that full collections, which stall the event loop,
        # scan only what requests allocate.
        gc.collect()
        gc.freeze()
        log.info("service %s started on %s:%s", settings.service_name, settings.host, settings.port)
        try:
            if extra_lifespan is None:
                yield {RUNTIME: runtime}
            else:
                async with extra_lifespan(runtime) as extra:
                    yield {**(extra or {}), RUNTIME: runtime}
        finally:
            runtime.stop.set()
            if runtime.tasks:
                done, pending = await asyncio.wait(runtime.tasks, timeout=10)
                for task in pending:
                    task.cancel()
            await engine.dispose()
            log.info("service %s stopped", settings.service_name)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "alive", "service": settings.service_name})

    async def readyz(request: Request) -> Response:
        runtime = getattr(request.state, RUNTIME, None)
        checks: dict[str, bool] = {"database": False, "broker": False, "consumers": False}
        if runtime is not None:
            try:
                async with runtime.engine.connect() as conn:
                    await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=2)
                checks["database"] = True
            except Exception:  # noqa: BLE001 - readiness reports, it does not raise
                log.warning("readiness: database unreachable", exc_info=True)
            checks["broker"] = runtime.relay.healthy if runtime.relay is not None else True
            checks["consumers"] = (
                runtime.consumers.attached if runtime.consumers is not None else True
            )
        for name, check in (ready_checks or {}).items():
            try:
                checks[name] = bool(await asyncio.wait_for(check(request), timeout=2))
            except Exception:  # noqa: BLE001 - readiness reports, it does not raise
                log.warning("readiness: %s unreachable", name, exc_info=True)
                checks[name] = False
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/graphql", _GraphQLEndpoint(graphql_app), methods=["GET", "POST"]),
            *extra_routes,
        ],
        lifespan=lifespan,
    )
    return ServiceMiddleware(
        app,
        service=settings.service_name,
        verifier=verifier,
        max_body_bytes=settings.max_body_bytes,
        body_limit_exempt=body_limit_exempt,
    )


class _GraphQLEndpoint:
    """A plain ASGI endpoint, so that Starlette's Route passes scope/receive/send through."""

    def __init__(self, graphql_app: _GraphQLApp) -> None:
        self.graphql_app = graphql_app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.graphql_app.handle(scope, receive, send)
