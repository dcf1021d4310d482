"""The tier each client reaches under each active turnover rule, kept in ``client_tiers`` so that
new turnover that moves a client publishes ``crm.pricing.client_tier.changed`` once.

NOT BUILT YET (in progress on issue 11)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def refresh_client_tiers(session: AsyncSession, client_id: Any, version: int) -> None:
    return None
