"""The service engine's pool (crm_common.db.make_engine) against the real PostgreSQL: more
concurrent checkouts than the pool keeps wait for a kept connection; no connection is opened
and closed under load (issue 15: overflow connections were closed on return, so the dossier at
concurrency 16 opened a new backend every few requests)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.db import make_engine, make_reader

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_a_burst_past_the_pool_reuses_the_kept_connections(engine: AsyncEngine) -> None:
    pooled = make_engine(engine.url.render_as_string(hide_password=False), pool_size=3)
    reader = make_reader(pooled)
    backends: list[int] = []

    async def checkout() -> None:
        async with reader.connect() as conn:
            backends.append(int((await conn.execute(
                sa.text("SELECT pg_backend_pid() FROM pg_sleep(0.02)"))).scalar_one()))

    try:
        for _ in range(3):  # three bursts of 24 checkouts, 8 times what the pool keeps
            await asyncio.gather(*(checkout() for _ in range(24)))
        assert len(backends) == 72
        assert len(set(backends)) <= 3
        assert pooled.pool.checkedout() == 0
    finally:
        await pooled.dispose()
