"""The activities subgraph: queries and mutations. Resolvers parse, call the service layer, map."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from crm_activities.graphql.inputs import (
    ActivityFilterInput,
    CancelMeetingInput,
    CompetitorFilterInput,
    CompetitorObservationFilterInput,
    CompleteMeetingInput,
    CreateCompetitorInput,
    LogActivityInput,
    MeetingFilterInput,
    RecordCompetitorObservationInput,
    RescheduleMeetingInput,
    RotateCalendarFeedInput,
    ScheduleMeetingInput,
    UpdateCompetitorInput,
    to_raw,
)
from crm_activities.graphql.types import (
    Activity,
    ActivityConnection,
    Client,
    Competitor,
    CompetitorConnection,
    CompetitorObservation,
    CompetitorObservationConnection,
    Employee,
    Meeting,
    MeetingConnection,
    activity_connection,
    competitor_connection,
    meeting_connection,
    observation_connection,
)
from crm_activities.service_layer import activity as activity_commands
from crm_activities.service_layer import activity_queries, competitor_queries, meeting_queries
from crm_activities.service_layer import calendar_feed as calendar_feed_commands
from crm_activities.service_layer import competitor as competitor_commands
from crm_activities.service_layer import meeting as meeting_commands
from crm_common.db import read_retrying
from crm_common.graphql.connections import requested_page_size
from crm_common.graphql.context import load_node
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.inputs import filter_id
from crm_common.graphql.mutations import changed_in, mutate
from crm_common.graphql.schema import Extensions, subgraph_schema
from crm_common.parsing import lookup_id, parse_uuid
from crm_common.validation import Collector

SERVICE = "activities"


def _target(raw: dict[str, Any]) -> tuple[uuid.UUID, Any]:
    """The ``id`` (and ``version``) an update names: REQUIRED / INVALID_ID userErrors."""
    c = Collector(raw)
    entity_id = c.run("id", lambda: parse_uuid(raw["id"])) if c.required("id") else None
    c.required("version")
    c.done()
    assert entity_id is not None
    return entity_id, raw["version"]


def _aware(value: dt.datetime | None, name: str) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise bad_input(f"filter.{name}: give the time with its UTC offset")
    return value


async def _page(fn: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await fn()
    except InvalidCursor as exc:
        raise bad_input(f"after: {exc}") from None


@strawberry.type
class ActivityPayload:
    activity: Activity | None
    user_errors: list[UserError]


@strawberry.type
class MeetingPayload:
    meeting: Meeting | None
    user_errors: list[UserError]


@strawberry.type
class CompleteMeetingPayload:
    meeting: Meeting | None
    activity: Activity | None = strawberry.field(description="The done contact it became.")
    user_errors: list[UserError]


@strawberry.type
class CompetitorPayload:
    competitor: Competitor | None
    user_errors: list[UserError]


@strawberry.type
class CompetitorObservationPayload:
    observation: CompetitorObservation | None
    user_errors: list[UserError]


@strawberry.type
class CalendarFeedPayload:
    url: str | None = strawberry.field(
        description="The secret iCalendar URL (served by the activities service itself, not the "
                    "gateway). Shown once; rotating again replaces it.")
    employee_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class Query:
    @strawberry.federation.field(shareable=True, provides=["fullName"], description=(
        "The staff directory entry of the caller (token subject); null when unknown."))
    async def me(self, info: strawberry.Info) -> Employee | None:
        # answered here too (the clients service owns the directory), from the projection, so
        # that the gateway starts ``me { agenda }`` here: one subgraph call fewer (issue 15)
        subject = info.context.principal.subject
        return (Employee(id=strawberry.ID(str(subject)))
                if await info.context.loaders.employee.load(subject) is not None else None)

    @strawberry.field(description="One done contact; null when unknown or not yours to see.")
    async def activity(self, info: strawberry.Info, id: strawberry.ID) -> Activity | None:
        return await load_node(info.context.loaders.activity, lookup_id(id), Activity.from_row)

    @strawberry.field(description="Contact history, newest first (a client's timeline with "
                                  "filter.clientId; an employee's contacts with employeeId).")
    async def activities(self, info: strawberry.Info, filter: ActivityFilterInput | None = None,
                         first: int | None = None, after: str | None = None
                         ) -> ActivityConnection:
        size = requested_page_size(info, first)
        f = filter or ActivityFilterInput()
        flt = activity_queries.ActivityFilter(
            client_id=filter_id(f.client_id, "clientId"),
            employee_id=filter_id(f.employee_id, "employeeId"),
            kinds=tuple(k.value for k in f.kinds or []),
            occurred_from=_aware(f.from_, "from"), occurred_to=_aware(f.to, "to"))
        page = await _page(lambda: activity_queries.list_activities(
            info.context.runtime.reader, info.context.access, flt, first=size, after=after))
        return activity_connection(page)

    @strawberry.field(description="One meeting; null when unknown or not yours to see.")
    async def meeting(self, info: strawberry.Info, id: strawberry.ID) -> Meeting | None:
        return await load_node(info.context.loaders.meeting, lookup_id(id), Meeting.from_row)

    @strawberry.field(description="Meetings you may see, earliest first.")
    async def meetings(self, info: strawberry.Info, filter: MeetingFilterInput | None = None,
                       first: int | None = None, after: str | None = None) -> MeetingConnection:
        size = requested_page_size(info, first)
        f = filter or MeetingFilterInput()
        flt = meeting_queries.MeetingFilter(
            client_id=filter_id(f.client_id, "clientId"),
            employee_id=filter_id(f.employee_id, "employeeId"),
            statuses=tuple(s.value for s in f.statuses or []),
            starts_from=_aware(f.from_, "from"), starts_to=_aware(f.to, "to"))
        page = await _page(lambda: meeting_queries.list_meetings(
            info.context.runtime.reader, info.context.access, flt, first=size, after=after))
        return meeting_connection(page)

    @strawberry.field(description="Competitors by name.")
    async def competitors(self, info: strawberry.Info,
                          filter: CompetitorFilterInput | None = None, first: int | None = None,
                          after: str | None = None) -> CompetitorConnection:
        size = requested_page_size(info, first)
        f = filter or CompetitorFilterInput()
        search = f.search.strip()[:300] if f.search else None
        group = f.product_group.strip()[:100] if f.product_group else None
        page = await _page(lambda: competitor_queries.list_competitors(
            info.context.runtime.reader, search=search or None, product_group=group or None,
            first=size, after=after))
        return competitor_connection(page)

    @strawberry.field
    async def competitor(self, info: strawberry.Info, id: strawberry.ID) -> Competitor | None:
        return await load_node(info.context.loaders.competitor, lookup_id(id),
                               Competitor.from_row)

    @strawberry.field(description="Observations of competitors, newest first, by competitor, "
                                  "client, kind, product group and period.")
    async def competitor_observations(
        self, info: strawberry.Info, filter: CompetitorObservationFilterInput | None = None,
        first: int | None = None, after: str | None = None,
    ) -> CompetitorObservationConnection:
        size = requested_page_size(info, first)
        f = filter or CompetitorObservationFilterInput()
        flt = competitor_queries.ObservationFilter(
            competitor_id=filter_id(f.competitor_id, "competitorId"),
            client_id=filter_id(f.client_id, "clientId"),
            kinds=tuple(k.value for k in f.kinds or []),
            product_group=f.product_group.strip()[:100] if f.product_group else None,
            observed_from=f.from_, observed_to=f.to)
        page = await _page(lambda: competitor_queries.list_observations(
            info.context.runtime.reader, info.context.access, flt, first=size, after=after))
        return observation_connection(page)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record a done contact (visit, call, e-mail, ...).")
    async def log_activity(self, info: strawberry.Info, input: LogActivityInput
                           ) -> ActivityPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await activity_commands.log_activity(uow, ctx.principal, to_raw(input),
                                                            now=ctx.now, grace=ctx.grace)

        activity_id, errors = await mutate(info, act, service=SERVICE,
                                           changed=changed_in(ctx.loaders.activity))
        return ActivityPayload(
            activity=await load_node(ctx.loaders.activity, activity_id, Activity.from_row),
            user_errors=errors)

    @strawberry.mutation(description="Schedule a meeting. One that overlaps another meeting of "
                                     "the same employee is refused unless allowOverlap is true.")
    async def schedule_meeting(self, info: strawberry.Info, input: ScheduleMeetingInput
                               ) -> MeetingPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await meeting_commands.schedule_meeting(
                    uow, ctx.principal, to_raw(input), now=ctx.now, grace=ctx.grace)

        return await _meeting_payload(info, act)

    @strawberry.mutation(description="Move a meeting in time, to another place, or to another "
                                     "employee (managers).")
    async def reschedule_meeting(self, info: strawberry.Info, input: RescheduleMeetingInput
                                 ) -> MeetingPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            raw = to_raw(input)
            meeting_id, version = _target(raw)
            async with ctx.uow() as uow:
                return await meeting_commands.reschedule_meeting(
                    uow, ctx.principal, meeting_id, version, raw, now=ctx.now)

        return await _meeting_payload(info, act)

    @strawberry.mutation(description="Cancel a meeting, giving a reason; the access it gave to "
                                     "the client ends at once.")
    async def cancel_meeting(self, info: strawberry.Info, input: CancelMeetingInput
                             ) -> MeetingPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            raw = to_raw(input)
            meeting_id, version = _target(raw)
            async with ctx.uow() as uow:
                return await meeting_commands.cancel_meeting(uow, ctx.principal, meeting_id,
                                                             version, raw)

        return await _meeting_payload(info, act)

    @strawberry.mutation(description="The meeting took place: record it as a done contact.")
    async def complete_meeting(self, info: strawberry.Info, input: CompleteMeetingInput
                               ) -> CompleteMeetingPayload:
        ctx = info.context

        async def act() -> tuple[uuid.UUID, uuid.UUID]:
            raw = to_raw(input)
            meeting_id, version = _target(raw)
            async with ctx.uow() as uow:
                return await meeting_commands.complete_meeting(
                    uow, ctx.principal, meeting_id, version, raw, now=ctx.now)

        result, errors = await mutate(
            info, act, service=SERVICE,
            changed=lambda ids: [(ctx.loaders.meeting, ids[0]), (ctx.loaders.activity, ids[1])])
        meeting_id, activity_id = result if result else (None, None)
        return CompleteMeetingPayload(
            meeting=await load_node(ctx.loaders.meeting, meeting_id, Meeting.from_row),
            activity=await load_node(ctx.loaders.activity, activity_id, Activity.from_row),
            user_errors=errors)

    @strawberry.mutation
    async def create_competitor(self, info: strawberry.Info, input: CreateCompetitorInput
                                ) -> CompetitorPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await competitor_commands.create_competitor(uow, ctx.principal,
                                                                   to_raw(input))

        return await _competitor_payload(info, act)

    @strawberry.mutation(description="Change a competitor; send the version you read.")
    async def update_competitor(self, info: strawberry.Info, input: UpdateCompetitorInput
                                ) -> CompetitorPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            raw = to_raw(input)
            competitor_id, version = _target(raw)
            raw.pop("id"), raw.pop("version")
            async with ctx.uow() as uow:
                return await competitor_commands.update_competitor(
                    uow, ctx.principal, competitor_id, version, raw)

        return await _competitor_payload(info, act)

    @strawberry.mutation(description="Record a change seen in a competitor's strategy.")
    async def record_competitor_observation(
        self, info: strawberry.Info, input: RecordCompetitorObservationInput,
    ) -> CompetitorObservationPayload:
        ctx = info.context

        async def act() -> uuid.UUID:
            async with ctx.uow() as uow:
                return await competitor_commands.record_observation(
                    uow, ctx.principal, to_raw(input), now=ctx.now, grace=ctx.grace)

        observation_id, errors = await mutate(info, act, service=SERVICE)
        row = None
        if observation_id is not None:
            (row,) = await read_retrying(lambda: competitor_queries.observations_by_ids(
                ctx.runtime.reader, ctx.access, [observation_id]))
        return CompetitorObservationPayload(
            observation=CompetitorObservation.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(description="A new secret iCalendar URL for your meetings; the old "
                                     "one stops working.")
    async def rotate_calendar_feed(self, info: strawberry.Info,
                                   input: RotateCalendarFeedInput | None = None
                                   ) -> CalendarFeedPayload:
        ctx = info.context

        async def act() -> tuple[uuid.UUID, str]:
            raw = to_raw(input) if input is not None else {}
            c = Collector(raw)
            employee = c.run("employee_id", lambda: parse_uuid(raw["employee_id"])) \
                if c.has("employee_id") else None
            c.done()
            async with ctx.uow() as uow:
                return await calendar_feed_commands.rotate_feed(uow, ctx.principal, employee)

        result, errors = await mutate(info, act, service=SERVICE)
        if result is None:
            return CalendarFeedPayload(url=None, employee_id=None, user_errors=errors)
        employee, token = result
        return CalendarFeedPayload(url=f"{ctx.calendar_base_url}/calendar/{token}.ics",
                                   employee_id=strawberry.ID(str(employee)), user_errors=[])


async def _meeting_payload(info: strawberry.Info,
                           act: Callable[[], Awaitable[uuid.UUID]]) -> MeetingPayload:
    meeting_id, errors = await mutate(info, act, service=SERVICE,
                                      changed=changed_in(info.context.loaders.meeting))
    return MeetingPayload(
        meeting=await load_node(info.context.loaders.meeting, meeting_id, Meeting.from_row),
        user_errors=errors)


async def _competitor_payload(info: strawberry.Info,
                              act: Callable[[], Awaitable[uuid.UUID]]) -> CompetitorPayload:
    competitor_id, errors = await mutate(info, act, service=SERVICE,
                                         changed=changed_in(info.context.loaders.competitor))
    return CompetitorPayload(
        competitor=await load_node(info.context.loaders.competitor, competitor_id,
                                   Competitor.from_row),
        user_errors=errors)


def build_schema(extensions: Extensions | None = None) -> strawberry.Schema:
    return subgraph_schema(query=Query, mutation=Mutation, types=[Client, Employee],
                           extensions=extensions)
