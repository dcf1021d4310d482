"""Due-date reminders: due soon and overdue, each once per task and due date, one replica at a
time (advisory lock), with "now" chosen by the test."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import text

from crm_tasks.service_layer.reminder import LOCK_KEY, send_due_reminders

from .conftest import EventTap, Publisher, Service, World, wait_until
from .helpers import CLOSE, RESCHEDULE, commitment

pytestmark = pytest.mark.integration


async def _run(service: Service, now: dt.datetime, lead_hours: float = 24):
    return await send_due_reminders(service.db, source="crm/tasks",
                                    tz=service.tasks_settings.timezone,
                                    lead=dt.timedelta(hours=lead_hours), now=now)


async def test_due_soon_and_overdue_once_per_task_and_due_date(
        service: Service, world: World, tap: EventTap, publisher: Publisher) -> None:
    assignee = uuid.uuid4()
    await publisher.employee(assignee, name="Напомняне Тестов")

    async def known() -> bool:
        return bool(await service.sql("SELECT 1 FROM access_employees WHERE employee_id = :e",
                                      e=assignee))

    await wait_until(known)
    # tasks due in 1, 2 and 40 days from today; "now" is moved to make them due soon / overdue
    t1 = await commitment(service, world, assignee=assignee, due=1)
    t2 = await commitment(service, world, assignee=assignee, due=2)
    far = await commitment(service, world, assignee=assignee, due=40)
    closed = await commitment(service, world, assignee=assignee, due=1)
    manager = service.token("manager", world.manager)
    await service.data(manager, CLOSE, {"input": {"id": closed["id"], "version": 1,
                                                  "outcome": "CONFIRMED"}})
    tz = service.tasks_settings.timezone
    due1 = dt.date.fromisoformat(t1["dueDate"])
    # 20:00 local on the day t1 is due: within 24 h of its end → due soon; t2 is 28 h away
    evening = dt.datetime.combine(due1, dt.time(20), tzinfo=tz)
    first = await _run(service, evening)
    assert first.acted and first.due_soon >= 1
    soon = await tap.wait_for_type("crm.tasks.task.due_soon", t1["id"])
    assert soon[0]["data"]["dueDate"] == t1["dueDate"] and soon[0]["actorid"] == "system"
    await _run(service, evening + dt.timedelta(minutes=5))  # a second pass sends nothing new
    # two days later t1 is overdue and t2 due soon
    later = evening + dt.timedelta(days=1, hours=1)
    await _run(service, later)
    await _run(service, later)
    await tap.wait_for_type("crm.tasks.task.overdue", t1["id"])
    await tap.wait_for_type("crm.tasks.task.due_soon", t2["id"])
    await asyncio.sleep(0.5)  # let any (wrong) duplicate arrive
    assert len(tap.of_type("crm.tasks.task.due_soon", t1["id"])) == 1
    assert len(tap.of_type("crm.tasks.task.overdue", t1["id"])) == 1
    assert len(tap.of_type("crm.tasks.task.due_soon", t2["id"])) == 1
    assert tap.of_type("crm.tasks.task.due_soon", far["id"]) == []
    assert tap.of_type("crm.tasks.task.overdue", closed["id"]) == []
    assert tap.of_type("crm.tasks.task.due_soon", closed["id"]) == []
    # rescheduled: a new due date is reminded again
    moved = (await service.data(manager, RESCHEDULE, {"input": {
        "id": t1["id"], "version": 1, "dueDate": (due1 + dt.timedelta(days=2)).isoformat()}}
    ))["rescheduleTask"]
    assert moved["userErrors"] == []
    await _run(service, later + dt.timedelta(days=1))
    again = await tap.wait_for_type("crm.tasks.task.due_soon", t1["id"], count=2)
    assert again[-1]["data"]["dueDate"] == moved["task"]["dueDate"]
    rows = await service.sql("SELECT kind, due_date FROM task_reminders WHERE task_id = :t "
                             "ORDER BY sent_at", t=uuid.UUID(t1["id"]))
    assert [r["kind"] for r in rows] == ["due_soon", "overdue", "due_soon"]


async def test_only_one_replica_acts_at_a_time(service: Service, world: World) -> None:
    async with service.db.connect() as conn:
        await conn.execute(text("BEGIN"))
        assert (await conn.execute(text(f"SELECT pg_try_advisory_xact_lock({LOCK_KEY})"))
                ).scalar()
        result = await _run(service, dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
        assert result.acted is False and result.due_soon == result.overdue == 0
        await conn.execute(text("ROLLBACK"))
    result = await _run(service, dt.datetime.now(dt.UTC))
    assert result.acted is True
