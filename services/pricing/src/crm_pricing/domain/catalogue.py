"""The ERP's catalogue message (``erp.catalog.product.upserted``, DESIGN §9) as pricing reads it.
Pure, no I/O.

:func:`read_product` checks the contract (``ErpProduct`` in ``events/asyncapi.yaml``) and gives
a :class:`ProductMessage`, or raises :class:`~crm_common.client_access.MalformedEvent` with the
reason (the consumer then dead-letters the message and nothing is stored). Analytics reads the
same message for its own needs (``crm_analytics.domain.ledger``); the two readers are kept apart
on purpose, each service owning what it accepts.

The base price is converted to euros here: BGN at the fixed 1.95583, kept to four decimals
(half-up), the precision of a price list's price (``price_list_items.price``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from crm_common.client_access import MalformedEvent
from crm_pricing.domain.money import BGN, EUR, to_eur

PRODUCT_UPSERTED = "erp.catalog.product.upserted"

MAX_CODE = 50
MAX_NAME = 300
MAX_GROUP_NAME = 200
MAX_UNIT = 20
#: a unit price above this (in the message's currency) is not a price but a typing mistake
MAX_BASE_PRICE = Decimal("999999999999.99")
#: ``products.version`` is a BIGINT
MAX_VERSION = 2**63 - 1
PRICE_PLACES = Decimal("0.0001")

_VAT = re.compile(r"[0-9]{1,2}(\.[0-9]{1,2})?\Z")
_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,4})?\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ProductMessage:
    """What one ``erp.catalog.product.upserted`` says, checked."""

    code: str
    name: str
    group_code: str
    group_name: str
    unit: str
    vat_rate: Decimal
    active: bool
    version: int
    #: the base price in euros (four decimals), or None when the message has no ``basePrice``
    base_price_eur: Decimal | None
    #: the price and currency as the ERP sent them (for the history), or None
    base_price_original: tuple[Decimal, str] | None


def _text(data: Mapping[str, Any], key: str, limit: int, where: str = "") -> str:
    raw = data.get(key)
    name = f"{where}{key}"
    if not isinstance(raw, str):
        raise MalformedEvent(f"{name} is missing or not a string")
    if not raw.strip():
        raise MalformedEvent(f"{name} is empty")
    if len(raw) > limit:
        raise MalformedEvent(f"{name} is longer than {limit} characters")
    if _CONTROL.search(raw):
        raise MalformedEvent(f"{name} contains a control character")
    return raw.strip()


def _code(data: Mapping[str, Any], key: str, where: str = "") -> str:
    value = _text(data, key, MAX_CODE, where)
    if value != data[key]:
        raise MalformedEvent(f"{where}{key} has leading or trailing spaces: {data[key]!r}")
    return value


def _vat(raw: Any) -> Decimal:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    if not isinstance(raw, str) or not _VAT.match(raw):
        raise MalformedEvent(f"vatRate is not a percentage such as \"20\" or \"9.5\": "
                             f"{str(raw)[:40]!r}")
    return Decimal(raw)


def _version(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_VERSION:
        raise MalformedEvent(f"version is not a positive integer: {str(raw)[:40]!r}")
    return raw


def _price(raw: Any) -> tuple[Decimal, str, Decimal]:
    """``basePrice`` → (amount as sent, currency, euros to four decimals)."""
    if not isinstance(raw, dict):
        raise MalformedEvent("basePrice is not an object")
    currency = raw.get("currency")
    if currency not in (EUR, BGN):
        raise MalformedEvent(f"basePrice.currency {str(currency)[:10]!r} has no fixed rate to "
                             "the euro (EUR and BGN only)")
    amount = raw.get("amount")
    if not isinstance(amount, str) or not _AMOUNT.match(amount):
        raise MalformedEvent("basePrice.amount is not a non-negative decimal string such as "
                             f"\"12.50\": {str(amount)[:40]!r}")
    try:
        value = Decimal(amount)
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimals
        raise MalformedEvent(f"basePrice.amount is not a number: {amount!r}") from None
    if value > MAX_BASE_PRICE:
        raise MalformedEvent(f"basePrice.amount is too large: {amount}")
    eur = to_eur(value, str(currency)).quantize(PRICE_PLACES, rounding=ROUND_HALF_UP)
    return value, str(currency), eur


def read_product(envelope: Mapping[str, Any]) -> ProductMessage:
    """The product an ``erp.catalog.product.upserted`` envelope carries; ``MalformedEvent``
    (with the reason) for anything else: another type on the catalogue's routing keys, a missing
    or mistyped field, a currency without a fixed rate, a negative or malformed price."""
    type_ = envelope.get("type")
    if type_ != PRODUCT_UPSERTED:
        raise MalformedEvent(f"pricing reads only {PRODUCT_UPSERTED} from the ERP's catalogue, "
                             f"not {str(type_)[:80]!r}")
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("data is missing or not an object")
    group = data.get("productGroup")
    if not isinstance(group, dict):
        raise MalformedEvent("productGroup is missing or not an object")
    active = data.get("active")
    if not isinstance(active, bool):
        raise MalformedEvent("active is missing or not a boolean")
    original: tuple[Decimal, str] | None = None
    eur: Decimal | None = None
    if data.get("basePrice") is not None:
        amount, currency, eur = _price(data["basePrice"])
        original = (amount, currency)
    return ProductMessage(
        code=_code(data, "code"), name=_text(data, "name", MAX_NAME),
        group_code=_code(group, "code", "productGroup."),
        group_name=_text(group, "name", MAX_GROUP_NAME, "productGroup."),
        unit=_text(data, "unit", MAX_UNIT), vat_rate=_vat(data.get("vatRate")), active=active,
        version=_version(data.get("version")), base_price_eur=eur,
        base_price_original=original)
