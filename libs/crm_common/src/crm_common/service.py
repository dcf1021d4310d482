"""Builds a service's ASGI app: GraphQL, health, metrics, relay and consumers in one lifespan.

Health (decision, issue 14): ``/healthz`` says the process is alive; ``/readyz`` says it can serve
requests — its database answers, plus the service's own ``ready_checks`` (the tasks service's
file store) — and is what Kubernetes' readiness probe reads. The broker is *not* part of it:
mutations keep succeeding through the outbox while RabbitMQ is away, so a broker outage must not
take every pod out of its Service. ``/healthz/details`` reports everything, each part on its own
— the database, the relay (its database and broker sides separately, backlog, last error), the
consumers (attached or not), the own checks — answering 200 when all are well and 503 otherwise;
it is for operators and for start-up tooling that must wait for the consumers' queues to exist
(``./crm up``, the end-to-end tests), never a probe. The same states are metrics (``/metrics``).

:func:`create_relay_app` is the process ``crm-<service> relay`` runs (the relay alone, with the
same health routes and metrics), so that API replicas can run with ``RUN_RELAY=false``.

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
import functools
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson
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


#: The cyclic collector's thresholds in a service process (Python's default: 700, 10, 10). A
#: GraphQL request holds ~10,000 container objects alive while it runs (the rep's morning), so
#: with the default every request set off a dozen young collections that scanned its live
#: objects and promoted them to older generations, to be scanned again there: ~5 % of a
#: service's CPU after the request context was released (``RequestContext.release``), 1.1–1.4 %
#: with these (docs/benchmarks.md, "Fourth round"). A young collection now takes ~6 ms.
GC_THRESHOLDS = (10_000, 10, 10)

#: where ``get_context`` leaves the request's GraphQL context for ``handle`` to release
_CONTEXT_KEY = "crm.graphql_context"


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

    def encode_json(self, data: object) -> bytes:
        """The answer as UTF-8 JSON (orjson): ~5× faster than ``json.dumps`` on a dossier, and
        Cyrillic text goes out as itself (2 bytes a letter) instead of ``\\uXXXX`` escapes (6), so
        the gateway reads a third of the bytes (issue 15). GraphQL has already turned every
        value into a JSON type (the scalars serialise themselves)."""
        return orjson.dumps(data)

    async def get_context(self, request: Request, response: Any) -> Any:  # type: ignore[override]
        principal = state_of(request, "principal", Principal)
        ctx = self._make_context(request, principal, runtime_of(request))
        if asyncio.iscoroutine(ctx):
            ctx = await ctx
        request.scope[_CONTEXT_KEY] = ctx
        return ctx

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except BodyTooLarge as exc:
            await JSONResponse(
                {"errors": [{"message": str(exc), "extensions": {"code": "PAYLOAD_TOO_LARGE"}}]},
                status_code=413,
            )(scope, receive, send)
        finally:
            release = getattr(scope.pop(_CONTEXT_KEY, None), "release", None)
            if release is not None:
                release()


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
    ready). The consumer set-up is kept in the app's state (``consumer_setup``) for the
    command line's ``dlq`` tools."""
    configure_logging(settings.service_name, settings.log_level)
    verifier = TokenVerifier(settings.jwt_public_key, settings.jwt_issuer, settings.jwt_audience)
    graphql_app = _GraphQLApp(schema, make_context, settings.development)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        runtime = Runtime(settings, engine, make_session_factory(engine), make_reader(engine))
        if settings.run_relay:
            runtime.relay = outbox_relay(settings, engine)
            runtime.tasks.append(asyncio.create_task(runtime.relay.run(runtime.stop)))
        runtime.tasks.append(asyncio.create_task(idempotency.run_sweeper(engine, runtime.stop)))
        if settings.run_consumers and setup_consumers is not None:
            runtime.consumers = consumer_runner(settings, engine)
            setup_consumers(runtime.consumers, runtime)
            runtime.tasks.append(asyncio.create_task(runtime.consumers.run(runtime.stop)))
        # Objects alive after start-up (schema, modules) live as long as the process: move them
        # out of the collector's view so that full collections, which stall the event loop,
        # scan only what requests allocate.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
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

    app = Starlette(
        routes=[
            *health_routes(settings, ready_checks),
            Route("/graphql", _GraphQLEndpoint(graphql_app), methods=["GET", "POST"]),
            *extra_routes,
        ],
        lifespan=lifespan,
    )
    app.state.consumer_setup = setup_consumers  # what ``crm-<service> dlq`` declares
    return ServiceMiddleware(
        app,
        service=settings.service_name,
        verifier=verifier,
        max_body_bytes=settings.max_body_bytes,
        body_limit_exempt=body_limit_exempt,
    )


def outbox_relay(settings: Settings, engine: AsyncEngine) -> OutboxRelay:
    """The service's outbox relay, configured from its settings."""
    return OutboxRelay(engine, settings.amqp_url, exchange=settings.events_exchange,
                       service_name=settings.service_name)


def consumer_runner(settings: Settings, engine: AsyncEngine) -> ConsumerRunner:
    """The service's consumer runner (no registrations yet), configured from its settings."""
    return ConsumerRunner(
        engine,
        settings.amqp_url,
        exchange=settings.events_exchange,
        service_name=settings.service_name,
        queue_prefix=settings.queue_prefix,
        dead_letter_exchange=settings.dead_letter_exchange,
    )


async def _check(name: str, check: Callable[[], Awaitable[Any]]) -> bool:
    """Run one check within 2 s; an exception or no answer counts as False."""
    try:
        return bool(await asyncio.wait_for(check(), timeout=2))
    except Exception:  # noqa: BLE001 - health reports, it does not raise
        log.warning("health: %s unreachable", name, exc_info=True)
        return False


async def _database_answers(runtime: Runtime) -> bool:
    async with runtime.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return True


def health_routes(settings: Settings,
                  ready_checks: Mapping[str, ReadyCheck] | None = None) -> list[BaseRoute]:
    """``/healthz``, ``/readyz``, ``/healthz/details`` and ``/metrics`` (see the module
    docstring); they find the :class:`Runtime` in the lifespan state."""
    own = dict(ready_checks or {})

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "alive", "service": settings.service_name})

    async def serving_checks(request: Request) -> dict[str, bool]:
        runtime = getattr(request.state, RUNTIME, None)
        checks = {"database": False}
        if runtime is not None:
            checks["database"] = await _check("database", lambda: _database_answers(runtime))
        for name, check in own.items():
            checks[name] = await _check(name, functools.partial(check, request))
        return checks

    async def readyz(request: Request) -> Response:
        checks = await serving_checks(request)
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def details(request: Request) -> Response:
        checks: dict[str, Any] = dict(await serving_checks(request))
        runtime = getattr(request.state, RUNTIME, None)
        relay = runtime.relay if runtime is not None else None
        consumers = runtime.consumers if runtime is not None else None
        well = all(checks.values())
        if relay is not None:
            checks["relay"] = relay.details()
            well = well and relay.healthy
        if consumers is not None:
            checks["consumers"] = {"attached": consumers.attached,
                                   "queues": consumers.work_queue_names()}
            well = well and consumers.attached
        return JSONResponse(
            {"status": "ok" if well else "degraded", "service": settings.service_name,
             "checks": checks},
            status_code=200 if well else 503,
        )

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/healthz/details", details, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]


def create_relay_app(settings: Settings) -> Starlette:
    """The outbox relay as a process of its own (``crm-<service> relay``): the relay and the
    health routes, nothing else. ``RUN_RELAY`` is not consulted (this process *is* the relay);
    replicas may run side by side (``FOR UPDATE SKIP LOCKED``)."""
    configure_logging(settings.service_name, settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, Any]]:
        engine = make_engine(settings.database_url, pool_size=min(settings.db_pool_size, 5))
        runtime = Runtime(settings, engine, make_session_factory(engine), make_reader(engine))
        runtime.relay = outbox_relay(settings, engine)
        runtime.tasks.append(asyncio.create_task(runtime.relay.run(runtime.stop)))
        log.info("relay of %s started on %s:%s", settings.service_name, settings.host,
                 settings.port)
        try:
            yield {RUNTIME: runtime}
        finally:
            runtime.stop.set()
            _done, pending = await asyncio.wait(runtime.tasks, timeout=10)
            for task in pending:
                task.cancel()
            await engine.dispose()
            log.info("relay of %s stopped", settings.service_name)

    return Starlette(routes=health_routes(settings), lifespan=lifespan)


class _GraphQLEndpoint:
    """A plain ASGI endpoint, so that Starlette's Route passes scope/receive/send through."""

    def __init__(self, graphql_app: _GraphQLApp) -> None:
        self.graphql_app = graphql_app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.graphql_app.handle(scope, receive, send)
