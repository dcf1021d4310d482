"""GraphQL object types of the tasks subgraph; thin mappings of service-layer rows.

``Client`` and ``Employee`` belong to the clients service: this subgraph declares them as
entities with just their key and adds ``tasks``. Their ``resolve_reference`` builds the object
from the id without a query; ``tasks`` goes through a per-request DataLoader (one statement for
any number of clients or employees) and applies the access rule.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping
from typing import Any

import strawberry

from crm_common.attachments import Action
from crm_common.graphql.connections import PageInfo, connection_of, load_page, requested_page_size
from crm_common.graphql.entities import ExtendedEntity
from crm_common.graphql.history import HistoryConnection, history_connection
from crm_common.paging import Page
from crm_tasks.domain import task
from crm_tasks.domain.workflow import targets
from crm_tasks.service_layer import task_queries
from crm_tasks.service_layer.history import transition
from crm_tasks.service_layer.visibility import relations

# The domain's enums, exposed as they are: GraphQL names are the members (IN_PROGRESS, ...).
TaskKind = task.TaskKind
CommitmentType = task.CommitmentType
Priority = task.Priority
TaskStatus = task.TaskStatus
TaskOutcome = task.Outcome
strawberry.enum(TaskKind, description="A general task or a commitment to a client.")
strawberry.enum(CommitmentType)
strawberry.enum(Priority)
strawberry.enum(TaskStatus, description=(
    "ASSIGNED → IN_PROGRESS / IN_PRODUCTION (samples, test products) / ON_HOLD → "
    "CLOSED_CONFIRMED / CLOSED_REFUSED (the client's outcome), or CANCELLED. Closed and "
    "cancelled are final; a manager may reopen (back to ASSIGNED)."))
strawberry.enum(TaskOutcome, name="TaskOutcome", description="The client's answer.")



#: Fields that point into the clients service are nullable: the gateway fetches the employee
#: from its staff directory, and one it does not answer for would otherwise null the whole
#: task, and with it the whole list (issue 14).
EMPLOYEE_REF = "The employee; null when the staff directory does not answer for it."

@strawberry.enum(description="Which of an employee's tasks: assigned to them, or by them.")
class EmployeeTaskRole(enum.Enum):
    ASSIGNEE = "assignee"
    ASSIGNER = "assigner"


def _first(info: strawberry.Info, first: int | None) -> int:
    return requested_page_size(info, first)


async def _owner_tasks(info: strawberry.Info, key: task_queries.OwnerKey) -> TaskConnection:
    page = await load_page(info.context.loaders.owner_tasks, key)
    for r in page.rows:
        info.context.loaders.task.prime(r["id"], r)
    return task_connection(page)


def task_connection(page: Page) -> TaskConnection:
    return connection_of(page, TaskConnection, TaskEdge, Task.from_row)


def _statuses(values: list[task.TaskStatus] | None) -> tuple[str, ...]:
    return tuple(sorted({s.value for s in values or []}))


@strawberry.federation.type(keys=["id"], description="A client (owned by the clients service); "
                                                     "this subgraph adds its tasks.")
class Client(ExtendedEntity):
    @strawberry.field(description="The client's tasks you may see, soonest due first, "
                                  "keyset-paged (first ≤ the page size cap).")
    async def tasks(self, info: strawberry.Info, first: int | None = None,
                    after: str | None = None, statuses: list[TaskStatus] | None = None,
                    open_only: bool = False) -> TaskConnection:
        size = _first(info, first)
        try:
            owner = uuid.UUID(str(self.id))
        except ValueError:
            return task_connection(Page.empty())
        return await _owner_tasks(info, task_queries.OwnerKey(
            owner, size, _statuses(statuses), open_only, "client", after))


@strawberry.federation.type(keys=["id"], description="An employee (owned by the clients "
                                                     "service); this subgraph adds their tasks.")
class Employee(ExtendedEntity):
    @strawberry.field(description="The employee's tasks you may see (assigned to them by "
                                  "default, or by them), soonest due first, keyset-paged.")
    async def tasks(self, info: strawberry.Info, first: int | None = None,
                    after: str | None = None,
                    role: EmployeeTaskRole = EmployeeTaskRole.ASSIGNEE,
                    statuses: list[TaskStatus] | None = None,
                    open_only: bool = False) -> TaskConnection:
        size = _first(info, first)
        try:
            owner = uuid.UUID(str(self.id))
        except ValueError:
            return task_connection(Page.empty())
        return await _owner_tasks(info, task_queries.OwnerKey(
            owner, size, _statuses(statuses), open_only, role.value, after))


def _ref(value: Any) -> Employee:
    return Employee(id=strawberry.ID(str(value)))


def _history_changes(row: Mapping[Any, Any]) -> Any:
    """A task's entry as the API shows it: entries written before the transition went into
    ``changes`` get it (and the comment) from the row's own columns."""
    changes = row["changes"]
    if "status" in changes or (row["from_status"] is None and row["to_status"] is None
                               and row["comment"] is None):
        return changes
    spelled = {k: task.TaskStatus(v).name if v else None
               for k, v in (("from", row["from_status"]), ("to", row["to_status"]))}
    return {**changes, **transition(spelled["from"], spelled["to"], row["comment"])}


@strawberry.enum(description="PENDING (no bytes yet) → UPLOADING → STORED, or FAILED; REMOVED "
                             "once removed.")
class AttachmentStatus(enum.Enum):
    PENDING = "pending"
    UPLOADING = "uploading"
    STORED = "stored"
    FAILED = "failed"
    REMOVED = "removed"


@strawberry.type(description="A file attached to a task. Bytes go over plain HTTP: upload to "
                             "the URL requestAttachmentUpload returns, download from "
                             "downloadUrl.")
class Attachment:
    id: strawberry.ID
    task_id: strawberry.ID
    file_name: str = strawberry.field(description="The name sent, made safe: last path segment, "
                                                  "no control characters, ≤ 255 characters.")
    declared_content_type: str | None = strawberry.field(
        description="The content type the uploader declared (not trusted).")
    detected_content_type: str | None = strawberry.field(
        description="The type detected from the content; null when not recognised.")
    size: int | None
    sha256: str | None
    status: AttachmentStatus
    created_by: Employee | None = strawberry.field(description=EMPLOYEE_REF)
    created_at: dt.datetime
    stored_at: dt.datetime | None
    version: int

    @strawberry.field(description="A short-lived signed URL that streams the file with its "
                                  "original name; null unless stored.")
    def download_url(self, info: strawberry.Info) -> str | None:
        if self.status is not AttachmentStatus.STORED:
            return None
        url, _ = info.context.resources.urls.signed_url(Action.DOWNLOAD,
                                                        uuid.UUID(str(self.id)))
        return url  # type: ignore[no-any-return]

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Attachment:
        return cls(id=strawberry.ID(str(r["id"])), task_id=strawberry.ID(str(r["task_id"])),
                   file_name=r["file_name"], declared_content_type=r["declared_type"],
                   detected_content_type=r["detected_type"], size=r["size"],
                   sha256=r["sha256"], status=AttachmentStatus(r["status"]),
                   created_by=_ref(r["created_by"]),
                   created_at=r["created_at"], stored_at=r["stored_at"], version=r["version"])


@strawberry.type(description="A task or a commitment to a client.")
class Task:
    id: strawberry.ID
    number: str = strawberry.field(description="T000123")
    title: str
    description: str | None
    kind: TaskKind
    commitment_type: CommitmentType | None
    status: TaskStatus
    outcome: TaskOutcome | None
    refusal_reason: str | None
    client: Client | None = strawberry.field(description=(
        "The client, if the task is about one; null also when the caller may not see it "
        "(a task assigned to a rep stays visible to the rep)."))
    activity_id: strawberry.ID | None
    meeting_id: strawberry.ID | None
    contract_id: strawberry.ID | None
    assignee: Employee | None = strawberry.field(description=EMPLOYEE_REF)
    assigned_by: Employee | None = strawberry.field(description=EMPLOYEE_REF)
    due_date: dt.date
    priority: Priority
    watchers: list[Employee | None] = strawberry.field(description=(
        "Who follows the task; an entry is null when the staff directory does not answer "
        "for that employee."))
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    _row: strawberry.Private[Mapping[Any, Any]]

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Task:
        def opt(v: Any) -> strawberry.ID | None:
            return strawberry.ID(str(v)) if v is not None else None

        return cls(
            id=strawberry.ID(str(r["id"])), number=r["number"], title=r["title"],
            description=r["description"], kind=task.TaskKind(r["kind"]),
            commitment_type=task.CommitmentType(r["commitment_type"])
            if r["commitment_type"] else None,
            status=task.TaskStatus(r["status"]),
            outcome=task.Outcome(r["outcome"]) if r["outcome"] else None,
            refusal_reason=r["refusal_reason"],
            client=Client(id=strawberry.ID(str(r["client_id"]))) if r["client_id"] else None,
            activity_id=opt(r["activity_id"]), meeting_id=opt(r["meeting_id"]),
            contract_id=opt(r["contract_id"]), assignee=_ref(r["assignee_id"]),
            assigned_by=_ref(r["assigned_by"]), due_date=r["due_date"],
            priority=task.Priority(r["priority"]), watchers=[_ref(w) for w in r["watchers"]],
            version=r["version"], created_at=r["created_at"], updated_at=r["updated_at"],
            closed_at=r["closed_at"], _row=r,
        )

    @strawberry.field(description="Past its due date and still open.")
    def overdue(self, info: strawberry.Info) -> bool:
        return task.is_overdue(self.due_date, self.status, info.context.today)

    @strawberry.field(description="The statuses you may move this task to now.")
    def next_statuses(self, info: strawberry.Info) -> list[TaskStatus]:
        rel = relations(info.context.principal, self._row["assignee_id"],
                        self._row["assigned_by"])
        return targets(self.status, rel, produces=self.commitment_type in task.PRODUCED)

    @strawberry.field(description="Stored attachments, oldest first, keyset-paged.")
    async def attachments(self, info: strawberry.Info, first: int | None = None,
                          after: str | None = None) -> AttachmentConnection:
        page = await load_page(info.context.loaders.attachments,
                               (uuid.UUID(str(self.id)), _first(info, first), after))
        return connection_of(page, AttachmentConnection, AttachmentEdge, Attachment.from_row)

    @strawberry.field(description="Every change: who, when, which operation, old → new (a "
                                  "status change as changes.status, with its comment); oldest "
                                  "first.")
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await history_connection(info, info.context.loaders.task_history,
                                        uuid.UUID(str(self.id)), first, after,
                                        changes_of=_history_changes)


@strawberry.type
class AttachmentEdge:
    cursor: str
    node: Attachment


@strawberry.type
class AttachmentConnection:
    edges: list[AttachmentEdge]
    page_info: PageInfo


@strawberry.type
class TaskEdge:
    cursor: str
    node: Task


@strawberry.type
class TaskConnection:
    edges: list[TaskEdge]
    page_info: PageInfo


@strawberry.type(description="How many tasks are in one status.")
class TaskStatusCount:
    status: TaskStatus
    count: int


@strawberry.type
class TaskBoard:
    columns: list[TaskStatusCount]
    total: int
