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

from crm_common.problems import FieldProblem, Problems
from crm_tasks.domain.text import InvalidText, clean_text


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


class _Collector:
    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []

    def add(self, name: str, code: str, message: str) -> None:
        self.problems.append(FieldProblem(("input", name), code, message))

    def raise_if_any(self) -> None:
        if self.problems:
            raise Problems(self.problems)


def _text(c: _Collector, raw: Mapping[str, Any], key: str, *, max_length: int,
          required: bool = False, multiline: bool = False) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        c.add(key, "INVALID_TYPE", f"{key} must be text")
        return None
    try:
        return clean_text(value, max_length=max_length, required=required, multiline=multiline)
    except InvalidText as exc:
        c.add(key, exc.code, exc.message)
        return None


def parse_id(value: Any) -> uuid.UUID:
    """A UUID from input text; ``ValueError`` for anything else."""
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError("not an id")
    return uuid.UUID(value)


def _id(c: _Collector, raw: Mapping[str, Any], key: str, *,
        required: bool = False) -> uuid.UUID | None:
    value = raw.get(key)
    if value is None:
        if required:
            c.add(key, "REQUIRED", f"{key} is required")
        return None
    try:
        return parse_id(value)
    except ValueError:
        c.add(key, "INVALID_ID", "not a valid id")
        return None


def parse_due_date(value: Any) -> dt.date:
    """A calendar date (the API's ``Date`` scalar, or ISO 8601 text YYYY-MM-DD) within the range
    a due date may take."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif not isinstance(value, str) or len(value) != 10:
        raise ValueError("a date is written YYYY-MM-DD")
    else:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError("not a calendar date (YYYY-MM-DD)") from None
    if not EARLIEST_DUE <= day <= LATEST_DUE:
        raise ValueError(f"a due date lies between {EARLIEST_DUE} and {LATEST_DUE}")
    return day


def _due(c: _Collector, raw: Mapping[str, Any], key: str = "due_date") -> dt.date | None:
    value = raw.get(key)
    if value is None:
        c.add(key, "REQUIRED", "a due date is required")
        return None
    try:
        return parse_due_date(value)
    except ValueError as exc:
        c.add(key, "INVALID_DATE", str(exc))
        return None


def _enum(c: _Collector, raw: Mapping[str, Any], key: str, kind: type[enum.Enum],
          default: enum.Enum | None = None) -> Any:
    value = raw.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        c.add(key, "INVALID_VALUE", f"{key} must be one of " +
              ", ".join(m.value for m in kind))
        return None


def validate_watchers(c: _Collector, raw: Mapping[str, Any]) -> list[uuid.UUID] | None:
    values = raw.get("watchers")
    if values is None:
        return []
    if not isinstance(values, list):
        c.add("watchers", "INVALID_TYPE", "watchers must be a list of employee ids")
        return None
    if len(values) > MAX_WATCHERS:
        c.add("watchers", "TOO_MANY", f"at most {MAX_WATCHERS} watchers")
        return None
    out: list[uuid.UUID] = []
    for value in values:
        try:
            watcher = parse_id(value)
        except ValueError:
            c.add("watchers", "INVALID_ID", "every watcher must be an employee id")
            return None
        if watcher not in out:
            out.append(watcher)
    return out


def validate_new_task(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a new task, normalised; raises ``Problems`` naming every bad field."""
    c = _Collector()
    kind = _enum(c, raw, "kind", TaskKind, TaskKind.GENERAL)
    commitment = _enum(c, raw, "commitment_type", CommitmentType)
    client_id = _id(c, raw, "client_id")
    if kind is TaskKind.COMMITMENT:
        if commitment is None and "commitment_type" not in {p.field[-1] for p in c.problems}:
            c.add("commitment_type", "REQUIRED", "a commitment needs its type")
        if client_id is None and raw.get("client_id") is None:
            c.add("client_id", "REQUIRED", "a commitment is made to a client")
    elif kind is TaskKind.GENERAL and commitment is not None:
        c.add("commitment_type", "NOT_APPLICABLE", "only commitments have a commitment type")
    data = {
        "title": _text(c, raw, "title", max_length=MAX_TITLE, required=True),
        "description": _text(c, raw, "description", max_length=MAX_DESCRIPTION, multiline=True),
        "kind": kind,
        "commitment_type": commitment,
        "client_id": client_id,
        "activity_id": _id(c, raw, "activity_id"),
        "meeting_id": _id(c, raw, "meeting_id"),
        "contract_id": _id(c, raw, "contract_id"),
        "assignee_id": _id(c, raw, "assignee_id", required=True),
        "due_date": _due(c, raw),
        "priority": _enum(c, raw, "priority", Priority, Priority.NORMAL),
        "watchers": validate_watchers(c, raw),
    }
    c.raise_if_any()
    return data


def validate_update(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Title, description and watchers of an existing task (only the keys sent)."""
    c = _Collector()
    out: dict[str, Any] = {}
    if "title" in raw:
        out["title"] = _text(c, raw, "title", max_length=MAX_TITLE, required=True)
    if "description" in raw:
        out["description"] = _text(c, raw, "description", max_length=MAX_DESCRIPTION,
                                    multiline=True)
    if "watchers" in raw:
        out["watchers"] = validate_watchers(c, raw)
    c.raise_if_any()
    return out


def validate_comment(raw: Mapping[str, Any], key: str = "comment") -> str | None:
    c = _Collector()
    value = _text(c, raw, key, max_length=MAX_COMMENT, multiline=True)
    c.raise_if_any()
    return value


def validate_due_date(raw: Mapping[str, Any]) -> dt.date:
    c = _Collector()
    day = _due(c, raw)
    c.raise_if_any()
    assert day is not None
    return day


def validate_priority(raw: Mapping[str, Any]) -> Priority:
    c = _Collector()
    if raw.get("priority") is None:
        c.add("priority", "REQUIRED", "a priority is required")
    value = _enum(c, raw, "priority", Priority)
    c.raise_if_any()
    return value  # type: ignore[no-any-return]


def validate_closing(raw: Mapping[str, Any]) -> tuple[Outcome, str | None]:
    """The client's outcome: confirmed, or refused with a reason."""
    c = _Collector()
    outcome = _enum(c, raw, "outcome", Outcome)
    if raw.get("outcome") is None:
        c.add("outcome", "REQUIRED", "closing needs the client's outcome: confirmed or refused")
    reason = _text(c, raw, "refusal_reason", max_length=MAX_REASON, multiline=True)
    if outcome is Outcome.REFUSED and not reason and "refusal_reason" not in {
            p.field[-1] for p in c.problems}:
        c.add("refusal_reason", "REQUIRED", "a refusal needs the client's reason")
    if outcome is Outcome.CONFIRMED and reason:
        c.add("refusal_reason", "NOT_APPLICABLE", "a confirmed task has no refusal reason")
    c.raise_if_any()
    return outcome, reason


def closed_status(outcome: Outcome) -> TaskStatus:
    return TaskStatus.CLOSED_CONFIRMED if outcome is Outcome.CONFIRMED \
        else TaskStatus.CLOSED_REFUSED


def is_overdue(due_date: dt.date, status: TaskStatus, today: dt.date) -> bool:
    """Past its due date and still open (a task is due by the end of its due date)."""
    return status in OPEN_STATUSES and due_date < today
