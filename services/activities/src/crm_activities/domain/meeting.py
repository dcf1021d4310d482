"""Scheduled meetings: what a valid meeting is, what may happen to it. Pure, no I/O."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_activities.domain.activity import (
    CLOCK_SKEW,
    MAX_LONG_TEXT,
    ActivityKind,
    done_moment,
    duration,
    long_texts,
    optional_id,
)
from crm_common.parsing import aware_moment, parse_uuid
from crm_common.validation import Collector


class MeetingStatus(enum.Enum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


MAX_PLACE = 300
MAX_PURPOSE = 1000
MAX_REASON = 1000
MAX_CONTACT_PERSONS = 20
#: a meeting lasts at most a working day and a night (a trade fair is two meetings)
MAX_LENGTH = dt.timedelta(hours=24)
#: back-office entry of a meeting that was agreed but not entered, and corrections: a meeting may
#: start up to this long ago (docs/activities.md, "Meetings in the past")
MAX_PAST = dt.timedelta(days=31)
MAX_AHEAD = dt.timedelta(days=2 * 366)


@dataclass(frozen=True)
class MeetingTimes:
    starts_at: dt.datetime
    ends_at: dt.datetime


@dataclass(frozen=True)
class MeetingValues:
    client_id: uuid.UUID
    employee_id: uuid.UUID | None
    contact_person_ids: list[uuid.UUID]
    times: MeetingTimes
    place: str | None
    purpose: str | None
    allow_overlap: bool


def _times(c: Collector, now: dt.datetime, *, required: bool) -> MeetingTimes | None:
    present = [k for k in ("starts_at", "ends_at") if c.has(k)]
    if not required and not present:
        return None
    start = c.run("starts_at", lambda: aware_moment(c.data["starts_at"])) \
        if c.required("starts_at") else None
    end = c.run("ends_at", lambda: aware_moment(c.data["ends_at"])) \
        if c.required("ends_at") else None
    if start is None or end is None:
        return None
    if end <= start:
        c.add("ends_at", "END_BEFORE_START", "a meeting ends after it starts (0 minutes is not "
                                             "a meeting)")
        return None
    if end - start > MAX_LENGTH:
        c.add("ends_at", "TOO_LONG", "a meeting lasts at most 24 hours")
        return None
    if start < now - MAX_PAST:
        c.add("starts_at", "TOO_FAR_IN_THE_PAST",
              "a meeting can start at most 31 days ago; log a past contact instead")
        return None
    if start > now + MAX_AHEAD:
        c.add("starts_at", "TOO_FAR_AHEAD", "a meeting can be scheduled at most two years ahead")
        return None
    return MeetingTimes(start, end)


def _contacts(c: Collector) -> list[uuid.UUID] | None:
    if not c.has("contact_person_ids"):
        return None
    raw = c.data["contact_person_ids"]
    if not isinstance(raw, list):
        c.add("contact_person_ids", "INVALID_TYPE", "a list of contact person ids")
        return None
    if len(raw) > MAX_CONTACT_PERSONS:
        c.add("contact_person_ids", "TOO_MANY",
              f"at most {MAX_CONTACT_PERSONS} contact persons")
        return None
    ids: list[uuid.UUID] = []
    for i, item in enumerate(raw):
        value = c.run(("contact_person_ids", str(i)), parse_uuid, item)
        if value is not None and value not in ids:
            ids.append(value)
    return ids


def validate_schedule(data: Mapping[str, Any], now: dt.datetime) -> MeetingValues:
    c = Collector(data)
    client_id = c.run("client_id", lambda: parse_uuid(data["client_id"])) \
        if c.required("client_id") else None
    employee = optional_id(c, "employee_id")
    contacts = _contacts(c)
    times = _times(c, now, required=True)
    place = c.text("place", max_length=MAX_PLACE)
    purpose = c.text("purpose", max_length=MAX_PURPOSE, multiline=True)
    allow = data.get("allow_overlap") is True
    c.done()
    assert client_id is not None and times is not None
    return MeetingValues(client_id, employee, contacts or [], times, place, purpose, allow)


@dataclass(frozen=True)
class RescheduleValues:
    times: MeetingTimes | None
    employee_id: uuid.UUID | None
    place: tuple[str | None] | None  # (value,) when given, so that null clears it
    allow_overlap: bool


def validate_reschedule(data: Mapping[str, Any], now: dt.datetime) -> RescheduleValues:
    c = Collector(data)
    times = _times(c, now, required=False)
    employee = optional_id(c, "employee_id")
    place = (c.text("place", max_length=MAX_PLACE),) if "place" in data else None
    if times is None and employee is None and place is None and not c.problems:
        c.add("starts_at", "REQUIRED", "give a new start and end, another employee or a place")
    c.done()
    return RescheduleValues(times, employee, place, data.get("allow_overlap") is True)


def validate_reason(data: Mapping[str, Any]) -> str:
    c = Collector(data)
    reason = c.text("reason", max_length=MAX_REASON, required=True, multiline=True)
    c.done()
    assert reason is not None
    return reason


@dataclass(frozen=True)
class CompletionValues:
    occurred_at: dt.datetime | None  # None: the scheduled start
    duration_minutes: int
    kind: ActivityKind
    contact_person_id: uuid.UUID | None
    notes: str
    agreements: str | None
    next_steps: str | None


def validate_completion(data: Mapping[str, Any], now: dt.datetime) -> CompletionValues:
    """The meeting took place: its actual start (default: as scheduled), actual duration, notes
    and agreements. The done contact cannot be in the future."""
    c = Collector(data)
    started = done_moment(c, "actual_starts_at", now) if c.has("actual_starts_at") else None
    kind = c.choice("kind", ActivityKind, default=ActivityKind.MEETING)
    if kind is not None and kind not in (ActivityKind.MEETING, ActivityKind.VISIT,
                                         ActivityKind.VIDEO_CALL, ActivityKind.PHONE_CALL):
        c.add("kind", "INVALID_VALUE", "a meeting took place as a meeting, visit or call")
    minutes = duration(c, "actual_duration_minutes", kind or ActivityKind.MEETING)
    contact = optional_id(c, "contact_person_id")
    texts = long_texts(c, notes_required=True)
    c.done()
    assert minutes is not None and kind is not None and texts["notes"] is not None
    return CompletionValues(started, minutes, kind, contact, texts["notes"],
                            texts["agreements"], texts["next_steps"])


def check_completion_start(started: dt.datetime, now: dt.datetime) -> None:
    """A meeting completed before it started would be a done contact in the future."""
    c = Collector({})
    if started > now + CLOCK_SKEW:
        c.add("actual_starts_at", "IN_THE_FUTURE",
              "the meeting has not started yet: a done contact cannot be in the future")
    c.done()


__all__ = ["MAX_LONG_TEXT", "CompletionValues", "MeetingStatus", "MeetingTimes",
           "MeetingValues", "RescheduleValues", "check_completion_start", "validate_completion",
           "validate_reason", "validate_reschedule", "validate_schedule"]
