"""GraphQL input types and their conversion to the plain dicts the service layer validates.

Dates and ids are taken as strings so that a malformed one is a userError naming the field
(the domain parses them), not a request-level error."""

from __future__ import annotations

import strawberry

from crm_common.graphql.inputs import to_raw as to_raw
from crm_tasks.graphql.types import CommitmentType, Priority, TaskKind, TaskOutcome, TaskStatus


@strawberry.input
class CreateTaskInput:
    title: str
    assignee_id: str
    due_date: str = strawberry.field(description="YYYY-MM-DD")
    kind: TaskKind | None = strawberry.UNSET
    commitment_type: CommitmentType | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    client_id: str | None = strawberry.field(
        default=strawberry.UNSET, description="Optional for general tasks, required for "
                                              "commitments.")
    activity_id: str | None = strawberry.UNSET
    meeting_id: str | None = strawberry.UNSET
    contract_id: str | None = strawberry.UNSET
    priority: Priority | None = strawberry.UNSET
    watchers: list[str] | None = strawberry.UNSET


@strawberry.input
class UpdateTaskInput:
    id: str
    version: int
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    watchers: list[str] | None = strawberry.UNSET


@strawberry.input
class ChangeTaskStatusInput:
    id: str
    version: int
    to: TaskStatus = strawberry.field(description="Any status the workflow table allows from "
                                                  "the current one; CLOSED_REFUSED needs "
                                                  "refusalReason, ASSIGNED from a final status "
                                                  "reopens (managers).")
    comment: str | None = strawberry.UNSET
    refusal_reason: str | None = strawberry.UNSET


@strawberry.input
class CloseTaskInput:
    id: str
    version: int
    outcome: TaskOutcome | None = strawberry.field(
        default=strawberry.UNSET, description="The client's outcome (required).")
    refusal_reason: str | None = strawberry.UNSET
    comment: str | None = strawberry.UNSET


@strawberry.input
class ReopenTaskInput:
    id: str
    version: int
    comment: str | None = strawberry.UNSET


@strawberry.input
class ReassignTaskInput:
    id: str
    version: int
    assignee_id: str
    comment: str | None = strawberry.UNSET


@strawberry.input
class RescheduleTaskInput:
    id: str
    version: int
    due_date: str = strawberry.field(description="YYYY-MM-DD")
    comment: str | None = strawberry.UNSET


@strawberry.input
class ChangeTaskPriorityInput:
    id: str
    version: int
    priority: Priority | None = strawberry.UNSET
    comment: str | None = strawberry.UNSET


@strawberry.input
class RequestAttachmentUploadInput:
    task_id: str
    file_name: str
    content_type: str | None = strawberry.field(
        default=strawberry.UNSET, description="The declared type (recorded; the real type is "
                                              "detected from the content).")
    size: int | None = strawberry.field(
        default=strawberry.UNSET, description="Bytes, if known: refused early when over the "
                                              "limit (the limit is enforced while streaming "
                                              "anyway).")


@strawberry.input
class RemoveAttachmentInput:
    id: str
    version: int | None = strawberry.UNSET


@strawberry.input
class TaskFilterInput:
    assigned_to_me: bool | None = strawberry.UNSET
    assigned_by_me: bool | None = strawberry.UNSET
    assignee_id: str | None = strawberry.UNSET
    assigned_by_id: str | None = strawberry.UNSET
    client_id: str | None = strawberry.UNSET
    statuses: list[TaskStatus] | None = strawberry.UNSET
    kinds: list[TaskKind] | None = strawberry.UNSET
    commitment_types: list[CommitmentType] | None = strawberry.UNSET
    open_only: bool | None = strawberry.UNSET
    overdue: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Open and past the due date (true), or not.")
    due_within_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="Open and due from today to today + N days.")
    due_from: str | None = strawberry.field(default=strawberry.UNSET, description="YYYY-MM-DD")
    due_to: str | None = strawberry.field(default=strawberry.UNSET, description="YYYY-MM-DD")
