"""Issue 14 in the tasks service: a task created over a dropped database connection and
retried with its Idempotency-Key exists once; an upload grant retried gets the same
attachment."""

from __future__ import annotations

import uuid

import pytest

from crm_common.testing import lost_and_retried

from .conftest import Service, World
from .helpers import CREATE, REQUEST_UPLOAD, create, days

pytestmark = pytest.mark.integration


async def test_a_task_created_over_a_dropped_connection_and_retried_exists_once(
        service: Service, world: World) -> None:
    manager = service.token("manager", world.manager)
    title = f"Мостри {uuid.uuid4().hex[:8]}"
    variables = {"input": {"title": title, "kind": "GENERAL", "clientId": str(world.rep_client),
                           "assigneeId": str(world.rep), "dueDate": days(3)}}
    second, third = await lost_and_retried(service, manager, CREATE, variables, "createTask")
    assert second["task"]["id"] == third["task"]["id"]
    assert second["task"]["number"] == third["task"]["number"]
    assert await service.sql("SELECT count(*) AS n FROM tasks WHERE title = :t", t=title) == \
        [{"n": 1}]


async def test_an_upload_grant_retried_with_its_key_is_the_same_attachment(
        service: Service, world: World) -> None:
    """The grant (a dataclass outcome) comes back from the store: same attachment, and one
    pending attachment row, not two."""
    manager = service.token("manager", world.manager)
    task = await create(service, manager, title="С прикачен файл", kind="GENERAL",
                        clientId=str(world.rep_client), assigneeId=str(world.rep),
                        dueDate=days(3))
    name = f"оферта-{uuid.uuid4().hex[:6]}.pdf"
    variables = {"input": {"taskId": task["id"], "fileName": name, "size": 1000,
                           "contentType": "application/pdf"}}
    key = str(uuid.uuid4())
    answers = []
    for _ in range(2):
        body = (await service.gql(manager, REQUEST_UPLOAD, variables,
                                  headers={"idempotency-key": key})).json()
        assert "errors" not in body, body
        answers.append(body["data"]["requestAttachmentUpload"])
    assert [a["userErrors"] for a in answers] == [[], []]
    assert answers[0]["attachment"]["id"] == answers[1]["attachment"]["id"]
    assert answers[0]["expiresAt"] == answers[1]["expiresAt"]
    assert await service.sql("SELECT count(*) AS n FROM attachments WHERE file_name = :f",
                             f=name) == [{"n": 1}]
