"""The consumer of inventory audits (crm.clients.asset.audited / .missing, the contract in
events/asyncapi.yaml) on the real broker: a missing or damaged line raises exactly one task for
the client's owner, whatever the repeats; other results raise none; malformed events end in the
dead-letter queue and change nothing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import aio_pika
import pytest

from crm_common.testing import event_message

from .conftest import AMQP_URL, QUEUE_PREFIX, EventTap, Publisher, Service, World, wait_until
from .helpers import GET

pytestmark = pytest.mark.integration

DLQ = f"{QUEUE_PREFIX}tasks.asset-audits.dlq"
AUDITED = "crm.clients.asset.audited"
MISSING = "crm.clients.asset.missing"


def line(world: World, *, result: str = "missing", owner: uuid.UUID | None = None,
         client: uuid.UUID | None = None, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "auditId": str(uuid.uuid4()), "assetId": str(uuid.uuid4()),
        "inventoryNumber": "INV-123", "assetTypeName": "Хладилна витрина",
        "clientId": str(client or world.rep_client),
        "clientOwnerId": str(owner) if owner else None,
        "placementId": str(uuid.uuid4()), "result": result, "condition": None, "notes": None,
        "auditedBy": str(world.other_rep), "auditedAt": "2026-12-07T23:30:00+00:00",
        "activityId": str(uuid.uuid4()), "version": 1,
    }
    data.update(changes)
    return data


async def publish(publisher: Publisher, type_: str, data: dict[str, Any]) -> str:
    envelope, message = event_message(type_, data["assetId"], data, source="crm/clients")
    await publisher.exchange.publish(message, routing_key=type_)
    return str(envelope["id"])


async def line_tasks(service: Service, data: dict[str, Any]) -> list[dict[str, Any]]:
    return await service.sql(
        "SELECT t.*, l.result AS line_result FROM audit_line_tasks l JOIN tasks t "
        "ON t.id = l.task_id WHERE l.audit_id = :a AND l.asset_id = :b",
        a=uuid.UUID(data["auditId"]), b=uuid.UUID(data["assetId"]))


async def settled(service: Service, envelope_ids: list[str]) -> None:
    """Every one of these deliveries was handled (the inbox has their ids)."""
    async def done() -> bool:
        rows = await service.sql("SELECT count(*) AS n FROM inbox WHERE event_id = ANY(:ids)",
                                 ids=envelope_ids)
        return int(rows[0]["n"]) == len(set(envelope_ids))

    await wait_until(done, within=30)


async def test_a_missing_line_raises_one_task_whatever_arrives_and_how_often(
        service: Service, world: World, publisher: Publisher, tap: EventTap) -> None:
    data = line(world, owner=world.rep, notes="Клиентът казва, че е\nвзета за ремонт")
    ids = [await publish(publisher, AUDITED, data), await publish(publisher, MISSING, data)]
    # the same event delivered twice (one envelope id), and a second envelope of the same line
    envelope, message = event_message(MISSING, data["assetId"], data, source="crm/clients")
    for _ in range(2):
        await publisher.exchange.publish(message, routing_key=MISSING)
    ids += [str(envelope["id"]), await publish(publisher, AUDITED, data)]
    await settled(service, ids)
    (task,) = await line_tasks(service, data)
    assert task["assignee_id"] == world.rep and task["assigned_by"] == world.other_rep
    assert task["client_id"] == world.rep_client
    assert task["activity_id"] == uuid.UUID(data["activityId"])
    assert task["title"] == ("Asset INV-123 (Хладилна витрина) missing at "
                             "Тракия Дистрибуция АД")
    assert "взета за ремонт" in task["description"] and data["auditId"] in task["description"]
    assert "(audited by Петър Иванов)" in task["description"]  # other_rep, in the projection
    # 23:30 UTC on the 7th is the 8th in Sofia; due seven days later
    assert task["due_date"] == dt.date(2026, 12, 15)
    assert (task["priority"], task["status"], task["kind"]) == ("high", "assigned", "general")
    (event,) = await tap.wait_for_type("crm.tasks.task.created", str(task["id"]))
    assert event["actorid"] == str(world.other_rep)
    assert event["data"]["task"]["assigneeId"] == str(world.rep)
    # the owner sees it through the API, with the audit it came from in its history
    got = (await service.data(service.token("sales_rep", world.rep), GET,
                              {"id": str(task["id"])}))["task"]
    assert got["title"] == task["title"] and got["priority"] == "HIGH"
    (created,) = [e["node"] for e in got["history"]["edges"]]
    assert created["operation"] == "created"
    assert created["changes"]["raisedBy"]["auditId"] == data["auditId"]


async def test_a_damaged_line_goes_to_the_owner_in_the_projection(
        service: Service, world: World, publisher: Publisher) -> None:
    data = line(world, result="damaged", owner=None, condition="счупена врата",
                activityId=None, placementId=None)
    await settled(service, [await publish(publisher, AUDITED, data),
                            await publish(publisher, AUDITED, data)])
    (task,) = await line_tasks(service, data)
    assert task["assignee_id"] == world.rep  # rep_client's owner in access_clients
    assert task["priority"] == "normal" and task["line_result"] == "damaged"
    assert task["activity_id"] is None and "Condition: счупена врата" in task["description"]
    assert task["title"].startswith("Asset INV-123 (Хладилна витрина) damaged at ")


async def test_an_unknown_client_without_owner_goes_to_the_auditor(
        service: Service, world: World, publisher: Publisher) -> None:
    stranger = uuid.uuid4()
    data = line(world, client=stranger)
    await settled(service, [await publish(publisher, MISSING, data)])
    (task,) = await line_tasks(service, data)
    assert task["assignee_id"] == world.other_rep and task["client_id"] == stranger
    assert task["title"].endswith(f"missing at client {stranger}")


async def test_an_auditor_the_projection_does_not_know_is_named_by_id(
        service: Service, world: World, publisher: Publisher) -> None:
    auditor = uuid.uuid4()
    data = line(world, owner=world.rep, auditedBy=str(auditor))
    await settled(service, [await publish(publisher, MISSING, data)])
    (task,) = await line_tasks(service, data)
    assert task["assigned_by"] == auditor
    assert f"(audited by employee {auditor})" in task["description"]


@pytest.mark.parametrize("result", ["found", "moved", "unrecorded"])
async def test_other_results_raise_no_task(service: Service, world: World,
                                           publisher: Publisher, result: str) -> None:
    data = line(world, result=result, owner=world.rep)
    await settled(service, [await publish(publisher, AUDITED, data)])
    assert await line_tasks(service, data) == []
    assert await service.sql("SELECT count(*) AS n FROM audit_line_tasks WHERE audit_id = :a",
                             a=uuid.UUID(data["auditId"])) == [{"n": 0}]
    assert await service.sql("SELECT count(*) AS n FROM tasks WHERE activity_id = :a",
                             a=uuid.UUID(data["activityId"])) == [{"n": 0}]


async def test_hostile_text_is_made_safe_and_huge_text_cut(
        service: Service, world: World, publisher: Publisher) -> None:
    data = line(world, owner=world.rep, inventoryNumber="INV\u202e-9\r\n" + "9" * 5000,
                assetTypeName="<script>alert(1)</script>" * 200, notes="x" * 200_000,
                condition="\x00\x1b[31mred")
    await settled(service, [await publish(publisher, MISSING, data)])
    (task,) = await line_tasks(service, data)
    assert len(task["title"]) <= 300 and "\u202e" not in task["title"]
    assert "\r" not in task["title"] and "\n" not in task["title"]
    assert len(task["description"]) <= 10_000 and "\x00" not in task["description"]
    assert "\x1b" not in task["description"]


def raw_message(type_: str, data: Any, *, body: bytes | None = None) -> aio_pika.Message:
    """An event as a faulty publisher might send it: not checked against the catalogue."""
    envelope = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "crm/clients",
                "type": type_, "time": "2026-12-07T10:00:00+00:00", "subject": "x",
                "datacontenttype": "application/json", "data": data, "actorid": "system",
                "correlationid": str(uuid.uuid4())}
    return aio_pika.Message(body if body is not None else json.dumps(envelope).encode(),
                            message_id=envelope["id"], type=type_,
                            content_type="application/cloudevents+json",
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT)


async def dead_letters(ids: set[str]) -> set[str]:
    """Which of the message ids sit in the DLQ (taken off it)."""
    found: set[str] = set()
    conn = await aio_pika.connect(AMQP_URL)
    async with conn:
        channel = await conn.channel()
        queue = await channel.declare_queue(DLQ, passive=True)
        while True:
            message = await queue.get(no_ack=False, fail=False)
            if message is None:
                break
            if message.message_id in ids:
                found.add(message.message_id)
                await message.ack()
            else:
                await message.nack(requeue=True)
                break
    return found


async def test_malformed_audit_events_go_to_the_dead_letter_queue(
        service: Service, world: World, publisher: Publisher) -> None:
    good = line(world, owner=world.rep)
    bad: list[tuple[str, Any]] = [
        (MISSING, {**good, "auditId": "not-a-uuid"}),
        (MISSING, {k: v for k, v in good.items() if k != "assetId"}),
        (AUDITED, {**good, "result": "stolen"}),
        (MISSING, {**good, "result": "found"}),  # a missing event must say missing
        (AUDITED, {**good, "auditedAt": "yesterday"}),
        (AUDITED, {**good, "auditedAt": "2026-12-07T10:00:00"}),  # no time zone
        (AUDITED, {**good, "version": 0}),
        (AUDITED, {**good, "inventoryNumber": ""}),
        (AUDITED, {**good, "assetTypeName": ["Fridge"]}),
        (AUDITED, {**good, "clientOwnerId": "' OR 1=1 --"}),
        (AUDITED, "a string, not an object"),
    ]
    ids: set[str] = set()
    for type_, data in bad:
        message = raw_message(type_, data)
        ids.add(str(message.message_id))
        await publisher.exchange.publish(message, routing_key=type_)
    garbage = raw_message(AUDITED, None, body=b"\xff not json at all")
    ids.add(str(garbage.message_id))
    await publisher.exchange.publish(garbage, routing_key=AUDITED)
    collected: set[str] = set()

    async def all_dead() -> bool:
        collected.update(await dead_letters(ids - collected))
        return collected == ids

    await wait_until(all_dead, within=60)
    assert await line_tasks(service, good) == []
    # and the queue still works: the good line raises its task
    await settled(service, [await publish(publisher, MISSING, good)])
    assert len(await line_tasks(service, good)) == 1
