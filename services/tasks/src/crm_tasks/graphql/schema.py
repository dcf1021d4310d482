"""The tasks subgraph: queries and mutations. Resolvers parse, call the service layer, map."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from crm_common.attachments import Action, sweeper
from crm_common.db import read_retrying
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.inputs import filter_id
from crm_common.graphql.mutations import changed_in, mutate
from crm_common.graphql.schema import Extensions, subgraph_schema
from crm_common.parsing import lookup_id, parse_id
from crm_tasks.adapters.tables import attachments
from crm_tasks.domain.task import (
    Outcome,
    TaskStatus,
    closed_status,
    parse_due_date,
    validate_closing,
)
from crm_tasks.graphql.inputs import (
    ChangeTaskPriorityInput,
    ChangeTaskStatusInput,
    CloseTaskInput,
    CreateTaskInput,
    ReassignTaskInput,
    RemoveAttachmentInput,
    ReopenTaskInput,
    RequestAttachmentUploadInput,
    RescheduleTaskInput,
    TaskFilterInput,
    UpdateTaskInput,
    to_raw,
)
from crm_tasks.graphql.types import (
    Attachment,
    Client,
    Employee,
    Task,
    TaskBoard,
    TaskConnection,
    TaskStatusCount,
    _first,
    task_connection,
)
from crm_tasks.service_layer import attachment, attachment_queries, task, task_queries

SERVICE = "tasks"
MAX_DUE_WITHIN_DAYS = 3660


async def _task(info: strawberry.Info, task_id: uuid.UUID | None) -> Task | None:
    return await load_node(info.context.loaders.task, task_id, Task.from_row)


@strawberry.type
class TaskPayload:
    task: Task | None
    user_errors: list[UserError]


@strawberry.type
class AttachmentUploadPayload:
    upload_url: str | None = strawberry.field(
        description="PUT the bytes here (one upload; the body is the file).")
    expires_at: dt.datetime | None
    attachment: Attachment | None
    user_errors: list[UserError]


@strawberry.type
class RemoveAttachmentPayload:
    removed_id: strawberry.ID | None
    task: Task | None
    user_errors: list[UserError]


def _filter(info: strawberry.Info, flt: TaskFilterInput | None) -> task_queries.TaskFilter:
    """Query filters are arguments: a malformed one is a GraphQL error (BAD_USER_INPUT)."""
    raw = to_raw(flt) if flt is not None else {}
    me = info.context.principal.subject

    def ident(key: str) -> uuid.UUID | None:
        return filter_id(raw.get(key), key)

    def day(key: str) -> dt.date | None:
        if raw.get(key) is None:
            return None
        try:
            return parse_due_date(raw[key])
        except ValueError as exc:
            raise bad_input(f"filter.{key}: {exc}") from None

    within = raw.get("due_within_days")
    if within is not None and not 0 <= within <= MAX_DUE_WITHIN_DAYS:
        raise bad_input(f"filter.dueWithinDays: between 0 and {MAX_DUE_WITHIN_DAYS}")
    assignee = ident("assignee_id")
    assigner = ident("assigned_by_id")
    if raw.get("assigned_to_me"):
        assignee = me if assignee in (None, me) else uuid.UUID(int=0)
    if raw.get("assigned_by_me"):
        assigner = me if assigner in (None, me) else uuid.UUID(int=0)
    return task_queries.TaskFilter(
        assignee_id=assignee, assigned_by=assigner, client_id=ident("client_id"),
        statuses=tuple(sorted(set(raw.get("statuses") or []))),
        kinds=tuple(sorted(set(raw.get("kinds") or []))),
        commitment_types=tuple(sorted(set(raw.get("commitment_types") or []))),
        overdue=raw.get("overdue"), due_within_days=within,
        due_from=day("due_from"), due_to=day("due_to"), open_only=bool(raw.get("open_only")),
    )


@strawberry.type
class Query:
    @strawberry.field(description="One task; null when it does not exist or you may not see "
                                  "it.")
    async def task(self, info: strawberry.Info, id: strawberry.ID) -> Task | None:  # noqa: A002
        return await _task(info, lookup_id(id))

    @strawberry.field(description="Tasks you may see, soonest due first, keyset-paged. "
                                  "'My tasks': filter {assignedToMe: true}.")
    async def tasks(self, info: strawberry.Info, first: int | None = None,
                    after: str | None = None,
                    filter: TaskFilterInput | None = None) -> TaskConnection:  # noqa: A002
        ctx = info.context
        size = _first(info, first)
        try:
            page = await task_queries.list_tasks(ctx.runtime.reader, ctx.principal,
                                            _filter(info, filter), first=size, after=after,
                                            today=ctx.today, grace=ctx.grace)
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        for row in page.rows:
            ctx.loaders.task.prime(row["id"], row)
        return task_connection(page)

    @strawberry.field(description="How many tasks you may see are in each status (the filter's "
                                  "statuses are ignored: every status is counted).")
    async def task_board(self, info: strawberry.Info,
                         filter: TaskFilterInput | None = None) -> TaskBoard:  # noqa: A002
        ctx = info.context
        counts = await task_queries.board(ctx.runtime.reader, ctx.principal, _filter(info, filter),
                                     today=ctx.today, grace=ctx.grace)
        return TaskBoard(columns=[TaskStatusCount(status=TaskStatus(s), count=n)
                                  for s, n in counts.items()], total=sum(counts.values()))


def _status_raw(input: ChangeTaskStatusInput) -> dict[str, Any]:  # noqa: A002
    raw = to_raw(input)
    if input.to is TaskStatus.CLOSED_CONFIRMED:
        raw["outcome"] = Outcome.CONFIRMED.value
    elif input.to is TaskStatus.CLOSED_REFUSED:
        raw["outcome"] = Outcome.REFUSED.value
    return raw


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a task or a commitment; you are its assigner.")
    async def create_task(self, info: strawberry.Info, input: CreateTaskInput  # noqa: A002
                          ) -> TaskPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await task.create_task(uow, ctx.principal, to_raw(input),
                                                  grace=ctx.grace)

        task_id, errors = await mutate(info, act, service=SERVICE,
                                       changed=changed_in(ctx.loaders.task))
        return TaskPayload(task=await _task(info, task_id), user_errors=errors)

    @strawberry.mutation(description="Change title, description or watchers.")
    async def update_task(self, info: strawberry.Info, input: UpdateTaskInput  # noqa: A002
                          ) -> TaskPayload:
        raw = to_raw(input)
        return await _change(info, raw, lambda uow, p, tid, v: task.update_task(
            uow, p, tid, v, raw, grace=info.context.grace))

    @strawberry.mutation(description="Move a task along the workflow (see TaskStatus).")
    async def change_task_status(self, info: strawberry.Info,
                                 input: ChangeTaskStatusInput) -> TaskPayload:  # noqa: A002
        raw = _status_raw(input)
        return await _change(info, raw, lambda uow, p, tid, v: task.change_status(
            uow, p, tid, v, input.to, raw, grace=info.context.grace))

    @strawberry.mutation(description="Close with the client's outcome: confirmed, or refused "
                                     "with a reason.")
    async def close_task(self, info: strawberry.Info, input: CloseTaskInput  # noqa: A002
                         ) -> TaskPayload:
        raw = to_raw(input)

        async def run(uow: Any, p: Any, tid: uuid.UUID, v: Any) -> uuid.UUID:
            outcome, _ = validate_closing(raw)
            return await task.change_status(uow, p, tid, v, closed_status(outcome),
                                                raw, grace=info.context.grace,
                                                field=("input", "id"))

        return await _change(info, raw, run)

    @strawberry.mutation(description="Reopen a closed or cancelled task (managers, admins).")
    async def reopen_task(self, info: strawberry.Info, input: ReopenTaskInput  # noqa: A002
                          ) -> TaskPayload:
        raw = to_raw(input)
        return await _change(info, raw, lambda uow, p, tid, v: task.change_status(
            uow, p, tid, v, TaskStatus.ASSIGNED, raw, grace=info.context.grace,
            field=("input", "id")))

    @strawberry.mutation(description="Give the task to another active employee.")
    async def reassign_task(self, info: strawberry.Info, input: ReassignTaskInput  # noqa: A002
                            ) -> TaskPayload:
        raw = to_raw(input)
        return await _change(info, raw, lambda uow, p, tid, v: task.reassign_task(
            uow, p, tid, v, raw, grace=info.context.grace))

    @strawberry.mutation(description="Change the due date.")
    async def reschedule_task(self, info: strawberry.Info,
                              input: RescheduleTaskInput) -> TaskPayload:  # noqa: A002
        raw = to_raw(input)
        return await _change(info, raw, lambda uow, p, tid, v: task.reschedule_task(
            uow, p, tid, v, raw, grace=info.context.grace))

    @strawberry.mutation(description="Change the priority.")
    async def change_task_priority(self, info: strawberry.Info,
                                   input: ChangeTaskPriorityInput) -> TaskPayload:  # noqa: A002
        raw = to_raw(input)
        return await _change(info, raw, lambda uow, p, tid, v: task.change_priority(
            uow, p, tid, v, raw, grace=info.context.grace))

    @strawberry.mutation(description="A short-lived signed URL to PUT a file's bytes to; the "
                                     "attachment appears on the task once they are stored.")
    async def request_attachment_upload(
        self, info: strawberry.Info, input: RequestAttachmentUploadInput  # noqa: A002
    ) -> AttachmentUploadPayload:
        ctx = info.context
        settings = ctx.resources.settings.store

        async def act() -> attachment.UploadGrant:
            async with ctx.uow() as uow:
                return await attachment.request_upload(
                    uow, ctx.principal, to_raw(input), max_bytes=settings.max_bytes,
                    ttl=settings.upload_url_ttl, now=dt.datetime.now(dt.UTC), grace=ctx.grace)

        grant, errors = await mutate(info, act, service=SERVICE)
        if grant is None:
            return AttachmentUploadPayload(upload_url=None, expires_at=None, attachment=None,
                                           user_errors=errors)
        url, expires = ctx.resources.urls.signed_url(Action.UPLOAD, grant.attachment_id,
                                                     grant.expires_at)
        row = await read_retrying(lambda: attachment_queries.attachment_by_id(
            ctx.runtime.reader, grant.attachment_id))
        return AttachmentUploadPayload(upload_url=url, expires_at=expires,
                                       attachment=Attachment.from_row(row) if row else None,
                                       user_errors=[])

    @strawberry.mutation(description="Remove an attachment; its file is deleted.")
    async def remove_attachment(self, info: strawberry.Info,
                                input: RemoveAttachmentInput) -> RemoveAttachmentPayload:  # noqa: A002
        ctx = info.context

        async def act() -> Any:
            async with ctx.uow() as uow:
                return await attachment.remove_attachment(uow, ctx.principal, to_raw(input),
                                                           grace=ctx.grace)

        row, errors = await mutate(
            info, act, service=SERVICE,
            changed=lambda r: [(ctx.loaders.task, r["task_id"]), (ctx.loaders.attachments,
                                                                   r["task_id"])])
        if row is None:
            return RemoveAttachmentPayload(removed_id=None, task=None, user_errors=errors)
        await sweeper.delete_now(ctx.runtime.engine, attachments, ctx.resources.store, row["id"],
                                 row["file_id"], dt.datetime.now(dt.UTC))
        return RemoveAttachmentPayload(removed_id=strawberry.ID(str(row["id"])),
                                       task=await _task(info, row["task_id"]), user_errors=[])


Change = Callable[[Any, Any, uuid.UUID, Any], Awaitable[uuid.UUID]]


async def _change(info: strawberry.Info, raw: dict[str, Any], change: Change) -> TaskPayload:
    ctx = info.context

    async def act() -> uuid.UUID:
        task_id = parse_id(raw.pop("id", None), ("input", "id"))
        version = raw.pop("version", None)
        async with ctx.uow() as uow:
            return await change(uow, ctx.principal, task_id, version)

    task_id, errors = await mutate(info, act, service=SERVICE,
                                   changed=changed_in(ctx.loaders.task))
    return TaskPayload(task=await _task(info, task_id), user_errors=errors)


def build_schema(extensions: Extensions | None = None) -> strawberry.Schema:
    return subgraph_schema(query=Query, mutation=Mutation, types=[Client, Employee],
                           extensions=extensions)
