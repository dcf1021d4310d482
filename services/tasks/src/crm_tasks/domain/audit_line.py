"""An inventory audit line, as the clients service publishes it (``crm.clients.asset.audited``
and ``crm.clients.asset.missing``, the contract in events/asyncapi.yaml), and the task it
raises: pure functions, no I/O.

A ``missing`` or ``damaged`` line raises one task for the client's owner; every other result
raises none. The event's shape is checked here (a malformed event is refused with
:class:`~crm_common.client_access.MalformedEvent` and ends in the dead-letter queue); its free
text (inventory number, asset type, condition, notes) was checked by the clients service and is
only made safe for a title and a description here: control and bidirectional-text characters
become spaces, and each piece is cut to a bound with "…", so that a line with odd text still
raises its task.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from crm_common.client_access import MalformedEvent, event_moment, event_uuid, event_version
from crm_tasks.domain.task import MAX_DESCRIPTION, MAX_TITLE, Priority

EVENT_AUDITED = "crm.clients.asset.audited"
EVENT_MISSING = "crm.clients.asset.missing"
#: how long the owner has to deal with a missing or damaged asset, by default (AUDIT_TASK_DUE_DAYS)
DEFAULT_DUE_DAYS = 7


class AuditResult(enum.Enum):
    FOUND = "found"
    MISSING = "missing"
    MOVED = "moved"
    DAMAGED = "damaged"
    UNRECORDED = "unrecorded"


#: the results that raise a task, and its priority
RAISES_TASK = {AuditResult.MISSING: Priority.HIGH, AuditResult.DAMAGED: Priority.NORMAL}


@dataclass(frozen=True)
class AuditLine:
    audit_id: uuid.UUID
    asset_id: uuid.UUID
    inventory_number: str
    asset_type_name: str
    client_id: uuid.UUID
    client_owner_id: uuid.UUID | None
    placement_id: uuid.UUID | None
    result: AuditResult
    condition: str | None
    notes: str | None
    audited_by: uuid.UUID
    audited_at: dt.datetime
    activity_id: uuid.UUID | None
    version: int

    @property
    def raises_task(self) -> bool:
        return self.result in RAISES_TASK


def _uuid(data: dict[str, Any], key: str) -> uuid.UUID:
    found = event_uuid(data, key)
    assert found is not None
    return found


def _text(data: dict[str, Any], key: str, *, optional: bool = False) -> str | None:
    raw = data.get(key)
    if raw is None and optional:
        return None
    if not isinstance(raw, str) or (not optional and not raw.strip()):
        raise MalformedEvent(f"{key} is not {'text' if optional else 'non-empty text'}")
    return raw


def parse_audit_line(envelope: dict[str, Any]) -> AuditLine:
    """The audit line an event carries; ``MalformedEvent`` when it is not the contract's."""
    data = envelope.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent(f"{envelope.get('type')} carries no data")
    raw_result = data.get("result")
    try:
        result = AuditResult(raw_result)
    except ValueError:
        raise MalformedEvent(f"result is not one of the audit results: {raw_result!r}"[:200]
                             ) from None
    if envelope.get("type") == EVENT_MISSING and result is not AuditResult.MISSING:
        raise MalformedEvent(f"{EVENT_MISSING} with result {result.value}")
    return AuditLine(
        audit_id=_uuid(data, "auditId"),
        asset_id=_uuid(data, "assetId"),
        inventory_number=_text(data, "inventoryNumber") or "",
        asset_type_name=_text(data, "assetTypeName") or "",
        client_id=_uuid(data, "clientId"),
        client_owner_id=event_uuid(data, "clientOwnerId", optional=True),
        placement_id=event_uuid(data, "placementId", optional=True),
        result=result,
        condition=_text(data, "condition", optional=True),
        notes=_text(data, "notes", optional=True),
        audited_by=_uuid(data, "auditedBy"),
        audited_at=event_moment(data, "auditedAt"),
        activity_id=event_uuid(data, "activityId", optional=True),
        version=event_version(data),
    )


# control characters (but newline and tab), bidirectional-text controls, line separators
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                     r"\u2066-\u2069\u2028\u2029\ud800-\udfff]")


def plain(value: str, limit: int, *, multiline: bool = False) -> str:
    """``value`` safe to show: unsafe characters as spaces (newlines too, unless
    ``multiline``), white space trimmed, at most ``limit`` characters (cut with "…")."""
    text = _UNSAFE.sub(" ", value[: limit * 4 + 16])
    if not multiline:
        text = " ".join(text.split())
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def due_date(line: AuditLine, tz: ZoneInfo, days: int) -> dt.date:
    """``days`` after the day of the audit, in the service's time zone."""
    return line.audited_at.astimezone(tz).date() + dt.timedelta(days=days)


def task_text(line: AuditLine, client_name: str | None, auditor_name: str | None = None
              ) -> tuple[str, str]:
    """The title and description of the task a missing or damaged line raises (names from the
    service's projections, when it knows them; ids else)."""
    at = plain(client_name, 120) if client_name else f"client {line.client_id}"
    what = f"Asset {plain(line.inventory_number, 60)} ({plain(line.asset_type_name, 60)})"
    title = plain(f"{what} {line.result.value} at {at}", MAX_TITLE)
    by = plain(auditor_name, 120) if auditor_name else f"employee {line.audited_by}"
    parts = [
        f"{what} was found {line.result.value} in the audit {line.audit_id} of "
        f"{line.audited_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC (audited by {by}).",
    ]
    if line.result is AuditResult.MISSING:
        parts.append("Find out where it is, or have it written off.")
    else:
        parts.append("Arrange its repair or replacement.")
    if line.condition:
        parts.append(f"Condition: {plain(line.condition, 500)}")
    if line.notes:
        parts.append(f"Notes: {plain(line.notes, 4000, multiline=True)}")
    parts.append(f"Asset id {line.asset_id}" + (
        f", placement {line.placement_id}" if line.placement_id else "") + ".")
    return title, plain("\n".join(parts), MAX_DESCRIPTION, multiline=True)
