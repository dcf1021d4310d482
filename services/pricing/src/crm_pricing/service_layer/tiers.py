"""The tier each client reaches under each active turnover rule, kept in ``client_tiers`` so that
new turnover that moves a client publishes ``crm.pricing.client_tier.changed`` once.

It runs in the transaction that stores a newer turnover figure of the client (the consumer of
``crm.analytics.client.turnover.updated``): the client's tiers are computed for today with the
domain's ``pricing_tiers`` over the active rules, compared with the stored ones, and each that
moved is stored and published through the outbox. An older or repeated turnover event stores
nothing and so publishes nothing (``projections.apply_turnover`` keeps the highest version).

What does not move a stored tier (documented limits): a new period starting without new turnover
(the next turnover event of the client catches it up), and a rule being activated or changed
(tiers of that rule are first stored with the client's next turnover event).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.messaging.envelope import DomainEvent, to_cloudevent
from crm_common.messaging.outbox import write_to_outbox
from crm_pricing.adapters.tables import client_tiers
from crm_pricing.domain.conditions import TierStatus, pricing_tiers
from crm_pricing.domain.rule import RuleStatus
from crm_pricing.service_layer.pricing_inputs import RuleBook, load_clients

EVENT_TIER_CHANGED = "crm.pricing.client_tier.changed"
NO_TIER = 0


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
