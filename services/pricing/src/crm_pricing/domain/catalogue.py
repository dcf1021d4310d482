"""The ERP's catalogue message (``erp.catalog.product.upserted``, DESIGN §9) as pricing takes it.
Pure, no I/O.

The message itself is read by the kit (:func:`crm_common.erp.catalogue.parse_product`, shared
with analytics); a message that breaks the contract raises
:class:`~crm_common.erp.contract.ContractError` (a ``MalformedEvent``: the consumer
dead-letters it and nothing is stored). What is pricing's own: it reads nothing else on the
catalogue's routing keys, and keeps the base price in euros to four decimals (half-up), the
precision of a price list's price (``price_list_items.price``).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crm_common.client_access import MalformedEvent
from crm_common.erp.catalogue import PRODUCT_UPSERTED, BasePrice, ErpProduct, parse_product

PRICE_PLACES = Decimal("0.0001")


def read_product(envelope: Mapping[str, Any]) -> ErpProduct:
    """The product an ``erp.catalog.product.upserted`` envelope carries; ``MalformedEvent``
    (with the reason) for anything else: another type on the catalogue's routing keys, or a
    message that breaks the contract."""
    type_ = envelope.get("type")
    if type_ != PRODUCT_UPSERTED:
        raise MalformedEvent(f"pricing reads only {PRODUCT_UPSERTED} from the ERP's catalogue, "
                             f"not {str(type_)[:80]!r}")
    return parse_product(envelope.get("data"))


def erp_price_eur(price: BasePrice) -> Decimal:
    """A product's base price in euros to four decimals (half-up): its price in the ERP's price
    list."""
    return price.eur().quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)
