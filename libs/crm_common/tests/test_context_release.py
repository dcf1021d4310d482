"""A GraphQL request's context is released once its answer is sent (issue 15): graphql-core's and
Strawberry's execution objects refer to each other in cycles and to the context, so without the
release the context, its DataLoaders and every row they read stayed alive until the cyclic
garbage collector ran. A real uvicorn server, with the collector switched off while it answers."""

from __future__ import annotations

import contextlib
import gc
import uuid
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from strawberry.dataloader import DataLoader

from crm_common.auth import Principal
from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.graphql.context import RequestContext
from crm_common.service import GC_THRESHOLDS, Runtime, create_service_app
from crm_common.settings import Settings
from crm_common.testing import serving
from crm_dev.procs import free_port

PRIVATE, PUBLIC = generate_key_pair()


class Row:
    """Stands for a row a loader read (weakly referable, unlike asyncpg's records)."""

    def __init__(self, key: int) -> None:
        self.key = key


#: what the test looks at after the answer: weak references only
seen: dict[str, Any] = {}


@dataclass
class Context(RequestContext):
    rows: DataLoader[int, Row] = field(init=False)

    def __post_init__(self) -> None:
        async def load(keys: list[int]) -> list[Row]:
            rows = [Row(k) for k in keys]
            seen.setdefault("rows", []).extend(weakref.ref(r) for r in rows)
            return rows

        self.rows = DataLoader(load_fn=load)
        seen["context"] = weakref.ref(self)
        seen["loader"] = weakref.ref(self.rows)


@strawberry.type
class Query:
    @strawberry.field
    async def keys(self, info: strawberry.Info, n: int, fail: bool = False) -> list[int]:
        ctx: Context = info.context
        rows = [await ctx.rows.load(k) for k in range(n)]
        if fail:
            raise ValueError("a fault after the reads")
        return [r.key for r in rows]


@pytest.fixture
async def served(engine: AsyncEngine) -> AsyncIterator[str]:
    settings = Settings.from_env("releasetest", free_port(), environ={
        "JWT_PUBLIC_KEY": PUBLIC, "CRM_ENV": "test", "RUN_RELAY": "false",
        "RUN_CONSUMERS": "false",
        "DATABASE_URL": engine.url.render_as_string(hide_password=False)})

    def make_context(_request: Request, principal: Principal, runtime: Runtime) -> Context:
        return Context(principal=principal, runtime=runtime)

    app = create_service_app(settings, strawberry.federation.Schema(query=Query),
                             make_context=make_context)
    async with serving(app, settings.port) as url:
        yield url


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _assert_released() -> None:
    """The request's context is empty (the object itself may still sit in the execution's
    cycles) and its loader, with its cache, is gone."""
    context = seen["context"]()
    assert context is None or vars(context) == {}
    assert seen["loader"]() is None


def _headers() -> dict[str, str]:
    token = mint_token(PRIVATE, subject=uuid.uuid4(), roles=["sales_rep"])
    return {"authorization": f"Bearer {token}"}


async def test_the_rows_a_request_read_are_freed_when_it_is_answered(served: str) -> None:
    seen.clear()
    async with httpx.AsyncClient(base_url=served) as http:
        with collector_off():
            answer = await http.post("/graphql", json={"query": "{ keys(n: 3) }"},
                                     headers=_headers())
            assert answer.json() == {"data": {"keys": [0, 1, 2]}}
            _assert_released()
            assert [r() for r in seen["rows"]] == [None, None, None]


async def test_a_request_that_fails_releases_its_context_too(served: str) -> None:
    seen.clear()
    async with httpx.AsyncClient(base_url=served) as http:
        with collector_off():
            answer = await http.post("/graphql", json={"query": "{ keys(n: 2, fail: true) }"},
                                     headers=_headers())
            body = answer.json()
            assert body["data"] is None and body["errors"]
            # what the failed resolver's own frame held (its traceback is kept with the
            # error, in a cycle) waits for the collector
            _assert_released()


async def test_a_released_context_says_so_when_used() -> None:
    ctx = Context.__new__(Context)
    ctx.__dict__["principal"] = object()
    ctx.release()
    with pytest.raises(AttributeError):
        _ = ctx.principal


async def test_the_service_sets_the_collector_s_thresholds(served: str) -> None:
    assert gc.get_threshold() == GC_THRESHOLDS
