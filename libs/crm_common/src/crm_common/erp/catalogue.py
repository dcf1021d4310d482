"""``erp.catalog.product.upserted`` (DESIGN §9; ``ErpProduct`` in ``events/asyncapi.yaml``) read
once for every service: :func:`parse_product` gives an :class:`ErpProduct` or raises
:class:`~crm_common.erp.contract.ContractError` with the reason. Pure, no I/O.

What it accepts is the contract, plus two leniencies both services' former readers shared:
``vatRate`` as a JSON integer (``20``), and a ``basePrice.amount`` without its two places or with
up to two zeros after them (``"12"``, ``"12.5"``, ``"12.5000"``). Beyond the contract it refuses
blank texts, control characters and lone surrogates, and codes with spaces around them; names
are stripped. Where the two former readers disagreed, the contract decided
(``libs/crm_common/tests/test_erp_catalogue.py`` names each case): codes, names and units longer
than the contract's limits; a ``vatRate`` of 100 or more, as a float, or with spaces; an amount
with more than two significant places, as a JSON number, with an exponent, with more than 12
integer digits, or ``-0``; digits other than ASCII ones — all refused.

What each service keeps of a product is its own: pricing the product and its base price in
euros to four places, analytics the product as sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from crm_common.erp.contract import MAX_VERSION, ContractError, quote, read_version
from crm_common.erp.money import read_currency, to_eur

__all__ = ["PRODUCT_UPSERTED", "BasePrice", "ErpProduct", "parse_product"]

PRODUCT_UPSERTED: Final = "erp.catalog.product.upserted"

#: the contract's limits (``maxLength``)
MAX_CODE: Final = 50
MAX_NAME: Final = 300
MAX_GROUP_NAME: Final = 200
MAX_UNIT: Final = 20

#: ``vatRate``: a percentage of one or two digits and at most two places (``20``, ``9.5``)
_VAT = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2})?\Z")
#: ``basePrice.amount``: at most 12 integer digits (the contract's ``ErpAmount``) and two
#: places, which may be followed by up to two zeros
_AMOUNT = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2}0{0,2})?\Z")
#: C0 controls and DEL, and lone surrogates (a JSON ``\ud800`` escape: no UTF-8 column holds it)
_UNSTORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class BasePrice:
    """The product's list price per unit, net of VAT, as the ERP sent it."""

    amount: Decimal
    #: EUR or BGN
    currency: str

    def eur(self) -> Decimal:
        """The amount in euros, unrounded (BGN at the fixed 1.95583)."""
        return to_eur(self.amount, self.currency)


@dataclass(frozen=True, slots=True)
class ErpProduct:
    """What one ``erp.catalog.product.upserted`` says, checked."""

    code: str
    name: str
    group_code: str
    group_name: str
    unit: str
    vat_rate: Decimal
    active: bool
    #: None when the message has no ``basePrice`` (a product priced on request)
    base_price: BasePrice | None
    version: int


def _text(data: Mapping[str, Any], key: str, limit: int, where: str = "") -> str:
    raw = data.get(key)
    name = f"{where}{key}"
    if not isinstance(raw, str):
        raise ContractError(f"{name} is missing or not a string")
    if not raw.strip():
        raise ContractError(f"{name} is empty")
    if len(raw) > limit:
        raise ContractError(f"{name} is longer than {limit} characters")
    if _UNSTORABLE.search(raw):
        raise ContractError(f"{name} contains a control character or a lone surrogate")
    return raw.strip()


def _code(data: Mapping[str, Any], key: str, where: str = "") -> str:
    value = _text(data, key, MAX_CODE, where)
    if value != data[key]:
        raise ContractError(f"{where}{key} has leading or trailing spaces: {quote(data[key])}")
    return value


def _vat(raw: Any) -> Decimal:
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 100:
        return Decimal(raw)
    if not isinstance(raw, str) or not _VAT.match(raw):
        raise ContractError(f"vatRate is not a percentage such as \"20\" or \"9.5\": "
                            f"{quote(raw)}")
    return Decimal(raw)


def _price(raw: Any) -> BasePrice:
    if not isinstance(raw, dict):
        raise ContractError("basePrice is not an object")
    currency = read_currency(raw.get("currency"), "basePrice.currency")
    amount = raw.get("amount")
    if not isinstance(amount, str) or not _AMOUNT.match(amount):
        raise ContractError("basePrice.amount is not a non-negative decimal string of at most "
                            f"12 integer digits and 2 places such as \"12.50\": {quote(amount)}")
    return BasePrice(Decimal(amount), currency)


def parse_product(data: Any, *, max_version: int = MAX_VERSION) -> ErpProduct:
    """The product the ``data`` of an ``erp.catalog.product.upserted`` describes;
    :class:`ContractError` with the reason (it names the field first) for a missing or mistyped
    field, a currency without a fixed rate, a negative or malformed price. ``max_version``: the
    largest version the caller's table keeps."""
    if not isinstance(data, dict):
        raise ContractError("data is missing or not an object")
    group = data.get("productGroup")
    if not isinstance(group, dict):
        raise ContractError("productGroup is missing or not an object")
    active = data.get("active")
    if not isinstance(active, bool):
        raise ContractError("active is missing or not a boolean")
    price = data.get("basePrice")
    return ErpProduct(
        code=_code(data, "code"), name=_text(data, "name", MAX_NAME),
        group_code=_code(group, "code", "productGroup."),
        group_name=_text(group, "name", MAX_GROUP_NAME, "productGroup."),
        unit=_text(data, "unit", MAX_UNIT), vat_rate=_vat(data.get("vatRate")), active=active,
        base_price=None if price is None else _price(price),
        version=read_version(data.get("version"), maximum=max_version))
