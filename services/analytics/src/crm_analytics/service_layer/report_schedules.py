"""Scheduled reports (docs/reports.md, "Schedules"): one schedule per saved report, a cron
expression in UTC and up to ``MAX_RECIPIENTS`` employees. When due, one background job per
recipient is queued, each run as that recipient (their role in the staff directory at the time
of the run, their access rule); :func:`enqueue_due` does it in one transaction per schedule
(``FOR UPDATE SKIP LOCKED``: replicas share the work, no run is queued twice) and moves the
schedule to its next time. A run missed while the service was down is made once when it comes
back, not once per missed time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from crm_analytics.adapters.tables import access, report_schedules, saved_reports
from crm_analytics.reports.cron import Cron, CronError
from crm_analytics.service_layer import report_jobs
from crm_analytics.service_layer import saved_reports as reports
from crm_common.auth import Principal
from crm_common.problems import FieldProblem, Problems, forbidden, not_found

MAX_RECIPIENTS = 50


@dataclass(frozen=True)
class Schedule:
    schedule_id: uuid.UUID
    report_id: uuid.UUID
    cron: str
    recipients: list[uuid.UUID]
    active: bool
    next_run_at: dt.datetime
    last_run_at: dt.datetime | None
    version: int

    @classmethod
    def of(cls, row: Any) -> Schedule:
        return cls(row.schedule_id, row.report_id, row.cron,
                   [uuid.UUID(r) for r in row.recipients], row.active, row.next_run_at,
                   row.last_run_at, row.version)


async def of_report(conn: AsyncConnection | AsyncSession, report_id: uuid.UUID
                    ) -> Schedule | None:
    row = (await conn.execute(sa.select(report_schedules).where(
        report_schedules.c.report_id == report_id))).first()
    return Schedule.of(row) if row is not None else None


async def set_schedule(session: AsyncSession, principal: Principal, *, report_id: uuid.UUID,
                       cron: str, recipients: list[uuid.UUID], active: bool,
                       now: dt.datetime) -> uuid.UUID:
    """Create or replace the report's schedule. Its owner, a manager or an admin may schedule
    it for anyone; a sales rep who may see it only for themselves."""
    report = await reports.get(session, principal, report_id)
    if report is None:
        raise not_found("saved report", field=("input", "reportId"))
    problems: list[FieldProblem] = []
    try:
        parsed = Cron.parse(cron)
        next_run = parsed.next_after(now)
    except CronError as exc:
        problems.append(FieldProblem(("input", "cron"), "INVALID_VALUE", str(exc)))
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        problems.append(FieldProblem(("input", "recipients"), "INVALID_VALUE",
                                     f"give 1 to {MAX_RECIPIENTS} recipients"))
    if problems:
        raise Problems(problems)
    unique = list(dict.fromkeys(recipients))
    if not (principal.sees_all_clients or report.owner_id == principal.subject) \
            or (not principal.sees_all_clients and unique != [principal.subject]):
        raise forbidden("a sales rep schedules a report for themselves only",
                        field=("input", "recipients"))
    e = access.require_employees()
    known = set((await session.execute(sa.select(e.c.employee_id).where(
        e.c.employee_id.in_(unique), e.c.active))).scalars())
    bad = [FieldProblem(("input", "recipients", str(i)), "NOT_FOUND",
                        "no active employee has this id")
           for i, r in enumerate(recipients) if r not in known]
    if bad:
        raise Problems(bad)
    existing = (await session.execute(sa.select(report_schedules).where(
        report_schedules.c.report_id == report_id).with_for_update())).first()
    values = {"cron": parsed.text, "recipients": [str(r) for r in unique], "active": active,
              "next_run_at": next_run, "updated_at": sa.func.now()}
    if existing is None:
        schedule_id = uuid.uuid4()
        await session.execute(sa.insert(report_schedules).values(
            schedule_id=schedule_id, report_id=report_id, created_by=principal.subject,
            version=1, **values))
        return schedule_id
    await session.execute(sa.update(report_schedules).where(
        report_schedules.c.schedule_id == existing.schedule_id).values(
        version=existing.version + 1, **values))
    schedule_id_: uuid.UUID = existing.schedule_id
    return schedule_id_


async def enqueue_due(engine: AsyncEngine, now: dt.datetime | None = None) -> int:
    """Queue the runs of every due schedule (one job per recipient); return how many."""
    now = now or dt.datetime.now(dt.UTC)
    s, r = report_schedules, saved_reports
    queued = 0
    while True:
        async with engine.begin() as conn:
            row = (await conn.execute(
                sa.select(s, r.c.definition, r.c.version.label("report_version"),
                          r.c.archived_at)
                .join(r, r.c.report_id == s.c.report_id)
                .where(s.c.active, s.c.next_run_at <= now)
                .order_by(s.c.next_run_at).limit(1)
                .with_for_update(of=s, skip_locked=True))).first()
            if row is None:
                return queued
            try:
                next_run = Cron.parse(row.cron).next_after(now)
                active = row.archived_at is None
            except CronError:
                next_run, active = now, False
            if active:
                for recipient in row.recipients:
                    await report_jobs.enqueue(
                        conn, definition=row.definition, requested_by=uuid.UUID(recipient),
                        roles=[], report_id=row.report_id, report_version=row.report_version,
                        schedule_id=row.schedule_id)
                    queued += 1
            await conn.execute(sa.update(s).where(s.c.schedule_id == row.schedule_id).values(
                next_run_at=next_run, last_run_at=now, active=active))

