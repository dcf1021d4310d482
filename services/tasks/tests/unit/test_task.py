"""Validation of task input: every field wrong, missing, huge and hostile."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from crm_common.problems import Problems
from crm_tasks.domain import task
from crm_tasks.domain.task import Outcome, TaskKind, TaskStatus

A = str(uuid.uuid4())


def good(**kw: Any) -> dict[str, Any]:
    return {"title": "Оферта за ОМВ", "assignee_id": A, "due_date": "2026-12-01", **kw}


def codes(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(Problems) as exc:
        task.validate_new_task(raw)
    return {p.field[-1]: p.code for p in exc.value.problems}


def test_a_general_task_needs_little() -> None:
    data = task.validate_new_task(good())
    assert data["kind"] is TaskKind.GENERAL and data["priority"] is task.Priority.NORMAL
    assert data["due_date"] == dt.date(2026, 12, 1) and data["watchers"] == []


def test_a_title_with_an_emoji_joined_by_a_zero_width_joiner_passes_as_in_every_service() -> None:
    title = "Мостра за 👩\u200d💻 екипа"
    assert task.validate_new_task(good(title=title))["title"] == title
    with pytest.raises(Problems):
        task.validate_new_task(good(title="a\x00b"))


@pytest.mark.parametrize("raw,field,code", [
    (good(title=""), "title", "REQUIRED"),
    (good(title="x" * 301), "title", "TOO_LONG"),
    (good(title="Щ" * 1_000_000), "title", "TOO_LONG"),
    (good(title="a\x1b[31mb"), "title", "CONTROL_CHARACTERS"),
    (good(title="line\nbreak"), "title", "CONTROL_CHARACTERS"),
    (good(title=5), "title", "INVALID_TYPE"),
    (good(description="\u202eevil"), "description", "CONTROL_CHARACTERS"),
    (good(due_date="2026-13-01"), "due_date", "INVALID_DATE"),
    (good(due_date="01.12.2026"), "due_date", "INVALID_DATE"),
    (good(due_date="1999-12-31"), "due_date", "INVALID_DATE"),
    (good(due_date="2026-12-01T00:00:00"), "due_date", "INVALID_DATE"),
    (good(due_date="'; DROP TABLE tasks; --"), "due_date", "INVALID_DATE"),
    (good(due_date=None), "due_date", "REQUIRED"),
    (good(due_date=dt.date(1999, 12, 31)), "due_date", "INVALID_DATE"),  # the Date scalar's
    (good(due_date=dt.datetime(2026, 12, 1, tzinfo=dt.UTC)), "due_date", "INVALID_DATE"),
    (good(assignee_id="nobody"), "assignee_id", "INVALID_ID"),
    (good(assignee_id=None), "assignee_id", "REQUIRED"),
    (good(client_id="x" * 5000), "client_id", "INVALID_ID"),
    (good(kind="commitment", commitment_type="offer"), "client_id", "REQUIRED"),
    (good(kind="commitment", client_id=A), "commitment_type", "REQUIRED"),
    (good(commitment_type="offer"), "commitment_type", "NOT_APPLICABLE"),
    (good(kind="chore"), "kind", "INVALID_VALUE"),
    (good(priority="asap"), "priority", "INVALID_VALUE"),
    (good(watchers=["x"]), "0", "INVALID_ID"),  # at input.watchers.0, the item at fault
    (good(watchers=[str(uuid.uuid4()) for _ in range(51)]), "watchers", "TOO_MANY"),
    (good(watchers="everyone"), "watchers", "INVALID_TYPE"),
])
def test_bad_input_names_the_field(raw: dict[str, Any], field: str, code: str) -> None:
    assert codes(raw).get(field) == code


def test_every_problem_at_once() -> None:
    found = codes({"title": "", "due_date": "soon", "assignee_id": "x"})
    assert found == {"title": "REQUIRED", "due_date": "INVALID_DATE", "assignee_id": "INVALID_ID"}


def test_closing_needs_an_outcome_and_a_refusal_needs_a_reason() -> None:
    with pytest.raises(Problems) as exc:
        task.validate_closing({})
    assert exc.value.problems[0].field == ("input", "outcome")
    with pytest.raises(Problems) as exc:
        task.validate_closing({"outcome": "refused", "refusal_reason": "  "})
    assert exc.value.problems[0].field == ("input", "refusal_reason")
    with pytest.raises(Problems):
        task.validate_closing({"outcome": "confirmed", "refusal_reason": "why"})
    assert task.validate_closing({"outcome": "refused", "refusal_reason": "цена"}) == (
        Outcome.REFUSED, "цена")
    assert task.closed_status(Outcome.CONFIRMED) is TaskStatus.CLOSED_CONFIRMED


def test_overdue_is_open_and_past_the_due_date() -> None:
    today = dt.date(2026, 12, 2)
    assert task.is_overdue(dt.date(2026, 12, 1), TaskStatus.ON_HOLD, today)
    assert not task.is_overdue(dt.date(2026, 12, 2), TaskStatus.ON_HOLD, today)
    assert not task.is_overdue(dt.date(2026, 12, 1), TaskStatus.CLOSED_REFUSED, today)


def test_a_date_from_the_date_scalar_is_taken_as_it_is() -> None:
    data = task.validate_new_task(good(due_date=dt.date(2026, 12, 2)))
    assert data["due_date"] == dt.date(2026, 12, 2)
