"""A client's timeline page at 10,000 and at 1,000,000 activities (issue 4: a page at 1M costs at
most 1.5 times what it costs at 10k).

    uv run python bench/activities_timeline.py [--sizes 10000 1000000] [--requests 400] [--drop]

For each size: a bench database ``crm_activities_bench_10k`` / ``crm_activities_bench_1m``
(migrated with the service's own migrations), filled with ``generate_series`` in one INSERT
(clients = size / 1,000, at least 100, so that a client's timeline grows with the data: 100 rows
each at 10k, 1,000 each at 1M), then ANALYZE. It measures the service's own query function
(``activity_queries.list_activities``, the SQL ``activities(filter: {clientId})`` sends, over the
same autocommit reader engine the service uses) for a manager and for a sales rep (whose page
carries the access rule), the first page and a page deep in the timeline (keyset cursor), 20 rows
a page; prints p50/p99 in ms and EXPLAIN (ANALYZE, BUFFERS) of the rep's deep page. The databases
are kept for re-runs unless ``--drop``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid

from sqlalchemy import event, text

from crm_activities.cli import migrate
from crm_activities.service_layer.activity_queries import ActivityFilter, list_activities
from crm_activities.service_layer.visibility import Access
from crm_common.auth import Principal
from crm_common.db import create_database_if_missing, drop_database, make_engine, make_reader

BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
REP = uuid.UUID("00000000-0000-4000-8000-00000000beef")
GRACE = dt.timedelta(hours=24)


def _name(size: int) -> str:
    return "crm_activities_bench_" + (f"{size // 1_000_000}m" if size >= 1_000_000
                                      else f"{size // 1000}k")


def _client(i: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{i:012x}")


FILL = """
INSERT INTO access_clients (client_id, code, name, owner_id, status, version)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid, 'C' || lpad(c::text, 6, '0'),
       'Клиент ' || c, CASE WHEN c % 10 = 0 THEN CAST(:rep AS uuid) ELSE NULL END, 'active', 1
FROM generate_series(0, :clients - 1) AS c;
INSERT INTO activities (id, client_id, employee_id, kind, direction, occurred_at,
                        duration_minutes, notes, created_by)
SELECT gen_random_uuid(),
       ('00000000-0000-4000-8000-' || lpad(to_hex(i % :clients), 12, '0'))::uuid,
       CASE WHEN i % 7 = 0 THEN CAST(:rep AS uuid) ELSE gen_random_uuid() END,
       (ARRAY['visit','phone_call','email','meeting','message'])[1 + i % 5], 'outbound',
       now() - make_interval(mins => i), 1 + i % 90,
       'Бележка ' || i || ': договорени цени за следващото тримесечие',
       CASE WHEN i % 7 = 0 THEN CAST(:rep AS uuid) ELSE gen_random_uuid() END
FROM generate_series(1, :size) AS i;
"""


async def prepare(size: int) -> str:
    url = BASE + _name(size)
    await create_database_if_missing(url)
    await asyncio.to_thread(migrate, url)
    engine = make_engine(url, pool_size=2)
    clients = max(100, size // 1000)
    async with engine.begin() as conn:
        have = (await conn.execute(text("SELECT count(*) FROM activities"))).scalar_one()
        if have != size:
            await conn.execute(text("TRUNCATE activities, access_clients"))
            started = time.perf_counter()
            for statement in FILL.split(";"):
                if statement.strip():
                    await conn.execute(text(statement), {"rep": REP, "clients": clients,
                                                         "size": size})
            print(f"  filled {size:,} activities for {clients:,} clients in "
                  f"{time.perf_counter() - started:.1f} s")
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE activities"))
        await conn.execute(text("VACUUM ANALYZE access_clients"))
    await engine.dispose()
    return url


async def measure(url: str, size: int, requests: int) -> dict[str, tuple[float, float]]:
    engine = make_engine(url, pool_size=4)
    reader = make_reader(engine)
    client = _client(10)  # owned by the rep: the rep's page applies the rule and finds rows
    now = dt.datetime.now(dt.UTC)
    who = {"manager": Access(Principal(uuid.uuid4(), frozenset({"manager"})), now, GRACE),
           "rep": Access(Principal(REP, frozenset({"sales_rep"})), now, GRACE)}
    flt = ActivityFilter(client_id=client)
    per_client = size // max(100, size // 1000)
    # a cursor half-way down the client's timeline
    deep_after = None
    page = await list_activities(reader, who["manager"], flt, first=per_client // 2, after=None)
    deep_after = page.end_cursor
    results: dict[str, tuple[float, float]] = {}
    for role, access in who.items():
        for label, after in (("first page", None), ("deep page", deep_after)):
            for _ in range(20):  # warm-up: prepared statements, caches
                await list_activities(reader, access, flt, first=20, after=after)
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                got = await list_activities(reader, access, flt, first=20, after=after)
                times.append((time.perf_counter() - started) * 1000)
                assert len(got.rows) == 20
            times.sort()
            results[f"{role}, {label}"] = (statistics.median(times),
                                           times[int(len(times) * 0.99) - 1])
    captured: list[tuple[str, object]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _capture(_c, _cur, statement, parameters, _ctx, _many):  # noqa: ANN001
        captured.append((statement, parameters))

    await list_activities(reader, who["rep"], flt, first=20, after=deep_after)
    statement, parameters = captured[-1]
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        plan = await raw.driver_connection.fetch(  # type: ignore[union-attr]
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, *parameters)  # type: ignore[misc]
    print("  EXPLAIN of the rep's deep page:")
    for row in plan:
        print("    " + row[0])
    await engine.dispose()
    return results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--drop", action="store_true", help="drop the bench databases after")
    args = parser.parse_args()
    table: dict[int, dict[str, tuple[float, float]]] = {}
    for size in args.sizes:
        print(f"{size:,} activities ({_name(size)})")
        url = await prepare(size)
        table[size] = await measure(url, size, args.requests)
        if args.drop:
            await drop_database(url)
    print("\n| page | " + " | ".join(f"{s:,}: p50 / p99 ms" for s in args.sizes) + " | ratio p50 |")
    print("|---|" + "---|" * (len(args.sizes) + 1))
    for key in table[args.sizes[0]]:
        cells = [f"{table[s][key][0]:.2f} / {table[s][key][1]:.2f}" for s in args.sizes]
        ratio = table[args.sizes[-1]][key][0] / table[args.sizes[0]][key][0]
        print(f"| {key} | " + " | ".join(cells) + f" | {ratio:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
