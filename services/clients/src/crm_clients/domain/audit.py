"""Audits of the assets at a client during a visit: per-asset results, geolocation, and who may
record one (docs/clients.md, "Advertising inventory").

An audit line says what the rep found for one asset: FOUND, MISSING, MOVED (at the client, not
where recorded) or DAMAGED for an asset placed at this client; UNRECORDED for an asset found at
this client although it is not placed here (a finding: the asset is not moved, a manager
decides). Pure functions over plain values: no I/O, no SQLAlchemy, no GraphQL.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_clients.domain import access
from crm_clients.domain.access import Decision
from crm_clients.domain.asset import MAX_NOTES, Condition, code, read_choice
from crm_common.auth import Principal
from crm_common.parsing import aware_moment, parse_uuid
from crm_common.problems import problem
from crm_common.text import InvalidValue
from crm_common.validation import Collector


class AuditResult(enum.Enum):
    FOUND = "found"
    MISSING = "missing"
    MOVED = "moved"
    DAMAGED = "damaged"
    UNRECORDED = "unrecorded"


#: results of a line about an asset placed at the audited client
PLACED_HERE = frozenset({AuditResult.FOUND, AuditResult.MISSING, AuditResult.MOVED,
                         AuditResult.DAMAGED})
#: results the tasks service turns into a task for the client's owner
RAISES_TASK = frozenset({AuditResult.MISSING, AuditResult.DAMAGED})

MAX_LINES = 200
MAX_ACCURACY_METERS = 100_000
#: how far back an app that was offline may date an audit, and the clock skew allowed ahead
MAX_AGE = dt.timedelta(days=30)
SKEW = dt.timedelta(minutes=5)


def decide(principal: Principal, owner_id: uuid.UUID | None, *, visible: bool) -> Decision:
    """Audits and material issues happen during a visit: anyone who sees the client (its owner,
    a rep with a meeting there, managers, admins; ``visible`` is the access rule's answer)
    records them."""
    if not visible:
        return Decision.NOT_FOUND
    return Decision.ALLOW if access.can_see(principal, owner_id, granted=True) \
        else Decision.NOT_FOUND


def coordinate(raw: Any, *, limit: int) -> Decimal:
    """A latitude (limit 90) or longitude (limit 180) in decimal degrees, 6 decimals kept."""
    if isinstance(raw, bool) or not isinstance(raw, (Decimal, int, float, str)):
        raise InvalidValue("INVALID_TYPE", "must be a number of degrees")
    if isinstance(raw, str) and len(raw) > 32:
        raise InvalidValue("INVALID_VALUE", "must be a number of degrees")
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise InvalidValue("INVALID_VALUE", "must be a number of degrees") from None
    if not value.is_finite() or not -limit <= value <= limit:
        raise InvalidValue("OUT_OF_RANGE", f"must be between -{limit} and {limit}")
    return value.quantize(Decimal("0.000001"))


def validate_geolocation(raw: Any, prefix: tuple[str, ...]) -> dict[str, Any]:
    """``{latitude, longitude, accuracy_meters?}`` or nothing; both coordinates or none."""
    if raw is None:
        return {"latitude": None, "longitude": None, "accuracy_meters": None}
    if not isinstance(raw, Mapping):
        raise problem(prefix, "INVALID_TYPE", "geolocation must be an object")
    c = Collector(raw, prefix=prefix)
    out: dict[str, Any] = {}
    for key, limit in (("latitude", 90), ("longitude", 180)):
        if c.required(key):
            out[key] = c.run(key, coordinate, raw[key], limit=limit)
    accuracy = raw.get("accuracy_meters")
    if accuracy is not None and (not isinstance(accuracy, (int, float, Decimal))
                                 or isinstance(accuracy, bool)
                                 or not 0 <= accuracy <= MAX_ACCURACY_METERS):
        c.add("accuracy_meters", "OUT_OF_RANGE",
              f"accuracyMeters must be between 0 and {MAX_ACCURACY_METERS}")
    else:
        out["accuracy_meters"] = None if accuracy is None else round(accuracy)
    c.done()
    return out


def validate_line(data: Mapping[str, Any], prefix: tuple[str, ...]) -> dict[str, Any]:
    """One line: the asset (by id, or by the tag code the app scanned), the result, the
    condition found, notes."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {"asset_id": None, "tag_code": None}
    if data.get("asset_id") is not None:
        out["asset_id"] = c.run("asset_id", parse_uuid, data["asset_id"], what="asset id")
    elif data.get("tag_code") is not None:
        out["tag_code"] = c.run("tag_code", code, data["tag_code"], what="tagCode")
    else:
        c.add("asset_id", "REQUIRED", "name the asset: assetId or tagCode")
    read_choice(c, data, "result", out, AuditResult, required=True)
    out.setdefault("condition", None)
    read_choice(c, data, "condition", out, Condition, required=False)
    out["notes"] = c.text("notes", max_length=MAX_NOTES, multiline=True)
    if out.get("result") == AuditResult.DAMAGED.value and out["condition"] in (
            Condition.NEW.value, Condition.GOOD.value):
        c.add("condition", "INVALID_VALUE", "a damaged asset's condition is not NEW or GOOD")
    c.done()
    return out


def validate_audit(data: Mapping[str, Any], now: dt.datetime,
                   prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """The audit's header and its lines (ids of the client and address are read by the caller).
    The same asset twice in one audit is a DUPLICATE."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    for key in ("activity_id", "meeting_id"):
        out[key] = None if data.get(key) is None else \
            c.run(key, parse_uuid, data[key], what=key.split("_")[0] + " id")
    when = data.get("audited_at")
    out["audited_at"] = now if when is None else c.run("audited_at", aware_moment, when)
    if out["audited_at"] is not None and not now - MAX_AGE <= out["audited_at"] <= now + SKEW:
        c.add("audited_at", "OUT_OF_RANGE", "auditedAt must be within the last 30 days and not "
                                            "in the future")
    geo = c.merge(validate_geolocation, data.get("geolocation"), prefix + ("geolocation",))
    out.update(geo or {})
    out["notes"] = c.text("notes", max_length=MAX_NOTES, multiline=True)
    raw_lines = data.get("lines")
    lines: list[dict[str, Any]] = []
    if not isinstance(raw_lines, list) or not raw_lines:
        c.add("lines", "REQUIRED", "an audit has at least one line")
    elif len(raw_lines) > MAX_LINES:
        c.add("lines", "TOO_MANY", f"at most {MAX_LINES} lines per audit")
    else:
        seen: dict[Any, int] = {}
        for i, item in enumerate(raw_lines):
            where = prefix + ("lines", str(i))
            if not isinstance(item, Mapping):
                c.add(("lines", str(i)), "INVALID_TYPE", "a line must be an object")
                continue
            line = c.merge(validate_line, item, where)
            if line is None:
                continue
            key = line["asset_id"] or str(line["tag_code"]).lower()
            if key in seen:
                field = "asset_id" if line["asset_id"] else "tag_code"
                c.add(("lines", str(i), field), "DUPLICATE",
                      f"line {seen[key] + 1} is about the same asset")
                continue
            seen[key] = i
            lines.append(line)
    out["lines"] = lines
    c.done()
    return out


__all__ = ["PLACED_HERE", "RAISES_TASK", "AuditResult", "decide", "validate_audit",
           "validate_geolocation", "validate_line"]
