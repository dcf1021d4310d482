"""How fast the ERP feed is applied: ``crm-analytics import`` of an NDJSON file, and the live
consumer draining the same messages from RabbitMQ (issue 10: ≥ 5,000 lines/s each).

    ./crm erp-sim --clients 100 --out /tmp/erp100.ndjson        # once (36k messages, 85k lines)
    uv run python bench/analytics_ingest.py /tmp/erp100.ndjson [--mode import consumer]

For each mode, a fresh database ``crm_analytics_bench_ingest`` (the service's migrations) whose
client projection already holds the file's clients (by their CRM id and EIK, as the clients
service's events would have left it), so that documents match and the rollups are written:

- ``import``: :func:`crm_analytics.importer.import_file` on the file (the command's own code);
- ``consumer``: the service's consumers (``register_consumers``, batched as in production) on
  a bench exchange, in a process of their own (as in a service's pod: the bench's copy of the
  file is not in its heap); their queue is declared first, every message of the file is
  published and confirmed while no consumer runs, then the consumer process starts and the time
  from its attaching to the queue's being drained and everything applied is measured (so the
  publisher's speed and the process's start-up do not count). A line a minute shows the
  drain's rate and the consumer's CPU per message so far, so that a long drain shows its curve.

``--history N`` imports the file's first N messages first (not measured, then ``VACUUM
(ANALYZE)``) and measures the rest: the feed's work on top of a ledger of that size, e.g. the
last month of a 10-million-line file (the simulator writes its messages in time order).

PostgreSQL's autovacuum: production runs it, but the PostgreSQL of this project's machines runs
with ``autovacuum = off`` (``/etc/postgresql/15/main/conf.d/90-ci.conf``), so over a long run the
rollups fill with dead rows and the planner keeps the statistics of an empty table: with 345,000
messages the consumer fell from ~1,900 to ~800 messages a second, PostgreSQL at 93 % of a core
on probes of ``erp_documents`` planned for 1,947 rows where there were 92,000, and one
``VACUUM (ANALYZE)`` brought it straight back. So, unless ``--no-vacuum``, the bench runs
``VACUUM (ANALYZE)`` on its database every :data:`VACUUM_EVERY` seconds while it measures, in
autovacuum's place (its time counts).

Prints messages (NDJSON lines) per second and invoice lines (lines of invoices and credit notes)
per second, with the machine's core count and load average, and the CPU time of the import's
or the consumer's process (PostgreSQL and RabbitMQ not counted) over the same span: on a machine
shared with other work, invoice lines per CPU-second say what one free core would do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from crm_analytics.cli import migrate
from crm_analytics.consumers import register_consumers
from crm_analytics.importer import import_file
from crm_common.db import drop_database, make_engine
from crm_common.messaging.consumer import ConsumerRunner

URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_analytics_bench_ingest"
#: seconds between the bench's stand-in runs of autovacuum (0: none)
VACUUM_EVERY = 20.0
AMQP = "amqp://guest:guest@127.0.0.1:5672/"
#: seconds between progress lines of a drain
PROGRESS_EVERY = 60.0


def read_file(path: Path) -> tuple[list[bytes], dict[str, str | None], list[int]]:
    """The file's messages, its clients (EIK → CRM id) and each message's invoice lines."""
    lines: list[bytes] = []
    clients: dict[str, str | None] = {}
    invoice_lines: list[int] = []
    with path.open("rb") as raw:
        for line in raw:
            if not line.strip():
                continue
            lines.append(line.rstrip(b"\n"))
            envelope = json.loads(line)
            data = envelope.get("data") or {}
            client = data.get("client") if isinstance(data, dict) else None
            if isinstance(client, dict) and client.get("eik"):
                clients[client["eik"]] = client.get("id")
            invoice_lines.append(len(data.get("lines") or [])
                                 if envelope.get("type") == "erp.sales.invoice.posted" else 0)
    return lines, clients, invoice_lines


async def fresh_database(clients: dict[str, str | None]) -> None:
    await drop_database(URL)
    await asyncio.to_thread(migrate, URL)
    engine = make_engine(URL, pool_size=1)
    try:
        async with engine.begin() as conn:
            for eik, crm_id in clients.items():
                client_id = uuid.UUID(crm_id) if crm_id else uuid.uuid5(uuid.NAMESPACE_OID, eik)
                await conn.execute(text(
                    "INSERT INTO client_profiles (client_id, eik, version) VALUES (:c, :e, 1)"),
                    {"c": client_id, "e": eik})
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def autovacuum_stand_in() -> AsyncIterator[None]:
    """``VACUUM (ANALYZE)`` of the bench database every ``VACUUM_EVERY`` seconds meanwhile."""
    if not VACUUM_EVERY:
        yield
        return
    stop = asyncio.Event()

    async def loop() -> None:
        engine = make_engine(URL, pool_size=1)
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=VACUUM_EVERY)
                if stop.is_set():
                    return
                await vacuum_analyze(engine)
        finally:
            await engine.dispose()

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        await task


async def vacuum_analyze(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM (ANALYZE)"))


async def vacuum_analyze_once() -> None:
    engine = make_engine(URL, pool_size=1)
    try:
        await vacuum_analyze(engine)
    finally:
        await engine.dispose()


async def bench_import(path: Path) -> tuple[float, float]:
    engine = make_engine(URL, pool_size=2)
    try:
        cpu = time.process_time()
        started = time.perf_counter()
        async with autovacuum_stand_in():
            result = await import_file(async_sessionmaker(engine, expire_on_commit=False), path,
                                       progress=False)
        elapsed = time.perf_counter() - started
        print(f"  import: {result.lines:,} lines, {result.applied:,} applied, "
              f"{result.unchanged:,} unchanged, {result.parked:,} parked")
        return elapsed, time.process_time() - cpu
    finally:
        await engine.dispose()


def _runner(engine: AsyncEngine, run: str) -> ConsumerRunner:
    """The service's consumers on the bench run's exchanges and queues."""
    runner = ConsumerRunner(engine, AMQP, exchange=f"crm.events.bench.{run}",
                            service_name="analytics", queue_prefix=f"bench.{run}.")
    register_consumers(runner, erp_exchange=f"erp.events.bench.{run}")
    return runner


def _consumer_process(run: str, ready: Any, stop: Any) -> None:
    """The service's consumers in a process of their own (started with ``spawn``: none of the
    bench's memory, as in a service's pod) until ``stop`` is set."""
    async def consume() -> None:
        engine = make_engine(URL, pool_size=4)
        r = _runner(engine, run)
        halt = asyncio.Event()
        task = asyncio.create_task(r.run(halt))
        for _ in range(2400):
            if r.attached:
                ready.set()  # otherwise the bench gives up waiting and kills this process
                break
            await asyncio.sleep(0.05)
        # a multiprocessing event cannot be awaited: wait for it in a thread
        await asyncio.to_thread(stop.wait)
        halt.set()
        await task
        await engine.dispose()

    asyncio.run(consume())


def _progress(mark: tuple[float, float, int], pid: int, left: int,
              started: float) -> tuple[float, float, int]:
    """Print the drain's rate and the consumer's CPU per message since ``mark``."""
    now, cpu = time.perf_counter(), _cpu_seconds(pid)
    done = mark[2] - left
    if done > 0:
        print(f"    {now - started:6.0f} s: {left:,} left, {done / (now - mark[0]):,.0f} "
              f"messages/s, {(cpu - mark[1]) / done * 1000:.2f} ms of consumer CPU per message, "
              f"load average {os.getloadavg()[0]:.2f}", flush=True)
    return now, cpu, left


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from ``/proc``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def bench_consumer(lines: list[bytes]) -> tuple[float, float]:
    """Declare the consumers' topology (a consumer process started and stopped), publish every
    message while none runs, then start the consumer process and time the drain; the CPU is the
    consumer process's."""
    run = uuid.uuid4().hex[:8]
    exchange_name, queue_name = f"erp.events.bench.{run}", f"bench.{run}.analytics.erp-feed"
    spawn = multiprocessing.get_context("spawn")

    def start() -> tuple[Any, Any]:
        ready, stop = spawn.Event(), spawn.Event()
        process = spawn.Process(target=_consumer_process, args=(run, ready, stop))
        process.start()
        if not ready.wait(120):
            process.kill()
            raise RuntimeError("the consumer process did not attach within 120 s")
        return process, stop

    def finish(process: Any, stop: Any) -> None:
        stop.set()
        process.join(60)
        if process.exitcode != 0:
            raise RuntimeError(f"the consumer process ended with {process.exitcode}")

    engine = make_engine(URL, pool_size=1)
    try:
        first = start()
        await asyncio.to_thread(finish, *first)
        conn = await aio_pika.connect(AMQP)
        async with conn:
            channel = await conn.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(exchange_name)
            published = time.perf_counter()
            for begin in range(0, len(lines), 500):
                await asyncio.gather(*(exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=orjson.loads(body)["type"]) for body in lines[begin:begin + 500]))
            print(f"  published {len(lines):,} messages in "
                  f"{time.perf_counter() - published:.0f} s (not counted)", flush=True)
            queue = await channel.declare_queue(queue_name, passive=True)
            assert queue.declaration_result.message_count == len(lines)
            # timed from the moment the consumer is attached (its start-up and imports not counted)
            process, stop = await asyncio.to_thread(start)
            started = time.perf_counter()
            cpu_at_start = _cpu_seconds(process.pid)
            mark = (started, cpu_at_start, len(lines))
            async with autovacuum_stand_in():
                while True:
                    await asyncio.sleep(0.2)
                    queue = await channel.declare_queue(queue_name, passive=True)
                    left = queue.declaration_result.message_count
                    if time.perf_counter() - mark[0] >= PROGRESS_EVERY:
                        mark = _progress(mark, process.pid, left, started)
                    if left == 0:
                        async with engine.connect() as db:
                            inbox = await db.scalar(text("SELECT count(*) FROM inbox"))
                        if inbox >= len(lines) - 50:  # malformed ones are not claimed
                            cpu = _cpu_seconds(process.pid) - cpu_at_start
                            break
            elapsed = time.perf_counter() - started
            await asyncio.to_thread(finish, process, stop)
            for name in _runner(engine, run).work_queue_names():
                for suffix in ("", ".dlq", ".retry"):
                    await channel.queue_delete(f"{name}{suffix}")
            await channel.exchange_delete(exchange_name)
        return elapsed, cpu
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--mode", nargs="+", default=["import", "consumer"],
                        choices=["import", "consumer"])
    parser.add_argument("--history", type=int, default=0, metavar="N",
                        help="import the file's first N messages first (not measured), then "
                             "measure the rest: the feed's work on top of a ledger")
    parser.add_argument("--no-vacuum", action="store_true",
                        help="no VACUUM (ANALYZE) in autovacuum's place (see above)")
    args = parser.parse_args()
    if args.no_vacuum:
        global VACUUM_EVERY
        VACUUM_EVERY = 0.0
    lines, clients, per_message = read_file(args.file)
    history, lines = lines[:args.history], lines[args.history:]
    invoice_lines = sum(per_message[args.history:])
    del per_message
    # The file's messages stay in memory (to publish them), one bytes object each, 4.1 million
    # at 10 million lines: keep them out of the collector's sight (the consumer runs in a
    # process of its own, which never sees them).
    gc.freeze()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{args.file.name}: {len(history):,} messages of history, then {len(lines):,} "
          f"messages and {invoice_lines:,} invoice lines measured, {len(clients):,} clients",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        measured = args.file
        if history:
            Path(tmp, "history.ndjson").write_bytes(b"\n".join(history) + b"\n")
            if "import" in args.mode:  # the consumer publishes from memory
                measured = Path(tmp, "measured.ndjson")
                measured.write_bytes(b"\n".join(lines) + b"\n")
        for mode in args.mode:
            asyncio.run(fresh_database(clients))
            if history:
                elapsed, _ = asyncio.run(bench_import(Path(tmp, "history.ndjson")))
                print(f"  history imported in {elapsed:.0f} s (not counted); VACUUM (ANALYZE)",
                      flush=True)
                asyncio.run(vacuum_analyze_once())
            elapsed, cpu = asyncio.run(bench_import(measured) if mode == "import"
                                       else bench_consumer(lines))
            print(f"  {mode:8}: {elapsed:6.1f} s   {len(lines) / elapsed:7,.0f} messages/s   "
                  f"{invoice_lines / elapsed:7,.0f} invoice lines/s   "
                  f"(load average {os.getloadavg()[0]:.2f}); process CPU {cpu:.1f} s: "
                  f"{invoice_lines / cpu:,.0f} invoice lines per CPU-second, "
                  f"{cpu / len(lines) * 1000:.2f} ms per message", flush=True)
    asyncio.run(drop_database(URL))


if __name__ == "__main__":
    main()
