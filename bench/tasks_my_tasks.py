"""The "my tasks" page at 1,000,000 tasks: p50 / p99 of the query the service sends, and EXPLAIN.

    uv run python bench/tasks_my_tasks.py [--size 1000000] [--requests 400] [--drop]

A bench database (``crm_tasks_bench_1m`` by default) is migrated with the service's migrations and
filled by one ``INSERT … SELECT … FROM generate_series`` (then ``VACUUM ANALYZE``) unless it
already holds ``--size`` tasks: 2,000 assignees (500 tasks each), due dates spread over two
years, 1 task in 3 a commitment to one of 20,000 clients (10 % of the clients owned by the
measured rep in the access projection). What is timed is the service's own query function
``task_queries.list_tasks`` over the autocommit reader engine the service uses — the SQL of
``tasks(filter: {assignedToMe: true}, first: 20, after: …)`` — for the rep (with the access rule)
and for a manager, first page and a page half-way down (keyset cursor). The database is kept
unless ``--drop``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid

from sqlalchemy import text

from crm_common.auth import Principal
from crm_common.db import drop_database, make_engine, make_reader
from crm_common.graphql.cursors import encode_cursor
from crm_tasks.cli import migrate
from crm_tasks.service_layer import task_queries

#: the access rule's grace period at ACCESS_GRACE_HOURS' default
GRACE = dt.timedelta(hours=24)

FILL = """
INSERT INTO tasks (id, number, title, kind, commitment_type, client_id, assignee_id, assigned_by,
                   due_date, priority, status, version, created_at, updated_at)
SELECT gen_random_uuid(), 'T' || lpad(g::text, 7, '0'), 'Задача ' || g,
       CASE WHEN g % 3 = 0 THEN 'commitment' ELSE 'general' END,
       CASE WHEN g % 3 = 0 THEN (ARRAY['new_contract','offer','sample','test_product','invoice',
                                       'other'])[1 + g % 6] END,
       CASE WHEN g % 3 = 0 THEN
            ('00000000-0000-4000-8000-' || lpad(to_hex(g % 20000), 12, '0'))::uuid END,
       ('00000000-0000-4000-9000-' || lpad(to_hex(g % 2000), 12, '0'))::uuid,
       ('00000000-0000-4000-9000-' || lpad(to_hex((g + 7) % 2000), 12, '0'))::uuid,
       DATE '2026-01-01' + (g::bigint * 7919 % 730)::int,
       (ARRAY['low','normal','high','urgent'])[1 + g % 4],
       (ARRAY['assigned','in_progress','in_production','on_hold','closed_confirmed',
              'closed_refused','cancelled'])[1 + g % 7],
       1, now(), now()
FROM generate_series(1, :size) AS g
"""
CLIENTS = """
INSERT INTO access_clients (client_id, code, name, owner_id, status, version)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid,
       'C' || lpad(c::text, 6, '0'), 'Клиент ' || c,
       CASE WHEN c % 10 = 0 THEN '00000000-0000-4000-9000-000000000001'::uuid
            ELSE ('00000000-0000-4000-9000-' || lpad(to_hex(2 + c % 1998), 12, '0'))::uuid END,
       'active', 1
FROM generate_series(0, 19999) AS c
"""
REP = uuid.UUID("00000000-0000-4000-9000-000000000001")


async def fill(url: str, size: int) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            have = (await conn.execute(text("SELECT count(*) FROM tasks"))).scalar_one()
        if have == size:
            print(f"{url.rsplit('/', 1)[1]}: {size:,} tasks already there")
            return
        started = time.perf_counter()
        async with engine.begin() as conn:
            await conn.execute(text("TRUNCATE tasks CASCADE"))
            await conn.execute(text("TRUNCATE access_clients"))
            await conn.execute(text(FILL), {"size": size})
            await conn.execute(text(CLIENTS))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE tasks"))
            await conn.execute(text("VACUUM ANALYZE access_clients"))
        print(f"filled {size:,} tasks in {time.perf_counter() - started:.1f} s")
    finally:
        await engine.dispose()


async def measure(url: str, requests: int) -> None:
    engine = make_engine(url, pool_size=2)
    reader = make_reader(engine)
    today = dt.date(2026, 11, 27)
    rep = Principal(REP, frozenset({"sales_rep"}))
    manager = Principal(uuid.uuid4(), frozenset({"manager"}))
    flt = task_queries.TaskFilter(assignee_id=REP)
    async with engine.connect() as conn:
        count = (await conn.execute(text("SELECT count(*) FROM tasks WHERE assignee_id = :a"),
                                    {"a": REP})).scalar_one()
        mid = (await conn.execute(text(
            "SELECT due_date, id FROM tasks WHERE assignee_id = :a ORDER BY due_date, id "
            "OFFSET :o LIMIT 1"), {"a": REP, "o": count // 2})).one()
    middle = encode_cursor([mid[0].isoformat(), str(mid[1])])
    print(f"the rep has {count} tasks of {await _total(engine):,}")
    print("| page (20 rows) | p50 ms | p99 ms |\n|---|---|---|")
    for label, who, after in (("rep, first page", rep, None), ("rep, deep page", rep, middle),
                              ("manager, first page", manager, None),
                              ("manager, deep page", manager, middle)):
        timings = []
        for i in range(requests + 20):
            started = time.perf_counter()
            page = await task_queries.list_tasks(reader, who, flt, first=20, after=after,
                                            today=today, grace=GRACE)
            if i >= 20:
                timings.append((time.perf_counter() - started) * 1000)
        assert len(page.rows) == 20
        timings.sort()
        print(f"| {label} | {statistics.median(timings):.2f} | "
              f"{timings[int(len(timings) * 0.99) - 1]:.2f} |")
    await explain(engine, rep, flt, today, middle)
    await engine.dispose()


async def _total(engine: object) -> int:
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        return int((await conn.execute(text("SELECT count(*) FROM tasks"))).scalar_one())


async def explain(engine: object, rep: Principal, flt: task_queries.TaskFilter, today: dt.date,
                  after: str) -> None:
    from sqlalchemy.dialects import postgresql

    statement = task_queries.list_statement(rep, flt, 20, today, grace=GRACE)
    compiled = statement.compile(dialect=postgresql.dialect(),
                                 compile_kwargs={"literal_binds": True})
    async with engine.connect() as conn:  # type: ignore[attr-defined]
        plan = (await conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}"))).scalars()
        print("\nEXPLAIN (rep, first page):\n" + "\n".join(plan))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--database", default="crm_tasks_bench_1m")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{args.database}"
    migrate(url)
    asyncio.run(fill(url, args.size))
    asyncio.run(measure(url, args.requests))
    if args.drop:
        asyncio.run(drop_database(url))


if __name__ == "__main__":
    main()
