"""The tier each client reaches under each active turnover rule, kept in ``client_tiers`` so that
new turnover that moves a client publishes ``crm.pricing.client_tier.changed`` once.

It runs in the transaction that stores a newer turnover figure of the client (the consumer of
``crm.analytics.client.turnover.updated``): the client's tiers are computed for today with the
domain's ``pricing_tiers`` over the active rules, compared with the stored ones, and each that
moved is stored and published through the outbox. An older or repeated turnover event stores
nothing and so publishes nothing (``projections.apply_turnover`` keeps the highest version).

Two things move a tier without new turnover: a new period starting (a previous-closed basis now
counts another quarter), and a rule being activated, changed or retired. :func:`sweep_tiers`
catches both up: it refreshes every client with turnover, in batches of :data:`SWEEP_BATCH`
clients per transaction, and the app runs it when the date or the rules' stamp has moved since
the last sweep (checked every ``TIER_SWEEP_INTERVAL_SECONDS``, 10 minutes by default). One
process sweeps at a time (a session advisory lock; another replica skips), and each batch locks
its clients' turnover rows in client order, as the turnover consumer's upsert does, so a sweep
and a turnover event of the same client never both publish the same move.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm_common.messaging.envelope import DomainEvent, to_cloudevent
from crm_common.messaging.outbox import write_to_outbox
from crm_pricing.adapters.tables import client_tiers, client_turnover
from crm_pricing.domain.conditions import TierStatus, pricing_tiers
from crm_pricing.domain.rule import RuleStatus
from crm_pricing.service_layer.pricing_inputs import RuleBook, load_clients

EVENT_TIER_CHANGED = "crm.pricing.client_tier.changed"
NO_TIER = 0
#: clients refreshed per transaction by a sweep
SWEEP_BATCH = 200
#: pg_try_advisory_lock key of the sweep ("crm.pricing.tier-sweep")
SWEEP_LOCK_KEY = 0x70726963_74696572


def _payload(client_id: uuid.UUID, rule_id: uuid.UUID, version: int, status: TierStatus,
             previous: int | None, turnover_version: int,
             as_of: dt.datetime | None) -> dict[str, Any]:
    c = status.condition
    next_effect = status.next_tier.effect if status.next_tier is not None else None
    tier_effect = status.tier.effect if status.tier is not None else None
    return {
        "clientId": str(client_id),
        "rule": {"id": str(rule_id), "code": status.rule_code, "version": version},
        "window": c.window.value, "basis": c.basis.value, "metric": c.metric.value,
        "productGroupCode": c.product_group,
        "basisPeriod": {"start": status.basis_period.start.isoformat(),
                        "end": status.basis_period.end.isoformat()},
        "reached": str(status.reached_value),
        "previousTier": previous if previous else None,
        "tier": status.tier_number,
        "tierEffect": tier_effect.describe() if tier_effect else None,
        "nextThreshold": None if status.next_threshold is None else str(status.next_threshold),
        "nextTierEffect": next_effect.describe() if next_effect else None,
        "turnoverVersion": turnover_version,
        "turnoverAsOf": as_of.isoformat().replace("+00:00", "Z") if as_of else None,
    }


async def refresh_client_tiers(session: AsyncSession, client_id: uuid.UUID, version: int, *,
                               source: str, book: RuleBook,
                               today: dt.date | None = None) -> int:
    """Recompute the client's tiers; store and publish each that moved. Returns how many.
    The rules come through the process's ``book`` (parsed once, not once per event)."""
    day = today or dt.datetime.now(dt.UTC).date()
    conn = await session.connection()
    stored = [s for s in (await book.index(conn)).rules if s.rule.status is RuleStatus.ACTIVE]
    facts = (await load_clients(conn, [client_id]))[client_id]
    client = facts.client
    ids = {s.rule.code: (s.id, s.rule.version) for s in stored}
    statuses = pricing_tiers(client.id, client.group_ids, client.turnover,
                             [s.rule for s in stored], day)
    seen: set[str] = set()
    known = {r.rule_id: r.tier for r in await session.execute(
        sa.select(client_tiers.c.rule_id, client_tiers.c.tier)
        .where(client_tiers.c.client_id == client_id).with_for_update())}
    envelopes = []
    for status in statuses:
        if status.rule_code in seen:  # one tier per rule: its first turnover condition
            continue
        seen.add(status.rule_code)
        rule_id, rule_version = ids[status.rule_code]
        tier = status.tier_number or NO_TIER
        previous = known.get(rule_id)
        if previous == tier or (previous is None and tier == NO_TIER):
            continue
        statement = insert(client_tiers).values(
            client_id=client_id, rule_id=rule_id, tier=tier, value=status.reached_value,
            turnover_version=version)
        await session.execute(statement.on_conflict_do_update(
            index_elements=["client_id", "rule_id"],
            set_={"tier": tier, "value": status.reached_value, "turnover_version": version,
                  "updated_at": sa.func.now()}))
        envelopes.append(to_cloudevent(DomainEvent(
            type=EVENT_TIER_CHANGED, subject=str(client_id),
            data=_payload(client_id, rule_id, rule_version, status, previous, version,
                          facts.turnover_as_of)), source=source, actor_id="system"))
    if envelopes:
        await write_to_outbox(session, envelopes)
    return len(envelopes)


async def sweep_tiers(engine: AsyncEngine, book: RuleBook, *, source: str,
                      today: dt.date | None = None, batch: int = SWEEP_BATCH) -> int | None:
    """Refresh the tiers of every client with turnover for ``today``; publish each that moved.
    Returns how many moved, or None when another process holds the sweep (nothing done)."""
    day = today or dt.datetime.now(dt.UTC).date()
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with engine.connect() as holder:
        await holder.execution_options(isolation_level="AUTOCOMMIT")
        if not await holder.scalar(sa.select(sa.func.pg_try_advisory_lock(SWEEP_LOCK_KEY))):
            return None
        try:
            moved, after = 0, None
            while True:
                async with sessions() as session, session.begin():
                    query = sa.select(client_turnover.c.client_id, client_turnover.c.version) \
                        .order_by(client_turnover.c.client_id).limit(batch).with_for_update()
                    if after is not None:
                        query = query.where(client_turnover.c.client_id > after)
                    rows = (await session.execute(query)).all()
                    for row in rows:
                        moved += await refresh_client_tiers(session, row.client_id, row.version,
                                                            source=source, book=book, today=day)
                if len(rows) < batch:
                    return moved
                after = rows[-1].client_id
        finally:
            await holder.execute(sa.select(sa.func.pg_advisory_unlock(SWEEP_LOCK_KEY)))
