"""What a task is: its kinds, statuses, priorities and the rules for valid input.

Pure functions over plain values (no I/O). The service layer feeds them the raw input and gets
back normalised values, or ``Problems`` naming each field at fault.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from typing import Any

from crm_common.parsing import parse_uuid
from crm_common.text import InvalidValue
from crm_common.validation import Collector


class TaskKind(enum.Enum):
    GENERAL = "general"
    COMMITMENT = "commitment"


class CommitmentType(enum.Enum):
    NEW_CONTRACT = "new_contract"
    OFFER = "offer"
    SAMPLE = "sample"
    TEST_PRODUCT = "test_product"
    INVOICE = "invoice"
    OTHER = "other"


class Priority(enum.Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class TaskStatus(enum.Enum):
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    IN_PRODUCTION = "in_production"
    ON_HOLD = "on_hold"
    CLOSED_CONFIRMED = "closed_confirmed"
    CLOSED_REFUSED = "closed_refused"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in FINAL_STATUSES


class Outcome(enum.Enum):
    """The client's answer that closes a task."""

    CONFIRMED = "confirmed"
    REFUSED = "refused"


FINAL_STATUSES = frozenset(
    {TaskStatus.CLOSED_CONFIRMED, TaskStatus.CLOSED_REFUSED, TaskStatus.CANCELLED})
OPEN_STATUSES = frozenset(TaskStatus) - FINAL_STATUSES
#: commitments whose work is making something (they may go "in production")
PRODUCED = frozenset({CommitmentType.SAMPLE, CommitmentType.TEST_PRODUCT})

# Limits on free text and lists; documented in docs/tasks.md.
MAX_TITLE = 300
MAX_DESCRIPTION = 10_000
MAX_COMMENT = 2_000
MAX_REASON = 2_000
MAX_WATCHERS = 50
EARLIEST_DUE = dt.date(2000, 1, 1)
LATEST_DUE = dt.date(2100, 12, 31)


def _id(c: Collector, key: str, *, required: bool = False) -> uuid.UUID | None:
    if not c.has(key):
        if required:
            c.required(key)
        return None
    return c.run(key, parse_uuid, c.data[key])


def parse_due_date(value: Any) -> dt.date:
    """A calendar date (the API's ``Date`` scalar, or ISO 8601 text YYYY-MM-DD) within the range
    a due date may take.

    Raises:
        InvalidValue: ``INVALID_DATE``.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif not isinstance(value, str) or len(value) != 10:
        raise InvalidValue("INVALID_DATE", "a date is written YYYY-MM-DD")
    else:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidValue("INVALID_DATE", "not a calendar date (YYYY-MM-DD)") from None
    if not EARLIEST_DUE <= day <= LATEST_DUE:
        raise InvalidValue("INVALID_DATE",
                           f"a due date lies between {EARLIEST_DUE} and {LATEST_DUE}")
    return day


def _due(c: Collector, key: str = "due_date") -> dt.date | None:
    if not c.has(key):
        c.add(key, "REQUIRED", "a due date is required")
        return None
    return c.run(key, parse_due_date, c.data[key])


def validate_watchers(c: Collector) -> list[uuid.UUID] | None:
    return c.unique_items("watchers", _employee_id, max_items=MAX_WATCHERS, what="watchers")


def _employee_id(value: object) -> uuid.UUID:
    return parse_uuid(value, what="employee id")


def validate_new_task(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a new task, normalised; raises ``Problems`` naming every bad field."""
    c = Collector(raw)
    kind = c.choice("kind", TaskKind, default=TaskKind.GENERAL)
    commitment = c.choice("commitment_type", CommitmentType)
    client_id = _id(c, "client_id")
    if kind is TaskKind.COMMITMENT:
        if commitment is None and not c.failed("commitment_type"):
            c.add("commitment_type", "REQUIRED", "a commitment needs its type")
        if client_id is None and not c.has("client_id"):
            c.add("client_id", "REQUIRED", "a commitment is made to a client")
    elif kind is TaskKind.GENERAL and commitment is not None:
        c.add("commitment_type", "NOT_APPLICABLE", "only commitments have a commitment type")
    data = {
        "title": c.text("title", max_length=MAX_TITLE, required=True),
        "description": c.text("description", max_length=MAX_DESCRIPTION, multiline=True),
        "kind": kind,
        "commitment_type": commitment,
        "client_id": client_id,
        "activity_id": _id(c, "activity_id"),
        "meeting_id": _id(c, "meeting_id"),
        "contract_id": _id(c, "contract_id"),
        "assignee_id": _id(c, "assignee_id", required=True),
        "due_date": _due(c),
        "priority": c.choice("priority", Priority, default=Priority.NORMAL),
        "watchers": validate_watchers(c),
    }
    c.done()
    return data


def validate_update(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Title, description and watchers of an existing task (only the keys sent)."""
    c = Collector(raw)
    out: dict[str, Any] = {}
    if "title" in raw:
        out["title"] = c.text("title", max_length=MAX_TITLE, required=True)
    if "description" in raw:
        out["description"] = c.text("description", max_length=MAX_DESCRIPTION, multiline=True)
    if "watchers" in raw:
        out["watchers"] = validate_watchers(c)
    c.done()
    return out


def validate_comment(raw: Mapping[str, Any], key: str = "comment") -> str | None:
    c = Collector(raw)
    value = c.text(key, max_length=MAX_COMMENT, multiline=True)
    c.done()
    return value


def validate_due_date(raw: Mapping[str, Any]) -> dt.date:
    c = Collector(raw)
    day = _due(c)
    c.done()
    assert day is not None
    return day


def validate_priority(raw: Mapping[str, Any]) -> Priority:
    c = Collector(raw)
    value = c.choice("priority", Priority, required=True)
    c.done()
    assert value is not None
    return value


def validate_closing(raw: Mapping[str, Any]) -> tuple[Outcome, str | None]:
    """The client's outcome: confirmed, or refused with a reason."""
    c = Collector(raw)
    outcome = c.choice("outcome", Outcome)
    if not c.has("outcome"):
        c.add("outcome", "REQUIRED", "closing needs the client's outcome: confirmed or refused")
    reason = c.text("refusal_reason", max_length=MAX_REASON, multiline=True)
    if outcome is Outcome.REFUSED and not reason and not c.failed("refusal_reason"):
        c.add("refusal_reason", "REQUIRED", "a refusal needs the client's reason")
    if outcome is Outcome.CONFIRMED and reason:
        c.add("refusal_reason", "NOT_APPLICABLE", "a confirmed task has no refusal reason")
    c.done()
    assert outcome is not None
    return outcome, reason


def closed_status(outcome: Outcome) -> TaskStatus:
    return TaskStatus.CLOSED_CONFIRMED if outcome is Outcome.CONFIRMED \
        else TaskStatus.CLOSED_REFUSED


def is_overdue(due_date: dt.date, status: TaskStatus, today: dt.date) -> bool:
    """Past its due date and still open (a task is due by the end of its due date)."""
    return status in OPEN_STATUSES and due_date < today
