"""The contact history's rules: what a valid done contact is. Pure, no I/O."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_common.parsing import aware_moment, parse_uuid
from crm_common.validation import Collector


class ActivityKind(enum.Enum):
    VISIT = "visit"
    MEETING = "meeting"
    PHONE_CALL = "phone_call"
    VIDEO_CALL = "video_call"
    EMAIL = "email"
    MESSAGE = "message"
    OTHER = "other"


class Direction(enum.Enum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


#: kinds that take time with the client: their duration must be more than zero
TIMED_KINDS = frozenset({ActivityKind.VISIT, ActivityKind.MEETING, ActivityKind.PHONE_CALL,
                         ActivityKind.VIDEO_CALL})

MAX_SUBJECT = 300
MAX_LOCATION = 300
#: notes, agreements and next steps; a 10,000-character note is refused (docs/activities.md)
MAX_LONG_TEXT = 5000
MAX_DURATION_MINUTES = 24 * 60
#: a device clock a little ahead of ours is not "the future"
CLOCK_SKEW = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class ActivityValues:
    client_id: uuid.UUID
    contact_person_id: uuid.UUID | None
    employee_id: uuid.UUID | None
    kind: ActivityKind
    direction: Direction
    occurred_at: dt.datetime
    duration_minutes: int
    location: str | None
    subject: str | None
    notes: str
    agreements: str | None
    next_steps: str | None


def duration(c: Collector, key: str, kind: ActivityKind | None) -> int | None:
    if not c.required(key):
        return None
    raw = c.data[key]
    if not isinstance(raw, int) or isinstance(raw, bool):
        c.add(key, "INVALID_TYPE", f"{key} is a whole number of minutes")
        return None
    if raw < 0 or raw > MAX_DURATION_MINUTES:
        c.add(key, "OUT_OF_RANGE", f"{key} must be between 0 and {MAX_DURATION_MINUTES} minutes")
        return None
    if raw == 0 and kind in TIMED_KINDS:
        c.add(key, "OUT_OF_RANGE", f"a {kind.value.replace('_', ' ')} lasts more than 0 minutes")
        return None
    return raw


def done_moment(c: Collector, key: str, now: dt.datetime) -> dt.datetime | None:
    """When a done contact happened: required, and not in the future."""
    if not c.required(key):
        return None
    moment: dt.datetime | None = c.run(key, lambda: aware_moment(c.data[key]))
    if moment is not None and moment > now + CLOCK_SKEW:
        c.add(key, "IN_THE_FUTURE", "a done contact cannot be dated in the future")
        return None
    return moment


def optional_id(c: Collector, key: str) -> uuid.UUID | None:
    if not c.has(key):
        return None
    result: uuid.UUID | None = c.run(key, lambda: parse_uuid(c.data[key]))
    return result


def long_texts(c: Collector, *, notes_required: bool) -> dict[str, str | None]:
    return {
        "notes": c.text("notes", max_length=MAX_LONG_TEXT, required=notes_required,
                        multiline=True),
        "agreements": c.text("agreements", max_length=MAX_LONG_TEXT, multiline=True),
        "next_steps": c.text("next_steps", max_length=MAX_LONG_TEXT, multiline=True),
    }


def validate_activity(data: Mapping[str, Any], now: dt.datetime) -> ActivityValues:
    """A done contact as ``logActivity`` receives it. Raises ``Problems`` naming each field."""
    c = Collector(data)
    client_id = c.run("client_id", lambda: parse_uuid(data.get("client_id"))) \
        if c.required("client_id") else None
    contact = optional_id(c, "contact_person_id")
    employee = optional_id(c, "employee_id")
    kind = c.choice("kind", ActivityKind, required=True)
    direction = c.choice("direction", Direction, default=Direction.OUTBOUND)
    occurred_at = done_moment(c, "occurred_at", now)
    minutes = duration(c, "duration_minutes", kind)
    location = c.text("location", max_length=MAX_LOCATION)
    subject = c.text("subject", max_length=MAX_SUBJECT)
    texts = long_texts(c, notes_required=True)
    c.done()
    assert client_id and kind and direction and occurred_at and minutes is not None
    assert texts["notes"] is not None
    return ActivityValues(client_id, contact, employee, kind, direction, occurred_at, minutes,
                          location, subject, texts["notes"], texts["agreements"],
                          texts["next_steps"])
