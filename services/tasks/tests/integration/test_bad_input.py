"""Every mutation with missing, wrong, huge and hostile values: a userError naming the field,
and nothing stored changes (the task, its history, its attachments and the outbox read the same
before and after)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .conftest import Service, World
from .helpers import (
    CLOSE,
    CREATE,
    PRIORITY,
    REASSIGN,
    REMOVE_ATTACHMENT,
    REOPEN,
    REQUEST_UPLOAD,
    RESCHEDULE,
    STATUS,
    UPDATE,
    commitment,
    days,
)

pytestmark = pytest.mark.integration

HUGE = "Щ" * 100_000
CONTROL = "ред\x07\x1b[31m"
INJECTION = "'; DROP TABLE tasks; --"

DOCUMENTS = {
    "createTask": CREATE, "updateTask": UPDATE, "changeTaskStatus": STATUS,
    "closeTask": CLOSE, "reopenTask": REOPEN, "reassignTask": REASSIGN,
    "rescheduleTask": RESCHEDULE, "changeTaskPriority": PRIORITY,
    "requestAttachmentUpload": REQUEST_UPLOAD, "removeAttachment": REMOVE_ATTACHMENT,
}


def _cases(t: dict[str, Any], w: World) -> list[tuple[str, str, dict[str, Any], list[str], str]]:
    """(role, mutation, input, expected field, expected code)."""
    tid, v, missing = t["id"], t["version"], str(uuid.uuid4())
    new = {"title": "Нова", "assigneeId": str(w.rep), "dueDate": days(3)}
    return [
        ("manager", "createTask", {**new, "title": ""}, ["input", "title"], "REQUIRED"),
        ("manager", "createTask", {**new, "title": HUGE}, ["input", "title"], "TOO_LONG"),
        ("manager", "createTask", {**new, "title": CONTROL}, ["input", "title"],
         "CONTROL_CHARACTERS"),
        ("manager", "createTask", {**new, "description": HUGE}, ["input", "description"],
         "TOO_LONG"),
        # a malformed date is the Date scalar's request error (see the test below); one out of
        # a due date's range is a userError
        ("manager", "createTask", {**new, "dueDate": "9999-12-31"}, ["input", "dueDate"],
         "INVALID_DATE"),
        ("manager", "createTask", {**new, "kind": "COMMITMENT", "commitmentType": "OFFER"},
         ["input", "clientId"], "REQUIRED"),
        ("manager", "createTask", {**new, "kind": "COMMITMENT", "clientId": str(w.rep_client)},
         ["input", "commitmentType"], "REQUIRED"),
        ("manager", "createTask", {**new, "commitmentType": "OFFER"},
         ["input", "commitmentType"], "NOT_APPLICABLE"),
        ("manager", "createTask", {**new, "assigneeId": str(w.inactive)},
         ["input", "assigneeId"], "NOT_AN_ACTIVE_EMPLOYEE"),
        ("manager", "createTask", {**new, "assigneeId": missing}, ["input", "assigneeId"],
         "NOT_AN_ACTIVE_EMPLOYEE"),
        ("manager", "createTask", {**new, "assigneeId": INJECTION}, ["input", "assigneeId"],
         "INVALID_ID"),
        ("manager", "createTask", {**new, "clientId": missing}, ["input", "clientId"],
         "NOT_FOUND"),
        ("manager", "createTask", {**new, "clientId": str(w.archived_client)},
         ["input", "clientId"], "CLIENT_ARCHIVED"),
        ("rep", "createTask", {**new, "clientId": str(w.other_client)}, ["input", "clientId"],
         "NOT_FOUND"),
        ("manager", "createTask", {**new, "watchers": [str(w.inactive)]}, ["input", "watchers"],
         "NOT_AN_ACTIVE_EMPLOYEE"),
        ("manager", "createTask", {**new, "watchers": [missing] * 51}, ["input", "watchers"],
         "TOO_MANY"),
        ("manager", "updateTask", {"id": tid, "version": v, "title": HUGE}, ["input", "title"],
         "TOO_LONG"),
        ("manager", "updateTask", {"id": tid, "version": v, "title": ""}, ["input", "title"],
         "REQUIRED"),
        ("manager", "updateTask", {"id": tid, "version": v + 7, "title": "x"},
         ["input", "version"], "CONFLICT"),
        ("manager", "updateTask", {"id": INJECTION, "version": v, "title": "x"},
         ["input", "id"], "INVALID_ID"),
        ("manager", "updateTask", {"id": missing, "version": v, "title": "x"},
         ["input", "id"], "NOT_FOUND"),
        ("stranger", "updateTask", {"id": tid, "version": v, "title": "x"}, ["input", "id"],
         "NOT_FOUND"),
        ("manager", "changeTaskStatus", {"id": tid, "version": v, "to": "ASSIGNED"},
         ["input", "to"], "INVALID_TRANSITION"),
        ("manager", "changeTaskStatus", {"id": tid, "version": v, "to": "CLOSED_REFUSED"},
         ["input", "refusalReason"], "REQUIRED"),
        ("manager", "changeTaskStatus", {"id": tid, "version": v, "to": "IN_PROGRESS",
                                         "comment": HUGE}, ["input", "comment"], "TOO_LONG"),
        ("rep", "changeTaskStatus", {"id": tid, "version": v, "to": "CANCELLED"},
         ["input", "id"], "FORBIDDEN"),
        ("manager", "closeTask", {"id": tid, "version": v}, ["input", "outcome"], "REQUIRED"),
        ("manager", "closeTask", {"id": tid, "version": v, "outcome": "REFUSED"},
         ["input", "refusalReason"], "REQUIRED"),
        ("manager", "closeTask", {"id": tid, "version": v, "outcome": "REFUSED",
                                  "refusalReason": CONTROL}, ["input", "refusalReason"],
         "CONTROL_CHARACTERS"),
        ("manager", "closeTask", {"id": tid, "version": v, "outcome": "CONFIRMED",
                                  "refusalReason": "защо"}, ["input", "refusalReason"],
         "NOT_APPLICABLE"),
        ("manager", "reopenTask", {"id": tid, "version": v}, ["input", "id"],
         "INVALID_TRANSITION"),
        ("manager", "reassignTask", {"id": tid, "version": v, "assigneeId": str(w.inactive)},
         ["input", "assigneeId"], "NOT_AN_ACTIVE_EMPLOYEE"),
        ("manager", "reassignTask", {"id": tid, "version": v, "assigneeId": "nobody"},
         ["input", "assigneeId"], "INVALID_ID"),
        ("manager", "reassignTask", {"id": tid, "version": v, "assigneeId": str(w.rep)},
         ["input", "assigneeId"], "UNCHANGED"),
        ("rep", "reassignTask", {"id": tid, "version": v, "assigneeId": str(w.other_rep)},
         ["input", "id"], "FORBIDDEN"),
        ("manager", "rescheduleTask", {"id": tid, "version": v, "dueDate": "1999-12-31"},
         ["input", "dueDate"], "INVALID_DATE"),
        ("manager", "rescheduleTask", {"id": tid, "version": v, "dueDate": t["dueDate"]},
         ["input", "dueDate"], "UNCHANGED"),
        ("manager", "changeTaskPriority", {"id": tid, "version": v},
         ["input", "priority"], "REQUIRED"),
        ("manager", "changeTaskPriority", {"id": tid, "version": v - 1, "priority": "LOW"},
         ["input", "version"], "CONFLICT"),
        ("manager", "requestAttachmentUpload", {"taskId": tid, "fileName": ""},
         ["input", "fileName"], "REQUIRED"),
        ("manager", "requestAttachmentUpload", {"taskId": tid, "fileName": HUGE},
         ["input", "fileName"], "TOO_LONG"),
        ("manager", "requestAttachmentUpload", {"taskId": tid, "fileName": "a.pdf",
                                                "contentType": "text/html\r\nX-Evil: 1"},
         ["input", "contentType"], "INVALID_CONTENT_TYPE"),
        ("manager", "requestAttachmentUpload", {"taskId": tid, "fileName": "a.pdf",
                                                "size": -1}, ["input", "size"],
         "INVALID_VALUE"),
        ("manager", "requestAttachmentUpload", {"taskId": tid, "fileName": "a.pdf",
                                                "size": 10**9}, ["input", "size"],
         "TOO_LARGE"),
        ("manager", "requestAttachmentUpload", {"taskId": INJECTION, "fileName": "a.pdf"},
         ["input", "taskId"], "INVALID_ID"),
        ("stranger", "requestAttachmentUpload", {"taskId": tid, "fileName": "a.pdf"},
         ["input", "taskId"], "NOT_FOUND"),
        ("manager", "removeAttachment", {"id": missing}, ["input", "id"], "NOT_FOUND"),
        ("manager", "removeAttachment", {"id": "../x"}, ["input", "id"], "INVALID_ID"),
    ]


SNAPSHOT_SQL = {
    "tasks": "SELECT count(*) AS n, max(updated_at) AS at FROM tasks",
    "history": "SELECT count(*) AS n FROM task_history",
    "attachments": "SELECT count(*) AS n FROM attachments",
    "outbox": "SELECT count(*) AS n FROM outbox",
}


async def _snapshot(service: Service, task_id: str) -> dict[str, Any]:
    out = {k: await service.sql(q) for k, q in SNAPSHOT_SQL.items()}
    out["task"] = await service.sql("SELECT * FROM tasks WHERE id = :id", id=uuid.UUID(task_id))
    return out


async def test_every_mutation_refuses_bad_input_and_changes_nothing(service: Service,
                                                                    world: World) -> None:
    task = await commitment(service, world)
    tokens = {"manager": service.token("manager", world.manager),
              "rep": service.token("sales_rep", world.rep),
              "stranger": service.token("sales_rep", uuid.uuid4())}
    cases = _cases(task, world)
    assert {c[1] for c in cases} == set(DOCUMENTS), "every mutation is tried"
    before = await _snapshot(service, task["id"])
    for role, name, input_, field, code in cases:
        response = await service.gql(tokens[role], DOCUMENTS[name], {"input": input_})
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, (name, body)
        errors = body["data"][name]["userErrors"]
        assert [field, code] in [[e["field"], e["code"]] for e in errors], (name, input_, errors)
        assert all(len(e["message"]) < 300 for e in errors)
    assert await _snapshot(service, task["id"]) == before


async def test_malformed_requests_are_graphql_errors_not_faults(service: Service,
                                                                world: World) -> None:
    task = await commitment(service, world)
    manager = service.token("manager", world.manager)
    for name, input_ in (
        ("changeTaskStatus", {"id": task["id"], "version": 1, "to": "TELEPORTED"}),
        ("changeTaskStatus", {"id": task["id"], "version": "one", "to": "IN_PROGRESS"}),
        ("createTask", {"title": "x"}),
        ("changeTaskPriority", {"id": task["id"], "version": 1, "priority": "ASAP"}),
    ):
        body = (await service.gql(manager, DOCUMENTS[name], {"input": input_})).json()
        assert body["errors"] and "Unexpected error" not in body["errors"][0]["message"]
    # dates are the Date scalar: a malformed one is refused before any resolver runs
    new = {"title": "Нова", "assigneeId": str(world.rep)}
    for name, input_ in (
        ("createTask", {**new, "dueDate": "2026-02-30"}),
        ("createTask", {**new, "dueDate": INJECTION}),
        ("createTask", {**new, "dueDate": days(3) + "T00:00:00"}),
        ("rescheduleTask", {"id": task["id"], "version": 1, "dueDate": "tomorrow"}),
        ("rescheduleTask", {"id": task["id"], "version": 1, "dueDate": HUGE}),
    ):
        body = (await service.gql(manager, DOCUMENTS[name], {"input": input_})).json()
        assert body.get("data") is None, (input_, body)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (input_, body)
    assert (await service.gql(None, CREATE, {"input": {}})).status_code == 401
