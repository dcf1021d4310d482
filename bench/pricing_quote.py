"""Pricing at the size of issue 11: 10,000 products, 1,000 active rules, 5,000 clients with
turnover.

    uv run python bench/pricing_quote.py [--duration 15] [--concurrency 8] [--no-gateway]
                                         [--quotes-only] [--drop]
    (run it under `flock /tmp/crm-bench.lock`)

Targets (issue 11): a 50-line quote through the gateway at p50 ≤ 15 ms and p99 ≤ 50 ms with 8
concurrent clients; a price-list page within 1.5× at 10,000 products of the same at 100; a full
price-list export of 10,000 products in ≤ 3 s with memory flat.

The data is written straight into a bench database (``crm_pricing_bench_<products>``, the
service's migrations; made once, reused) as the service's consumers and commands would leave
it: products in 20 groups with ERP base prices; rules spread as a real policy is (65 % on one
product, 33 % on a group, 2 % on everything; half for everyone, 30 % for a client group, 20 % for
one client; turnover, order-quantity and payment-term conditions with tiers; a fifth
cumulative); 5,000 clients in 50 groups with 25 months of turnover by group and a contract with
discounts for every tenth. Then ``crm-pricing serve`` runs on it as its own process group (no
consumers, no relay) and, unless ``--no-gateway``, the Hive Gateway in front of it with the
committed supergraph.

The load is driven by wrk (``bench/wrk_graphql.lua``, closed loop, keep-alive; the driver costs
next to nothing, unlike Python threads on the same cores), with bodies built beforehand, a
different one per request (the gateway merges identical in-flight requests):

- ``quote50``: ``quote`` of 50 random lines (random quantities, payment term 7/30/60 days) for a
  random client, as a manager;
- ``quote1``: the same with one line;
- ``floor``: ``product(code)`` of a random product (one primary-key read): what the stack costs
  before any pricing work;

each at concurrency 1 and ``--concurrency``, straight to the subgraph and through the gateway.
For every row: requests/s, p50/p99, and the **CPU time per request** of the service, the
gateway, PostgreSQL (every backend alive at the end: the neighbours' too, an upper bound) and
wrk, from /proc (``bench/load.py``'s accounting). Unless ``--quotes-only``, also a 100-product
price-list page (``Client.priceList(first: 100)`` through ``_entities``, so on the subgraph only:
the gateway has no root field to reach a client without the clients service) at 100 and at
10,000 products, and the export (``Client.priceListExport`` then a GET of its signed URL, CSV and
XLSX) with the service's peak RSS before and after. Prints the machine's cores and load average.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from crm_common.db import drop_database, make_engine
from crm_common.devkeys import generate_key_pair, mint_token
from crm_dev import procs
from crm_dev.up import gateway_launch
from crm_pricing.adapters.tables import ERP_PRICE_LIST_ID
from crm_pricing.cli import migrate

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (bench/load.py: wrk, CPU accounting)

ROOT = Path(__file__).resolve().parents[1]
BASE = "postgresql+asyncpg://postgres@127.0.0.1:5432/"
CLIENTS = 5_000
RULES = 1_000
GROUPS = 20

QUOTE = """query($input: QuoteInput!) { quote(input: $input) {
  quote { total { amount } lines { unitPrice { amount } steps { ruleCode } } }
  userErrors { code message } } }"""

#: the floor: the cheapest query of the pricing subgraph (one product by its primary key)
FLOOR = """query($code: String!) { product(code: $code) { code name } }"""

PAGE = """query($reps: [_Any!]!, $after: String) { _entities(representations: $reps) {
  ... on Client { priceList(first: 100, after: $after) { edges { node { product { code }
      price { amount } ruleCode } } pageInfo { endCursor } } } } }"""

EXPORT = """query($reps: [_Any!]!, $format: PriceListFormat!) {
  _entities(representations: $reps) { ... on Client {
    priceListExport(format: $format) { url expiresAt } } } }"""


def client_id(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012x}"


def group_id(i: int) -> str:
    return f"00000000-0000-4000-9000-{i:012x}"


def product_code(i: int) -> str:
    return f"P{i:05d}"


def _rule(i: int, products: int, rng: random.Random) -> dict[str, Any]:
    roll = rng.random()
    if roll < 0.65:
        scope = {"kind": "product", "code": product_code(rng.randrange(products))}
    elif roll < 0.98:
        scope = {"kind": "product_group", "code": f"G{rng.randrange(GROUPS):02d}"}
    else:
        scope = {"kind": "all"}
    roll = rng.random()
    if roll < 0.5:
        audience: dict[str, Any] = {"kind": "all"}
    elif roll < 0.8:
        audience = {"kind": "client_group", "id": group_id(rng.randrange(50))}
    else:
        audience = {"kind": "client", "id": client_id(rng.randrange(CLIENTS))}
    conditions: list[dict[str, Any]] = []
    kind = rng.random()
    if kind < 0.3:
        conditions.append({"kind": "turnover", "window": rng.choice(
            ["month", "quarter", "half_year", "year", "rolling_12_months"]), "tiers": [
            {"threshold": str(t), "effect": {"kind": "percent_off", "value": str(p)}}
            for t, p in ((5000, 2), (20000, 4), (50000, 6))]})
    elif kind < 0.5:
        conditions.append({"kind": "order", "metric": "quantity", "tiers": [
            {"threshold": "10", "effect": {"kind": "percent_off", "value": "1"}},
            {"threshold": "50", "effect": {"kind": "percent_off", "value": "3"}}]})
    elif kind < 0.6:
        conditions.append({"kind": "payment_term", "max_days": 14})
    effect = None if conditions and "tiers" in conditions[0] else {
        "kind": "percent_off", "value": str(rng.randrange(1, 15))}
    return {"code": f"R{i:04d}", "name": f"Правило {i}", "scope": scope, "audience": audience,
            "effect": effect, "priority": i, "stacking": "cumulative" if rng.random() < 0.2
            else "exclusive", "conditions": conditions, "valid_from": None, "valid_until": None}


def _turnover(i: int, rng: random.Random) -> dict[str, Any]:
    today = time.gmtime()
    months = []
    for back in range(24, -1, -1):
        index = today.tm_year * 12 + today.tm_mon - 1 - back
        total = Decimal(rng.randrange(500, 30000))
        groups = [{"productGroupCode": f"G{g:02d}", "invoicedNet": str(total / 5),
                   "invoicedQuantity": "10", "orderedNet": "0", "orderedQuantity": "0"}
                  for g in rng.sample(range(GROUPS), 5)]
        months.append({"month": f"{index // 12:04d}-{index % 12 + 1:02d}",
                       "invoicedNet": str(total), "invoicedQuantity": "50", "orderedNet": "0",
                       "orderedQuantity": "0", "byProductGroup": groups})
    return {"clientId": client_id(i), "version": 1, "asOf": "2026-12-01T00:00:00Z",
            "currency": "EUR", "months": months,
            "payments": {"invoicesDue": 10, "paidWithinTerm": rng.randrange(11),
                         "averageDaysLate": str(rng.randrange(30)), "maxDaysLate": 40,
                         "overdueAmount": "0.00"}}


async def fill(url: str, products: int) -> None:
    engine = make_engine(url, pool_size=1)
    rng = random.Random(7)
    try:
        async with engine.begin() as conn:
            if await conn.scalar(text("SELECT count(*) FROM products")):
                print(f"  {url.rsplit('/', 1)[1]}: already filled")
                return
            started = time.perf_counter()
            await conn.execute(text(
                "INSERT INTO product_groups (code, name) SELECT 'G' || lpad(g::text, 2, '0'), "
                "'Група ' || g FROM generate_series(0, :n - 1) g"), {"n": GROUPS})
            await conn.execute(text(
                "INSERT INTO products (code, name, group_code, unit, vat_rate, active, version) "
                "SELECT 'P' || lpad(p::text, 5, '0'), 'Продукт ' || p, "
                "'G' || lpad((p % :g)::text, 2, '0'), 'бр.', 20, true, 1 "
                "FROM generate_series(0, :n - 1) p"), {"n": products, "g": GROUPS})
            await conn.execute(text(
                "INSERT INTO price_list_items (price_list_id, product_code, price) "
                "SELECT :l, code, round((0.5 + random() * 50)::numeric, 2) FROM products"),
                {"l": ERP_PRICE_LIST_ID})
            rules = [_rule(i, products, rng) for i in range(RULES)]
            await conn.execute(text(
                "INSERT INTO pricing_rules (id, code, name, status, stacking, priority, "
                "scope_kind, scope_code, audience_kind, audience_id, definition, version) "
                "VALUES (:id, :code, :name, 'active', :stacking, :priority, :sk, :sc, :ak, :ai, "
                "CAST(:d AS jsonb), 1)"),
                [{"id": uuid.uuid4(), "code": r["code"], "name": r["name"],
                  "stacking": r["stacking"], "priority": r["priority"],
                  "sk": r["scope"]["kind"], "sc": r["scope"].get("code"),
                  "ak": r["audience"]["kind"], "ai": r["audience"].get("id"),
                  "d": json.dumps(r)} for r in rules])
            await conn.execute(text(
                "INSERT INTO access_clients (client_id, code, name, owner_id, status, version) "
                "SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid, "
                "'C' || c, 'Клиент ' || c, NULL, 'active', 1 FROM generate_series(0, :n - 1) c"),
                {"n": CLIENTS})
            await conn.execute(text(
                "INSERT INTO client_profiles (client_id, group_id, version) "
                "SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(c), 12, '0'))::uuid, "
                "('00000000-0000-4000-9000-' || lpad(to_hex(c % 50), 12, '0'))::uuid, 1 "
                "FROM generate_series(0, :n - 1) c"), {"n": CLIENTS})
            await conn.execute(text(
                "INSERT INTO client_turnover (client_id, version, as_of, data) "
                "VALUES (CAST(:c AS uuid), 1, now(), CAST(:d AS jsonb))"),
                [{"c": client_id(i), "d": json.dumps(_turnover(i, rng))}
                 for i in range(CLIENTS)])
            await conn.execute(text(
                "INSERT INTO contracts (id, client_id, number, status, valid_from, valid_until, "
                "discounts, version) VALUES (:id, CAST(:c AS uuid), :n, 'active', '2020-01-01', "
                "NULL, CAST(:d AS jsonb), 1)"),
                [{"id": uuid.uuid4(), "c": client_id(i), "n": f"K-{i}", "d": json.dumps(
                    [{"productGroupCode": f"G{i % GROUPS:02d}", "percent": "8.00"},
                     {"productCode": product_code(i % products), "percent": "15.00"}])}
                 for i in range(0, CLIENTS, 10)])
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
        print(f"  filled: {products:,} products, {RULES:,} rules, {CLIENTS:,} clients in "
              f"{time.perf_counter() - started:.0f} s")
    finally:
        await engine.dispose()


def percentiles(name: str, times: list[float]) -> dict[str, float]:
    q = statistics.quantiles(times, n=100)
    figures = {"p50": statistics.median(times), "p90": q[89], "p99": q[98]}
    print(f"    {name:22} p50 {figures['p50']:6.1f} ms   p90 {figures['p90']:6.1f} ms   "
          f"p99 {figures['p99']:6.1f} ms   ({len(times)} requests)")
    return figures


def quote_bodies(products: int, lines: int, n: int, seed: int) -> list[str]:
    """``n`` quote bodies of ``lines`` random lines for random clients (one JSON a line)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        variables = {"input": {
            "clientId": client_id(rng.randrange(CLIENTS)),
            "paymentTermDays": rng.choice([7, 30, 60]),
            "lines": [{"productCode": product_code(rng.randrange(products)),
                       "quantity": str(rng.randrange(1, 20))} for _ in range(lines)]}}
        out.append(json.dumps({"query": QUOTE, "variables": variables}, separators=(",", ":")))
    return out


def floor_bodies(products: int, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [json.dumps({"query": FLOOR, "variables": {"code": product_code(
        rng.randrange(products))}}, separators=(",", ":")) for _ in range(n)]


def check(url: str, token: str, body: str) -> None:
    """One answer: HTTP 200, no errors, a quote (or the product) in it."""
    response = httpx.post(url, content=body, timeout=30, headers={
        "authorization": f"Bearer {token}", "content-type": "application/json"})
    data = response.json()
    assert response.status_code == 200 and "errors" not in data, data
    assert data["data"].get("product") or (data["data"].get("quote") or {}).get("quote"), data


def pages(url: str, token: str, count: int) -> list[float]:
    rng = random.Random(3)
    times = []
    with httpx.Client(timeout=30, headers={"authorization": f"Bearer {token}"}) as http:
        for i in range(count + 10):
            reps = [{"__typename": "Client", "id": client_id(rng.randrange(CLIENTS))}]
            began = time.perf_counter()
            response = http.post(url, json={"query": PAGE, "variables": {"reps": reps}})
            elapsed = (time.perf_counter() - began) * 1000
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, body
            assert body["data"]["_entities"][0]["priceList"]["edges"], body
            if i >= 10:
                times.append(elapsed)
    return times


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident set of a process, KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def export(url: str, token: str, pid: int, fmt: str) -> None:
    reps = [{"__typename": "Client", "id": client_id(10)}]
    with httpx.Client(timeout=120, headers={"authorization": f"Bearer {token}"}) as http:
        before = rss_kib(pid)
        began = time.perf_counter()
        body = http.post(url, json={"query": EXPORT, "variables": {"reps": reps,
                                                                   "format": fmt}}).json()
        assert "errors" not in body, body
        link = body["data"]["_entities"][0]["priceListExport"]["url"]
        size = 0
        with httpx.stream("GET", link, timeout=120) as response:
            assert response.status_code == 200, response.read()
            for chunk in response.iter_bytes():
                size += len(chunk)
        elapsed = time.perf_counter() - began
        after = rss_kib(pid)
    print(f"    export {fmt:4} {elapsed:6.2f} s  {size / 1e6:6.2f} MB   service RSS "
          f"{before[0] / 1024:.0f} → {after[0] / 1024:.0f} MiB (peak {before[1] / 1024:.0f} → "
          f"{after[1] / 1024:.0f} MiB)")


@contextlib.contextmanager
def stack(url: str, keys: tuple[str, str], logs: Path, *,
          gateway: bool) -> Iterator[dict[str, Any]]:
    """The pricing service (and the gateway in front of it), each in its own process group (the
    CPU accounting reads the groups); stopped on exit, always."""
    key_file = logs / "jwt_public.pem"
    key_file.write_text(keys[1])
    port = procs.free_port()
    env = {**os.environ, "DATABASE_URL": url, "SERVICE_HOST": "127.0.0.1",
           "SERVICE_PORT": str(port), "CRM_ENV": "test", "JWT_PUBLIC_KEY_FILE": str(key_file),
           "RUN_CONSUMERS": "false", "RUN_RELAY": "false", "RUN_SCHEDULER": "false",
           "LOG_LEVEL": "WARNING", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    children: list[procs.Child] = []
    try:
        service = procs.spawn("service", [sys.executable, "-m", "crm_pricing.cli", "serve"],
                              env=env, cwd=ROOT, log=logs / "service.log")
        children.append(service)
        procs.wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60, child=service)
        found: dict[str, Any] = {"subgraph": f"http://127.0.0.1:{port}/graphql",
                                 "groups": {"service": service.pid}, "service_pid": service.pid}
        if gateway:
            gport = procs.free_port()
            argv, genv = gateway_launch(ROOT, gport, {
                "CRM_ENV": "production", "JWT_PUBLIC_KEY_FILE": str(key_file),
                "PRICING_URL": found["subgraph"], "GATEWAY_LOG_LEVEL": "warn",
                "GATEWAY_HOST": "127.0.0.1"})
            child = procs.spawn("gateway", argv, env=genv, log=logs / "gateway.log")
            children.append(child)
            procs.wait_http(f"http://127.0.0.1:{gport}/readiness", timeout=60, child=child)
            found["gateway"] = f"http://127.0.0.1:{gport}/graphql"
            found["groups"]["gateway"] = child.pid
        yield found
    except BaseException:
        for log in sorted(logs.glob("*.log")):
            print(f"--- {log.name} (tail)\n{procs.tail(log)}", file=sys.stderr)
        raise
    finally:
        procs.stop(list(reversed(children)))


@dataclass
class Row:
    case: str
    target: str
    concurrency: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    #: CPU ms per request: service, gateway, postgres, wrk
    cpu_ms: dict[str, float]
    machine_busy: float
    load_average: float


def measure(wrk: str, case: str, target: str, st: dict[str, Any], bodies: Path, token: Path,
            args: argparse.Namespace, concurrency: int) -> Row:
    opts = argparse.Namespace(warmup=args.warmup, duration=args.duration,
                              concurrency=concurrency, threads=1)
    r = load.measure(wrk, "10k", case, target, st[target], bodies, token, opts, st["groups"])
    cpu = {k: round(1000 * v / max(1, r.requests), 2) for k, v in r.cpu_s.items()}
    return Row(case, target, concurrency, r.requests, r.rps, r.p50_ms, r.p99_ms, r.errors, cpu,
               r.cpu_share.get("machine_busy", 0.0), round(os.getloadavg()[0], 2))


def quote_rows(wrk: str, st: dict[str, Any], tmp: Path, token: str, products: int,
               args: argparse.Namespace) -> list[Row]:
    files = {"quote50": quote_bodies(products, 50, args.bodies, 11),
             "quote1": quote_bodies(products, 1, args.bodies, 12),
             "floor": floor_bodies(products, args.bodies, 13)}
    token_file = tmp / "token"
    token_file.write_text(token + "\n")
    targets = ["subgraph"] + (["gateway"] if "gateway" in st else [])
    rows = []
    for case, lines in files.items():
        path = tmp / f"{case}.txt"
        path.write_text("\n".join(lines) + "\n")
        for target in targets:
            check(st[target], token, lines[0])
            for concurrency in dict.fromkeys([1, args.concurrency]):
                rows.append(measure(wrk, case, target, st, path, token_file, args, concurrency))
    return rows


def table(rows: list[Row]) -> None:
    print("\n| case | target | concurrency | req/s | p50 ms | p99 ms | errors | CPU ms per "
          "request: service / gateway / PostgreSQL* / wrk | sum (without wrk) | load avg |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        c = r.cpu_ms
        total = c.get("service", 0) + c.get("gateway", 0) + c.get("postgres", 0)
        print(f"| {r.case} | {r.target} | {r.concurrency} | {r.rps:.1f} | {r.p50_ms:.1f} | "
              f"{r.p99_ms:.1f} | {r.errors} | {c.get('service', 0):.1f} / "
              f"{c.get('gateway', 0):.1f} / {c.get('postgres', 0):.1f} / {c.get('wrk', 0):.1f} | "
              f"{total:.1f} | {r.load_average:.2f} |")


def run(products: int, args: argparse.Namespace, keys: tuple[str, str], wrk: str | None, *,
        full: bool) -> dict[str, Any]:
    url = BASE + f"crm_pricing_bench_{products}"
    migrate(url)
    asyncio.run(fill(url, products))
    result: dict[str, Any] = {"products": products}
    token = mint_token(keys[0], subject=uuid.uuid4(), roles=["manager"])
    try:
        with tempfile.TemporaryDirectory(prefix="crm-pricing-bench-") as tmp, \
                stack(url, keys, Path(tmp), gateway=full and not args.no_gateway) as st:
            print(f"  {products:,} products, {RULES:,} rules, {CLIENTS:,} clients:")
            if not args.quotes_only:
                result["page"] = percentiles("price-list page", pages(st["subgraph"], token, 100))
            if full:
                assert wrk is not None
                result["rows"] = [asdict(r) for r in quote_rows(wrk, st, Path(tmp), token,
                                                                products, args)]
                if not args.quotes_only:
                    export(st["subgraph"], token, st["service_pid"], "CSV")
                    export(st["subgraph"], token, st["service_pid"], "XLSX")
    finally:
        if args.drop:
            asyncio.run(drop_database(url))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=15, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=3, help="discarded seconds before each")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--bodies", type=int, default=2000, help="distinct bodies per case")
    parser.add_argument("--no-gateway", action="store_true")
    parser.add_argument("--quotes-only", action="store_true",
                        help="only the quote and floor rows (no price-list page, no export)")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "pricing_quote.json")
    args = parser.parse_args()
    if not (1 <= args.concurrency <= 64 and 1 <= args.duration <= 600 and
            0 <= args.warmup <= 60 and 1 <= args.bodies <= 100_000):
        parser.error("out of range: concurrency 1..64, duration 1..600, warmup 0..60, "
                     "bodies 1..100000")
    wrk = load.ensure_wrk()
    private, public = generate_key_pair()
    keys = (private, public)
    began = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {began:.2f}")
    small = None if args.quotes_only else run(100, args, keys, None, full=False)
    big = run(10_000, args, keys, wrk, full=True)
    if small is not None:
        print(f"  price-list page p50 ratio 10,000 / 100 products: "
              f"{big['page']['p50'] / small['page']['p50']:.2f}")
    table([Row(**r) for r in big["rows"]])
    ended = os.getloadavg()[0]
    print(f"load average: {began:.2f} at the start, {ended:.2f} at the end")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"load_average": [began, ended], "small": small, "big": big},
                                   ensure_ascii=False, indent=2) + "\n")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
