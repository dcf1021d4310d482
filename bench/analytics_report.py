"""A grouped turnover report over the sales ledger for a quarter with year-on-year, through
``runReport`` (issue 13: p50 ≤ 300 ms through the gateway at 10,000,000 invoice lines).

    flock /tmp/crm-bench.lock uv run python bench/analytics_report.py [--sizes 10000000]
                                              [--requests 100] [--no-gateway] [--drop]

The ledger is the one ``bench/analytics_turnover.py`` builds (same databases,
``crm_analytics_bench_<size>``, the rollups a ledger of that many lines leaves: 5,000 clients at
10M, 24 months, ~70 products in 20 groups a month); this script adds the reporting read model's
clients (each in one of 50 client groups, owned by one of 100 reps) when they are missing. Then
``crm-analytics serve`` on it, the Hive Gateway in front, and ``--requests`` sequential
``runReport`` calls as a manager for each of these reports of the previous closed quarter beside
the same quarter a year earlier:

* ``by client group``: sum of turnover and share by client group (the client-month rollup);
* ``by product group``: sum of turnover by product group (the client-group-month rollup);

printing p50/p90/p99 and the CPU per request of the service and the gateway (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
from sqlalchemy import text

from crm_analytics.cli import migrate
from crm_common.db import drop_database, make_engine
from crm_common.devkeys import generate_key_pair, mint_token
from crm_dev import procs

ROOT = Path(__file__).resolve().parents[1]


def _turnover_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("analytics_turnover",
                                                  ROOT / "bench" / "analytics_turnover.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TB = _turnover_bench()

CLIENTS_FILL = """
INSERT INTO rm_client_groups (group_id, code, name, archived, version)
SELECT ('00000000-0000-4000-9000-' || lpad(to_hex(g), 12, '0'))::uuid, 'G' || g,
       'Група клиенти ' || g, false, 1
FROM generate_series(1, 50) g ON CONFLICT DO NOTHING;
INSERT INTO access_employees (employee_id, full_name, email, role, manager_id, active, version)
SELECT ('00000000-0000-4000-a000-' || lpad(to_hex(e), 12, '0'))::uuid, 'Търговец ' || e, NULL,
       'sales_rep', NULL, true, 1
FROM generate_series(1, 100) e ON CONFLICT DO NOTHING;
INSERT INTO rm_clients (client_id, code, name, kind, status, owner_id, group_id, city, version)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid,
       'C' || lpad(c::text, 6, '0'), 'Клиент ' || c, 'company', 'active',
       ('00000000-0000-4000-a000-' || lpad(to_hex(c % 100 + 1), 12, '0'))::uuid,
       ('00000000-0000-4000-9000-' || lpad(to_hex(c % 50 + 1), 12, '0'))::uuid,
       (ARRAY['София', 'Пловдив', 'Варна', 'Бургас', 'Русе'])[c % 5 + 1], 1
FROM generate_series(1, :clients) c ON CONFLICT DO NOTHING;
"""

RUN = """mutation($input: RunReportInput!) { runReport(input: $input) {
  result { totalRows rows { cells } totals } job { id } userErrors { field message } } }"""


def previous_quarter(today: dt.date) -> tuple[str, str]:
    first = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    end = first - dt.timedelta(days=1)
    start = dt.date(end.year, (end.month - 1) // 3 * 3 + 1, 1)
    return start.isoformat(), end.isoformat()


def definitions() -> dict[str, dict[str, Any]]:
    start, end = previous_quarter(dt.date.today())
    period = {"from": start, "to": end}
    return {
        "by client group": {"dataset": "SALES", "groupBy": [{"field": "client_group"}],
                            "measures": [{"aggregate": "SUM", "field": "turnover"},
                                         {"aggregate": "SHARE", "field": "turnover"}],
                            "period": period, "comparison": "PREVIOUS_YEAR"},
        "by product group": {"dataset": "SALES", "groupBy": [{"field": "product_group"}],
                             "measures": [{"aggregate": "SUM", "field": "turnover"}],
                             "period": period, "comparison": "PREVIOUS_YEAR"},
    }


async def fill_clients(url: str, clients: int) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            have = await conn.scalar(text("SELECT count(*) FROM rm_clients"))
            if have and have >= clients:
                return
            for statement in CLIENTS_FILL.split(";\n"):
                if statement.strip():
                    await conn.execute(text(statement), {"clients": clients})
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE rm_clients"))
            await conn.execute(text("ANALYZE rm_client_groups"))
    finally:
        await engine.dispose()


def measure(url: str, token: str, definition: dict[str, Any], requests: int) -> list[float]:
    times = []
    faults = 0
    with httpx.Client(timeout=60, headers={"authorization": f"Bearer {token}"}) as http:
        i = 0
        while i < requests + 10:
            began = time.perf_counter()
            response = http.post(url, json={"query": RUN, "variables": {
                "input": {"definition": definition, "first": 100}}})
            elapsed = (time.perf_counter() - began) * 1000
            body = response.json()
            if "errors" in body and faults < 5:
                # the shared machine's PostgreSQL is restarted now and then by other work
                # ("terminating connection due to administrator command"): not timed, retried
                faults += 1
                print(f"      fault, retried: {body['errors'][0]['message']}")
                time.sleep(2)
                continue
            i += 1
            assert response.status_code == 200 and "errors" not in body, body
            payload = body["data"]["runReport"]
            assert payload["userErrors"] == [] and payload["result"]["rows"], payload
            if i > 10:  # the first 10: warm-up
                times.append(elapsed)
    return times


def measured(name: str, url: str, token: str, definition: dict[str, Any], requests: int,
             processes: dict[str, list[int]]) -> dict[str, float]:
    before = {k: TB.cpu_ms(pids) for k, pids in processes.items()}
    times = measure(url, token, definition, requests)
    cpu = {k: (TB.cpu_ms(pids) - before[k]) / (requests + 10) for k, pids in processes.items()}
    q = statistics.quantiles(times, n=100)
    figures = {"p50": statistics.median(times), "p90": q[89], "p99": q[98]}
    used = ", ".join(f"{k} {v:.1f} ms" for k, v in cpu.items())
    print(f"    {name:28} p50 {figures['p50']:7.1f} ms   p90 {figures['p90']:7.1f} ms   "
          f"p99 {figures['p99']:7.1f} ms   CPU/request {used}   load {os.getloadavg()[0]:.1f}")
    return figures


def run_size(size: int, args: argparse.Namespace, keys: tuple[str, str]) -> None:
    url = TB.BASE + TB._db(size)
    migrate(url)
    clients = asyncio.run(TB.fill(url, size))
    asyncio.run(fill_clients(url, clients))
    private, public = keys
    key_file = ROOT / ".crm" / "bench_jwt_public.pem"
    key_file.parent.mkdir(exist_ok=True)
    key_file.write_text(public)
    port = procs.free_port()
    env = {**os.environ, "DATABASE_URL": url, "SERVICE_PORT": str(port), "CRM_ENV": "test",
           "JWT_PUBLIC_KEY_FILE": str(key_file), "RUN_CONSUMERS": "false", "RUN_RELAY": "false",
           "RUN_TURNOVER_EVENTS": "false", "RUN_REPORT_JOBS": "false", "LOG_LEVEL": "WARNING"}
    service = subprocess.Popen([sys.executable, "-m", "crm_analytics.cli", "serve"], env=env)
    gateway = None
    try:
        subgraph = f"http://127.0.0.1:{port}/graphql"
        for _ in range(300):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        token = mint_token(private, subject=uuid.uuid4(), roles=["manager"])
        print(f"  {size:,} invoice lines ({clients:,} clients), {args.requests} requests each:")
        for name, definition in definitions().items():
            measured(f"{name}, subgraph", subgraph, token, definition, args.requests,
                     {"service": [service.pid]})
        if not args.no_gateway:
            gp = TB._gateway_module()
            gport = procs.free_port()
            gateway = gp.start_gateway(port=gport, env={
                "JWT_PUBLIC_KEY_FILE": str(key_file), "ANALYTICS_URL": subgraph,
                "CRM_ENV": "production", "LOG_LEVEL": "warn"})
            gp.wait_ready(gateway, port=gport)
            for name, definition in definitions().items():
                measured(f"{name}, gateway", f"http://127.0.0.1:{gport}/graphql", token,
                         definition, args.requests,
                         {"service": [service.pid], "gateway": TB.process_group(gateway.pid)})
    finally:
        if gateway is not None:
            TB._gateway_module().stop_gateway(gateway)
        service.terminate()
        service.wait(timeout=20)
        if args.drop:
            asyncio.run(drop_database(url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000_000])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--no-gateway", action="store_true")
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    keys = generate_key_pair()
    print(f"report bench, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.1f}")
    for size in args.sizes:
        run_size(size, args, keys)


if __name__ == "__main__":
    main()
