"""A task's history entry as the one History type shows it, for entries of both spellings."""

from __future__ import annotations

from crm_tasks.graphql.types import _history_changes


def _row(changes: dict[str, object], from_status: str | None = None,
         to_status: str | None = None, comment: str | None = None) -> dict[str, object]:
    return {"changes": changes, "from_status": from_status, "to_status": to_status,
            "comment": comment}


def test_new_entries_are_shown_as_written() -> None:
    changes = {"status": ["ASSIGNED", "IN_PROGRESS"], "comment": "go"}
    assert _history_changes(_row(changes, "assigned", "in_progress", "go")) == changes
    assert _history_changes(_row({"dueDate": ["2026-01-01", "2026-01-02"]})) == {
        "dueDate": ["2026-01-01", "2026-01-02"]}


def test_older_entries_get_the_transition_and_comment_from_their_columns() -> None:
    old = _row({"outcome": "refused"}, "in_progress", "closed_refused", "too dear")
    assert _history_changes(old) == {"outcome": "refused",  # stored values stay as written
                                     "status": ["IN_PROGRESS", "CLOSED_REFUSED"],
                                     "comment": "too dear"}
    assert _history_changes(_row({"task": {}}, None, "assigned")) == {
        "task": {}, "status": [None, "ASSIGNED"]}
