"""How fast the outbox relay publishes, and how long an event takes from commit to delivery
(issue 14: a burst of 5,000 changes drains at ≥ 2,000 events/s; steady-state commit → delivery
lag p99 ≤ 200 ms at the highest commit rate the service sustains).

    flock /tmp/crm-bench.lock uv run python bench/events_relay.py [--burst 5000]
        [--rates 50 100 200 400 800] [--seconds 10]

Everything runs against the real PostgreSQL and RabbitMQ of this machine, on a throw-away
database ``crm_bench_relay_<random>`` holding the kit's ``outbox`` table and a bench exchange
``crm.events.bench.<random>`` with one quorum queue bound to ``#`` (plus the relay's archive
queue, as in production). The relay is :class:`crm_common.messaging.OutboxRelay` with its
production defaults, **in a process of its own** (as ``crm-<service> relay`` runs it); the
consumer of the bench queue runs in a third process, and the writers (asyncpg: the outbox
``INSERT`` and ``pg_notify`` that ``write_to_outbox`` sends, then ``COMMIT``) in this one; times
are read on the system-wide monotonic clock, the same in every process.

- ``burst, one transaction``: 5,000 events committed in one transaction while the relay idles;
  from the commit to the consumer holding all 5,000.
- ``burst, separate commits``: 5,000 single-event transactions from 16 concurrent writers as
  fast as they go; from the first commit to the last delivery, and from the last commit to the
  last delivery (the drain after the writers stopped).
- ``steady``: single-event transactions at a fixed rate for ``--seconds`` each; lag = delivery
  time − the moment the writer's COMMIT returned (p50/p99/max; a NOTIFY can wake the relay
  before the writer sees its COMMIT return, so this slightly flatters), and p99 from the moment
  the COMMIT was sent (which counts the commit's own fsync, so it errs the other way). If the
  writers fall behind the rate, the achieved rate is printed.

Also printed: the relay process's CPU time per event (from ``/proc``), the core count and the
load average — on a shared machine, figures move with the neighbours' load.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import statistics
import time
import uuid
from multiprocessing.connection import Connection
from typing import Any

import aio_pika
import asyncpg
import sqlalchemy as sa

from crm_common.db import create_database_if_missing, drop_database, make_engine
from crm_common.messaging import DomainEvent, OutboxRelay, define_outbox_table, to_cloudevent
from crm_common.messaging.envelope import dumps

AMQP = "amqp://guest:guest@127.0.0.1:5672/"
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
EVENT_TYPE = "crm.bench.thing.changed"
INSERT = ("INSERT INTO outbox (id, event_type, routing_key, envelope) "
          "SELECT u, $2, $2, e::jsonb FROM unnest($1::uuid[], $3::text[]) AS t(u, e)")


def _relay_process(url: str, exchange: str) -> None:
    async def main() -> None:
        engine = make_engine(url, pool_size=5)
        relay = OutboxRelay(engine, AMQP, exchange, service_name="bench")
        await relay.run(asyncio.Event())  # until the parent terminates this process

    asyncio.run(main())


def _consumer_process(queue_name: str, pipe: Connection) -> None:
    """Consume the bench queue; on each request from the pipe, answer the arrival times (on
    the system-wide monotonic clock) of the ids asked for, once all of them arrived."""

    async def main() -> None:
        arrived: dict[str, float] = {}
        waiting: set[str] = set()
        all_there = asyncio.Event()
        connection = await aio_pika.connect(AMQP)
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=2000)
        queue = await channel.get_queue(queue_name)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            key = str(message.message_id)
            arrived[key] = time.monotonic()
            waiting.discard(key)
            if not waiting:
                all_there.set()

        await queue.consume(on_message, no_ack=True)
        pipe.send("ready")
        loop = asyncio.get_running_loop()
        while True:
            request = await loop.run_in_executor(None, pipe.recv)
            if request is None:
                break
            ids, within = request
            waiting.clear()
            waiting.update(i for i in ids if i not in arrived)
            all_there.clear()
            if waiting:
                try:
                    await asyncio.wait_for(all_there.wait(), timeout=within)
                except TimeoutError:
                    pass
            pipe.send({i: arrived.get(i) for i in ids})
        await connection.close()

    asyncio.run(main())


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _envelope(n: int) -> dict[str, Any]:
    return to_cloudevent(DomainEvent(EVENT_TYPE, f"thing-{n % 500}", {"n": n, "name": "x" * 200}),
                         source="crm/bench", actor_id="bench")


class Bench:
    def __init__(self, pool: asyncpg.Pool, pipe: Connection, relay_pid: int) -> None:
        self.pool = pool
        self.pipe = pipe
        self.relay_pid = relay_pid

    async def arrivals(self, ids: list[str], within: float) -> dict[str, float]:
        loop = asyncio.get_running_loop()
        self.pipe.send((ids, within))
        answer: dict[str, float | None] = await loop.run_in_executor(None, self.pipe.recv)
        missing = [i for i, at in answer.items() if at is None]
        if missing:
            raise TimeoutError(f"{len(missing)} of {len(ids)} events not delivered")
        return {i: at for i, at in answer.items() if at is not None}

    async def commit(self, envelopes: list[dict[str, Any]]) -> tuple[float, float]:
        """Write ``envelopes`` to the outbox in one transaction, as the services do; return
        when COMMIT was sent and when it returned."""
        async with self.pool.acquire() as conn:
            tx = conn.transaction()
            await tx.start()
            await conn.execute(INSERT, [uuid.UUID(e["id"]) for e in envelopes], EVENT_TYPE,
                               [dumps(e).decode() for e in envelopes])
            await conn.execute("SELECT pg_notify('outbox', '')")
            sent = time.monotonic()
            await tx.commit()
            return sent, time.monotonic()

    async def burst_one_transaction(self, count: int) -> None:
        envelopes = [_envelope(n) for n in range(count)]
        cpu = _cpu_seconds(self.relay_pid)
        _, committed = await self.commit(envelopes)
        last = max((await self.arrivals([e["id"] for e in envelopes], 300)).values())
        cpu = _cpu_seconds(self.relay_pid) - cpu
        took = last - committed
        print(f"burst, one transaction: {count} events delivered {took:.2f} s after the commit: "
              f"{count / took:,.0f} events/s; relay CPU {cpu * 1000 / count:.3f} ms/event")

    async def burst_separate_commits(self, count: int, writers: int = 16) -> None:
        todo = [_envelope(n) for n in range(count)]
        cpu = _cpu_seconds(self.relay_pid)
        first = time.monotonic()

        async def writer() -> None:
            while todo:
                await self.commit([todo.pop()])

        ids = [e["id"] for e in todo]
        await asyncio.gather(*(writer() for _ in range(writers)))
        last_commit = time.monotonic()
        last = max((await self.arrivals(ids, 300)).values())
        cpu = _cpu_seconds(self.relay_pid) - cpu
        print(f"burst, separate commits: {count} single-event commits from {writers} writers "
              f"took {last_commit - first:.2f} s ({count / (last_commit - first):,.0f} commits/s);"
              f" all delivered {last - first:.2f} s after the first commit "
              f"({count / (last - first):,.0f} events/s), {(last - last_commit) * 1000:.0f} ms "
              f"after the last; relay CPU {cpu * 1000 / count:.3f} ms/event")

    async def steady(self, rate: float, seconds: float) -> None:
        total = int(rate * seconds)
        times: dict[str, tuple[float, float]] = {}
        in_flight = asyncio.Semaphore(32)

        async def one(n: int) -> None:
            envelope = _envelope(n)
            async with in_flight:
                times[envelope["id"]] = await self.commit([envelope])

        cpu = _cpu_seconds(self.relay_pid)
        start = time.monotonic()
        tasks = []
        for n in range(total):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(n)))
        await asyncio.gather(*tasks)
        achieved = total / (time.monotonic() - start)
        arrived = await self.arrivals(list(times), 120)
        cpu = _cpu_seconds(self.relay_pid) - cpu
        after = sorted((arrived[i] - done) * 1000 for i, (_, done) in times.items())
        sent = sorted((arrived[i] - sent) * 1000 for i, (sent, _) in times.items())

        def p99(values: list[float]) -> float:
            return values[min(len(values) - 1, int(len(values) * 0.99))]

        print(f"steady {rate:>5.0f}/s (achieved {achieved:6.1f}/s, {total} events): lag p50 "
              f"{statistics.median(after):6.1f} ms, p99 {p99(after):6.1f} ms, max "
              f"{after[-1]:6.1f} ms (from COMMIT sent: p99 {p99(sent):6.1f} ms); relay CPU "
              f"{cpu * 1000 / total:.3f} ms/event")


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--rates", type=float, nargs="*", default=[50, 100, 200, 400, 800])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    tag = secrets.token_hex(4)
    url = f"{PG}/crm_bench_relay_{tag}"
    exchange = f"crm.events.bench.{tag}"
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()}")
    await create_database_if_missing(url)
    engine = make_engine(url, pool_size=5)
    metadata = sa.MetaData()
    define_outbox_table(metadata)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    await engine.dispose()
    connection = await aio_pika.connect(AMQP)
    channel = await connection.channel()
    ex = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue(f"{exchange}.all", durable=True,
                                        arguments={"x-queue-type": "quorum"})
    await queue.bind(ex, "#")
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    consumer = spawn.Process(target=_consumer_process, args=(queue.name, theirs), daemon=True)
    relay = spawn.Process(target=_relay_process, args=(url, exchange), daemon=True)
    consumer.start()
    relay.start()
    assert relay.pid is not None
    pool = await asyncpg.create_pool(url.replace("+asyncpg", ""), min_size=4, max_size=32)
    try:
        assert ours.recv() == "ready"
        bench = Bench(pool, ours, relay.pid)
        warm = _envelope(-1)  # the relay is connected once this one arrives
        await bench.commit([warm])
        await bench.arrivals([warm["id"]], 60)
        await bench.burst_one_transaction(args.burst)
        await bench.burst_separate_commits(args.burst)
        for rate in args.rates:
            await bench.steady(rate, args.seconds)
        print(f"load average at the end {os.getloadavg()}")
    finally:
        ours.send(None)
        consumer.join(10)
        relay.terminate()
        relay.join(10)
        await pool.close()
        for name in (f"{exchange}.all", f"{exchange}.archive"):
            await channel.queue_delete(name)
        await channel.exchange_delete(exchange)
        await connection.close()
        await drop_database(url)


if __name__ == "__main__":
    asyncio.run(main())
