"""The ERP's catalogue (``erp.catalog.product.upserted``, DESIGN §9) applied to ``products`` and
``product_groups``, and its base prices to the ERP's own price list.

NOT BUILT YET (in progress on a branch of issue 11)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


async def apply_product(session: AsyncSession, envelope: dict[str, Any]) -> None:
    raise NotImplementedError("the ERP catalogue consumer is not built yet")
