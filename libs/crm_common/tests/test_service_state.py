"""Resources reach code through the lifespan state (crm_common.service): the GraphQL context,
extra routes and readiness checks find the runtime and the service's own resources in
``request.state``. A real uvicorn server over the session's throw-away database."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crm_common.auth import Principal
from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.service import Runtime, create_service_app, runtime_of, state_of
from crm_common.settings import Settings
from crm_common.testing import serving
from crm_dev.procs import free_port

PRIVATE, PUBLIC = generate_key_pair()


@dataclass(frozen=True)
class Store:
    """Stands for a service's own resource (the tasks service's attachment store)."""

    name: str
    open: bool = True


@dataclass
class Context:
    runtime: Runtime
    store: Store
    principal: Principal


@strawberry.type
class Query:
    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        ctx: Context = info.context
        return f"{ctx.runtime.settings.service_name}/{ctx.store.name}/{ctx.principal.subject}"


@pytest.fixture
async def served(engine: AsyncEngine) -> AsyncIterator[tuple[str, list[str]]]:
    port = free_port()
    settings = Settings.from_env("statetest", port, environ={
        "JWT_PUBLIC_KEY": PUBLIC, "CRM_ENV": "test", "RUN_RELAY": "false",
        "RUN_CONSUMERS": "false",
        "DATABASE_URL": engine.url.render_as_string(hide_password=False)})
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def own(runtime: Runtime) -> AsyncIterator[dict[str, Any]]:
        events.append(f"opened for {runtime.settings.service_name}")
        yield {"store": Store("gridfs")}
        events.append("closed")

    def make_context(request: Request, principal: Principal, runtime: Runtime) -> Context:
        return Context(runtime, state_of(request, "store", Store), principal)

    async def extra(request: Request) -> Response:
        return JSONResponse({"service": runtime_of(request).settings.service_name,
                             "store": state_of(request, "store", Store).name})

    async def store_ready(request: Request) -> bool:
        return state_of(request, "store", Store).open

    app = create_service_app(
        settings, strawberry.federation.Schema(query=Query), make_context=make_context,
        extra_routes=[Route("/extra", extra)], extra_lifespan=own,
        ready_checks={"store": store_ready})
    async with serving(app, port) as url:
        yield url, events
    assert events == ["opened for statetest", "closed"]


async def test_the_context_routes_and_checks_read_the_lifespan_state(
        served: tuple[str, list[str]]) -> None:
    url, events = served
    me = uuid.uuid4()
    token = mint_token(PRIVATE, subject=me, roles=["manager"])
    async with httpx.AsyncClient(base_url=url) as http:
        answer = await http.post("/graphql", json={"query": "{ where }"},
                                 headers={"authorization": f"Bearer {token}"})
        assert answer.json() == {"data": {"where": f"statetest/gridfs/{me}"}}
        assert (await http.get("/extra")).json() == {"service": "statetest", "store": "gridfs"}
        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": True, "store": True}
        details = await http.get("/healthz/details")
        assert details.status_code == 200
        assert details.json()["checks"] == {"database": True, "store": True}
    assert events == ["opened for statetest"]


def test_outside_a_lifespan_there_is_no_runtime() -> None:
    request = Request({"type": "http", "state": {}})
    with pytest.raises(RuntimeError, match="no runtime in the lifespan state"):
        runtime_of(request)


CLOSED_BROKER = "amqp://guest:guest@127.0.0.1:1/"  # nothing listens there


async def test_a_broker_outage_leaves_the_service_ready_and_shows_in_the_details(
        engine: AsyncEngine) -> None:
    """Issue 14: /readyz went 503 on every service for a whole RabbitMQ outage although every
    mutation kept succeeding through the outbox."""
    port = free_port()
    settings = Settings.from_env("brokerless", port, environ={
        "JWT_PUBLIC_KEY": PUBLIC, "CRM_ENV": "test", "RUN_RELAY": "true",
        "RUN_CONSUMERS": "true", "AMQP_URL": CLOSED_BROKER,
        "DATABASE_URL": engine.url.render_as_string(hide_password=False)})

    def consumers(runner: Any, _runtime: Runtime) -> None:
        async def handler(session: Any, envelope: Any) -> None:
            return None

        runner.register("work", ["crm.test.#"], handler)

    app = create_service_app(settings, strawberry.federation.Schema(query=Query),
                             make_context=lambda *a: None, setup_consumers=consumers)
    async with serving(app, port) as url, httpx.AsyncClient(base_url=url) as http:
        for _ in range(200):  # until the relay has tried the database and the broker once
            relay = (await http.get("/healthz/details")).json()["checks"]["relay"]
            if relay["lastError"] is not None and relay["database"]:
                break
            await asyncio.sleep(0.05)
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": True}
        details = await http.get("/healthz/details")
        assert details.status_code == 503
        checks = details.json()["checks"]
        assert checks["database"] is True
        assert checks["relay"]["broker"] is False and checks["relay"]["database"] is True
        assert checks["relay"]["lastErrorSide"] == "broker"
        assert checks["consumers"] == {"attached": False, "queues": ["brokerless.work"]}
        metrics = (await http.get("/metrics")).text
        assert 'crm_broker_connected{role="relay",service="brokerless"} 0.0' in metrics
        assert 'crm_broker_connected{role="consumer",service="brokerless"} 0.0' in metrics


async def test_the_relay_process_serves_health_and_relays(engine: AsyncEngine) -> None:
    """``crm-<service> relay``: the relay alone, with the health routes and metrics."""
    from crm_common.service import create_relay_app

    port = free_port()
    settings = Settings.from_env("relayonly", port, environ={
        "JWT_PUBLIC_KEY": PUBLIC, "CRM_ENV": "test", "RUN_RELAY": "false",
        "AMQP_URL": "amqp://guest:guest@127.0.0.1:5672/",
        "EVENTS_EXCHANGE": f"test.relayonly.{uuid.uuid4().hex[:8]}",
        "DATABASE_URL": engine.url.render_as_string(hide_password=False)})
    async with serving(create_relay_app(settings), port) as url, \
            httpx.AsyncClient(base_url=url) as http:
        for _ in range(200):
            details = await http.get("/healthz/details")
            if details.status_code == 200:
                break
            await asyncio.sleep(0.05)
        assert details.status_code == 200, details.text
        relay = details.json()["checks"]["relay"]
        assert relay["broker"] is True and relay["database"] is True
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get("/graphql")).status_code == 404  # no API in this process
        assert 'crm_broker_connected{role="relay",service="relayonly"} 1.0' in \
            (await http.get("/metrics")).text
    import aio_pika  # the relay declared its exchange and archive queue: remove them

    conn = await aio_pika.connect("amqp://guest:guest@127.0.0.1:5672/")
    try:
        ch = await conn.channel()
        await ch.queue_delete(f"{settings.events_exchange}.archive")
        await ch.exchange_delete(settings.events_exchange)
    finally:
        await conn.close()
