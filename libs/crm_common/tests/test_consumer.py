"""Integration tests of the idempotent consumer against real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.messaging import (
    ConsumerRunner,
    DomainEvent,
    correlation_id,
    dlq_name,
    to_cloudevent,
)

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


async def _true(value: bool) -> bool:
    return value


async def _eq(awaitable, expected) -> bool:
    return await awaitable == expected
