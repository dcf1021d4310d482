"""The pricing tiers clients are in, projected from ``crm.pricing.client_tier.changed``
(queue ``analytics.pricing-tiers``): one row per client and turnover rule, the newest
``turnoverVersion`` winning (an older or repeated event changes nothing). The client brief
shows the tier reached and the next threshold from here."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.adapters.tables import client_tiers
from crm_common.client_access import MalformedEvent, event_uuid

TIER_CHANGED = "crm.pricing.client_tier.changed"


def _decimal(data: dict[str, Any], key: str, *, optional: bool = False) -> Decimal | None:
    raw = data.get(key)
    if raw is None and optional:
        return None
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise MalformedEvent(f"{key} is not a decimal") from None
    if not value.is_finite() or abs(value) >= Decimal(10) ** 15:
        raise MalformedEvent(f"{key} is out of range")
    return value


def _text(data: dict[str, Any], key: str, *, optional: bool = False,
          limit: int = 200) -> str | None:
    raw = data.get(key)
    if raw is None and optional:
        return None
    if not isinstance(raw, str) or not raw:
        raise MalformedEvent(f"{key} is not text")
    return raw[:limit]


def _tier(data: dict[str, Any], key: str) -> int | None:
    raw = data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool) or not 1 <= raw <= 10_000:
        raise MalformedEvent(f"{key} is not a tier")
    return raw


async def apply_tier_changed(session: AsyncSession, envelope: dict[str, Any]) -> None:
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("the event has no data")
    rule = data.get("rule")
    if not isinstance(rule, dict):
        raise MalformedEvent("the event names no rule")
    version = data.get("turnoverVersion")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise MalformedEvent("turnoverVersion is not a positive integer")
    client_id: uuid.UUID | None = event_uuid(data, "clientId")
    values = {
        "client_id": client_id, "rule_id": event_uuid(rule, "id"),
        "rule_code": _text(rule, "code"), "window": _text(data, "window"),
        "metric": _text(data, "metric"),
        "product_group_code": _text(data, "productGroupCode", optional=True),
        "reached": _decimal(data, "reached"), "tier": _tier(data, "tier"),
        "tier_effect": _text(data, "tierEffect", optional=True),
        "next_threshold": _decimal(data, "nextThreshold", optional=True),
        "next_tier_effect": _text(data, "nextTierEffect", optional=True),
        "turnover_version": version,
    }
    statement = insert(client_tiers).values(**values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["client_id", "rule_id"],
        set_={k: statement.excluded[k] for k in values if k not in ("client_id", "rule_id")},
        where=client_tiers.c.turnover_version < statement.excluded.turnover_version))
