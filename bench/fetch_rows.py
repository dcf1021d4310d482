"""What one DataLoader read costs the service in CPU: SQLAlchemy's ``execute`` against
``crm_common.db.fetch_rows`` (the same statement sent through asyncpg on a pooled connection), and
asyncpg alone on a connection of its own (the floor), issue 15.

    flock /tmp/crm-bench.lock uv run python bench/fetch_rows.py [--database-url URL] [--n 3000]

The statement is a dossier's addresses for 8 clients (``client_queries._ADDRESSES``, ~16 rows)
on the morning's clients database (``bench/reps_morning.py fill``). Each way runs ``--n`` times
after 200 of warm-up, twice, interleaved; the figure is the process's CPU time per read (so the
database's own work is not in it). Prints one line per way and round.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from crm_clients.adapters.tables import clients
from crm_clients.service_layer.client_queries import _ADDRESSES
from crm_common.db import _Prepared, fetch_rows, make_engine, make_reader

DEFAULT = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_morning_bench"


async def cpu_per_call(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    for _ in range(200):
        await fn()
    started = time.process_time()
    for _ in range(n):
        await fn()
    return (time.process_time() - started) / n * 1e6


async def main(args: argparse.Namespace) -> None:
    engine = make_engine(args.database_url, pool_size=4)
    reader = make_reader(engine)
    async with reader.connect() as conn:
        ids = [r[0] for r in (await conn.execute(select(clients.c.id).limit(8))).all()]
    params = {"ids": ids}
    dsn = make_url(args.database_url).set(drivername="postgresql").render_as_string(
        hide_password=False)
    own = await asyncpg.connect(dsn)
    sql = _Prepared(reader, _ADDRESSES).sql

    async def sqlalchemy_execute() -> list[Any]:
        async with reader.connect() as conn:
            return list((await conn.execute(_ADDRESSES, params)).mappings())

    async def crm_fetch_rows() -> list[Any]:
        return await fetch_rows(reader, _ADDRESSES, params)

    async def asyncpg_alone() -> list[Any]:
        return await own.fetch(sql, ids)

    rows = {len(await f()) for f in (sqlalchemy_execute, crm_fetch_rows, asyncpg_alone)}
    assert len(rows) == 1, rows
    print(f"{rows.pop()} rows per read, {args.n} reads per figure, CPU µs per read:")
    try:
        for round_ in (1, 2):
            for name, fn in (("SQLAlchemy execute + mappings", sqlalchemy_execute),
                             ("crm_common.db.fetch_rows", crm_fetch_rows),
                             ("asyncpg alone (own connection)", asyncpg_alone)):
                print(f"  round {round_}  {name:32s} {await cpu_per_call(fn, args.n):6.0f}")
    finally:
        await own.close()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT)
    parser.add_argument("--n", type=int, default=3000)
    asyncio.run(main(parser.parse_args()))
