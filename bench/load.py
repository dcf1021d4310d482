"""Load test of the clients subgraph, straight and through the gateway, with wrk.

    uv run python bench/generate_clients.py                       # 100k -> crm_clients_bench
    uv run python bench/generate_clients.py --count 1000 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_bench_1k
    uv run python bench/load.py                                   # about 5 minutes

For each database (100k, then 1k) it starts the clients service (``crm-clients serve``, production
mode, WARNING logs, bench-only events exchange) and the Hive Gateway in front of it, each in its own
process group, then runs wrk (closed loop: ``--concurrency`` connections, keep-alive, each sending
its next request as soon as the previous answer arrives) for ``--warmup`` seconds (discarded) and
``--duration`` seconds (measured) against each case and target:

- ``dossier``: ``client(id)`` with addresses, contactPersons and bankAccounts, a random client on
  every request;
- ``list``: ``clients(first: 20, after, filter)``, on every request a random filter — half
  ``{status: ACTIVE, city: <random city>}``, half ``{ownerId: <random rep>}`` — and half the time
  an ``after`` cursor at a random client (different variables on every request: the gateway merges
  identical in-flight requests);

- ``update`` (issue 15): ``updateClient`` changing the notes of a random client with the version
  it has (bodies built from the database just before each run and sent in order, each once);
- ``create`` (issue 15): ``createClient`` of a company with a realistic Cyrillic name (as
  ``generate_clients.py`` makes them: the similar-name warning finds its neighbours), a fresh
  valid EIK and an address and a contact person, sent in order, each once;

and the targets ``direct`` (the subgraph's /graphql) and ``gateway``. With ``--relay-process`` the
outbox relay runs as a process of its own (``crm-clients relay``, the API with
``RUN_RELAY=false``), as deployed, and its CPU is reported as ``relay``. Every response is checked
(HTTP 200, no "errors", no null data/client, no userErrors). The CPU time of wrk, the service,
the gateway and PostgreSQL during each measured run is read from /proc. Processes are always
stopped (finally). Only 127.0.0.1 is targeted. Results: a table on stdout and JSON in ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from crm_dev import mongo, procs
from crm_dev.up import gateway_launch

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
LUA = BENCH / "wrk_graphql.lua"
DEFAULT_BIG = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_bench"
DEFAULT_SMALL = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_bench_1k"
CITIES = ("София", "Пловдив", "Варна", "Бургас", "Русе", "Стара Загора", "Плевен",
          "Велико Търново", "Шумен", "Добрич", "Сливен", "Благоевград")
CLK_TCK = os.sysconf("SC_CLK_TCK")

DOSSIER_QUERY = """query Dossier($id: ID!) {
  client(id: $id) {
    id code kind legalName tradeName eik vatNumber status ownerId phones emails website tags
    version createdAt updatedAt archivedAt
    addresses { id kind country city postalCode street isDefault version }
    contactPersons { id name position phones emails isPrimary version }
    bankAccounts { id iban bic bankName currency isDefault version }
  }
}"""

LIST_QUERY = """query ClientList($first: Int, $after: String, $filter: ClientFilterInput) {
  clients(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id code legalName tradeName eik status ownerId updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""


UPDATE_MUTATION = """mutation Update($input: UpdateClientInput!) {
  updateClient(input: $input) { client { id version notes updatedAt }
                                userErrors { field code message } }
}"""

CREATE_MUTATION = """mutation Create($input: CreateClientInput!) {
  createClient(input: $input) {
    client { id code legalName version }
    duplicateWarnings { id code legalName similarity }
    userErrors { field code message }
  }
}"""

#: the cases whose bodies work once (a version, an EIK): built per run, sent in order
MUTATIONS = ("update", "create")


# --------------------------------------------------------------------- helpers

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: apt-get install -y wrk", flush=True)
    cmd = ["apt-get", "install", "-y", "wrk"]
    if os.geteuid() != 0 and shutil.which("sudo"):
        cmd.insert(0, "sudo")
    subprocess.run(cmd, check=True, timeout=600)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk could not be installed")
    return found


def pg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def encode_cursor(values: list[Any]) -> str:
    from crm_common.graphql.cursors import encode_cursor as enc
    return enc(values)


async def build_bodies(database_url: str, n: int, seed: int) -> tuple[list[str], list[str], dict]:
    """(dossier bodies, list bodies, facts) from the database's own rows."""
    rng = random.Random(seed)
    conn = await asyncpg.connect(pg_dsn(database_url))
    try:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM clients")]
        reps = [r["owner_id"] for r in await conn.fetch(
            "SELECT DISTINCT owner_id FROM clients WHERE owner_id IS NOT NULL")]
        keys = [(r["legal_name"], r["id"]) for r in await conn.fetch(
            "SELECT legal_name, id FROM clients ORDER BY random() LIMIT $1", min(n, 5000))]
    finally:
        await conn.close()
    if not ids or not reps:
        raise SystemExit(f"{database_url}: no clients; run bench/generate_clients.py first")
    dossier = [json.dumps({"query": DOSSIER_QUERY, "variables": {"id": str(rng.choice(ids))}},
                          ensure_ascii=False, separators=(",", ":")) for _ in range(n)]
    lists = []
    for _ in range(n):
        if rng.random() < 0.5:
            flt: dict[str, Any] = {"status": "ACTIVE", "city": rng.choice(CITIES)}
        else:
            flt = {"ownerId": str(rng.choice(reps))}
        variables: dict[str, Any] = {"first": 20, "filter": flt}
        if rng.random() < 0.5:
            name, cid = rng.choice(keys)
            variables["after"] = encode_cursor([name, str(cid)])
        lists.append(json.dumps({"query": LIST_QUERY, "variables": variables},
                                ensure_ascii=False, separators=(",", ":")))
    return dossier, lists, {"clients": len(ids), "reps": len(reps)}


async def mutation_bodies(database_url: str, case: str, n: int, seed: int) -> list[str]:
    """``n`` bodies of a mutation case that each work once, from the database as it is now."""
    rng = random.Random(seed)
    lines = []
    if case == "update":
        conn = await asyncpg.connect(pg_dsn(database_url))
        try:
            rows = await conn.fetch("SELECT id, version FROM clients WHERE status <> 'archived' "
                                    "ORDER BY random() LIMIT $1", n)
        finally:
            await conn.close()
        for r in rows:
            lines.append({"query": UPDATE_MUTATION, "variables": {"input": {
                "id": str(r["id"]), "version": r["version"],
                "notes": f"Посещение {rng.randrange(10**9)}: договорихме мостри."}}})
    elif case == "create":
        import generate_clients as gen  # bench/, on sys.path as the script's folder

        from crm_common.identifiers import eik_check_digit
        # an EIK already taken would be refused (DUPLICATE) and counted as a bad response: at
        # 100,000 clients about one body in a thousand drew one
        conn = await asyncpg.connect(pg_dsn(database_url))
        try:
            taken = {r["eik"] for r in await conn.fetch(
                "SELECT eik FROM clients WHERE eik IS NOT NULL")}
        finally:
            await conn.close()
        while len(lines) < n:
            base = f"{rng.choice(gen.NAME_FIRST)} {rng.choice(gen.NAME_SECOND)}"
            if rng.random() < 0.3:
                base += f" {rng.randrange(1, 100)}"
            first8 = f"{rng.randrange(10**7, 10**8):08d}"
            eik = first8 + eik_check_digit(first8)
            if eik in taken:
                continue
            taken.add(eik)
            lines.append({"query": CREATE_MUTATION, "variables": {"input": {
                "kind": "COMPANY", "legalName": f"{base} {rng.choice(gen.LEGAL_FORMS)}",
                "eik": eik, "vatNumber": f"BG{eik}", "status": "PROSPECT",
                "phones": [gen.mobile(rng)],
                "addresses": [{"kind": "REGISTERED", "city": "София", "postalCode": "1000",
                               "street": f"ул. Шипка {rng.randrange(1, 200)}"}],
                "contactPersons": [{"name": gen.person(rng), "phones": [gen.mobile(rng)]}]}}})
    else:
        raise ValueError(case)
    return [json.dumps(b, ensure_ascii=False, separators=(",", ":")) for b in lines]


def http_json(url: str, body: str, token: str, timeout: float = 10) -> tuple[int, Any]:
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:300]


# --------------------------------------------------------------------- CPU account

def _proc_ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)
    except (OSError, IndexError, ValueError):
        return 0


def _group_pids(pgid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5: pgrp
                out.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return out


def _postgres_pids() -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == "postgres":
                        out.append(int(entry))
            except OSError:
                continue
    return out


def _total_ticks() -> tuple[int, int]:
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts[:8]), idle


@dataclass
class CpuSnapshot:
    groups: dict[str, int]
    postgres: dict[int, int]
    total: int
    idle: int

    @classmethod
    def take(cls, groups: dict[str, int]) -> CpuSnapshot:
        total, idle = _total_ticks()
        return cls({name: sum(_proc_ticks(p) for p in _group_pids(pgid))
                    for name, pgid in groups.items()},
                   {p: _proc_ticks(p) for p in _postgres_pids()}, total, idle)


def cpu_delta(a: CpuSnapshot, b: CpuSnapshot) -> dict[str, float]:
    """CPU seconds used between two snapshots (postgres: backends alive at the end)."""
    out = {name: (b.groups[name] - a.groups.get(name, 0)) / CLK_TCK for name in b.groups}
    out["postgres"] = sum(t - a.postgres.get(p, 0) for p, t in b.postgres.items()) / CLK_TCK
    busy = (b.total - b.idle) - (a.total - a.idle)
    out["machine_busy_share"] = busy / max(1, b.total - a.total)
    return out


# --------------------------------------------------------------------- running

@dataclass
class Result:
    dataset: str
    case: str
    target: str
    concurrency: int
    duration_s: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    errors: int
    error_detail: dict[str, Any]
    cpu_s: dict[str, float] = field(default_factory=dict)
    cpu_share: dict[str, float] = field(default_factory=dict)


def run_wrk(wrk: str, url: str, bodies_file: Path, token_file: Path, *, concurrency: int,
            threads: int, seconds: float, groups: dict[str, int],
            sequential: bool = False) -> tuple[dict, dict[str, float]]:
    cmd = [wrk, f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s",
           "--timeout", "10s", "-s", str(LUA), url, "--", str(bodies_file), str(token_file)]
    if sequential:
        cmd.append("seq")
    before = CpuSnapshot.take(groups)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=seconds + 60)
    except subprocess.TimeoutExpired:
        procs.stop([procs.Child("wrk", proc, None)])
        raise
    after = CpuSnapshot.take(groups)
    # wrk has exited; its CPU time is in our children's rusage (delta over this run)
    cpu = cpu_delta(before, after)
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip()} {out[-500:]}")
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no BENCH_JSON line: {out[-800:]} {err[-300:]}")
    return json.loads(line[len("BENCH_JSON "):]), cpu


def measure(wrk: str, dataset: str, case: str, target: str, url: str, bodies_file: Path,
            token_file: Path, args: argparse.Namespace, groups: dict[str, int],
            fresh: Any = None) -> Result:
    """``fresh(path)`` (mutations) writes new once-only bodies to ``path`` before each wrk run;
    they are then sent in order."""
    sequential = fresh is not None
    if args.warmup > 0:
        if fresh:
            fresh(bodies_file)
        run_wrk(wrk, url, bodies_file, token_file, concurrency=args.concurrency,
                threads=args.threads, seconds=args.warmup, groups=groups, sequential=sequential)
    if fresh:
        fresh(bodies_file)
    ru0 = os.times()
    stats, cpu = run_wrk(wrk, url, bodies_file, token_file, concurrency=args.concurrency,
                         threads=args.threads, seconds=args.duration, groups=groups,
                         sequential=sequential)
    ru1 = os.times()
    cpu["wrk"] = (ru1.children_user - ru0.children_user) + (ru1.children_system
                                                              - ru0.children_system)
    secs = stats["duration_us"] / 1e6
    detail = {k: stats[k] for k in ("bad_responses", "connect_errors", "read_errors",
                                    "write_errors", "status_errors", "timeouts")}
    if stats.get("bad_sample"):
        detail["sample"] = stats["bad_sample"]
    errors = sum(v for k, v in detail.items() if k != "sample" and k != "status_errors")
    ncpu = os.cpu_count() or 1
    share = {k: round(v / (secs * ncpu), 3) for k, v in cpu.items() if k != "machine_busy_share"}
    share["machine_busy"] = round(cpu["machine_busy_share"], 3)
    r = Result(dataset, case, target, args.concurrency, round(secs, 2), stats["requests"],
               round(stats["requests"] / secs, 1), stats["p50_us"] / 1000,
               stats["p90_us"] / 1000, stats["p99_us"] / 1000, stats["max_us"] / 1000,
               round(stats["mean_us"] / 1000, 2), errors, detail,
               {k: round(v, 2) for k, v in cpu.items() if k != "machine_busy_share"}, share)
    print(f"  {dataset:5s} {case:8s} {target:8s} {r.rps:8.1f} req/s  p50 {r.p50_ms:7.2f} ms  "
          f"p99 {r.p99_ms:7.2f} ms  errors {r.errors}  cpu% {share}", flush=True)
    return r


@contextlib.contextmanager
def stack(dataset: str, database_url: str, keys_dir: Path, args: argparse.Namespace,
          logs: Path) -> Iterator[dict[str, Any]]:
    """The clients service and the gateway in front of it; both stopped on exit, always."""
    exe = Path(sys.executable).parent / "crm-clients"
    command = args.service_cmd.split() if args.service_cmd else [str(exe), "serve"]
    if not args.service_cmd and not exe.exists():
        raise SystemExit(f"{exe} missing: run with `uv run python bench/load.py`")
    env = {k: v for k, v in os.environ.items()
           if k not in {"PORT", "HOST", "SERVICE_HOST", "LOG_LEVEL"}}
    env.update({
        "CRM_ENV": "production", "SERVICE_HOST": "127.0.0.1",
        "SERVICE_PORT": str(args.service_port), "DATABASE_URL": database_url,
        "AMQP_URL": args.amqp_url, "JWT_PUBLIC_KEY_FILE": str(keys_dir / "jwt_public.pem"),
        "EVENTS_EXCHANGE": "crm.events.bench", "LOG_LEVEL": "WARNING",
        # production refuses to start without it (inventory files); the bench serves none
        "ATTACHMENT_URL_SECRET": secrets.token_hex(32),
    })
    children: list[procs.Child] = []
    # the service's /readyz checks its file store (inventory photos and protocols): a
    # MongoDB-wire server for it, as `./crm up` starts one
    server = mongo.start(logs / f"mongo-{dataset}", log=logs / f"mongo-{dataset}.log")
    env.update({"MONGODB_URL": server.url, "MONGODB_DATABASE": "crm_clients_bench"})
    try:
        groups: dict[str, int] = {}
        if args.relay_process:
            # the relay in a process of its own, as the Kubernetes manifests run it
            # (`crm-clients relay`, the API with RUN_RELAY=false); its CPU is counted apart
            env["RUN_RELAY"] = "false"
            relay = procs.spawn("relay", [str(exe), "relay"], cwd=ROOT,
                                env={**env, "RUN_RELAY": "true",
                                     "SERVICE_PORT": str(args.service_port + 1)},
                                log=logs / f"relay-{dataset}.log")
            children.append(relay)
            procs.wait_http(f"http://127.0.0.1:{args.service_port + 1}/healthz", timeout=60,
                            child=relay)
            groups["relay"] = relay.pid
        service = procs.spawn("clients", command, env=env, cwd=ROOT,
                              log=logs / f"service-{dataset}.log")
        children.append(service)
        procs.wait_http(f"http://127.0.0.1:{args.service_port}/readyz", timeout=60, child=service)
        argv, gateway_env = gateway_launch(ROOT, args.gateway_port, {
            "CRM_ENV": "production",
            "JWT_PUBLIC_KEY_FILE": str(keys_dir / "jwt_public.pem"),
            "CLIENTS_URL": f"http://127.0.0.1:{args.service_port}/graphql",
            "GATEWAY_LOG_LEVEL": "warn", "GATEWAY_HOST": "127.0.0.1"})
        gateway = procs.spawn("gateway", argv, env=gateway_env, log=logs / f"gateway-{dataset}.log")
        children.append(gateway)
        procs.wait_http(f"http://127.0.0.1:{args.gateway_port}/readiness", timeout=60,
                        child=gateway)
        yield {"direct": f"http://127.0.0.1:{args.service_port}/graphql",
               "gateway": f"http://127.0.0.1:{args.gateway_port}/graphql",
               "groups": {"service": service.pid, "gateway": gateway.pid, **groups}}
    finally:
        procs.stop(list(reversed(children)))
        server.stop()


def smoke(urls: dict[str, str], bodies: dict[str, list[str]], token: str) -> dict[str, int]:
    """One request of each case to each target; fail fast on a wrong answer. Returns sizes."""
    sizes = {}
    for case, lines in bodies.items():
        for target in ("direct", "gateway"):
            for body in lines[:3]:
                for attempt in range(3):
                    status, data = http_json(urls[target], body, token)
                    if status == 200 and isinstance(data, dict) and not data.get("errors") \
                            and data.get("data") \
                            and all(v is not None for v in data["data"].values()):
                        break
                    if attempt == 2:
                        raise RuntimeError(f"smoke {case} {target}: {status} {str(data)[:500]}")
                    # a pooled connection closed under it (on a shared server): once more
                    time.sleep(1)
                sizes[f"{case}/{target}"] = len(json.dumps(data, ensure_ascii=False).encode())
    return sizes


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--database-url", default=DEFAULT_BIG, help="the big (100k) bench database")
    p.add_argument("--small-database-url", default=DEFAULT_SMALL,
                   help="the small (1k) bench database, for the list-page ratio")
    p.add_argument("--skip-small", action="store_true", help="do not run the 1k database")
    p.add_argument("--cases", default="dossier,list",
                   help="comma-separated: dossier,list,update,create (the last two write: they "
                        "change the bench database)")
    p.add_argument("--targets", default="direct,gateway")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--duration", type=float, default=20, help="measured seconds per run")
    p.add_argument("--warmup", type=float, default=3, help="discarded seconds before each run")
    p.add_argument("--overhead-concurrency", type=int, default=1,
                   help="also run every 100k case at this concurrency to read the gateway's "
                        "overhead without queueing (0: skip)")
    p.add_argument("--overhead-duration", type=float, default=10)
    p.add_argument("--threads", type=int, default=1, help="wrk threads (one is plenty)")
    p.add_argument("--bodies", type=int, default=20000, help="distinct request bodies per case")
    p.add_argument("--service-port", type=int, default=18101)
    p.add_argument("--gateway-port", type=int, default=14000)
    p.add_argument("--amqp-url", default="amqp://guest:guest@127.0.0.1:5672/")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--relay-process", action="store_true",
                   help="run the outbox relay as its own process (`crm-clients relay`, the API "
                        "with RUN_RELAY=false), as deployed; its CPU is reported as `relay`")
    p.add_argument("--service-cmd", default="",
                   help="alternative service command line (experiments); default crm-clients serve")
    p.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    args = p.parse_args(argv)
    if not (1 <= args.concurrency <= 256 and 1 <= args.duration <= 600 and
            0 <= args.warmup <= 60 and 1 <= args.threads <= args.concurrency):
        p.error("out of range: concurrency 1..256, duration 1..600, warmup 0..60")
    for url in (args.database_url, args.small_database_url):
        host = make_url(url).host
        if host not in ("127.0.0.1", "localhost"):
            p.error("only 127.0.0.1 databases")
    cases = [c for c in args.cases.split(",") if c]
    targets = [t for t in args.targets.split(",") if t]
    wrk = ensure_wrk()

    from crm_common.devkeys import ensure_key_files, mint_token

    results: list[Result] = []
    meta: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                            "args": {k: str(v) for k, v in vars(args).items()},
                            "wrk": subprocess.run([wrk, "-v"], capture_output=True,
                                                  text=True).stdout.splitlines()[:1]}
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as tmp:
        tmpdir = Path(tmp)
        _priv, _pub = ensure_key_files(tmpdir / "keys")
        token = mint_token(_priv.read_text(), subject=uuid.uuid4(), roles=["manager"],
                           name="Bench Manager")
        token_file = tmpdir / "token"
        token_file.write_text(token + "\n")
        datasets = [("100k", args.database_url, cases)]
        if not args.skip_small:
            datasets.append(("1k", args.small_database_url, ["list"]))
        logs = tmpdir
        for dataset, url, ds_cases in datasets:
            dossier, lists, facts = asyncio.run(build_bodies(url, args.bodies, args.seed))
            meta[f"facts_{dataset}"] = facts
            files = {"dossier": tmpdir / f"dossier-{dataset}.jsonl",
                     "list": tmpdir / f"list-{dataset}.jsonl"}
            files["dossier"].write_text("\n".join(dossier) + "\n")
            files["list"].write_text("\n".join(lists) + "\n")
            print(f"{dataset}: {facts}; starting service :{args.service_port} and gateway "
                  f":{args.gateway_port}", flush=True)
            try:
                with stack(dataset, url, tmpdir / "keys", args, logs) as st:
                    meta[f"response_bytes_{dataset}"] = smoke(
                        st, {"dossier": dossier, "list": lists}, token)
                    for case in ds_cases:
                        for target in targets:
                            results.append(measure(wrk, dataset, case, target, st[target],
                                                   files.get(case, tmpdir / f"{case}.jsonl"),
                                                   token_file, args, st["groups"],
                                                   fresh=writer(case, url, args)))
                    if dataset == "100k" and args.overhead_concurrency:
                        # unloaded latency: the gateway's own cost without queueing behind a
                        # saturated service
                        quiet = argparse.Namespace(**{**vars(args),
                                                      "concurrency": args.overhead_concurrency,
                                                      "threads": 1,
                                                      "duration": args.overhead_duration,
                                                      "warmup": min(args.warmup, 2)})
                        for case in ds_cases:
                            for target in targets:
                                results.append(measure(wrk, dataset, case, target, st[target],
                                                       files.get(case,
                                                                 tmpdir / f"{case}.jsonl"),
                                                       token_file, quiet, st["groups"],
                                                       fresh=writer(case, url, args)))
            except BaseException:
                for log in sorted(logs.glob(f"*-{dataset}.log")):
                    print(f"--- {log.name} (tail)\n{log.read_text()[-3000:]}", file=sys.stderr)
                raise
            for log in sorted(logs.glob(f"*-{dataset}.log")):
                # what the process wrote, below the start line procs.spawn puts in each log
                text = log.read_text().strip().partition("\n")[2]
                if text:
                    print(f"--- {log.name}: {len(text.splitlines())} lines; tail:\n"
                          f"{text[-1500:]}", flush=True)

    print_summary(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "results": [asdict(r) for r in results]},
                                   ensure_ascii=False, indent=2) + "\n")
    print(f"results: {args.out}")
    return 0


def writer(case: str, database_url: str, args: argparse.Namespace) -> Any:
    """For a mutation case, what writes fresh bodies to a file before each run; else None."""
    if case not in MUTATIONS:
        return None
    # more bodies than a run can send at the highest rate seen (~1,000/s)
    n = max(1000, int(1000 * max(args.duration, args.warmup)) + 1000)

    def write(path: Path) -> None:
        # a fresh seed per run: a create's EIK works once, in this run and any earlier one
        lines = asyncio.run(mutation_bodies(database_url, case, n, secrets.randbits(64)))
        path.write_text("\n".join(lines) + "\n")
    return write


def print_summary(results: list[Result]) -> None:
    print("\n| data | case | target | concurrency | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.dataset} | {r.case} | {r.target} | {r.concurrency} | {r.rps:.0f} | "
              f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} |")
    by = {(r.dataset, r.case, r.target, r.concurrency): r for r in results}
    for conc in sorted({r.concurrency for r in results}):
        for case in ("dossier", "list"):
            d = by.get(("100k", case, "direct", conc))
            g = by.get(("100k", case, "gateway", conc))
            if d and g:
                print(f"gateway overhead at p50, {case}, concurrency {conc}: "
                      f"{g.p50_ms - d.p50_ms:+.2f} ms")
    for target in ("direct", "gateway"):
        big = next((r for r in results
                    if (r.dataset, r.case, r.target) == ("100k", "list", target)), None)
        small = by.get(("1k", "list", target, big.concurrency)) if big else None
        if big and small:
            print(f"list page 100k/1k ({target}): p50 x{big.p50_ms / small.p50_ms:.2f}, "
                  f"throughput x{small.rps / big.rps:.2f} (1k req/s / 100k req/s)")


if __name__ == "__main__":
    raise SystemExit(main())
