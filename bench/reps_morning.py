"""The rep's morning (issue 15): ``me { agenda(from, to) { client { the whole dossier … } } }`` in
one request through the gateway, for reps with ~500 and with ~5,000 clients.

    uv run python bench/reps_morning.py fill        # ~2 min: three bench databases
    flock /tmp/crm-bench.lock uv run python bench/reps_morning.py run     # ~2 min
    flock /tmp/crm-bench.lock uv run python bench/reps_morning.py explain # one request's plans
    flock /tmp/crm-bench.lock uv run python bench/reps_morning.py profile # where the CPU goes

``fill`` makes three databases (names contain ``morning_bench``; dropped and recreated):

- clients: ``bench/generate_clients.py`` (100,000 clients, 20 owners of ~4,850 each, contact
  persons, addresses, bank accounts), then the clients of one owner shared out among ten new reps
  (~485 each: the small portfolios), an employee row per rep, an active contract with two
  discounts for every other client;
- activities and tasks: migrated, with the access projections (``access_clients``,
  ``access_employees``) copied from the clients database as the consumers would keep them, five
  activities per client (500,000), two tasks per client (200,000, one open);
- every rep has 5–8 meetings today (one of them with a client of another rep, so that the access
  comes from the meeting grant, which is written to every service's ``access_meeting_grants``).

``run`` moves the meetings to today, starts the clients, activities and tasks services
(``crm-<service> serve``, production, WARNING logs, bench-only exchange, one process each) and
the gateway, checks one answer per rep, then runs wrk (``bench/wrk_graphql.lua``; every line
carries its rep's token) for each portfolio size at the given concurrencies, and prints req/s,
p50/p99 and the CPU per request of each process (from /proc). Only 127.0.0.1 is used; all
processes are stopped at the end.

``profile`` runs the same stack under load (one size, one concurrency) with ``py-spy record``
attached to each service (``uv pip install py-spy`` first; it is not a project dependency) and
the gateway under ``node --cpu-prof``, and prints each process's functions and packages by
share of the sampled CPU (self and inclusive). The raw profiles stay in ``--out-dir``
(``*.pyspy`` collapsed stacks, ``*.cpuprofile`` for Chrome's DevTools). With ``--native`` py-spy
also samples C frames: without it, time spent in C (the cyclic garbage collector, system calls,
asyncpg's Cython) is charged to the Python frame that called into it. The fourth round found
the collector that way, charged to uvicorn's ``send`` (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import asyncpg

from crm_dev import mongo, procs
from crm_dev.up import gateway_launch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import load  # noqa: E402  (bench/load.py: wrk, CPU accounting)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PG = "postgresql://postgres@127.0.0.1:5432/"
DBS = {s: f"crm_{s}_morning_bench" for s in ("clients", "activities", "tasks")}
PORTS = {"clients": 18111, "activities": 18112, "tasks": 18113, "gateway": 14010}
SMALL_REPS = 10

MORNING_QUERY = """query Morning($from: DateTime!, $to: DateTime!) {
  me {
    id fullName
    agenda(from: $from, to: $to, first: 10) {
      edges { node {
        id startsAt endsAt place purpose status
        client {
          id code kind legalName tradeName eik vatNumber status phones emails website
          paymentTermDays currency creditLimit version
          addresses { id kind country city postalCode street isDefault }
          contactPersons { id name position phones emails isPrimary }
          bankAccounts { id iban bic bankName currency isDefault }
          contracts(first: 5) { edges { node { id number kind status validFrom validUntil
                                               discounts { productGroupCode productCode
                                                           percent } } } }
          activities(first: 5) { edges { node { id kind occurredAt subject notes } } }
          tasks(first: 10, openOnly: true) { edges { node { id title dueDate status
                                                            priority } } }
          lastContactAt
        }
      } }
    }
  }
}"""


def url(db: str, driver: str = "postgresql") -> str:
    return f"{driver}://postgres@127.0.0.1:5432/{db}"


def sa_url(service: str) -> str:
    return url(DBS[service], "postgresql+asyncpg")


# --------------------------------------------------------------------- fill

ACTIVITIES = """
INSERT INTO activities (id, client_id, employee_id, kind, direction, occurred_at,
                        duration_minutes, subject, notes, created_by, created_at)
SELECT gen_random_uuid(), c.client_id, coalesce(c.owner_id, $1::uuid),
       (ARRAY['visit','phone_call','email','meeting','message'])[1 + g],
       CASE WHEN g % 2 = 0 THEN 'outbound' ELSE 'inbound' END,
       now() - make_interval(days => (abs(hashtext(c.code || g)) % 700) + 1),
       CASE WHEN g IN (2, 4) THEN 0 ELSE 30 END,
       'Разговор ' || g, 'Обсъдихме доставките и плащанията за ' || c.name,
       coalesce(c.owner_id, $1::uuid), now()
FROM access_clients c CROSS JOIN generate_series(0, 4) AS g
"""
TASKS = """
INSERT INTO tasks (id, number, title, kind, commitment_type, client_id, assignee_id, assigned_by,
                   due_date, priority, status, version, created_at, updated_at)
SELECT gen_random_uuid(), 'T' || lpad((row_number() OVER ())::text, 7, '0'),
       CASE WHEN g = 0 THEN 'Оферта за ' ELSE 'Мостра за ' END || c.name,
       'commitment', CASE WHEN g = 0 THEN 'offer' ELSE 'sample' END, c.client_id,
       coalesce(c.owner_id, $1::uuid), coalesce(c.owner_id, $1::uuid),
       current_date + (abs(hashtext(c.code || g)) % 60) - 20,
       (ARRAY['low','normal','high','urgent'])[1 + abs(hashtext(c.code)) % 4],
       CASE WHEN g = 0 THEN 'assigned' ELSE 'closed_confirmed' END, 1, now(), now()
FROM access_clients c CROSS JOIN generate_series(0, 1) AS g
"""


def create() -> None:
    """The clients database from generate_clients.py; the other two empty and migrated."""
    subprocess.run([sys.executable, str(BENCH / "generate_clients.py"), "--database-url",
                    sa_url("clients")], check=True, cwd=ROOT, timeout=900)
    for service in ("activities", "tasks"):
        asyncio.run(drop(DBS[service]))
        subprocess.run([sys.executable, "-m", f"crm_{service}.cli", "migrate"], check=True,
                       cwd=ROOT, timeout=300, env={**os.environ, "DATABASE_URL": sa_url(service)})


async def fill(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    rng = random.Random(args.seed)
    clients = await asyncpg.connect(url(DBS["clients"]))
    try:
        owners = [r["owner_id"] for r in await clients.fetch(
            "SELECT owner_id FROM clients WHERE owner_id IS NOT NULL GROUP BY owner_id "
            "ORDER BY owner_id")]
        donor, big = owners[-1], owners[:-1]
        small = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in range(SMALL_REPS)]
        async with clients.transaction():
            donated = [r["id"] for r in await clients.fetch(
                "SELECT id FROM clients WHERE owner_id = $1 ORDER BY id", donor)]
            await clients.executemany("UPDATE clients SET owner_id = $2 WHERE id = $1",
                                      [(cid, small[i % SMALL_REPS])
                                       for i, cid in enumerate(donated)])
            await clients.executemany(
                "INSERT INTO employees (id, full_name, email, role, active, version) "
                "VALUES ($1, $2, $3, 'sales_rep', true, 1)",
                [(rep, f"Търговец {i + 1}", f"rep{i + 1}@bench.example")
                 for i, rep in enumerate(big + small)])
            await clients.execute("""
                INSERT INTO contracts (id, client_id, number, kind, title, status, valid_from,
                                       valid_until, payment_term_days, currency, version,
                                       activated_on)
                SELECT gen_random_uuid(), id, 'D-' || code, 'sales', 'Договор ' || code,
                       'active', DATE '2026-01-01', DATE '2027-12-31', 30, 'EUR', 1,
                       DATE '2026-01-01'
                FROM clients WHERE abs(hashtext(code)) % 2 = 0""")
            await clients.execute("""
                INSERT INTO contract_discounts (id, contract_id, position, product_group_code,
                                                percent)
                SELECT gen_random_uuid(), k.id, p, 'G0' || p, 2.5 * p
                FROM contracts k CROSS JOIN generate_series(1, 2) AS p""")
        rows = await clients.fetch(
            "SELECT id, code, coalesce(trade_name, legal_name) AS name, owner_id, status, version "
            "FROM clients")
        reps = await clients.fetch("SELECT id, full_name, email, role FROM employees")
        await clients.execute("VACUUM ANALYZE")
    finally:
        await clients.close()
    by_owner: dict[uuid.UUID, list[uuid.UUID]] = {}
    for r in rows:
        if r["owner_id"] is not None and r["status"] != "archived":
            by_owner.setdefault(r["owner_id"], []).append(r["id"])
    meetings = []
    for rep in big + small:
        others = by_owner[rng.choice([o for o in big if o != rep])]
        chosen = rng.sample(by_owner[rep], rng.randint(4, 7)) + [rng.choice(others)]
        for hour, cid in enumerate(chosen):
            meetings.append((uuid.uuid4(), cid, rep, 8 + hour))
    for service in ("activities", "tasks"):
        conn = await asyncpg.connect(url(DBS[service]))
        try:
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "access_clients", records=[tuple(r) for r in rows],
                    columns=["client_id", "code", "name", "owner_id", "status", "version"])
                await conn.copy_records_to_table(
                    "access_employees", records=[(r["id"], r["full_name"], r["email"],
                                                  r["role"], True, 1) for r in reps],
                    columns=["employee_id", "full_name", "email", "role", "active", "version"])
                filler = ACTIVITIES if service == "activities" else TASKS
                await conn.execute(filler, big[0])
            await conn.execute("VACUUM ANALYZE")
        finally:
            await conn.close()
    await write_meetings(meetings)
    print(f"filled in {time.perf_counter() - started:.0f} s: {len(rows):,} clients, reps "
          f"{len(big)} × ~{len(by_owner[big[0]]):,} and {len(small)} × "
          f"~{len(by_owner[small[0]]):,} clients, {len(meetings)} meetings")


async def write_meetings(meetings: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID, int]]) -> None:
    today = dt.datetime.combine(dt.date.today(), dt.time(), dt.UTC)
    act = await asyncpg.connect(url(DBS["activities"]))
    try:
        await act.executemany(
            "INSERT INTO meetings (id, client_id, employee_id, starts_at, ends_at, place, "
            "purpose, status, version, created_by, updated_by) VALUES ($1, $2, $3, $4, $5, "
            "'при клиента', 'Преглед на поръчките', 'scheduled', 1, $3, $3)",
            [(m, c, e, today + dt.timedelta(hours=h), today + dt.timedelta(hours=h, minutes=45))
             for m, c, e, h in meetings])
    finally:
        await act.close()
    await copy_grants()


async def copy_grants() -> None:
    """Every service's access_meeting_grants as the meeting events would have left them."""
    act = await asyncpg.connect(url(DBS["activities"]))
    try:
        grants = [tuple(r) for r in await act.fetch(
            "SELECT id, client_id, employee_id, starts_at, ends_at, status, version "
            "FROM meetings")]
    finally:
        await act.close()
    for service in DBS:
        conn = await asyncpg.connect(url(DBS[service]))
        try:
            async with conn.transaction():
                await conn.execute("TRUNCATE access_meeting_grants")
                await conn.copy_records_to_table(
                    "access_meeting_grants", records=grants,
                    columns=["meeting_id", "client_id", "employee_id", "starts_at", "ends_at",
                             "status", "version"])
            await conn.execute("ANALYZE access_meeting_grants")
        finally:
            await conn.close()


async def to_today() -> None:
    """Move every meeting to today (same time of day), and the grants with them."""
    act = await asyncpg.connect(url(DBS["activities"]))
    try:
        await act.execute(
            "UPDATE meetings SET starts_at = current_date + (starts_at - date_trunc('day', "
            "starts_at)), ends_at = current_date + (ends_at - date_trunc('day', starts_at))")
    finally:
        await act.close()
    await copy_grants()


async def drop(db: str) -> None:
    if "morning_bench" not in db:
        raise SystemExit(f"refusing to drop {db}")
    conn = await asyncpg.connect(PG + "postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    finally:
        await conn.close()


# --------------------------------------------------------------------- run

async def portfolios() -> dict[str, list[uuid.UUID]]:
    """Reps by portfolio size ("500": the ten small ones, "5000": the others)."""
    conn = await asyncpg.connect(url(DBS["clients"]))
    try:
        rows = await conn.fetch("SELECT owner_id, count(*) AS n FROM clients "
                                "WHERE owner_id IS NOT NULL GROUP BY owner_id")
    finally:
        await conn.close()
    out: dict[str, list[uuid.UUID]] = {"500": [], "5000": []}
    for r in rows:
        out["500" if r["n"] < 1500 else "5000"].append(r["owner_id"])
    return out


def bodies(reps: list[uuid.UUID], private_key: str, n: int, seed: int) -> list[str]:
    """``TOKEN<TAB>BODY`` lines: a random rep's morning, a window that differs per line (the
    gateway would merge identical in-flight requests)."""
    from crm_common.devkeys import mint_token

    rng = random.Random(seed)
    tokens = {rep: mint_token(private_key, subject=rep, roles=["sales_rep"], name="Bench Rep")
              for rep in reps}
    day = dt.datetime.combine(dt.date.today(), dt.time(), dt.UTC)
    lines = []
    for _ in range(n):
        rep = rng.choice(reps)
        start = day + dt.timedelta(seconds=rng.randrange(3600))
        body = json.dumps({"query": MORNING_QUERY, "variables": {
            "from": start.isoformat(), "to": (day + dt.timedelta(days=1)).isoformat()}},
            separators=(",", ":"))
        lines.append(f"{tokens[rep]}\t{body}")
    return lines


@contextlib.contextmanager
def stack(keys: Path, logs: Path, args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    """The three services and the gateway (and a MongoDB-wire server for tasks); stopped on exit."""
    children: list[procs.Child] = []
    server = mongo.start(logs / "mongo-data", log=logs / "mongo.log")
    try:
        base = {k: v for k, v in os.environ.items()
                if k not in {"PORT", "HOST", "SERVICE_HOST", "LOG_LEVEL"}}
        for service in ("clients", "activities", "tasks"):
            exe = Path(sys.executable).parent / f"crm-{service}"
            env = {**base, "CRM_ENV": "production", "SERVICE_HOST": "127.0.0.1",
                   "SERVICE_PORT": str(PORTS[service]), "DATABASE_URL": sa_url(service),
                   "AMQP_URL": args.amqp_url, "JWT_PUBLIC_KEY_FILE": str(keys / "jwt_public.pem"),
                   "EVENTS_EXCHANGE": "crm.events.bench", "LOG_LEVEL": "WARNING",
                   "QUEUE_PREFIX": "bench-morning.", "MONGODB_URL": server.url,
                   "MONGODB_DATABASE": "crm_tasks_morning_bench",
                   "ATTACHMENT_URL_SECRET": secrets.token_hex(32),
                   # the scheduled jobs off: the tasks reminders would publish ~35,000 overdue
                   # events at the first start, measured as the tasks service's CPU
                   "RUN_CONTRACT_JOB": "false", "RUN_SCHEDULER": "false",
                   # no consumers: the projections are filled by `fill`, and queues bound to the
                   # bench exchange would fill up with the events of load.py's writes between
                   # runs and be drained (and measured) at the next start
                   "RUN_CONSUMERS": "false",
                   **dict(args.service_env)}
            child = procs.spawn(service, [str(exe), "serve"], env=env, cwd=ROOT,
                                log=logs / f"{service}.log")
            children.append(child)
        for service, child in zip(("clients", "activities", "tasks"), children, strict=True):
            procs.wait_http(f"http://127.0.0.1:{PORTS[service]}/readyz", timeout=90, child=child)
        argv, gateway_env = gateway_launch(ROOT, PORTS["gateway"], {
            "CRM_ENV": "production", "JWT_PUBLIC_KEY_FILE": str(keys / "jwt_public.pem"),
            **{f"{s.upper()}_URL": f"http://127.0.0.1:{PORTS[s]}/graphql"
               for s in ("clients", "activities", "tasks")},
            "GATEWAY_LOG_LEVEL": "warn", "GATEWAY_HOST": "127.0.0.1",
            **dict(args.gateway_env)})
        if getattr(args, "node_flags", None):
            argv = ["node", *args.node_flags, *argv]
        gateway = procs.spawn("gateway", argv, env=gateway_env, log=logs / "gateway.log")
        children.append(gateway)
        procs.wait_http(f"http://127.0.0.1:{PORTS['gateway']}/readiness", timeout=60,
                        child=gateway)
        yield {"gateway": f"http://127.0.0.1:{PORTS['gateway']}/graphql",
               "groups": {c.name: c.pid for c in children}}
    finally:
        procs.stop(list(reversed(children)))
        server.stop()


def check(endpoint: str, lines: list[str], reps: list[uuid.UUID]) -> dict[str, Any]:
    """One answer per rep: no errors, 5–8 meetings, every client there with its dossier."""
    seen, sizes, meetings = set(), [], []
    for line in lines:
        token, body = line.split("\t", 1)
        for attempt in range(3):
            status, data = load.http_json(endpoint, body, token)
            if status == 200 and isinstance(data, dict) and not data.get("errors"):
                break
            if attempt == 2:
                raise RuntimeError(f"morning: {status} {str(data)[:800]}")
            time.sleep(1)  # a connection closed under it (the shared server): once more
        edges = data["data"]["me"]["agenda"]["edges"]
        if not 5 <= len(edges) <= 8 or any(e["node"]["client"] is None for e in edges):
            raise RuntimeError(f"morning: {len(edges)} meetings or a null client: "
                               f"{str(data)[:800]}")
        seen.add(data["data"]["me"]["id"])
        sizes.append(len(json.dumps(data, ensure_ascii=False).encode()))
        meetings.append(len(edges))
        if len(seen) == len(reps):
            break
    return {"reps_checked": len(seen), "meetings": [min(meetings), max(meetings)],
            "response_bytes": [min(sizes), max(sizes)]}


def rss(groups: dict[str, int]) -> dict[str, float]:
    """Resident memory of each process group now (after the load), MiB."""
    out = {}
    for name, pgid in groups.items():
        total = 0
        for pid in load._group_pids(pgid):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
                total += next((int(line.split()[1]) for line in f
                               if line.startswith("VmRSS:")), 0)
        out[name] = round(total / 1024, 1)
    return out


def run(args: argparse.Namespace) -> int:
    from crm_common.devkeys import ensure_key_files

    asyncio.run(to_today())
    groups_of = asyncio.run(portfolios())
    wrk = load.ensure_wrk()
    results: list[load.Result] = []
    meta: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                            "args": {k: str(v) for k, v in vars(args).items()},
                            "reps": {k: len(v) for k, v in groups_of.items()}}
    with tempfile.TemporaryDirectory(prefix="crm-morning-") as tmp:
        tmpdir = Path(tmp)
        private, _public = ensure_key_files(tmpdir / "keys")
        (tmpdir / "token").write_text("unused\n")
        files = {}
        for size, reps in groups_of.items():
            lines = bodies(reps, private.read_text(), args.bodies, args.seed)
            files[size] = (tmpdir / f"morning-{size}.txt", lines, reps)
            files[size][0].write_text("\n".join(lines) + "\n")
        try:
            with stack(tmpdir / "keys", tmpdir, args) as st:
                for size, (_path, lines, reps) in files.items():
                    meta[f"check_{size}"] = check(st["gateway"], lines, reps)
                    print(f"portfolio ~{size}: {meta[f'check_{size}']}", flush=True)
                for concurrency in args.concurrency:
                    for size in args.sizes:
                        opts = argparse.Namespace(**{**vars(args), "concurrency": concurrency,
                                                     "threads": 1})
                        r = load.measure(wrk, f"~{size}", "morning", "gateway", st["gateway"],
                                         files[size][0], tmpdir / "token", opts, st["groups"])
                        results.append(r)
                meta["rss_mib"] = rss(st["groups"])
                print(f"resident memory (MiB, every process of the group): {meta['rss_mib']}")
        except BaseException:
            for log in sorted(tmpdir.glob("*.log")):
                print(f"--- {log.name} (tail)\n{log.read_text()[-2500:]}", file=sys.stderr)
            raise
    print("\n| clients per rep | concurrency | req/s | p50 ms | p99 ms | errors | CPU ms per "
          "request: clients / activities / tasks / gateway / postgres |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in results:
        per = {k: 1000 * v / max(1, r.requests) for k, v in r.cpu_s.items()}
        print(f"| {r.dataset} | {r.concurrency} | {r.rps:.1f} | {r.p50_ms:.1f} | "
              f"{r.p99_ms:.1f} | {r.errors} | {per.get('clients', 0):.1f} / "
              f"{per.get('activities', 0):.1f} / {per.get('tasks', 0):.1f} / "
              f"{per.get('gateway', 0):.1f} / {per.get('postgres', 0):.1f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": [asdict(r) for r in results]},
                                   ensure_ascii=False, indent=2) + "\n")
    print(f"results: {args.out}")
    return 0


# --------------------------------------------------------------------- profile

def profile(args: argparse.Namespace) -> int:
    from crm_common.devkeys import ensure_key_files

    pyspy = Path(sys.executable).parent / "py-spy"
    if not pyspy.exists():
        raise SystemExit(f"{pyspy} is missing: `uv pip install py-spy` (not a dependency)")
    asyncio.run(to_today())
    reps = asyncio.run(portfolios())[args.size]
    wrk = load.ensure_wrk()
    out = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in (*out.glob("*.cpuprofile"), *out.glob("*.pyspy")):
        old.unlink()
    with tempfile.TemporaryDirectory(prefix="crm-morning-") as tmp:
        tmpdir = Path(tmp)
        private, _public = ensure_key_files(tmpdir / "keys")
        (tmpdir / "token").write_text("unused\n")
        lines = bodies(reps, private.read_text(), args.bodies, args.seed)
        path = tmpdir / "morning.txt"
        path.write_text("\n".join(lines) + "\n")
        args.service_env = list(args.service_env)
        # node 20 refuses --cpu-prof in NODE_OPTIONS: it goes on node's own command line
        args.node_flags = ["--cpu-prof", f"--cpu-prof-dir={out}"]
        with stack(tmpdir / "keys", tmpdir, args) as st:
            print(f"portfolio ~{args.size}: {check(st['gateway'], lines, reps)}", flush=True)
            load.run_wrk(wrk, st["gateway"], path, tmpdir / "token", concurrency=args.concurrency,
                         threads=1, seconds=args.warmup, groups=st["groups"])
            spies = [subprocess.Popen(
                [str(pyspy), "record", "--pid", str(pid), "--subprocesses",
                 *(["--native"] if args.native else ["--nonblocking"]),
                 "--rate", str(args.rate), "--duration", str(round(args.duration)),
                 "--format", "raw", "--output", str(out / f"{name}.pyspy")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                for name, pid in st["groups"].items() if name != "gateway"]
            stats, cpu = load.run_wrk(wrk, st["gateway"], path, tmpdir / "token",
                                      concurrency=args.concurrency, threads=1,
                                      seconds=args.duration, groups=st["groups"])
            for spy in spies:
                spy.wait(timeout=60)
    n = max(1, stats["requests"])
    print(f"\n{stats['requests']} requests at concurrency {args.concurrency} (profilers on: "
          f"slower than a run), CPU ms per request: "
          + ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in cpu.items()
                      if k != "machine_busy_share"))
    for f in sorted(out.glob("*.pyspy")):
        print_top(f.stem, pyspy_samples(f), args.top)
    for f in sorted(out.glob("*.cpuprofile")):
        print_top(f"gateway ({f.name})", cpuprofile_samples(f), args.top)
    print(f"profiles: {out}")
    return 0


Stack = tuple[tuple[str, str], ...]  # (function, package/module) from the root to the leaf


_IDLE = {"select", "poll", "epoll_wait", "epoll_pwait", "_run_once"}


def pyspy_samples(path: Path) -> dict[Stack, int]:
    """py-spy's collapsed stacks (``frame;frame;... count``; a frame is ``func (file:line)``),
    idle frames (the event loop waiting in select/epoll) dropped."""
    out: dict[Stack, int] = {}
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames or not count.isdigit():
            continue
        stack = []
        for frame in frames.split(";"):
            func, _, where = frame.partition(" (")
            file = where.rsplit(":", 1)[0]
            stack.append((func, _module(file)))
        # the event loop waiting; with --native the wait itself is libc's epoll_pwait
        if stack and stack[-1][0] in _IDLE and \
                stack[-1][1].startswith(("selectors", "asyncio", "uvloop", "libc")):
            continue
        key = tuple(stack)
        out[key] = out.get(key, 0) + int(count)
    return out


def _module(file: str) -> str:
    """``site-packages/strawberry/schema/execute.py`` -> ``strawberry``; ours keep two parts."""
    parts = Path(file).parts
    for anchor in ("site-packages", "src"):
        if anchor in parts:
            rest = parts[parts.index(anchor) + 1:]
            keep = 2 if rest and rest[0].startswith("crm_") else 1
            return "/".join(rest[:keep]) or file
    return Path(file).stem or file


def cpuprofile_samples(path: Path) -> dict[Stack, int]:
    """A V8 ``.cpuprofile``: every sample's stack, ``(idle)`` dropped (``(program)``, native
    work, and ``(garbage collector)`` kept)."""
    prof = json.loads(path.read_text())
    nodes = {n["id"]: n for n in prof["nodes"]}
    parent = {c: n["id"] for n in prof["nodes"] for c in n.get("children", [])}
    counts: dict[int, int] = {}
    for sample in prof["samples"]:
        counts[sample] = counts.get(sample, 0) + 1
    out: dict[Stack, int] = {}
    for node_id, count in counts.items():
        stack = []
        cur: int | None = node_id
        while cur is not None:
            frame = nodes[cur]["callFrame"]
            if frame["functionName"] != "(root)":
                url = frame.get("url") or ""
                if "node_modules/" in url:
                    pkg = url.rsplit("node_modules/", 1)[1].split("/")
                    where = "/".join(pkg[:2]) if pkg[0].startswith("@") else pkg[0]
                elif url.startswith("node:"):
                    where = "node"
                else:
                    where = Path(url).name or "native"
                stack.append((frame["functionName"] or "(anonymous)", where))
            cur = parent.get(cur)
        if stack and stack[-1][0] == "(idle)":
            continue
        key = tuple(reversed(stack))
        out[key] = out.get(key, 0) + count
    return out


def print_top(name: str, samples: dict[Stack, int], top: int) -> None:
    total = sum(samples.values()) or 1
    self_fn: dict[str, int] = {}
    incl_fn: dict[str, int] = {}
    self_pkg: dict[str, int] = {}
    for stack, count in samples.items():
        func, where = stack[-1]
        self_fn[f"{func} [{where}]"] = self_fn.get(f"{func} [{where}]", 0) + count
        self_pkg[where] = self_pkg.get(where, 0) + count
        for label in {f"{f} [{w}]" for f, w in stack}:
            incl_fn[label] = incl_fn.get(label, 0) + count
    print(f"\n## {name}: {total} busy samples")
    for title, table in (("self, by package/module", self_pkg), ("self, by function", self_fn),
                         ("inclusive, by function", incl_fn)):
        print(f"\n{title}:")
        for label, count in sorted(table.items(), key=lambda kv: -kv[1])[:top]:
            print(f"  {100 * count / total:5.1f} %  {label}")


# --------------------------------------------------------------------- explain

PG_LOG = Path("/var/log/postgresql/postgresql-15-main.log")
EXPLAIN_SETTINGS = {"session_preload_libraries": "auto_explain",
                    "auto_explain.log_min_duration": "0", "auto_explain.log_analyze": "on",
                    "auto_explain.log_buffers": "on", "auto_explain.log_timing": "on"}


async def _explain_settings(on: bool) -> None:
    conn = await asyncpg.connect(PG + "postgres")
    try:
        for db in DBS.values():
            for name, value in EXPLAIN_SETTINGS.items():
                if on:
                    await conn.execute(f'ALTER DATABASE "{db}" SET {name} = \'{value}\'')
            if not on:
                await conn.execute(f'ALTER DATABASE "{db}" RESET ALL')
    finally:
        await conn.close()


def explain(args: argparse.Namespace) -> int:
    """The plan (EXPLAIN ANALYZE, BUFFERS) of every statement one morning request sends: the
    bench databases (only they) get ``auto_explain`` for the run, one request per portfolio size
    is sent twice (the second, warm, is kept), and the plans are read from PostgreSQL's log."""
    from crm_common.devkeys import ensure_key_files

    if not PG_LOG.exists():
        raise SystemExit(f"{PG_LOG} is not there: the plans are read from PostgreSQL's log")
    asyncio.run(to_today())
    groups_of = asyncio.run(portfolios())
    asyncio.run(_explain_settings(True))
    try:
        with tempfile.TemporaryDirectory(prefix="crm-morning-") as tmp:
            tmpdir = Path(tmp)
            private, _public = ensure_key_files(tmpdir / "keys")
            args.service_env, args.gateway_env = [], []
            with stack(tmpdir / "keys", tmpdir, args) as st:
                for size in ("500", "5000"):
                    line = bodies(groups_of[size][:1], private.read_text(), 1, args.seed)[0]
                    token, body = line.split("\t", 1)
                    load.http_json(st["gateway"], body, token)
                    time.sleep(0.5)
                    offset = PG_LOG.stat().st_size
                    status, _data = load.http_json(st["gateway"], body, token)
                    time.sleep(1.0)
                    with PG_LOG.open("rb") as f:
                        f.seek(offset)
                        text = f.read().decode("utf-8", "replace")
                    plans = [b for b in _log_entries(text) if "plan:" in b]
                    print(f"\n## ~{size} clients per rep: {len(plans)} statements "
                          f"(HTTP {status})\n")
                    for plan in plans:
                        print(plan.rstrip() + "\n")
    finally:
        asyncio.run(_explain_settings(False))
    return 0


def _log_entries(text: str) -> list[str]:
    """PostgreSQL log entries (a line starting with a timestamp and what follows it)."""
    entries: list[str] = []
    for line in text.splitlines():
        if line[:4].isdigit() and line[4:5] == "-":
            entries.append(line)
        elif entries:
            entries[-1] += "\n" + line
    return entries


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fill", help="(re)create the three bench databases")
    f.add_argument("--seed", type=int, default=15)
    r = sub.add_parser("run", help="start the stack and measure")
    r.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",")],
                   default=[1, 8], help="comma list (default 1,8)")
    r.add_argument("--sizes", type=lambda s: s.split(","), default=["500", "5000"])
    r.add_argument("--duration", type=float, default=20)
    r.add_argument("--warmup", type=float, default=3)
    r.add_argument("--bodies", type=int, default=2000)
    r.add_argument("--seed", type=int, default=7)
    r.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    r.add_argument("--service-env", type=lambda s: s.split("=", 1), action="append", default=[],
                   help="NAME=VALUE for the services (repeatable), e.g. WEB_CONCURRENCY=2")
    r.add_argument("--gateway-env", type=lambda s: s.split("=", 1), action="append",
                   default=[], help="NAME=VALUE for the gateway (repeatable)")
    r.add_argument("--out", type=Path, default=BENCH / "results" / "morning.json")
    q = sub.add_parser("profile", help="where the CPU goes: py-spy on the services, "
                                       "node --cpu-prof on the gateway")
    q.add_argument("--size", choices=["500", "5000"], default="5000")
    q.add_argument("--concurrency", type=int, default=8)
    q.add_argument("--duration", type=float, default=20)
    q.add_argument("--warmup", type=float, default=3)
    q.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    q.add_argument("--native", action="store_true",
                   help="py-spy --native: C frames too (the garbage collector, system calls, "
                        "asyncpg's Cython); stops each service briefly per sample")
    q.add_argument("--top", type=int, default=25)
    q.add_argument("--bodies", type=int, default=2000)
    q.add_argument("--seed", type=int, default=7)
    q.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    q.add_argument("--service-env", type=lambda s: s.split("=", 1), action="append", default=[])
    q.add_argument("--gateway-env", type=lambda s: s.split("=", 1), action="append",
                   default=[])
    q.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "out" / "profile")
    e = sub.add_parser("explain", help="the plan of every statement of one request per size")
    e.add_argument("--seed", type=int, default=7)
    e.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    args = p.parse_args(argv)
    if args.command == "explain":
        return explain(args)
    if args.command == "profile":
        return profile(args)
    if args.command == "fill":
        create()
        asyncio.run(fill(args))
        return 0
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
