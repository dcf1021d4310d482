"""Due-date reminders: ``crm.tasks.task.due_soon`` and ``crm.tasks.task.overdue``, each once
per task and due date.

A pass runs in one transaction that first takes a transaction-scoped advisory lock (only one
replica acts at a time; the others skip the pass), then inserts into ``task_reminders``
``ON CONFLICT DO NOTHING`` and writes an outbox event only for the rows actually inserted: the
reminder and its event exist together or not at all, and a second pass sends nothing twice. A
rescheduled task has a new due date, so it is reminded again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_common.correlation import correlation_id
from crm_common.db import make_session_factory
from crm_common.messaging.envelope import DomainEvent, to_cloudevent
from crm_common.messaging.outbox import write_to_outbox
from crm_tasks.adapters.tables import task_reminders, tasks
from crm_tasks.domain.reminder import ReminderKind, window
from crm_tasks.domain.task import OPEN_STATUSES
from crm_tasks.service_layer.task import task_snapshot

EVENT_DUE_SOON = "crm.tasks.task.due_soon"
EVENT_OVERDUE = "crm.tasks.task.overdue"
EVENT_TYPES = {ReminderKind.DUE_SOON: EVENT_DUE_SOON, ReminderKind.OVERDUE: EVENT_OVERDUE}
#: pg_try_advisory_xact_lock key: "crm.tasks.reminders"
LOCK_KEY = 0x7A5C_0001
BATCH = 500
_OPEN = sorted(s.value for s in OPEN_STATUSES)

log = logging.getLogger("crm.tasks.reminders")


@dataclass
class Sent:
    due_soon: int = 0
    overdue: int = 0
    #: False when another replica held the lock
    acted: bool = True


async def send_due_reminders(engine: AsyncEngine, *, source: str, tz: ZoneInfo,
                             lead: dt.timedelta, now: dt.datetime) -> Sent:
    w = window(now, tz, lead)
    sent = Sent()
    conditions = {
        ReminderKind.OVERDUE: tasks.c.due_date < w.today,
        ReminderKind.DUE_SOON: and_(tasks.c.due_date >= w.today,
                                    tasks.c.due_date <= w.due_soon_until),
    }
    factory = make_session_factory(engine)
    for kind, condition in conditions.items():
        while True:
            async with factory() as session, session.begin():
                locked = await session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY)))
                if not locked:
                    sent.acted = False
                    return sent
                candidates = (
                    select(tasks.c.id, literal(kind.value), tasks.c.due_date)
                    .where(condition, tasks.c.status.in_(_OPEN))
                    .where(~select(task_reminders.c.task_id).where(
                        task_reminders.c.task_id == tasks.c.id,
                        task_reminders.c.kind == kind.value,
                        task_reminders.c.due_date == tasks.c.due_date).exists())
                    .order_by(tasks.c.due_date, tasks.c.id).limit(BATCH)
                )
                inserted = (await session.execute(
                    insert(task_reminders)
                    .from_select(["task_id", "kind", "due_date"], candidates)
                    .on_conflict_do_nothing()
                    .returning(task_reminders.c.task_id)
                )).scalars().all()
                if inserted:
                    rows = (await session.execute(
                        select(tasks).where(tasks.c.id.in_(inserted))
                    )).mappings().all()
                    await write_to_outbox(session, [_envelope(kind, r, source) for r in rows])
                if kind is ReminderKind.OVERDUE:
                    sent.overdue += len(inserted)
                else:
                    sent.due_soon += len(inserted)
            if len(inserted) < BATCH:
                break
    if sent.due_soon or sent.overdue:
        log.info("reminders sent: %s due soon, %s overdue", sent.due_soon, sent.overdue)
    return sent


def _envelope(kind: ReminderKind, row: Any, source: str) -> dict[str, Any]:
    event = DomainEvent(type=EVENT_TYPES[kind], subject=str(row["id"]),
                        data={"task": task_snapshot(row), "dueDate": row["due_date"].isoformat()})
    return to_cloudevent(event, source=source, actor_id="system",
                         correlation_id=correlation_id.get())
