"""What a pool checkout costs with each way of noticing a connection the database dropped
(issue 14): none, the kit's closed-connection check (``crm_common.db.make_engine``), and
SQLAlchemy's ``pool_pre_ping``.

    flock /tmp/crm-bench.lock uv run python bench/pool_checkout.py [--rounds 3] [--n 4000]

Each mode: 8 concurrent workers check out a connection of an autocommit engine (as the
services' DataLoaders do) and run ``SELECT 1``, ``--n`` times in all after a warm-up; printed
is this process's CPU time (user + system) and the wall time per checkout + query. Needs
PostgreSQL on 127.0.0.1:5432 (trust auth); touches no database but ``postgres``.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from crm_common.db import make_engine

URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
STMT = sa.text("SELECT 1")


def engine_for(mode: str, size: int) -> AsyncEngine:
    if mode == "closed-check":
        base = make_engine(URL, pool_size=size)
    else:
        base = create_async_engine(URL, pool_size=size, pool_pre_ping=mode == "pre-ping")
    return base.execution_options(isolation_level="AUTOCOMMIT")


async def run(mode: str, n: int, workers: int) -> tuple[float, float]:
    engine = engine_for(mode, workers)

    async def worker(k: int) -> None:
        for _ in range(k):
            async with engine.connect() as conn:
                await conn.execute(STMT)

    await asyncio.gather(*(worker(50) for _ in range(workers)))
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(worker(n // workers) for _ in range(workers)))
    r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await engine.dispose()
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return cpu / n * 1e6, (t1 - t0) / n * 1e6


async def main(args: Any) -> None:
    for round_ in range(args.rounds):
        for mode in ("none", "closed-check", "pre-ping"):
            cpu, wall = await run(mode, args.n, args.workers)
            print(f"round {round_}  {mode:12s}  CPU {cpu:6.1f} µs  wall {wall:6.1f} µs "
                  "per checkout + SELECT 1")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=8)
    asyncio.run(main(parser.parse_args()))
