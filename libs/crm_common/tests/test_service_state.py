"""Resources reach code through the lifespan state (crm_common.service): the GraphQL context,
extra routes and readiness checks find the runtime and the service's own resources in
``request.state``. A real uvicorn server over the session's throw-away database."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import strawberry
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from crm_common.auth import Principal
from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.service import Runtime, create_service_app, runtime_of, state_of
from crm_common.settings import Settings

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def served(engine: AsyncEngine) -> AsyncIterator[tuple[str, list[str]]]:
    port = _free_port()
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
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           access_log=False, lifespan="on"))
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}", events
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)
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
