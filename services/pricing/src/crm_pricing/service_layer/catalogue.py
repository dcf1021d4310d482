"""The ERP's catalogue (``erp.catalog.product.upserted``, DESIGN §9) applied to ``products`` and
``product_groups``, and its base prices to the ERP's own price list.

- The message is checked first (``domain.catalogue.read_product``, the kit's
  ``crm_common.erp.catalogue.parse_product``); one that breaks the contract raises
  ``MalformedEvent`` and is dead-lettered, nothing stored.
- The highest ``version`` per product wins: an older or repeated one changes nothing at all (not
  the group, not the price).
- The product's group is upserted with the name the newest message of any of its products gives.
- ``basePrice`` (converted to EUR, four decimals) is the product's price in the ERP's list
  (``ERP_PRICE_LIST_ID``); a message without ``basePrice`` leaves the ERP price as it was.
- ``active: false`` keeps the product (and its prices); it is no longer listed or quoted
  (readers filter on ``products.active``).
- When the ERP price changes, the ERP list's version grows, a history entry (actor: the system)
  is written and ``crm.pricing.price_list.updated`` (``change: erp_prices``) is written to the
  outbox, all in the consumer's transaction: one event per ERP message that moved a price. The
  ERP sends a product when it changes, not the whole catalogue, so this stays a trickle; a bulk
  re-send of the catalogue gives one event per product whose price moved.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.client_access import upsert_newer
from crm_common.correlation import correlation_id
from crm_common.erp.catalogue import ErpProduct
from crm_common.erp.money import EUR
from crm_common.messaging.envelope import to_cloudevent
from crm_common.messaging.outbox import write_to_outbox
from crm_pricing.adapters.tables import ERP_PRICE_LIST_ID, price_lists, product_groups, products
from crm_pricing.domain.catalogue import erp_price_eur, read_product
from crm_pricing.service_layer.price_list import (
    ENTITY,
    load_row,
    price_changes,
    price_list_event,
    record_history,
    write_prices,
)

#: CloudEvents ``source`` of what the consumer publishes (the service's own, as the relay's)
SOURCE = "crm/pricing"


async def _newer_product(session: AsyncSession, product: ErpProduct) -> bool:
    """Store the product when its version is higher than the stored one (or it is new);
    whether it was stored."""
    return await upsert_newer(session, products, "code", {
        "code": product.code, "name": product.name, "group_code": product.group_code,
        "unit": product.unit, "vat_rate": product.vat_rate, "active": product.active,
        "version": product.version})


async def _group(session: AsyncSession, product: ErpProduct) -> None:
    statement = insert(product_groups).values(code=product.group_code, name=product.group_name)
    await session.execute(statement.on_conflict_do_update(
        index_elements=["code"], set_={"name": statement.excluded.name, "updated_at": func.now()},
        where=product_groups.c.name != statement.excluded.name))


async def _erp_price(session: AsyncSession, product: ErpProduct) -> None:
    price = product.base_price
    if price is None:
        return
    # Lock the list's row first: concurrent ERP messages serialise here. Taken after the
    # prices were written, it deadlocked: each writer's insert holds a KEY SHARE lock on the
    # list's row (the foreign key), which the other's FOR UPDATE waits for (seen with ./crm
    # seed; tests/integration/test_catalogue*.py has the concurrent case).
    await session.execute(select(price_lists.c.id).where(
        price_lists.c.id == ERP_PRICE_LIST_ID).with_for_update())
    changes = await write_prices(session, ERP_PRICE_LIST_ID,
                                 {product.code: erp_price_eur(price)})
    if not changes:
        return
    await session.execute(update(price_lists).where(price_lists.c.id == ERP_PRICE_LIST_ID)
                          .values(version=price_lists.c.version + 1, updated_at=func.now()))
    entry = price_changes(changes)
    if price.currency != EUR:
        entry["erp_price"] = {"amount": price.amount, "currency": price.currency}
    await record_history(session, actor=None, entity_type=ENTITY, entity_id=ERP_PRICE_LIST_ID,
                         operation="erp_prices", changes=entry)
    event = price_list_event(await load_row(session, ERP_PRICE_LIST_ID), "erp_prices",
                             list(changes))
    await write_to_outbox(session, [to_cloudevent(event, source=SOURCE, actor_id="system",
                                                  correlation_id=correlation_id.get())])


async def apply_product(session: AsyncSession, envelope: dict[str, Any]) -> None:
    product = read_product(envelope)
    if not await _newer_product(session, product):
        return  # an older or repeated version: nothing changes
    await _group(session, product)
    await _erp_price(session, product)
