"""How fast the ERP feed is applied: ``crm-analytics import`` of an NDJSON file, and the live
consumer draining the same messages from RabbitMQ (issue 10: ≥ 5,000 lines/s each).

    ./crm erp-sim --clients 100 --out /tmp/erp100.ndjson        # once (36k messages, 85k lines)
    uv run python bench/analytics_ingest.py /tmp/erp100.ndjson [--mode import consumer]

For each mode, a fresh database ``crm_analytics_bench_ingest`` (the service's migrations) whose
client projection already holds the file's clients (by their CRM id and EIK, as the clients
service's events would have left it), so that documents match and the rollups are written:

- ``import``: :func:`crm_analytics.importer.import_file` on the file (the command's own code);
- ``consumer``: the service's consumers (``register_consumers``, batched as in production) on
  a bench exchange; their queue is declared first, every message of the file is published and
  confirmed while no consumer runs, then the consumer starts and the time to drain the queue
  and apply everything is measured (so the publisher's speed does not count).

PostgreSQL's autovacuum: production runs it, but the PostgreSQL of this project's machines runs
with ``autovacuum = off`` (``/etc/postgresql/15/main/conf.d/90-ci.conf``), so over a long run the
rollups fill with dead rows and the planner keeps the statistics of an empty table: with 345,000
messages the consumer fell from ~1,900 to ~800 messages a second, PostgreSQL at 93 % of a core
on probes of ``erp_documents`` planned for 1,947 rows where there were 92,000, and one
``VACUUM (ANALYZE)`` brought it straight back. So, unless ``--no-vacuum``, the bench runs
``VACUUM (ANALYZE)`` on its database every :data:`VACUUM_EVERY` seconds while it measures, in
autovacuum's place (its time counts).

Prints messages (NDJSON lines) per second and invoice lines (lines of invoices and credit notes)
per second, with the machine's core count and load average, and the CPU time of this process
(the import or consumer; PostgreSQL and RabbitMQ not counted) over the same span: on a machine
shared with other work, invoice lines per CPU-second say what one free core would do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from crm_analytics.cli import migrate
from crm_analytics.consumers import register_consumers
from crm_analytics.importer import import_file
from crm_common.db import drop_database, make_engine
from crm_common.messaging.consumer import ConsumerRunner

URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/crm_analytics_bench_ingest"
#: seconds between the bench's stand-in runs of autovacuum (0: none)
VACUUM_EVERY = 20.0
AMQP = "amqp://guest:guest@127.0.0.1:5672/"


def read_file(path: Path) -> tuple[list[bytes], dict[str, str | None], int]:
    lines, clients, invoice_lines = [], {}, 0
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
            if envelope.get("type") == "erp.sales.invoice.posted":
                invoice_lines += len(data.get("lines") or [])
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
                async with engine.connect() as conn:
                    await conn.execution_options(isolation_level="AUTOCOMMIT")
                    await conn.execute(text("VACUUM (ANALYZE)"))
        finally:
            await engine.dispose()

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        await task


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


async def bench_consumer(lines: list[bytes]) -> tuple[float, float]:
    run = uuid.uuid4().hex[:8]
    exchange_name, prefix = f"erp.events.bench.{run}", f"bench.{run}."
    engine = make_engine(URL, pool_size=4)

    def runner() -> ConsumerRunner:
        r = ConsumerRunner(engine, AMQP, exchange=f"crm.events.bench.{run}",
                           service_name="analytics", queue_prefix=prefix)
        register_consumers(r, erp_exchange=exchange_name)
        return r

    queue_name = f"{prefix}analytics.erp-feed"
    try:
        # declare the topology, then stop: the messages wait in the queue
        first, stop = runner(), asyncio.Event()
        task = asyncio.create_task(first.run(stop))
        for _ in range(600):
            if first.attached:
                break
            await asyncio.sleep(0.05)
        stop.set()
        await task
        conn = await aio_pika.connect(AMQP)
        async with conn:
            channel = await conn.channel(publisher_confirms=True)
            exchange = await channel.get_exchange(exchange_name)
            published = time.perf_counter()
            for start in range(0, len(lines), 500):
                await asyncio.gather(*(exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=json.loads(body)["type"]) for body in lines[start:start + 500]))
            print(f"  published {len(lines):,} messages in "
                  f"{time.perf_counter() - published:.0f} s (not counted)", flush=True)
            queue = await channel.declare_queue(queue_name, passive=True)
            assert queue.declaration_result.message_count == len(lines)
            second, stop = runner(), asyncio.Event()
            cpu = time.process_time()
            started = time.perf_counter()
            task = asyncio.create_task(second.run(stop))
            async with autovacuum_stand_in():
                while True:
                    await asyncio.sleep(0.2)
                    queue = await channel.declare_queue(queue_name, passive=True)
                    if queue.declaration_result.message_count == 0:
                        async with engine.connect() as db:
                            inbox = await db.scalar(text("SELECT count(*) FROM inbox"))
                        if inbox >= len(lines) - 50:  # malformed ones are not claimed
                            break
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            stop.set()
            await task
            for name in second.work_queue_names():
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
    parser.add_argument("--no-vacuum", action="store_true",
                        help="no VACUUM (ANALYZE) in autovacuum's place (see above)")
    args = parser.parse_args()
    if args.no_vacuum:
        global VACUUM_EVERY
        VACUUM_EVERY = 0.0
    lines, clients, invoice_lines = read_file(args.file)
    # The file's messages stay in memory (to publish them), one bytes object each, 4.1 million
    # at 10 million lines: every full collection of the garbage collector walked that list,
    # which at that size doubled the CPU of the consumer running in this process (27 % of its
    # samples in gc_collect_main). A service's consumer holds no such list: keep it out of the
    # collector's sight, as the consumer's own process would be.
    gc.freeze()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; "
          f"{args.file.name}: {len(lines):,} messages, {invoice_lines:,} invoice lines, "
          f"{len(clients):,} clients")
    for mode in args.mode:
        asyncio.run(fresh_database(clients))
        elapsed, cpu = asyncio.run(bench_import(args.file) if mode == "import"
                                   else bench_consumer(lines))
        print(f"  {mode:8}: {elapsed:6.1f} s   {len(lines) / elapsed:7,.0f} messages/s   "
              f"{invoice_lines / elapsed:7,.0f} invoice lines/s   "
              f"(load average {os.getloadavg()[0]:.2f}); process CPU {cpu:.1f} s: "
              f"{invoice_lines / cpu:,.0f} invoice lines per CPU-second")
    asyncio.run(drop_database(URL))


if __name__ == "__main__":
    main()
