"""Integration tests of the idempotent consumer against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from crm_common.messaging import (
    ConsumerRunner,
    DomainEvent,
    correlation_id,
    dlq_name,
    purge_inbox,
    to_cloudevent,
)
from crm_common.messaging.consumer import _Batch

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def envelope(event_type: str, n: int) -> dict:
    return to_cloudevent(
        DomainEvent(event_type, str(n), {"n": n}),
        source="crm/test",
        actor_id="tester",
        correlation_id=f"corr-{n}",
    )


async def publish(rabbit, env: dict) -> None:
    await rabbit.publish(
        json.dumps(env).encode(),
        env["type"],
        message_id=env["id"],
        content_type="application/cloudevents+json",
        delivery_mode=2,
    )


def make_runner(db, rabbit, max_attempts: int = 3) -> ConsumerRunner:
    return ConsumerRunner(
        db,
        rabbit.url,
        rabbit.exchange,
        service_name=f"{rabbit.prefix}.svc",
        max_attempts=max_attempts,
        dead_letter_exchange=rabbit.dlx,
        retry_backoff_seconds=0.05,
    )


async def count_applied(db, h, **where) -> int:
    query = sa.select(sa.func.count()).select_from(h.applied)
    for column, value in where.items():
        query = query.where(h.applied.c[column] == value)
    async with db.connect() as conn:
        return await conn.scalar(query)


async def test_same_event_twice_is_applied_once(db, rabbit, h):
    seen_correlation: list[str | None] = []

    async def handler(session: AsyncSession, env: dict) -> None:
        seen_correlation.append(correlation_id.get())
        await session.execute(sa.insert(h.applied).values(event_id=env["id"], consumer="apply"))

    runner = make_runner(db, rabbit)
    queue = runner.register("apply", ["crm.test.thing.*"], handler)
    rabbit.track(*runner.queue_names())
    duplicate, other = envelope("crm.test.thing.created", 1), envelope("crm.test.thing.updated", 2)
    async with h.running(runner.run):
        await h.wait_until(lambda: _true(runner.attached), 10, "consumer attached")
        for env in (duplicate, duplicate, other, duplicate):
            await publish(rabbit, env)
        await h.wait_until(lambda: _eq(count_applied(db, h), 2), 10, "both events applied")
        await h.wait_until(lambda: _eq(rabbit.count(queue), 0), 10, "queue drained")
    # the runner stopped gracefully: anything unacked would be back in the queue now
    assert await rabbit.count(queue) == 0
    assert await count_applied(db, h, event_id=duplicate["id"]) == 1
    assert await count_applied(db, h, event_id=other["id"]) == 1
    assert sorted(seen_correlation) == ["corr-1", "corr-2"]
    assert correlation_id.get() is None
    async with db.connect() as conn:
        claims = (await conn.execute(sa.select(h.inbox.c.consumer, h.inbox.c.event_id))).all()
    assert sorted(claims) == sorted([(queue, duplicate["id"]), (queue, other["id"])])


async def test_failing_message_is_dead_lettered_and_others_keep_flowing(db, rabbit, h):
    calls = {"poison": 0}

    async def handler(session: AsyncSession, env: dict) -> None:
        await session.execute(sa.insert(h.applied).values(event_id=env["id"], consumer="x"))
        if env["type"].endswith(".failed"):
            calls["poison"] += 1
            raise RuntimeError("this handler always fails")

    runner = make_runner(db, rabbit, max_attempts=3)
    queue = runner.register("work", ["crm.test.#"], handler)
    rabbit.track(*runner.queue_names())
    poison, good = envelope("crm.test.thing.failed", 1), envelope("crm.test.thing.created", 2)
    async with h.running(runner.run):
        await h.wait_until(lambda: _true(runner.attached), 10, "consumer attached")
        await publish(rabbit, poison)
        await publish(rabbit, good)
        await rabbit.publish(b"{not json", "crm.test.thing.created", message_id="garbage")
        await rabbit.publish(b'{"hello": "world"}', "crm.test.thing.created", message_id="nonce")
        await h.wait_until(lambda: _eq(rabbit.count(dlq_name(queue)), 3), 15, "dead-lettered")
        await h.wait_until(lambda: _eq(count_applied(db, h), 1), 5, "good event applied")
        # the queue keeps flowing after the poison message
        later = envelope("crm.test.thing.created", 3)
        await publish(rabbit, later)
        await h.wait_until(lambda: _eq(count_applied(db, h, event_id=later["id"]), 1), 10, "later")
    assert calls["poison"] == 3  # exactly max_attempts tries
    assert await count_applied(db, h, event_id=poison["id"]) == 0  # every attempt rolled back
    assert await count_applied(db, h, event_id=good["id"]) == 1
    dead = {m.message_id: m for m in await rabbit.drain(dlq_name(queue))}
    assert set(dead) == {poison["id"], "garbage", "nonce"}
    death = dead[poison["id"]].headers["x-death"][0]
    assert death["queue"] == queue and death["reason"] == "rejected"
    assert await rabbit.count(queue) == 0
    async with db.connect() as conn:
        claimed = set(await conn.scalars(sa.select(h.inbox.c.event_id)))
    assert claimed == {good["id"], later["id"]}


async def test_a_batch_applies_many_in_one_transaction_and_isolates_a_poison_message(
        db, rabbit, h):
    batches: list[int] = []

    async def handler(session: AsyncSession, envs: list[dict]) -> None:
        batches.append(len(envs))
        for env in envs:
            await session.execute(sa.insert(h.applied).values(event_id=env["id"], consumer="b"))
            if env["type"].endswith(".failed"):
                raise RuntimeError("this event always fails")

    runner = make_runner(db, rabbit, max_attempts=3)
    queue = runner.register_batch("batch", ["crm.test.#"], handler, max_size=50,
                                  max_wait_seconds=0.2)
    rabbit.track(*runner.queue_names())
    goods = [envelope("crm.test.thing.created", n) for n in range(40)]
    poison = envelope("crm.test.thing.failed", 99)
    async with h.running(runner.run):
        await h.wait_until(lambda: _true(runner.attached), 10, "consumer attached")
        for env in goods[:20]:
            await publish(rabbit, env)
        await h.wait_until(lambda: _eq(count_applied(db, h), 20), 10, "first batch applied")
        for env in [*goods[20:30], poison, *goods[30:], goods[0]]:  # goods[0] again
            await publish(rabbit, env)
        await h.wait_until(lambda: _eq(rabbit.count(dlq_name(queue)), 1), 15, "dead-lettered")
        await h.wait_until(lambda: _eq(count_applied(db, h), 40), 10, "all good ones applied")
        await h.wait_until(lambda: _eq(rabbit.count(queue), 0), 10, "queue drained")
    assert batches[0] > 1, "the first messages were applied together"
    assert await rabbit.count(queue) == 0, "every delivery was acknowledged before the stop"
    for env in goods:
        assert await count_applied(db, h, event_id=env["id"]) == 1
    assert await count_applied(db, h, event_id=poison["id"]) == 0
    dead = [m.message_id for m in await rabbit.drain(dlq_name(queue))]
    assert dead == [poison["id"]]


def test_a_batch_acks_with_multiple_only_when_no_earlier_delivery_is_open():
    batch = _Batch(handler=None, max_size=10, max_wait=0.1, prefetch=20)  # type: ignore[arg-type]
    assert batch.settles_all_before([1, 2, 3])
    batch.note_settled([1, 2, 3])
    assert batch.settled_upto == 3
    assert not batch.settles_all_before([5, 6])  # 4 is still out (being retried, say)
    batch.note_settled([5, 6])
    assert batch.settled_upto == 3 and batch.settled == {5, 6}
    assert batch.settles_all_before([4, 7])
    batch.note_settled([4, 7])
    assert batch.settled_upto == 7 and batch.settled == set()


async def _true(value: bool) -> bool:
    return value


async def _eq(awaitable, expected) -> bool:
    return await awaitable == expected


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_consumed_metrics_count_each_outcome(db, rabbit, h):
    async def handler(session: AsyncSession, env: dict) -> None:
        await session.execute(sa.insert(h.applied).values(event_id=env["id"], consumer="m"))
        if env["type"].endswith(".failed"):
            raise RuntimeError("this handler always fails")

    runner = make_runner(db, rabbit, max_attempts=2)
    queue = runner.register("metrics", ["crm.test.#"], handler)
    rabbit.track(*runner.queue_names())
    service = runner.service_name

    def consumed(outcome: str) -> float:
        return metric("crm_events_consumed_total", service=service, queue=queue, outcome=outcome)

    good, poison = envelope("crm.test.thing.created", 1), envelope("crm.test.thing.failed", 2)
    async with h.running(runner.run):
        await h.wait_until(lambda: _true(runner.attached), 10, "consumer attached")
        assert metric("crm_broker_connected", service=service, role="consumer") == 1
        await publish(rabbit, good)
        await h.wait_until(lambda: _true(consumed("applied") == 1), 10, "applied")
        await publish(rabbit, good)  # a duplicate
        await publish(rabbit, poison)  # fails once, then dead-lettered (max_attempts 2)
        await rabbit.publish(b"{not json", "crm.test.thing.created", message_id="garbage")
        await h.wait_until(lambda: _eq(rabbit.count(dlq_name(queue)), 2), 15, "dead-lettered")
    assert consumed("applied") == 1
    assert consumed("duplicate") == 1
    assert consumed("failed") == 1
    assert consumed("dead_lettered") == 2
    assert metric("crm_broker_connected", service=service, role="consumer") == 0


async def test_consumer_reattaches_after_the_broker_cancels_it(db, rabbit, h, caplog):
    async def handler(session: AsyncSession, env: dict) -> None:
        await session.execute(sa.insert(h.applied).values(event_id=env["id"], consumer="c"))

    runner = make_runner(db, rabbit)
    queue = runner.register("cancelled", ["crm.test.#"], handler)
    other = runner.register("untouched", ["crm.test.#"], handler)
    rabbit.track(*runner.queue_names())
    async with h.running(runner.run):
        await h.wait_until(lambda: _true(runner.attached), 10, "consumer attached")
        channel = await rabbit.channel()
        await channel.queue_delete(queue)  # the broker cancels the consumer (basic.cancel)
        await channel.close()
        await h.wait_until(lambda: _true(not runner.attached), 5, "detached", interval=0.005)
        await h.wait_until(lambda: _true(runner.attached), 10, "re-attached")
        assert await rabbit.count(queue) == 0  # re-declared (passive declare succeeds)
        later = envelope("crm.test.thing.created", 7)
        await publish(rabbit, later)
        for consumer_queue in (queue, other):
            await h.wait_until(
                lambda q=consumer_queue: _eq(_claimed(db, h, q, later["id"]), True),
                10,
                f"event consumed from {consumer_queue}",
            )
    assert any("cancelled the consumer" in r.getMessage() for r in caplog.records)


async def _claimed(db, h, consumer: str, event_id: str) -> bool:
    async with db.connect() as conn:
        found = await conn.scalar(
            sa.select(sa.func.count()).where(
                h.inbox.c.consumer == consumer, h.inbox.c.event_id == event_id
            )
        )
    return found == 1


# -- inbox retention ---------------------------------------------------------------------------


async def insert_inbox_row(db, h, consumer: str, age: dt.timedelta) -> str:
    event_id = str(uuid.uuid4())
    async with db.begin() as conn:
        await conn.execute(
            sa.insert(h.inbox).values(
                consumer=consumer, event_id=event_id, processed_at=sa.func.now() - age
            )
        )
    return event_id


async def inbox_ids(db, h) -> set[str]:
    async with db.connect() as conn:
        return set(await conn.scalars(sa.select(h.inbox.c.event_id)))


async def test_purge_inbox_deletes_old_rows_in_batches(db, h):
    day = dt.timedelta(days=1)
    old = {await insert_inbox_row(db, h, f"svc.q{n % 2}", 31 * day) for n in range(5)}
    recent = {await insert_inbox_row(db, h, "svc.q0", 29 * day)}
    recent.add(await insert_inbox_row(db, h, "svc.q1", dt.timedelta(0)))
    assert await purge_inbox(db, 30 * day, batch_size=2) == len(old)
    assert await inbox_ids(db, h) == recent


async def test_runner_purges_the_inbox_periodically(db, h):
    service = f"inbox-retention-{uuid.uuid4().hex[:8]}"
    hour = dt.timedelta(hours=1)
    runner = ConsumerRunner(
        async_sessionmaker(db),  # a session factory bound to the engine works too
        "amqp://guest:guest@127.0.0.1:1/",  # no broker: the purge does not need one
        service_name=service,
        reconnect_max_seconds=0.3,
        inbox_retention_seconds=3600,
        purge_interval_seconds=0.2,
        purge_batch_size=2,
    )
    runner.register("noop", ["crm.test.#"], lambda session, env: asyncio.sleep(0))
    old = {await insert_inbox_row(db, h, f"{service}.noop", 2 * hour) for _ in range(3)}
    recent = await insert_inbox_row(db, h, f"{service}.noop", hour / 2)
    async with h.running(runner.run):
        await h.wait_until(lambda: _eq(inbox_ids(db, h), {recent}), 10, "first purge")
        await insert_inbox_row(db, h, f"{service}.noop", 2 * hour)
        await h.wait_until(lambda: _eq(inbox_ids(db, h), {recent}), 10, "periodic purge")
        assert not runner.attached
    assert metric("crm_inbox_purged_total", service=service) == len(old) + 1
    assert metric("crm_broker_connected", service=service, role="consumer") == 0


async def test_fifty_poison_messages_do_not_hold_up_a_good_one(db, rabbit, h):
    """Retries wait in the retry queue, not in a prefetch slot (issue 14, "poison never
    blocks"): with prefetch 16 and a 5 s back-off, 50 poison messages used to stall the good
    one for several back-off waves; now it is applied within a second."""
    tries: dict[str, int] = {}

    async def handler(session: AsyncSession, env: dict) -> None:
        await session.execute(sa.insert(h.applied).values(event_id=env["id"], consumer="p"))
        if env["type"].endswith(".failed"):
            tries[env["id"]] = tries.get(env["id"], 0) + 1
            raise RuntimeError("poison")

    runner = ConsumerRunner(
        db, rabbit.url, rabbit.exchange, service_name=f"{rabbit.prefix}.svc", max_attempts=3,
        prefetch=16, dead_letter_exchange=rabbit.dlx, retry_backoff_seconds=5.0,
        max_retry_backoff_seconds=5.0,
    )
    queue = runner.register("poison", ["crm.test.#"], handler)
    rabbit.track(*runner.queue_names())
    poisons = [envelope("crm.test.thing.failed", n) for n in range(50)]
    good = envelope("crm.test.thing.created", 100)
    loop = asyncio.get_running_loop()
    async with h.running(runner.run):
        await h.wait_until(lambda: _true(runner.attached), 10, "consumer attached")
        for env in poisons:
            await publish(rabbit, env)
        await publish(rabbit, good)
        sent = loop.time()
        await h.wait_until(lambda: _eq(count_applied(db, h, event_id=good["id"]), 1), 10, "good")
        waited = loop.time() - sent
        assert waited <= 1.0, f"the good event waited {waited:.2f}s behind the poison"
        # every poison message was tried once and now waits in the retry queue, acknowledged
        await h.wait_until(lambda: _true(len(tries) == 50), 5, "first tries")
        assert await rabbit.count(queue) == 0
        assert await rabbit.count(f"{queue}.retry") == 50
    assert all(n == 1 for n in tries.values())


async def test_a_retried_message_comes_back_after_its_delay_and_dead_letters_at_the_limit(
        db, rabbit, h):
    seen: list[float] = []

    async def handler(session: AsyncSession, env: dict) -> None:
        seen.append(asyncio.get_running_loop().time())
        raise RuntimeError("always fails")

    runner = ConsumerRunner(
        db, rabbit.url, rabbit.exchange, service_name=f"{rabbit.prefix}.svc", max_attempts=3,
        dead_letter_exchange=rabbit.dlx, retry_backoff_seconds=0.3,
        max_retry_backoff_seconds=0.4,
    )
    queue = runner.register("retry", ["crm.test.#"], handler)
    rabbit.track(*runner.queue_names())
    poison = envelope("crm.test.thing.failed", 1)
    async with h.running(runner.run):
        await h.wait_until(lambda: _true(runner.attached), 10, "consumer attached")
        await publish(rabbit, poison)
        await h.wait_until(lambda: _eq(rabbit.count(dlq_name(queue)), 1), 15, "dead-lettered")
        depths = await runner.measure_dlq_depth()
    assert len(seen) == 3  # exactly max_attempts tries
    gaps = [b - a for a, b in zip(seen, seen[1:], strict=False)]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.35, gaps  # 0.3 s, then 0.4 s (capped)
    assert depths == {dlq_name(queue): 1}
    assert metric("crm_dlq_depth", service=runner.service_name, queue=dlq_name(queue)) == 1
    (dead,) = await rabbit.drain(dlq_name(queue))
    assert dead.message_id == poison["id"]
    assert dead.headers["x-crm-attempts"] == 2
    assert dead.headers["x-death"][0]["queue"] == queue
    assert dead.headers["x-death"][0]["reason"] == "rejected"
    assert await rabbit.count(f"{queue}.retry") == 0
