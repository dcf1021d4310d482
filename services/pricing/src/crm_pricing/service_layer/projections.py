"""What pricing keeps from other services' events, each newest version only (an older or
repeated one changes nothing; the inbox already drops a redelivered event):

- ``crm.clients.client.*`` → ``client_profiles``: the client group a client is in (audience
  ``client_group`` and the ``client_group`` condition), its payment term;
- ``crm.clients.group.*`` → ``client_groups``: names for the explanations, archived groups;
- ``crm.clients.contract.*`` → ``contracts``: status, validity and negotiated discounts (DESIGN
  §11: they apply while the contract is in force);
- ``crm.analytics.client.turnover.updated`` → ``client_turnover``: the latest figures per client
  (DESIGN §10), from which every turnover window is derived; after storing a newer one, the tiers
  the client reaches are recomputed (``service_layer.tiers``) and ``client_tier.changed`` is
  published for each that moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.client_access import (
    MalformedEvent,
    event_snapshot,
    event_uuid,
    event_version,
    upsert_newer,
)
from crm_common.parsing import lookup_id
from crm_pricing.adapters.tables import client_groups, client_profiles, client_turnover, contracts
from crm_pricing.domain.turnover import turnover_from_event

#: called after a newer turnover figure is stored: (session, client id, turnover version)
AfterTurnover = Callable[[AsyncSession, Any, int], Awaitable[None]]


def _date(snapshot: dict[str, Any], key: str, *, optional: bool = True) -> dt.date | None:
    raw = snapshot.get(key)
    if raw is None and optional:
        return None
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise MalformedEvent(f"{key} is not a date: {raw!r}"[:200]) from None


async def apply_client(session: AsyncSession, envelope: dict[str, Any]) -> None:
    client = event_snapshot(envelope, "client")
    term = client.get("paymentTermDays")
    await upsert_newer(session, client_profiles, "client_id", {
        "client_id": event_uuid(client, "id"),
        "group_id": lookup_id(client.get("groupId")),
        "payment_term_days": term if isinstance(term, int) and not isinstance(term, bool)
        else None,
        "version": event_version(client),
    })


async def apply_group(session: AsyncSession, envelope: dict[str, Any]) -> None:
    group = event_snapshot(envelope, "group")
    code, name = group.get("code"), group.get("name")
    if not isinstance(code, str) or not isinstance(name, str):
        raise MalformedEvent("group snapshot lacks code or name")
    await upsert_newer(session, client_groups, "id", {
        "id": event_uuid(group, "id"), "code": code[:100], "name": name[:500],
        "archived": group.get("archivedAt") is not None
        or str(envelope.get("type", "")).endswith(".archived"),
        "version": event_version(group),
    })


def _discounts(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise MalformedEvent("contract discounts are not a list")
    out: list[dict[str, Any]] = []
    for d in raw:
        if not isinstance(d, dict):
            raise MalformedEvent("a contract discount is not an object")
        out.append({"productCode": d.get("productCode"),
                    "productGroupCode": d.get("productGroupCode"),
                    "percent": str(d.get("percent")),
                    "validFrom": d.get("validFrom"), "validUntil": d.get("validUntil")})
    return out


async def apply_contract(session: AsyncSession, envelope: dict[str, Any]) -> None:
    contract = event_snapshot(envelope, "contract")
    number, status = contract.get("number"), contract.get("status")
    if not isinstance(number, str) or not isinstance(status, str):
        raise MalformedEvent("contract snapshot lacks number or status")
    valid_from = _date(contract, "validFrom", optional=False)
    await upsert_newer(session, contracts, "id", {
        "id": event_uuid(contract, "id"), "client_id": event_uuid(contract, "clientId"),
        "number": number[:100], "status": status, "valid_from": valid_from,
        "valid_until": _date(contract, "validUntil"),
        "discounts": _discounts(contract.get("discounts", [])),
        "version": event_version(contract),
    })


async def apply_turnover(session: AsyncSession, envelope: dict[str, Any],
                         after: AfterTurnover | None = None) -> bool:
    """Keep the event's figures if they are newer than what is kept; True when they were.
    ``after`` runs in the same transaction for a newer figure (tier changes)."""
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent(f"{envelope.get('type')} carries no data")
    client_id = event_uuid(data, "clientId")
    version = event_version(data)
    if not isinstance(data.get("months"), list) or not isinstance(data.get("asOf"), str):
        raise MalformedEvent("turnover figures lack months or asOf")
    try:
        as_of = dt.datetime.fromisoformat(data["asOf"].replace("Z", "+00:00"))
    except ValueError:
        raise MalformedEvent(f"asOf is not a moment: {data['asOf']!r}"[:200]) from None
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.UTC)
    # read the domain's way once, so that a payload the quote could not read is refused here
    try:
        turnover_from_event(data)
    except (KeyError, ValueError, TypeError, ArithmeticError) as exc:
        raise MalformedEvent(f"turnover figures are unreadable: {exc}"[:200]) from None
    stored = await session.execute(
        client_turnover.select().with_only_columns(client_turnover.c.version)
        .where(client_turnover.c.client_id == client_id).with_for_update())
    current = stored.scalar_one_or_none()
    if current is not None and current >= version:
        return False
    await upsert_newer(session, client_turnover, "client_id", {
        "client_id": client_id, "version": version, "as_of": as_of, "data": data})
    if after is not None:
        await after(session, client_id, version)
    return True
