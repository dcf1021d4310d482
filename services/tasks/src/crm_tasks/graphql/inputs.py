"""GraphQL input types and their conversion to the plain dicts the service layer validates.

Ids are ``ID`` and dates ``Date``, as in every subgraph: an id that is not a UUID is a userError
INVALID_ID naming the field (the domain parses it); a malformed date is the ``Date`` scalar's
request error (BAD_USER_INPUT), a date out of a due date's range a userError INVALID_DATE."""

from __future__ import annotations

import datetime as dt

import strawberry

from crm_common.graphql.inputs import to_raw as to_raw
from crm_tasks.graphql.types import CommitmentType, Priority, TaskKind, TaskOutcome, TaskStatus


@strawberry.input
class CreateTaskInput:
    title: str
    assignee_id: strawberry.ID
    due_date: dt.date
    kind: TaskKind | None = strawberry.UNSET
    commitment_type: CommitmentType | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    client_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Optional for general tasks, required for "
                                              "commitments.")
    activity_id: strawberry.ID | None = strawberry.UNSET
    meeting_id: strawberry.ID | None = strawberry.UNSET
    contract_id: strawberry.ID | None = strawberry.UNSET
    priority: Priority | None = strawberry.UNSET
    watchers: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.input
class UpdateTaskInput:
    id: strawberry.ID
    version: int
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    watchers: list[strawberry.ID] | None = strawberry.UNSET


@strawberry.input
class ChangeTaskStatusInput:
    id: strawberry.ID
    version: int
    to: TaskStatus = strawberry.field(description="Any status the workflow table allows from "
                                                  "the current one; CLOSED_REFUSED needs "
                                                  "refusalReason, ASSIGNED from a final status "
                                                  "reopens (managers).")
    comment: str | None = strawberry.UNSET
    refusal_reason: str | None = strawberry.UNSET


@strawberry.input
class CloseTaskInput:
    id: strawberry.ID
    version: int
    outcome: TaskOutcome | None = strawberry.field(
        default=strawberry.UNSET, description="The client's outcome (required).")
    refusal_reason: str | None = strawberry.UNSET
    comment: str | None = strawberry.UNSET


@strawberry.input
class ReopenTaskInput:
    id: strawberry.ID
    version: int
    comment: str | None = strawberry.UNSET


@strawberry.input
class ReassignTaskInput:
    id: strawberry.ID
    version: int
    assignee_id: strawberry.ID
    comment: str | None = strawberry.UNSET


@strawberry.input
class RescheduleTaskInput:
    id: strawberry.ID
    version: int
    due_date: dt.date
    comment: str | None = strawberry.UNSET


@strawberry.input
class ChangeTaskPriorityInput:
    id: strawberry.ID
    version: int
    priority: Priority | None = strawberry.UNSET
    comment: str | None = strawberry.UNSET


@strawberry.input
class RequestAttachmentUploadInput:
    task_id: strawberry.ID
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
    id: strawberry.ID
    version: int | None = strawberry.UNSET


@strawberry.input
class TaskFilterInput:
    assigned_to_me: bool | None = strawberry.UNSET
    assigned_by_me: bool | None = strawberry.UNSET
    assignee_id: strawberry.ID | None = strawberry.UNSET
    assigned_by_id: strawberry.ID | None = strawberry.UNSET
    client_id: strawberry.ID | None = strawberry.UNSET
    statuses: list[TaskStatus] | None = strawberry.UNSET
    kinds: list[TaskKind] | None = strawberry.UNSET
    commitment_types: list[CommitmentType] | None = strawberry.UNSET
    open_only: bool | None = strawberry.UNSET
    overdue: bool | None = strawberry.field(
        default=strawberry.UNSET, description="Open and past the due date (true), or not.")
    due_within_days: int | None = strawberry.field(
        default=strawberry.UNSET, description="Open and due from today to today + N days.")
    due_from: dt.date | None = strawberry.UNSET
    due_to: dt.date | None = strawberry.UNSET
