"""The daily contract maintenance: renew, expire, and warn of coming ends.

For a given ``today`` (a Sofia calendar date, injectable), in one transaction:

1. an *active* auto-renewing contract whose ``valid_until`` has passed is extended by whole
   renewal terms until it covers today (``crm.clients.contract.renewed``);
2. any other active or suspended contract whose ``valid_until`` has passed becomes ``expired``
   (``crm.clients.contract.expired``);
3. for each threshold in ``CONTRACT_EXPIRY_NOTICE_DAYS`` (default 30), an active or suspended
   contract ending within that many days gets one ``crm.clients.contract.expiring`` per
   (contract, threshold, end date): recorded in ``contract_notices``, so re-runs and restarts
   send nothing twice, and a renewal (a new end) may warn again.

Running it twice on the same day changes nothing more. Replicas take a transaction-scoped
PostgreSQL advisory lock first; one that does not get it skips the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects.postgresql import insert

from crm_clients.adapters.tables import contract_notices, contracts
from crm_clients.domain import contract as domain
from crm_clients.domain.contract import ContractStatus
from crm_clients.service_layer.contract import record_event, record_history
from crm_common.db import make_engine, make_session_factory
from crm_common.service import Runtime
from crm_common.settings import EnvReader
from crm_common.uow import UnitOfWork

EVENT_RENEWED = "crm.clients.contract.renewed"
EVENT_EXPIRING = "crm.clients.contract.expiring"
EVENT_EXPIRED = "crm.clients.contract.expired"

#: ``pg_try_advisory_xact_lock`` key of this job ("crmcontr" as a 64-bit integer)
LOCK_KEY = int.from_bytes(b"crmcontr", "big")
SERVICE = "clients"
#: the daily run starts at this local (Sofia) time
RUN_AT = dt.time(0, 5)
#: after a failed run (database unreachable, not migrated yet), try again this much later
RETRY_SECONDS = 300.0

log = logging.getLogger("crm.clients.contracts")


@dataclass(frozen=True)
class JobSettings:
    """Read from the environment once, at start-up."""

    notice_days: tuple[int, ...] = (30,)
    enabled: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JobSettings:
        env = EnvReader(environ)
        return cls(notice_days=env.parsed("CONTRACT_EXPIRY_NOTICE_DAYS",
                                          domain.parse_notice_days, (30,)),
                   enabled=env.boolean("RUN_CONTRACT_JOB", True))


@dataclass(frozen=True)
class MaintenanceResult:
    today: dt.date
    renewed: int = 0
    expired: int = 0
    notices: int = 0
    #: another process held the lock; this run did nothing
    skipped: bool = False


async def run_maintenance(uow: UnitOfWork, today: dt.date, notice_days: tuple[int, ...],
                          actor: uuid.UUID | None = None) -> MaintenanceResult:
    """One run for ``today`` (call inside ``async with uow``); commits. ``actor`` is the admin
    who ran it on demand (None: the daily schedule, recorded as ``system``)."""
    session = uow.session
    if not await session.scalar(select(func.pg_try_advisory_xact_lock(LOCK_KEY))):
        return MaintenanceResult(today, skipped=True)
    c = contracts.c
    renewed = expired = notices = 0
    due = (await session.execute(
        select(contracts).where(c.status == ContractStatus.ACTIVE.value, c.auto_renew.is_(True),
                                c.valid_until < today)
        .order_by(c.id).with_for_update())).mappings().all()
    for row in due:
        end = domain.renewed_until(row["valid_until"], row["renewal_term_months"], today)
        await session.execute(update(contracts).where(c.id == row["id"]).values(
            valid_until=end, version=c.version + 1, updated_at=func.now()))
        await record_history(session, actor, row, "renew", {
            "valid_until": [row["valid_until"].isoformat(), end.isoformat()]})
        await record_event(uow, EVENT_RENEWED, row["id"],
                           previousValidUntil=row["valid_until"].isoformat())
        renewed += 1
    ended = (await session.execute(
        select(contracts).where(c.status.in_(_RUNNING), c.valid_until < today)
        .order_by(c.id).with_for_update())).mappings().all()
    for row in ended:
        await session.execute(update(contracts).where(c.id == row["id"]).values(
            status=ContractStatus.EXPIRED.value, version=c.version + 1, updated_at=func.now()))
        await record_history(session, actor, row, "expire",
                             {"status": [row["status"], ContractStatus.EXPIRED.value]})
        await record_event(uow, EVENT_EXPIRED, row["id"], previousStatus=row["status"])
        expired += 1
    for days in notice_days:
        notices += await _warn(uow, today, days)
    await uow.commit()
    return MaintenanceResult(today, renewed=renewed, expired=expired, notices=notices)


_RUNNING = (ContractStatus.ACTIVE.value, ContractStatus.SUSPENDED.value)


async def _warn(uow: UnitOfWork, today: dt.date, days: int) -> int:
    session = uow.session
    c, n = contracts.c, contract_notices.c
    rows = (await session.execute(
        select(c.id, c.valid_until).where(
            c.status.in_(_RUNNING), c.valid_until >= today,
            c.valid_until <= today + dt.timedelta(days=days),
            ~exists().where(n.contract_id == c.id, n.threshold_days == days,
                            n.valid_until == c.valid_until))
        .order_by(c.valid_until, c.id))).mappings().all()
    sent = 0
    for row in rows:
        inserted = await session.scalar(
            insert(contract_notices).values(contract_id=row["id"], threshold_days=days,
                                            valid_until=row["valid_until"])
            .on_conflict_do_nothing().returning(n.contract_id))
        if inserted is None:
            continue
        await record_event(uow, EVENT_EXPIRING, row["id"], daysAhead=days,
                           daysLeft=(row["valid_until"] - today).days)
        sent += 1
    return sent


# --- running it every day ------------------------------------------------------------------------

def _seconds_until_next_run(now: dt.datetime) -> float:
    local = now.astimezone(domain.BUSINESS_TZ)
    target = dt.datetime.combine(local.date(), RUN_AT, tzinfo=domain.BUSINESS_TZ)
    if target <= local:
        target = dt.datetime.combine(local.date() + dt.timedelta(days=1), RUN_AT,
                                     tzinfo=domain.BUSINESS_TZ)
    # in UTC: a difference of two Sofia wall-clock times would ignore the DST change
    return max(1.0, (target.astimezone(dt.UTC) - now.astimezone(dt.UTC)).total_seconds())


async def run_once(runtime: Runtime, job: JobSettings,
                   today: dt.date | None = None) -> MaintenanceResult:
    uow = UnitOfWork(runtime.session_factory, source=runtime.settings.source, actor_id=None)
    async with uow:
        return await run_maintenance(uow, today or domain.business_today(), job.notice_days)


async def run_standalone(database_url: str, today: dt.date | None = None,
                         job: JobSettings | None = None) -> MaintenanceResult:
    """``crm-clients contracts-job``: one run with its own small engine; the events wait in the
    outbox for a running service's relay."""
    job = job or JobSettings.from_env()
    engine = make_engine(database_url, pool_size=1)
    try:
        uow = UnitOfWork(make_session_factory(engine), source=f"crm/{SERVICE}", actor_id=None)
        async with uow:
            return await run_maintenance(uow, today or domain.business_today(), job.notice_days)
    finally:
        await engine.dispose()


async def _loop(runtime: Runtime, job: JobSettings) -> None:
    """At start-up, then every day at ``RUN_AT`` Sofia time, until the service stops; a failed
    run is retried after ``RETRY_SECONDS``."""
    while not runtime.stop.is_set():
        wait = _seconds_until_next_run(dt.datetime.now(dt.UTC))
        try:
            result = await run_once(runtime, job)
            log.info("contract maintenance: %s", result)
        except Exception:  # noqa: BLE001 - logged; tried again soon (the run is idempotent)
            log.exception("contract maintenance failed")
            wait = min(wait, RETRY_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.stop.wait(), wait)


@contextlib.asynccontextmanager
async def contract_job_lifespan(runtime: Runtime, job: JobSettings) -> AsyncIterator[None]:
    """The daily job as a background task of the service process (``RUN_CONTRACT_JOB``)."""
    if not job.enabled:
        yield
        return
    task: asyncio.Task[Any] = asyncio.create_task(_loop(runtime, job))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


__all__ = ["EVENT_EXPIRED", "EVENT_EXPIRING", "EVENT_RENEWED", "JobSettings",
           "MaintenanceResult", "contract_job_lifespan",
           "run_maintenance", "run_once", "run_standalone"]
