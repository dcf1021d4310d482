"""Background report runs (docs/reports.md, "Jobs"): a run over more rows than the inline
threshold, or a scheduled run for one recipient, is a row of ``report_jobs`` that a worker in the
service process takes (``FOR UPDATE SKIP LOCKED``: replicas share the work), runs with the
requester's access rule, and ends with ``crm.analytics.report.completed`` or ``.failed`` written
to the outbox in the same transaction as the job's final state.

Progress (``rows_done`` of ``rows_total``) is written every ``PROGRESS_EVERY`` rows, when the
worker also looks whether a cancel was asked for; a cancelled job stops there and publishes
nothing. A job whose worker died (no heartbeat for ``STALE_AFTER``) is taken again.

The file a job makes is the hook :func:`file_for_run`: the report-files part of issue 13 writes
the table to CSV/XLSX/PDF there and returns its link. Until that lands, the hook reads the rows
(so that the row count and progress are real) and returns None: a completed job's event then
carries ``file: null``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from crm_analytics.adapters.tables import access, report_jobs
from crm_analytics.reports.definition import check, from_json
from crm_analytics.reports.engine import report_table
from crm_analytics.reports.table import Cell, ReportTable
from crm_analytics.service_layer import saved_reports
from crm_analytics.service_layer.visibility import Access
from crm_common.auth import Principal
from crm_common.messaging.broker import sleep_unless
from crm_common.messaging.envelope import DomainEvent, to_cloudevent
from crm_common.messaging.outbox import write_to_outbox
from crm_common.problems import Problems, not_found, problem

log = logging.getLogger(__name__)

COMPLETED = "crm.analytics.report.completed"
FAILED = "crm.analytics.report.failed"
PROGRESS_EVERY = 5000
STALE_AFTER = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Job:
    job_id: uuid.UUID
    report_id: uuid.UUID | None
    report_version: int | None
    schedule_id: uuid.UUID | None
    definition: dict[str, Any]
    requested_by: uuid.UUID
    roles: list[str]
    status: str
    rows_done: int
    rows_total: int | None
    cancel_requested: bool
    error: str | None
    file: dict[str, Any] | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, row: Any) -> Job:
        m = row._mapping
        return cls(**{name: m[name] for name in cls.__dataclass_fields__})

    @property
    def title(self) -> str:
        return str(self.definition.get("title") or self.definition.get("dataset"))


FileForRun = Callable[[Job, ReportTable], Awaitable[dict[str, Any] | None]]


async def file_for_run(job: Job, table: ReportTable) -> dict[str, Any] | None:
    """Make the job's file from ``table`` and return ``{"format", "url", "expiresAt"}``.

    The hook of the report files (helper ``report-files``, docs/reports.md "Files"): not built
    here. This default reads every row (the job's row count and progress are real) and makes
    no file."""
    async for _row in table.rows:
        pass
    return None


async def enqueue(session: AsyncSession | AsyncConnection, *, definition: dict[str, Any],
                  requested_by: uuid.UUID,
                  roles: Sequence[str], report_id: uuid.UUID | None = None,
                  report_version: int | None = None, schedule_id: uuid.UUID | None = None,
                  rows_total: int | None = None) -> uuid.UUID:
    job_id = uuid.uuid4()
    await session.execute(sa.insert(report_jobs).values(
        job_id=job_id, report_id=report_id, report_version=report_version,
        schedule_id=schedule_id, definition=definition, requested_by=requested_by,
        roles=sorted(roles), status="queued", rows_total=rows_total))
    return job_id


def visible_condition(principal: Principal) -> sa.ColumnElement[bool]:
    """A job is seen by whom it ran for, and by admins."""
    if principal.is_admin:
        return sa.true()
    return report_jobs.c.requested_by == principal.subject


async def get(conn: AsyncConnection | AsyncSession, principal: Principal,
              job_id: uuid.UUID) -> Job | None:
    row = (await conn.execute(sa.select(report_jobs).where(
        report_jobs.c.job_id == job_id, visible_condition(principal)))).first()
    return Job.of(row) if row is not None else None


async def cancel(session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> uuid.UUID:
    """Ask a queued or running job to stop (a queued one stops at once)."""
    job = await get(session, principal, job_id)
    if job is None:
        raise not_found("report job")
    if job.status in ("completed", "failed", "cancelled"):
        raise problem(("input", "id"), "ALREADY_FINISHED",
                      f"the job is already {job.status}")
    t = report_jobs
    await session.execute(sa.update(t).where(t.c.job_id == job_id, t.c.status == "queued")
                          .values(status="cancelled", finished_at=sa.func.now()))
    await session.execute(sa.update(t).where(t.c.job_id == job_id)
                          .values(cancel_requested=True))
    return job_id


async def claim(engine: AsyncEngine) -> Job | None:
    """Take the oldest queued job whose time has come (or one whose worker stopped beating).

    A job is queued with the database's ``now()``; one dated later is not taken before then
    (a test queues one an hour ahead to cancel it before any worker can take it)."""
    t = report_jobs
    stale = sa.and_(t.c.status == "running",
                    t.c.heartbeat_at < sa.func.now() - sa.text("interval '5 minutes'"))
    queued = sa.and_(t.c.status == "queued", t.c.created_at <= sa.func.now())
    pick = sa.select(t.c.job_id).where(sa.or_(queued, stale)) \
        .order_by(t.c.created_at).limit(1).with_for_update(skip_locked=True).scalar_subquery()
    async with engine.begin() as conn:
        row = (await conn.execute(sa.update(t).where(t.c.job_id == pick).values(
            status="running", started_at=sa.func.now(), heartbeat_at=sa.func.now(),
            rows_done=0).returning(t))).first()
    return Job.of(row) if row is not None else None


class Cancelled(Exception):
    pass


async def _principal_of(conn: AsyncConnection, job: Job) -> Principal:
    """Whom the job runs as: the requester with the roles they had; a scheduled run's
    recipient with their role in the staff directory now (inactive or unknown: failed)."""
    if job.schedule_id is None:
        return Principal(job.requested_by, frozenset(job.roles))
    e = access.require_employees()
    row = (await conn.execute(sa.select(e.c.role, e.c.active, e.c.full_name)
                              .where(e.c.employee_id == job.requested_by))).first()
    if row is None or not row.active:
        raise RuntimeError("the recipient is not an active employee")
    return Principal(job.requested_by, frozenset({row.role}), row.full_name)


def _event(job: Job, type_: str, data: dict[str, Any], source: str) -> dict[str, Any]:
    base = {"jobId": str(job.job_id),
            "reportId": str(job.report_id) if job.report_id else None,
            "reportVersion": job.report_version,
            "scheduleId": str(job.schedule_id) if job.schedule_id else None,
            "requestedBy": str(job.requested_by), "title": job.title}
    return to_cloudevent(DomainEvent(type_, str(job.job_id), {**base, **data}), source=source,
                         actor_id="system")


async def _finish(sessions: async_sessionmaker[AsyncSession], job: Job, *, status: str,
                  source: str, rows: int, error: str | None = None,
                  file: dict[str, Any] | None = None, as_of: dt.datetime | None = None) -> None:
    now = dt.datetime.now(dt.UTC)
    async with sessions.begin() as session:
        await session.execute(sa.update(report_jobs).where(report_jobs.c.job_id == job.job_id)
                              .values(status=status, rows_done=rows, error=error, file=file,
                                      finished_at=sa.func.now()))
        if status == "completed":
            await write_to_outbox(session, [_event(job, COMPLETED, {
                "rows": rows, "dataAsOf": (as_of or now).isoformat(), "file": file,
                "completedAt": now.isoformat()}, source)])
        elif status == "failed":
            await write_to_outbox(session, [_event(job, FAILED, {
                "error": (error or "failed")[:500], "failedAt": now.isoformat()}, source)])


async def run_job(engine: AsyncEngine, job: Job, *, source: str, grace: dt.timedelta,
                  make_file: FileForRun = file_for_run) -> str:
    """Run a claimed job to its end; return its final status."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    now = dt.datetime.now(dt.UTC)
    counted = 0
    try:
        async with engine.connect() as conn:
            principal = await _principal_of(conn, job)
            if job.report_id is not None and \
                    await saved_reports.get(conn, principal, job.report_id) is None:
                raise RuntimeError("the report is archived or not shared with the recipient")
        plan = check(from_json(job.definition), now.date())
        access_rule = Access(principal, now, grace)
        async with report_table(engine, plan, access_rule) as table:
            async def progress(rows: AsyncIterator[Sequence[Cell]]
                               ) -> AsyncIterator[Sequence[Cell]]:
                nonlocal counted
                async for row in rows:
                    counted += 1
                    if counted % PROGRESS_EVERY == 0:
                        await _beat(engine, job, counted)
                    yield row

            file = await make_file(job, replace(table, rows=progress(table.rows)))
            as_of = table.data_as_of
    except Cancelled:
        await _finish(sessions, job, status="cancelled", source=source, rows=counted)
        return "cancelled"
    except asyncio.CancelledError:
        raise
    except Problems as exc:
        message = "; ".join(f"{'.'.join(p.field[2:]) or 'definition'}: {p.message}"
                            for p in exc.problems)
        await _finish(sessions, job, status="failed", source=source, rows=counted,
                      error=f"the definition no longer checks: {message}")
        return "failed"
    except Exception as exc:  # noqa: BLE001 - a failed run is the job's outcome
        log.warning("report job %s failed: %r", job.job_id, exc)
        reason = str(exc) if isinstance(exc, RuntimeError) else "the run failed"
        await _finish(sessions, job, status="failed", source=source, rows=counted,
                      error=reason)
        return "failed"
    await _finish(sessions, job, status="completed", source=source, rows=counted, file=file,
                  as_of=as_of)
    return "completed"


async def _beat(engine: AsyncEngine, job: Job, rows: int) -> None:
    """Write the progress; stop when a cancel was asked for."""
    t = report_jobs
    async with engine.begin() as conn:
        asked = await conn.scalar(sa.update(t).where(t.c.job_id == job.job_id).values(
            rows_done=rows, heartbeat_at=sa.func.now()).returning(t.c.cancel_requested))
    if asked:
        raise Cancelled()


async def run_worker(engine: AsyncEngine, stop: asyncio.Event, *, source: str,
                     grace: dt.timedelta, interval: float = 1.0,
                     make_file: FileForRun = file_for_run,
                     before_each: Callable[[], Awaitable[Any]] | None = None) -> None:
    """Take and run jobs until ``stop``; ``before_each`` (the scheduler's enqueueing) runs
    before each look for work. A failure of the loop itself is logged and retried."""
    while not stop.is_set():
        try:
            if before_each is not None:
                await before_each()
            job = await claim(engine)
            if job is not None:
                if job.cancel_requested:
                    await _finish(async_sessionmaker(engine), job, status="cancelled",
                                  source=source, rows=0)
                else:
                    await run_job(engine, job, source=source, grace=grace, make_file=make_file)
                continue
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loop reports and goes on
            log.warning("report jobs failed (%r); next try in %.0fs", exc, interval)
        if await sleep_unless(stop, interval):
            return
