"""GraphQL documents and small helpers shared by the tasks integration tests."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from .conftest import Service, World

ERRORS = "userErrors { field code message }"
TASK = """id number title description kind commitmentType status outcome refusalReason
  client { id } activityId meetingId contractId assignee { id } assignedBy { id } dueDate
  priority watchers { id } version overdue nextStatuses createdAt updatedAt closedAt"""
PAYLOAD = f"task {{ {TASK} }} {ERRORS}"

CREATE = f"mutation($input: CreateTaskInput!) {{ createTask(input: $input) {{ {PAYLOAD} }} }}"
UPDATE = f"mutation($input: UpdateTaskInput!) {{ updateTask(input: $input) {{ {PAYLOAD} }} }}"
STATUS = f"""mutation($input: ChangeTaskStatusInput!) {{ changeTaskStatus(input: $input) {{
  {PAYLOAD} }} }}"""
CLOSE = f"mutation($input: CloseTaskInput!) {{ closeTask(input: $input) {{ {PAYLOAD} }} }}"
REOPEN = f"mutation($input: ReopenTaskInput!) {{ reopenTask(input: $input) {{ {PAYLOAD} }} }}"
REASSIGN = f"""mutation($input: ReassignTaskInput!) {{ reassignTask(input: $input) {{
  {PAYLOAD} }} }}"""
RESCHEDULE = f"""mutation($input: RescheduleTaskInput!) {{ rescheduleTask(input: $input) {{
  {PAYLOAD} }} }}"""
PRIORITY = f"""mutation($input: ChangeTaskPriorityInput!) {{ changeTaskPriority(input: $input) {{
  {PAYLOAD} }} }}"""
REQUEST_UPLOAD = f"""mutation($input: RequestAttachmentUploadInput!) {{
  requestAttachmentUpload(input: $input) {{ uploadUrl expiresAt
    attachment {{ id fileName status declaredContentType }} {ERRORS} }} }}"""
REMOVE_ATTACHMENT = f"""mutation($input: RemoveAttachmentInput!) {{
  removeAttachment(input: $input) {{ removedId task {{ id }} {ERRORS} }} }}"""
GET = f"""query($id: ID!) {{ task(id: $id) {{ {TASK}
  attachments(first: 50) {{ edges {{ node {{ id fileName size sha256 detectedContentType
    declaredContentType status downloadUrl version }} }} }}
  history(first: 100) {{ edges {{ node {{ operation entityType entityId actorId
    changes }} }} }} }} }}"""
LIST = """query($filter: TaskFilterInput, $first: Int, $after: String) {
  tasks(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id number dueDate status assignee { id } } }
    pageInfo { hasNextPage endCursor } } }"""
BOARD = """query($filter: TaskFilterInput) { taskBoard(filter: $filter) {
  total columns { status count } } }"""


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes of a connection, in order."""
    return [e["node"] for e in connection["edges"]]


def days(n: int) -> str:
    """Today + n days as the service counts days (its business time zone)."""
    today = dt.datetime.now(ZoneInfo("Europe/Sofia")).date()
    return (today + dt.timedelta(days=n)).isoformat()


async def create(service: Service, token: str, **fields: Any) -> dict[str, Any]:
    payload = (await service.data(token, CREATE, {"input": fields}))["createTask"]
    assert payload["userErrors"] == [], payload
    return payload["task"]  # type: ignore[no-any-return]


async def commitment(service: Service, w: World, *, assigner: uuid.UUID | None = None,
                     assignee: uuid.UUID | None = None, client: uuid.UUID | None = None,
                     due: int = 7, ctype: str = "OFFER", role: str = "manager",
                     **fields: Any) -> dict[str, Any]:
    return await create(service, service.token(role, assigner or w.manager),
                        title=fields.pop("title", "Оферта за нов асортимент"),
                        kind="COMMITMENT", commitmentType=ctype,
                        clientId=str(client or w.rep_client),
                        assigneeId=str(assignee or w.rep), dueDate=days(due), **fields)
