"""The client snapshot fields analytics keeps (``client_profiles``: EIK, group, payment term),
from ``crm.clients.client.*``; a newer version replaces an older one, an older one changes
nothing. A client that appears (or whose EIK appears) takes over the unmatched ERP documents
that name it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_analytics.adapters.tables import client_profiles
from crm_analytics.service_layer.ledger import match_documents
from crm_common.client_access import MalformedEvent
from crm_common.parsing import lookup_id


async def apply_client_snapshot(session: AsyncSession, envelope: dict[str, Any]) -> int:
    """Keep the snapshot's profile; return how many unmatched documents it matched."""
    client = (envelope.get("data") or {}).get("client")
    if not isinstance(client, dict):
        raise MalformedEvent(f"{envelope.get('type')} carries no client snapshot")
    client_id = lookup_id(client.get("id"))
    version = client.get("version")
    if client_id is None or not isinstance(version, int) or isinstance(version, bool):
        raise MalformedEvent("client snapshot lacks a UUID id or an integer version")
    eik = client.get("eik") if isinstance(client.get("eik"), str) else None
    term = client.get("paymentTermDays")
    values = {
        "client_id": client_id, "eik": eik, "group_id": lookup_id(client.get("groupId")),
        "payment_term_days": term if isinstance(term, int) and not isinstance(term, bool)
        else None,
        "version": version, "updated_at": sa.func.now(),
    }
    statement = insert(client_profiles).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["client_id"],
        set_={k: statement.excluded[k] for k in values if k != "client_id"},
        where=client_profiles.c.version < statement.excluded.version)
    await session.execute(statement)
    return await match_documents(session, client_id, eik)
