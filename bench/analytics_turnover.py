"""A client's 24-month turnover by product group at 100,000 and at 10,000,000 invoice lines
(issue 10: p50 ≤ 20 ms through the gateway, and at 10M within 1.5× of the same at 100k).

    uv run python bench/analytics_turnover.py [--sizes 100000 10000000] [--requests 300]
                                              [--no-gateway] [--drop]

What a query reads is the monthly rollups, never the lines (DESIGN: "never recomputed from all
lines on a read"), so each size is the rollups and document headers a ledger of that many invoice
lines leaves, written with ``generate_series`` (clients = lines / 2,000: 50 at 100k, 5,000 at 10M;
each client buys ~70 of 296 products in 20 groups every month for 24 months — 8.4 million item
rows and 120,000 month rows at 10M; one document header per 10 lines). The import's own speed is
``bench/analytics_ingest.py``.

For each size: a bench database ``crm_analytics_bench_<size>`` (the service's migrations), filled,
ANALYZEd; then ``crm-analytics serve`` on it as a separate process and, unless ``--no-gateway``,
the Hive Gateway in front of it (the committed supergraph; only the analytics subgraph is asked);
``--requests`` sequential requests of

    turnover(filter: {clientIds: [X]}, from: <24 months ago>, to: <this month>,
             groupBy: PRODUCT_GROUP) { rows { key name figures { turnover { amount } quantity }
             share yearOnYear { changePercent } } }

for random clients, as a manager, over HTTP keep-alive; prints p50/p90/p99 ms for the subgraph and
for the gateway, and the CPU time the service and the gateway (all its processes) spent per
request (from ``/proc``: on a machine shared with other work the latencies swing with the load,
the CPU per request much less). The databases are kept for re-runs unless ``--drop``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import text

from crm_analytics.cli import migrate
from crm_common.db import drop_database, make_engine
from crm_common.devkeys import generate_key_pair, mint_token
from crm_dev import procs

ROOT = Path(__file__).resolve().parents[1]
BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
LINES_PER_CLIENT = 2_000

QUERY = """query($c: ID!, $from: Date!, $to: Date!) {
  turnover(filter: {clientIds: [$c]}, from: $from, to: $to, groupBy: PRODUCT_GROUP) {
    rows { key name figures { turnover { amount } quantity } share
           yearOnYear { changePercent } } } }"""

FILL = """
INSERT INTO erp_product_groups (code, name)
SELECT 'G' || lpad(g::text, 2, '0'), 'Група ' || g FROM generate_series(1, 20) g
ON CONFLICT DO NOTHING;
INSERT INTO erp_products (code, name, group_code, unit, vat_rate, active, version, event_time)
SELECT 'P' || lpad(p::text, 3, '0'), 'Продукт ' || p, 'G' || lpad((p % 20 + 1)::text, 2, '0'),
       'бр.', 20, true, 1, now()
FROM generate_series(1, 296) p ON CONFLICT DO NOTHING;
INSERT INTO turnover_items_monthly
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid,
       (date_trunc('month', now()) - make_interval(months => m))::date,
       'G' || lpad((p % 20 + 1)::text, 2, '0'), 'P' || lpad(p::text, 3, '0'),
       round((50 + random() * 950)::numeric, 2), 0, (1 + floor(random() * 40))::numeric, 0,
       round((50 + random() * 950)::numeric, 2), (1 + floor(random() * 40))::numeric
FROM generate_series(1, :clients) c, generate_series(0, 23) m,
     LATERAL (SELECT ((c * 7 + m * 13 + k * 4) % 296) + 1 AS p
              FROM generate_series(1, 70) k) products
ON CONFLICT DO NOTHING;
INSERT INTO turnover_groups_monthly
SELECT client_id, month, product_group_code, sum(invoiced_net), 0, sum(invoiced_quantity), 0,
       sum(ordered_net), sum(ordered_quantity)
FROM turnover_items_monthly GROUP BY client_id, month, product_group_code
ON CONFLICT DO NOTHING;
INSERT INTO turnover_monthly
SELECT client_id, month, sum(invoiced_net), 0, sum(invoiced_quantity), 0, sum(ordered_net),
       sum(ordered_quantity), 8, 0, 8
FROM turnover_items_monthly GROUP BY client_id, month
ON CONFLICT DO NOTHING;
INSERT INTO erp_documents (doc_type, erp_id, kind, number, status, doc_date, due_date,
    client_id, currency, net_amount, net_amount_eur, gross_amount, gross_amount_eur, quantity,
    line_count, lines, version, event_id, event_time)
SELECT 'invoice', 'D' || lpad(d::text, 10, '0'), 'invoice', lpad(d::text, 10, '0'), 'posted',
       (now() - make_interval(days => d % 730))::date,
       (now() - make_interval(days => d % 730 - 30))::date,
       ('00000000-0000-4000-8000-' || lpad(to_hex(d % :clients + 1), 12, '0'))::uuid,
       'EUR', 1000, 1000, 1200, 1200, 10, 10, '[]'::jsonb, 1, 'e' || d,
       now() - make_interval(mins => d % 100000)
FROM generate_series(1, :documents) d
ON CONFLICT DO NOTHING;
"""


def _db(size: int) -> str:
    return f"crm_analytics_bench_{size}"


def client_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012x}"


async def fill(url: str, size: int) -> int:
    clients = max(1, size // LINES_PER_CLIENT)
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            have = await conn.scalar(text("SELECT count(*) FROM turnover_monthly"))
            if have:
                print(f"  {_db(size)}: already filled ({have:,} month rows)")
                return clients
            started = time.perf_counter()
            for statement in FILL.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement), {"clients": clients,
                                                         "documents": size // 10})
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
            items = await conn.scalar(text("SELECT count(*) FROM turnover_items_monthly"))
        print(f"  filled {_db(size)}: {clients:,} clients, {items:,} item rows, "
              f"{size // 10:,} document headers in {time.perf_counter() - started:.0f} s")
    finally:
        await engine.dispose()
    return clients


def _gateway_module():  # type: ignore[no-untyped-def]
    path = ROOT / "gateway" / "gateway_process.py"
    spec = importlib.util.spec_from_file_location("gateway_process", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_ms(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far, in ms (0 without ``/proc``)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def process_group(leader: int) -> list[int]:
    """The processes of ``leader``'s process group (the gateway forks a worker)."""
    try:
        group = os.getpgid(leader)
    except ProcessLookupError:
        return []
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            try:
                if os.getpgid(int(entry)) == group:
                    found.append(int(entry))
            except OSError:
                pass
    return found


def measure(url: str, token: str, clients: int, requests: int) -> list[float]:
    rng = random.Random(1)
    today = time.gmtime()
    to = f"{today.tm_year:04d}-{today.tm_mon:02d}-01"
    year, month = today.tm_year - 2, today.tm_mon + 1
    if month > 12:
        year, month = year + 1, 1
    start = f"{year:04d}-{month:02d}-01"
    times = []
    with httpx.Client(timeout=30, headers={"authorization": f"Bearer {token}"}) as http:
        for i in range(requests + 20):
            variables = {"c": client_id(rng.randrange(1, clients + 1)), "from": start, "to": to}
            began = time.perf_counter()
            response = http.post(url, json={"query": QUERY, "variables": variables})
            elapsed = (time.perf_counter() - began) * 1000
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, body
            assert body["data"]["turnover"]["rows"], "no rows: the fill did not work"
            if i >= 20:  # warm-up
                times.append(elapsed)
    return times


def report(name: str, times: list[float], cpu: dict[str, float]) -> dict[str, float]:
    q = statistics.quantiles(times, n=100)
    figures = {"p50": statistics.median(times), "p90": q[89], "p99": q[98]}
    used = "   CPU/request " + ", ".join(f"{k} {v:.2f} ms" for k, v in cpu.items())
    print(f"    {name:9} p50 {figures['p50']:6.1f} ms   p90 {figures['p90']:6.1f} ms   "
          f"p99 {figures['p99']:6.1f} ms   ({len(times)} requests){used}")
    return figures


def measured(name: str, url: str, token: str, clients: int, requests: int,
             processes: dict[str, list[int]]) -> dict[str, float]:
    """:func:`measure`, reported with the CPU each process group spent per request (warm-up
    included in the count and the time)."""
    before = {k: cpu_ms(pids) for k, pids in processes.items()}
    times = measure(url, token, clients, requests)
    cpu = {k: (cpu_ms(pids) - before[k]) / (requests + 20) for k, pids in processes.items()}
    return report(name, times, cpu)


def run_size(size: int, args: argparse.Namespace, keys: tuple[str, str]) -> dict[str, object]:
    url = BASE + _db(size)
    migrate(url)
    clients = asyncio.run(fill(url, size))
    private, public = keys
    key_file = ROOT / ".crm" / "bench_jwt_public.pem"
    key_file.parent.mkdir(exist_ok=True)
    key_file.write_text(public)
    port = procs.free_port()
    env = {**os.environ, "DATABASE_URL": url, "SERVICE_PORT": str(port), "CRM_ENV": "test",
           "JWT_PUBLIC_KEY_FILE": str(key_file), "RUN_CONSUMERS": "false", "RUN_RELAY": "false",
           "RUN_TURNOVER_EVENTS": "false", "LOG_LEVEL": "WARNING"}
    service = subprocess.Popen([sys.executable, "-m", "crm_analytics.cli", "serve"], env=env)
    gateway = None
    result: dict[str, object] = {"size": size, "clients": clients}
    try:
        subgraph = f"http://127.0.0.1:{port}/graphql"
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        token = mint_token(private, subject=uuid.uuid4(), roles=["manager"])
        print(f"  {size:,} invoice lines ({clients:,} clients):")
        result["subgraph"] = measured("subgraph", subgraph, token, clients, args.requests,
                                      {"service": [service.pid]})
        if not args.no_gateway:
            gp = _gateway_module()
            gport = procs.free_port()
            gateway = gp.start_gateway(port=gport, env={
                "JWT_PUBLIC_KEY_FILE": str(key_file), "ANALYTICS_URL": subgraph,
                "CRM_ENV": "production", "LOG_LEVEL": "warn"})
            gp.wait_ready(gateway, port=gport)
            result["gateway"] = measured(
                "gateway", f"http://127.0.0.1:{gport}/graphql", token, clients, args.requests,
                {"service": [service.pid], "gateway": process_group(gateway.pid)})
    finally:
        if gateway is not None:
            _gateway_module().stop_gateway(gateway)
        service.terminate()
        service.wait(timeout=20)
        if args.drop:
            asyncio.run(drop_database(url))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 10_000_000])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--no-gateway", action="store_true")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    keys = generate_key_pair()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    results = [run_size(size, args, keys) for size in args.sizes]
    if len(results) >= 2 and "gateway" in results[0] and "gateway" in results[-1]:
        small, big = results[0]["gateway"], results[-1]["gateway"]
        assert isinstance(small, dict) and isinstance(big, dict)
        print(f"  gateway p50 ratio {results[-1]['size']:,} / {results[0]['size']:,}: "
              f"{big['p50'] / small['p50']:.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
