"""Price lists kept by managers: what valid input is. Pure, no I/O.

- ``code``: letters, digits and ``. _ / -``, at most 40, stored upper case, unique (the service
  checks; ``ERP`` is the ERP's own list);
- ``name``: text, at most 200;
- ``currency``: ``EUR`` only. Prices are kept in euros since the changeover of 2026-01-01; a BGN
  price list would make every quote convert, and the ERP's BGN base prices are converted when
  they arrive (1.95583). The field is there so that the API need not change if another
  currency ever has a fixed rate;
- ``validFrom`` / ``validUntil``: dates, both days included, 2000-01-01 … 2100-12-31, empty is
  open-ended; the end not before the start;
- a price: a decimal of at most four places, 0 … :data:`MAX_PRICE` euros per unit; ``null``
  removes the product from the list; at most :data:`MAX_PRICES` per call, each product once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_common.validation import Collector

MAX_CODE = 40
MAX_NAME = 200
MAX_PRODUCT_CODE = 50
MAX_PRICES = 5000
#: a unit price above ten million euros is a typing mistake, not a price
MAX_PRICE = Decimal("10000000")
PRICE_PLACES = 4
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)
CURRENCIES = ("EUR",)

_CODE = re.compile(r"[A-Za-z0-9._/-]+\Z")


def _code(c: Collector) -> str | None:
    code = c.text("code", max_length=MAX_CODE, required=True)
    if code is None:
        return None
    if not _CODE.match(code):
        c.add("code", "INVALID_VALUE", "code may hold only letters, digits and . _ / -")
        return None
    return code.upper()


def _currency(c: Collector) -> str:
    raw = c.data.get("currency")
    if raw is None:
        return "EUR"
    if not isinstance(raw, str):
        c.add("currency", "INVALID_TYPE", "currency must be text")
        return "EUR"
    code = raw.strip().upper()
    if code == "BGN":
        c.add("currency", "INVALID_CURRENCY", "price lists are kept in EUR since 2026-01-01 "
                                              "(convert BGN at 1.95583 BGN = 1 EUR)")
    elif code not in CURRENCIES:
        c.add("currency", "INVALID_CURRENCY", "currency must be EUR")
    return code


def _date(c: Collector, key: str) -> dt.date | None:
    raw = c.data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dt.date) or isinstance(raw, dt.datetime):
        c.add(key, "INVALID_TYPE", f"{'validFrom' if key == 'valid_from' else 'validUntil'} "
                                   "is a date")
        return None
    if not EARLIEST <= raw <= LATEST:
        c.add(key, "OUT_OF_RANGE", "the date must be between 2000-01-01 and 2100-12-31")
        return None
    return raw


def _bool(c: Collector, key: str) -> bool | None:
    raw = c.data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, bool):
        c.add(key, "INVALID_TYPE", "isDefault is true or false")
        return None
    return raw


def validate_price_list(data: Mapping[str, Any], *, creating: bool,
                        stored: Mapping[Any, Any] | None = None) -> dict[str, Any]:
    """The fields of a price list; on update only the keys present (``null`` clears a date).
    ``stored`` is the row being updated: the validity range is checked against its dates when
    only one end changes."""
    c = Collector(data)
    out: dict[str, Any] = {}
    if creating:
        out["code"] = _code(c)
        out["currency"] = _currency(c)
    if creating or "name" in data:
        out["name"] = c.text("name", max_length=MAX_NAME, required=True)
    for key in ("valid_from", "valid_until"):
        if creating or key in data:
            out[key] = _date(c, key)
    if creating or "is_default" in data:
        value = _bool(c, "is_default")
        if value is not None or creating:
            out["is_default"] = bool(value)
    start = out["valid_from"] if "valid_from" in out else (stored or {}).get("valid_from")
    end = out["valid_until"] if "valid_until" in out else (stored or {}).get("valid_until")
    if start is not None and end is not None and end < start \
            and not c.failed("valid_from") and not c.failed("valid_until"):
        c.add("valid_until" if "valid_until" in out else "valid_from", "INVALID_DATE_RANGE",
              "validUntil must not be before validFrom")
    c.done()
    return out


@dataclass(frozen=True)
class PriceChange:
    """One line of ``setPrices``: its position in the input, the product, the new price (None:
    remove it from the list)."""

    index: int
    product_code: str
    price: Decimal | None


def _price(c: Collector, path: tuple[str, ...], raw: Any) -> Decimal | None:
    if isinstance(raw, bool) or not isinstance(raw, (Decimal, int, str, float)):
        c.add(path, "INVALID_TYPE", "price is a decimal number")
        return None
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
    except InvalidOperation:
        c.add(path, "INVALID_VALUE", "price is a decimal number")
        return None
    if not value.is_finite():
        c.add(path, "INVALID_VALUE", "price must be a finite number")
        return None
    if value < 0:
        c.add(path, "OUT_OF_RANGE", "a price cannot be negative")
        return None
    if value > MAX_PRICE:
        c.add(path, "OUT_OF_RANGE", f"a price is at most {MAX_PRICE:,} EUR")
        return None
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PRICE_PLACES \
            and value != round(value, PRICE_PLACES):
        c.add(path, "INVALID_VALUE", f"a price has at most {PRICE_PLACES} decimal places")
        return None
    return value.quantize(Decimal(1).scaleb(-PRICE_PLACES)) + 0


def validate_prices(raw: Any) -> list[PriceChange]:
    """The ``prices`` of ``setPrices``: every problem at ``input.prices.<i>.<field>`` at once."""
    c = Collector({"prices": raw})
    if not isinstance(raw, list):
        c.add("prices", "INVALID_TYPE", "prices is a list")
        c.done()
    if len(raw) > MAX_PRICES:
        c.add("prices", "TOO_MANY", f"at most {MAX_PRICES:,} prices per call")
        c.done()
    out: list[PriceChange] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        at = ("prices", str(i))
        if not isinstance(item, Mapping):
            c.add(at, "INVALID_TYPE", "each price is an object {productCode, price}")
            continue
        code_raw = item.get("product_code")
        if not isinstance(code_raw, str) or not code_raw.strip():
            c.add(at + ("product_code",), "REQUIRED", "productCode is required")
            code = None
        elif len(code_raw) > MAX_PRODUCT_CODE or any(ord(ch) < 32 or ord(ch) == 127
                                                     for ch in code_raw):
            c.add(at + ("product_code",), "INVALID_VALUE", "this is not a product code")
            code = None
        else:
            code = code_raw.strip()
            if code in seen:
                c.add(at + ("product_code",), "DUPLICATE",
                      f"productCode {code} is already at position {seen[code]}")
                code = None
            else:
                seen[code] = i
        price = None
        if item.get("price") is not None:
            price = _price(c, at + ("price",), item["price"])
        if code is not None and not c.failed(at):
            out.append(PriceChange(i, code, price))
    c.done()
    return out
