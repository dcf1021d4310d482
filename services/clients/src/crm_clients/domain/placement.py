"""Placements of assets at clients, returns, and the audit cadence: valid values and who may
place and return (docs/clients.md, "Advertising inventory").

Pure functions over plain values: no I/O, no SQLAlchemy, no GraphQL.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from crm_clients.domain import access
from crm_clients.domain.access import Decision
from crm_clients.domain.asset import (
    MAX_NOTES,
    AssetStatus,
    Condition,
    amount,
    day,
    read_choice,
    read_field,
)
from crm_common.auth import Principal
from crm_common.parsing import parse_uuid
from crm_common.validation import Collector

MAX_PROTOCOL = 64
MAX_TERMS = 5_000
MAX_SIGNATORY = 200
#: what an asset may become when it comes back
RETURN_STATUSES = frozenset({AssetStatus.IN_STOCK, AssetStatus.IN_REPAIR, AssetStatus.LOST})


def decide(principal: Principal, owner_id: uuid.UUID | None, *, visible: bool) -> Decision:
    """Placing an asset at a client and taking it back: managers and admins, and the rep who
    owns the client. A rep who sees the client through a meeting is told it is forbidden; a
    client one may not see is not found."""
    if not visible:
        return Decision.NOT_FOUND
    return access.can_edit(principal, owner_id, granted=True)  # visible: owned or granted


def next_audit_due(last: dt.date, interval_days: int) -> dt.date:
    """The audit cadence: due ``interval_days`` after the placement or its last audit."""
    return last + dt.timedelta(days=interval_days)


def validate_placement(data: Mapping[str, Any], today: dt.date,
                       prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """A placement's own fields (the asset, client, address and contract ids are read by the
    caller, which checks them against the stored rows)."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    out["protocol_number"] = c.text("protocol_number", max_length=MAX_PROTOCOL, required=True)
    read_field(c, data, "placed_on", out, day, required=True,
               latest=today + dt.timedelta(days=1))
    read_field(c, data, "expected_return_on", out, day)
    read_field(c, data, "deposit", out, amount)
    read_field(c, data, "minimum_monthly_purchase", out, amount)
    if "terms" in data:
        out["terms"] = c.text("terms", max_length=MAX_TERMS, multiline=True)
    out["client_signatory"] = c.text("client_signatory", max_length=MAX_SIGNATORY,
                                     required=True)
    if data.get("our_signatory_id") is not None:
        out["our_signatory_id"] = c.run("our_signatory_id", parse_uuid,
                                        data["our_signatory_id"], what="employee id")
    placed, back = out.get("placed_on"), out.get("expected_return_on")
    if placed and back and back < placed:
        c.add("expected_return_on", "INVALID_DATE_RANGE",
              "expectedReturnOn cannot be before placedOn")
    c.done()
    return out


def validate_return(data: Mapping[str, Any], today: dt.date,
                    prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """A return: the day, the condition found, notes, and what the asset becomes (in stock by
    default; in repair or lost)."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}
    out["returned_on"] = c.run("returned_on", day, data.get("returned_on") or today,
                               latest=today + dt.timedelta(days=1))
    read_choice(c, data, "condition", out, Condition, required=True)
    if "notes" in data:
        out["notes"] = c.text("notes", max_length=MAX_NOTES, multiline=True)
    status = c.choice("asset_status", AssetStatus, default=AssetStatus.IN_STOCK)
    if status is not None and status not in RETURN_STATUSES:
        c.add("asset_status", "INVALID_VALUE",
              "assetStatus after a return is IN_STOCK, IN_REPAIR or LOST")
    out["asset_status"] = status.value if status else None
    c.done()
    return out


__all__ = ["RETURN_STATUSES", "decide", "next_audit_due", "validate_placement",
           "validate_return"]
