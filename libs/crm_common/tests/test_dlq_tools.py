"""``crm-<service> dlq list`` and ``dlq replay [--id ...]`` (crm_common.cli, crm_common.messaging
.dlq) against the real RabbitMQ and PostgreSQL: a service's consumer dead-letters three events,
the tools list them without taking them, replay one by id, refuse an unknown id, then replay
the rest; the consumer applies each replayed event once."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path
from typing import Any

import aio_pika
import pytest
import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from crm_common.cli import ServiceCli
from crm_common.devkeys import generate_key_pair
from crm_common.messaging import ConsumerRunner, DomainEvent, dlq_name, to_cloudevent
from crm_common.service import Runtime, create_service_app
from crm_common.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
_, PUBLIC = generate_key_pair()
EVENT_TYPE = "crm.test.thing.created"


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "world"


def build_schema() -> strawberry.Schema:
    return strawberry.federation.Schema(query=Query)


async def _noop(session: AsyncSession, envelope: dict[str, Any]) -> None:
    return None


def setup_consumers(runner: ConsumerRunner, _runtime: Runtime) -> None:
    runner.register("work", [EVENT_TYPE], _noop)


def create_app(settings: Settings) -> Any:
    return create_service_app(settings, build_schema(), make_context=lambda *a: None,
                              setup_consumers=setup_consumers)


class Broker:
    def __init__(self, tag: str) -> None:
        self.prefix = f"test.dlq.{tag}."
        self.exchange = f"test.dlq.{tag}.events"
        self.dlx = f"test.dlq.{tag}.dlx"
        self.queue = f"{self.prefix}demo.work"

    async def publish(self, envelopes: list[dict[str, Any]]) -> None:
        conn = await aio_pika.connect(AMQP_URL)
        try:
            ch = await conn.channel()
            ex = await ch.declare_exchange(self.exchange, aio_pika.ExchangeType.TOPIC,
                                           durable=True)
            for env in envelopes:
                await ex.publish(aio_pika.Message(json.dumps(env).encode(),
                                                  message_id=env["id"], type=env["type"],
                                                  delivery_mode=2), EVENT_TYPE)
        finally:
            await conn.close()

    async def count(self, queue: str) -> int:
        conn = await aio_pika.connect(AMQP_URL)
        try:
            ch = await conn.channel()
            q = await ch.declare_queue(queue, passive=True)
            return q.declaration_result.message_count or 0
        finally:
            await conn.close()

    async def cleanup(self) -> None:
        conn = await aio_pika.connect(AMQP_URL)
        try:
            for name in (self.queue, f"{self.queue}.retry", dlq_name(self.queue)):
                ch = await conn.channel()
                try:
                    await ch.queue_delete(name)
                except Exception:  # noqa: BLE001 - best-effort clean-up
                    pass
            for name in (self.exchange, self.dlx):
                ch = await conn.channel()
                try:
                    await ch.exchange_delete(name)
                except Exception:  # noqa: BLE001 - best-effort clean-up
                    pass
        finally:
            await conn.close()


async def consume(url: str, broker: Broker, *, fail: bool, until: int,
                  applied_table: sa.Table) -> list[str]:
    """Run the service's consumer (one try: failures dead-letter at once) until ``until``
    messages are dead-lettered (``fail``) or applied; return the applied event ids."""
    engine: AsyncEngine = create_async_engine(url)
    applied: list[str] = []

    async def handler(session: AsyncSession, env: dict[str, Any]) -> None:
        if fail:
            raise RuntimeError("not today")
        await session.execute(sa.insert(applied_table).values(event_id=env["id"],
                                                              consumer="dlq"))
        applied.append(env["id"])

    runner = ConsumerRunner(engine, AMQP_URL, broker.exchange, service_name="demo",
                            queue_prefix=broker.prefix, dead_letter_exchange=broker.dlx,
                            max_attempts=1)
    runner.register("work", [EVENT_TYPE], handler)
    stop = asyncio.Event()
    task = asyncio.ensure_future(runner.run(stop))
    try:
        async with asyncio.timeout(30):
            while not runner.attached:  # noqa: ASYNC110 - the runner connects in its task
                await asyncio.sleep(0.05)
            if fail:
                while await broker.count(dlq_name(broker.queue)) < until:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            else:
                while len(applied) < until:  # noqa: ASYNC110 - applied by the runner's task
                    await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
        await engine.dispose()
    return applied


def test_dlq_list_and_replay(tmp_path: Path, engine: AsyncEngine, h,
                             capsys: pytest.CaptureFixture[str]) -> None:
    broker = Broker(secrets.token_hex(4))
    url = engine.url.render_as_string(hide_password=False)
    cli = ServiceCli(name="demo", default_port=8199, migrations=tmp_path,
                     build_schema=build_schema, create_app=create_app,
                     environ={"JWT_PUBLIC_KEY": PUBLIC, "DATABASE_URL": url,
                              "AMQP_URL": AMQP_URL, "EVENTS_EXCHANGE": broker.exchange,
                              "QUEUE_PREFIX": broker.prefix, "DEAD_LETTER_EXCHANGE": broker.dlx})
    envelopes = [to_cloudevent(DomainEvent(EVENT_TYPE, f"thing-{n}", {"n": n}),
                               source="crm/test", actor_id="tester") for n in range(3)]
    ids = [env["id"] for env in envelopes]
    try:
        assert cli.work_queues(cli.settings()) == [broker.queue]
        # nothing declared yet: an empty list, not an error
        assert cli.main(["dlq", "list"]) == 0
        assert json.loads(capsys.readouterr().out) == []

        async def dead_letter_three() -> None:
            await consume(url, broker, fail=True, until=0, applied_table=h.applied)  # declare
            await broker.publish(envelopes)
            await consume(url, broker, fail=True, until=3, applied_table=h.applied)

        asyncio.run(dead_letter_three())
        assert cli.main(["dlq", "list"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert sorted(m["id"] for m in listed) == sorted(ids)  # handled concurrently: any order
        assert {m["reason"] for m in listed} == {"rejected"}
        assert {m["from"] for m in listed} == {broker.queue}
        assert {m["queue"] for m in listed} == {dlq_name(broker.queue)}
        assert {m["type"] for m in listed} == {EVENT_TYPE}
        assert {m["subject"] for m in listed} == {"thing-0", "thing-1", "thing-2"}
        assert {m["tries"] for m in listed} == {1}
        assert asyncio.run(broker.count(dlq_name(broker.queue))) == 3  # listing took nothing

        assert cli.main(["dlq", "replay", "--id", ids[1]]) == 0
        assert [m["id"] for m in json.loads(capsys.readouterr().out)] == [ids[1]]
        assert asyncio.run(broker.count(dlq_name(broker.queue))) == 2
        assert asyncio.run(broker.count(broker.queue)) == 1

        assert cli.main(["dlq", "replay", "--id", "no-such-event"]) == 1
        captured = capsys.readouterr()
        assert json.loads(captured.out) == []
        assert "no-such-event" in captured.err
        assert asyncio.run(broker.count(dlq_name(broker.queue))) == 2  # nothing else moved

        applied = asyncio.run(consume(url, broker, fail=False, until=1,
                                      applied_table=h.applied))
        assert applied == [ids[1]]

        assert cli.main(["dlq", "replay"]) == 0
        assert sorted(m["id"] for m in json.loads(capsys.readouterr().out)) == \
            sorted([ids[0], ids[2]])
        applied = asyncio.run(consume(url, broker, fail=False, until=2,
                                      applied_table=h.applied))
        assert sorted(applied) == sorted([ids[0], ids[2]])
        assert asyncio.run(broker.count(dlq_name(broker.queue))) == 0
    finally:
        asyncio.run(broker.cleanup())


def test_dlq_commands_refuse_bad_arguments(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    cli = ServiceCli(name="demo", default_port=8199, migrations=tmp_path,
                     build_schema=build_schema, create_app=create_app,
                     environ={"JWT_PUBLIC_KEY": PUBLIC})
    for argv in (["dlq"], ["dlq", "drop"], ["dlq", "list", "--limit", "0"],
                 ["dlq", "list", "--limit", "x" * 10_000], ["dlq", "replay", "--id"]):
        with pytest.raises(SystemExit) as exited:
            cli.main(argv)
        assert exited.value.code == 2
    assert "--limit" in capsys.readouterr().err
