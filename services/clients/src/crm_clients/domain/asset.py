"""The advertising inventory's catalogue: asset types and assets, their valid values, statuses and
who may manage them (docs/clients.md, "Advertising inventory").

Pure functions over plain values: no I/O, no SQLAlchemy, no GraphQL. Field names are the
snake_case input keys; problems name them under ``prefix`` (``("input", "tag_code")``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crm_clients.domain.client import money
from crm_common.auth import Principal
from crm_common.problems import camel
from crm_common.text import InvalidValue, clean_text
from crm_common.validation import Collector


class AssetCategory(enum.Enum):
    FRIDGE = "fridge"
    DISPLAY_STAND = "display_stand"
    SHELF = "shelf"
    SIGN = "sign"
    UMBRELLA = "umbrella"
    FURNITURE = "furniture"
    POS_MATERIAL = "pos_material"
    OTHER = "other"


class Tracking(enum.Enum):
    """Serialized: each unit is an asset with its number and tag. Bulk: issued in quantities
    (leaflets, wobblers); no unit is tracked."""

    SERIALIZED = "serialized"
    BULK = "bulk"


class AssetStatus(enum.Enum):
    IN_STOCK = "in_stock"
    PLACED = "placed"
    IN_REPAIR = "in_repair"
    LOST = "lost"
    WRITTEN_OFF = "written_off"


class Condition(enum.Enum):
    NEW = "new"
    GOOD = "good"
    WORN = "worn"
    DAMAGED = "damaged"
    UNUSABLE = "unusable"


#: statuses a manager may set with ``changeAssetStatus`` (PLACED comes from a placement, the
#: way out of it is a return; WRITTEN_OFF is ``writeOffAsset`` and final)
SETTABLE = frozenset({AssetStatus.IN_STOCK, AssetStatus.IN_REPAIR, AssetStatus.LOST})

# Limits, documented in docs/clients.md ("Advertising inventory").
MAX_NAME = 200
MAX_UNIT = 20
MAX_NUMBER = 64
MAX_COMPANY = 200
MAX_NOTES = 5_000
MAX_SERVICE_LIFE_MONTHS = 600
MAX_AUDIT_INTERVAL_DAYS = 3_650
DEFAULT_AUDIT_INTERVAL_DAYS = 90
MAX_AMOUNT = Decimal("99999999.99")
MAX_QUANTITY = 1_000_000
EARLIEST = dt.date(1990, 1, 1)
LATEST = dt.date(2199, 12, 31)
CENT = Decimal("0.01")


def manages_inventory(principal: Principal) -> bool:
    """Managers and admins manage asset types and assets; everyone reads the types."""
    return principal.sees_all_clients


# --- field readers (shared by the placement and audit rules) ----------------------------------

def amount(raw: Any, *, maximum: Decimal = MAX_AMOUNT) -> Decimal | None:
    """A non-negative amount in euros with at most two decimals (``None`` stays ``None``): the
    dossier's rule for amounts (``client.money``) with the inventory's ceiling."""
    return money(raw, maximum=maximum)


def whole(raw: Any, *, low: int, high: int) -> int | None:
    """A whole number within [low, high] (``None`` stays ``None``)."""
    if raw is None:
        return None
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise InvalidValue("INVALID_TYPE", "must be a whole number")
    if not low <= raw <= high:
        raise InvalidValue("OUT_OF_RANGE", f"must be between {low} and {high}")
    return raw


def day(raw: Any, *, earliest: dt.date = EARLIEST, latest: dt.date = LATEST) -> dt.date | None:
    """A calendar date within the inventory's range (``None`` stays ``None``)."""
    if raw is None:
        return None
    if not isinstance(raw, dt.date) or isinstance(raw, dt.datetime):
        raise InvalidValue("INVALID_TYPE", "must be a date (YYYY-MM-DD)")
    if not earliest <= raw <= latest:
        raise InvalidValue("OUT_OF_RANGE", f"must be between {earliest.isoformat()} and "
                                           f"{latest.isoformat()}")
    return raw


def code(raw: Any, *, what: str) -> str | None:
    """An inventory number or tag code: one line of printable text, no inner spaces dropped,
    compared without regard to letter case."""
    value = clean_text(raw, max_length=MAX_NUMBER, required=True)
    assert value is not None
    if any(ch.isspace() and ch != " " for ch in value):
        raise InvalidValue("INVALID_VALUE", f"{what} is one line of text")
    return value


def read_field(c: Collector, data: Mapping[str, Any], key: str, out: dict[str, Any], fn: Any,
          *, required: bool = False, **kw: Any) -> None:
    """``out[key] = fn(data[key])`` when ``key`` was given (``None`` clears); REQUIRED when
    ``required`` and not given with a value."""
    if key not in data:
        if required:
            c.add(key, "REQUIRED", f"{camel(key)} is required")
        return
    if data[key] is None and required:
        c.add(key, "REQUIRED", f"{camel(key)} is required")
        return
    out[key] = c.run(key, fn, data[key], **kw)


def read_choice(c: Collector, data: Mapping[str, Any], key: str, out: dict[str, Any],
          kind: type[enum.Enum], *, required: bool) -> None:
    if key not in data and not required:
        return
    value = Collector(data, prefix=c.prefix)
    member = value.choice(key, kind, required=required)
    c.extend(value.problems)
    if member is not None:
        out[key] = member.value


# --- asset types -------------------------------------------------------------------------------

def validate_asset_type(data: Mapping[str, Any], *, creating: bool,
                        prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """Normalise an asset type. On create the name, category and tracking are required and the
    audit interval defaults to 90 days; on update only the keys present are checked, and the
    tracking cannot change (units already issued or registered depend on it)."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    if creating or "name" in data:
        out["name"] = c.text("name", max_length=MAX_NAME, required=True)
    read_choice(c, data, "category", out, AssetCategory,
                required=creating or "category" in data)
    if creating:
        read_choice(c, data, "tracking", out, Tracking, required=True)
    elif "tracking" in data:
        c.add("tracking", "IMMUTABLE", "tracking cannot change; make a new type")
    if "unit" in data:
        out["unit"] = c.text("unit", max_length=MAX_UNIT)
    read_field(c, data, "value", out, amount)
    read_field(c, data, "service_life_months", out, whole, low=1, high=MAX_SERVICE_LIFE_MONTHS)
    if creating and data.get("audit_interval_days") is None:
        out["audit_interval_days"] = DEFAULT_AUDIT_INTERVAL_DAYS
    else:
        read_field(c, data, "audit_interval_days", out, whole,
                   required="audit_interval_days" in data, low=1, high=MAX_AUDIT_INTERVAL_DAYS)
    if "active" in data:
        if not isinstance(data["active"], bool):
            c.add("active", "INVALID_TYPE", "active must be true or false")
        else:
            out["active"] = data["active"]
    c.done()
    return out


# --- assets ------------------------------------------------------------------------------------

def validate_asset(data: Mapping[str, Any], *, creating: bool,
                   prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """Normalise an asset's fields (the type and status are checked by the caller)."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    read_field(c, data, "inventory_number", out, code,
               required=creating or "inventory_number" in data, what="inventoryNumber")
    read_field(c, data, "tag_code", out, code, required=creating or "tag_code" in data,
               what="tagCode")
    if "serial_number" in data:
        out["serial_number"] = c.text("serial_number", max_length=MAX_NUMBER)
    if creating or "owner_company" in data:
        out["owner_company"] = c.text("owner_company", max_length=MAX_COMPANY, required=True)
    if creating and data.get("condition") is None:
        out["condition"] = Condition.NEW.value
    else:
        read_choice(c, data, "condition", out, Condition, required="condition" in data)
    read_field(c, data, "purchase_date", out, day)
    read_field(c, data, "purchase_value", out, amount)
    if "notes" in data:
        out["notes"] = c.text("notes", max_length=MAX_NOTES, multiline=True)
    c.done()
    return out


def validate_write_off(data: Mapping[str, Any], today: dt.date,
                       prefix: tuple[str, ...] = ("input",)) -> tuple[dt.date, str]:
    c = Collector(data, prefix=prefix)
    reason = c.text("reason", max_length=MAX_NOTES, required=True, multiline=True)
    when = c.run("written_off_on", day, data.get("written_off_on") or today,
                 latest=today + dt.timedelta(days=1))
    c.done()
    assert reason is not None and when is not None
    return when, reason


# --- bulk material -------------------------------------------------------------------------------

def validate_material_issue(data: Mapping[str, Any], today: dt.date,
                            prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """A quantity of bulk material handed to a client (ids are parsed by the caller)."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    read_field(c, data, "quantity", out, whole, required=True, low=1, high=MAX_QUANTITY)
    out["issued_on"] = c.run("issued_on", day, data.get("issued_on") or today,
                             latest=today + dt.timedelta(days=1))
    if "notes" in data:
        out["notes"] = c.text("notes", max_length=MAX_NOTES, multiline=True)
    c.done()
    return out


__all__ = [
    "AssetCategory", "AssetStatus", "Condition", "SETTABLE", "Tracking", "amount", "code", "day",
    "manages_inventory", "read_choice", "read_field", "validate_asset", "validate_asset_type",
    "validate_material_issue", "validate_write_off", "whole",
]
