"""GraphQL object types of the activities subgraph: thin mappings of service-layer rows."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError

from crm_activities.graphql.enums import (
    ActivityKind,
    Direction,
    Impact,
    MeetingStatus,
    ObservationKind,
)
from crm_activities.service_layer.activity_queries import ActivityFilter
from crm_common.graphql.connections import (
    PageInfo,
    connection_of,
    load_page,
    requested_page_size,
)
from crm_common.graphql.context import load_node
from crm_common.graphql.entities import ExtendedEntity
from crm_common.graphql.errors import bad_input
from crm_common.graphql.history import HistoryConnection, history_connection
from crm_common.paging import Page
from crm_common.parsing import lookup_id


def _id(value: Any) -> strawberry.ID:
    return strawberry.ID(str(value))


def _opt_id(value: Any) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


async def _history(info: strawberry.Info, entity_id: str, first: int | None,
                   after: str | None) -> HistoryConnection:
    return await history_connection(info, info.context.loaders.history, uuid.UUID(entity_id),
                                    first, after)



#: Fields that point into the clients service are nullable: the gateway fetches the client or
#: employee from there, and a client the caller may no longer see (a past meeting's, after the
#: grace period) is answered null there; a non-null field would null the whole meeting or
#: activity, and with it the whole list (issue 14). ``clientId`` / ``employeeId`` still name it.
CLIENT_REF = ("The client; null when the caller may no longer see it (clientId still names "
              "it).")
EMPLOYEE_REF = ("The employee; null when the staff directory does not answer for it "
                "(employeeId still names it).")

@strawberry.federation.type(keys=["id"], description="An employee (the clients service owns "
                                                      "the staff directory).")
class Employee(ExtendedEntity):
    # the clients service's field, provided here under ``Query.me`` only (``@provides``), from
    # this service's copy of the directory, so that the gateway answers ``me { fullName agenda }``
    # in one call (issue 15); everywhere else the gateway asks the clients service
    @strawberry.federation.field(external=True, description="The employee's full name.")
    async def full_name(self, info: strawberry.Info) -> str:
        employee = lookup_id(self.id)
        row = await info.context.loaders.employee.load(employee) if employee else None
        if row is None:
            # the clients service answers null for an employee it does not know; a non-null
            # name cannot say so here, and this copy may not have the event yet
            raise GraphQLError(f"employee {self.id} is not in the staff directory (yet)",
                               extensions={"code": "NOT_FOUND"})
        return str(row["full_name"])

    @strawberry.field(description="The employee's meetings overlapping [from, to) (at most 93 "
                                  "days), earliest first, keyset-paged; cancelled ones left "
                                  "out. A rep sees the meetings they may see.")
    async def agenda(
        self, info: strawberry.Info,
        from_: Annotated[dt.datetime, strawberry.argument(name="from")], to: dt.datetime,
        first: int | None = None, after: str | None = None,
    ) -> MeetingConnection:
        if from_.tzinfo is None or to.tzinfo is None:
            raise bad_input("agenda: give from and to with their UTC offset")
        if to <= from_ or to - from_ > dt.timedelta(days=93):
            raise bad_input("agenda: to must be after from, at most 93 days later")
        size = requested_page_size(info, first)
        employee = lookup_id(self.id)
        if employee is None:
            return meeting_connection(Page.empty())
        page = await load_page(info.context.loaders.agenda, (employee, size, after, (from_, to)))
        return meeting_connection(page)


@strawberry.type(description="A done contact: visit, meeting, call, e-mail or message.")
class Activity:
    id: strawberry.ID
    client_id: strawberry.ID
    contact_person_id: strawberry.ID | None = strawberry.field(
        description="A contact person of the client (the clients service's ContactPerson id).")
    employee_id: strawberry.ID = strawberry.field(description="Who made the contact.")
    kind: ActivityKind
    direction: Direction
    occurred_at: dt.datetime
    duration_minutes: int
    location: str | None
    subject: str | None
    notes: str
    agreements: str | None = strawberry.field(description="Agreements reached.")
    next_steps: str | None
    meeting_id: strawberry.ID | None = strawberry.field(
        description="The meeting this contact completed, if any.")
    created_by: strawberry.ID = strawberry.field(description="Who logged it.")
    created_at: dt.datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Activity:
        return cls(
            id=_id(r["id"]), client_id=_id(r["client_id"]),
            contact_person_id=_opt_id(r["contact_person_id"]), employee_id=_id(r["employee_id"]),
            kind=ActivityKind(r["kind"]), direction=Direction(r["direction"]),
            occurred_at=r["occurred_at"], duration_minutes=r["duration_minutes"],
            location=r["location"], subject=r["subject"], notes=r["notes"],
            agreements=r["agreements"], next_steps=r["next_steps"],
            meeting_id=_opt_id(r["meeting_id"]), created_by=_id(r["created_by"]),
            created_at=r["created_at"])

    @strawberry.field(description=CLIENT_REF)
    def client(self) -> Client | None:
        return Client(id=self.client_id)

    @strawberry.field(description=EMPLOYEE_REF)
    def employee(self) -> Employee | None:
        return Employee(id=self.employee_id)

    @strawberry.field
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await _history(info, str(self.id), first, after)


@strawberry.type(description="A meeting with a client, scheduled for an employee.")
class Meeting:
    id: strawberry.ID
    client_id: strawberry.ID
    employee_id: strawberry.ID
    contact_person_ids: list[strawberry.ID]
    starts_at: dt.datetime
    ends_at: dt.datetime
    place: str | None
    purpose: str | None
    status: MeetingStatus
    cancel_reason: str | None
    activity_id: strawberry.ID | None = strawberry.field(
        description="The done contact a completed meeting became.")
    version: int = strawberry.field(description="Send it back with a change.")
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Meeting:
        return cls(
            id=_id(r["id"]), client_id=_id(r["client_id"]), employee_id=_id(r["employee_id"]),
            contact_person_ids=[_id(i) for i in r["contact_person_ids"]],
            starts_at=r["starts_at"], ends_at=r["ends_at"], place=r["place"],
            purpose=r["purpose"], status=MeetingStatus(r["status"]),
            cancel_reason=r["cancel_reason"], activity_id=_opt_id(r["activity_id"]),
            version=r["version"], created_at=r["created_at"], updated_at=r["updated_at"])

    @strawberry.field(description=CLIENT_REF)
    def client(self) -> Client | None:
        return Client(id=self.client_id)

    @strawberry.field(description=EMPLOYEE_REF)
    def employee(self) -> Employee | None:
        return Employee(id=self.employee_id)

    @strawberry.field
    async def activity(self, info: strawberry.Info) -> Activity | None:
        return await load_node(info.context.loaders.activity, lookup_id(self.activity_id),
                               Activity.from_row)

    @strawberry.field
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await _history(info, str(self.id), first, after)


@strawberry.type(description="A change in a competitor's strategy, as an employee saw it.")
class CompetitorObservation:
    id: strawberry.ID
    competitor_id: strawberry.ID
    observed_on: dt.date
    kind: ObservationKind
    description: str
    client_id: strawberry.ID | None = strawberry.field(description="Where it was seen.")
    product_group: str | None
    source: str | None
    impact: Impact
    reported_by: strawberry.ID
    created_at: dt.datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> CompetitorObservation:
        return cls(
            id=_id(r["id"]), competitor_id=_id(r["competitor_id"]), observed_on=r["observed_on"],
            kind=ObservationKind(r["kind"]), description=r["description"],
            client_id=_opt_id(r["client_id"]), product_group=r["product_group"],
            source=r["source"], impact=Impact(r["impact"]), reported_by=_id(r["reported_by"]),
            created_at=r["created_at"])

    @strawberry.field
    async def competitor(self, info: strawberry.Info) -> Competitor | None:
        return await load_node(info.context.loaders.competitor, lookup_id(self.competitor_id),
                               Competitor.from_row)

    @strawberry.field
    def client(self) -> Client | None:
        return Client(id=self.client_id) if self.client_id is not None else None


@strawberry.type(description="A competitor: who they are and the product groups they compete in.")
class Competitor:
    id: strawberry.ID
    name: str
    eik: str | None
    website: str | None
    product_groups: list[str]
    notes: str | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, r: Mapping[Any, Any]) -> Competitor:
        return cls(id=_id(r["id"]), name=r["name"], eik=r["eik"], website=r["website"],
                   product_groups=list(r["product_groups"]), notes=r["notes"],
                   version=r["version"], created_at=r["created_at"], updated_at=r["updated_at"])

    @strawberry.field(description="Observations of this competitor, newest first.")
    async def observations(self, info: strawberry.Info, first: int | None = None,
                           after: str | None = None) -> CompetitorObservationConnection:
        size = requested_page_size(info, first)
        page = await load_page(info.context.loaders.competitor_observations,
                               (uuid.UUID(str(self.id)), size, after, None))
        return observation_connection(page)

    @strawberry.field
    async def history(self, info: strawberry.Info, first: int | None = None,
                      after: str | None = None) -> HistoryConnection:
        return await _history(info, str(self.id), first, after)


@strawberry.type
class ActivityEdge:
    cursor: str
    node: Activity


@strawberry.type
class ActivityConnection:
    edges: list[ActivityEdge]
    page_info: PageInfo


@strawberry.type
class MeetingEdge:
    cursor: str
    node: Meeting


@strawberry.type
class MeetingConnection:
    edges: list[MeetingEdge]
    page_info: PageInfo


@strawberry.type
class CompetitorEdge:
    cursor: str
    node: Competitor


@strawberry.type
class CompetitorConnection:
    edges: list[CompetitorEdge]
    page_info: PageInfo


@strawberry.type
class CompetitorObservationEdge:
    cursor: str
    node: CompetitorObservation


@strawberry.type
class CompetitorObservationConnection:
    edges: list[CompetitorObservationEdge]
    page_info: PageInfo


def activity_connection(page: Page) -> ActivityConnection:
    return connection_of(page, ActivityConnection, ActivityEdge, Activity.from_row)


def meeting_connection(page: Page) -> MeetingConnection:
    return connection_of(page, MeetingConnection, MeetingEdge, Meeting.from_row)


def competitor_connection(page: Page) -> CompetitorConnection:
    return connection_of(page, CompetitorConnection, CompetitorEdge, Competitor.from_row)


def observation_connection(page: Page) -> CompetitorObservationConnection:
    return connection_of(page, CompetitorObservationConnection, CompetitorObservationEdge,
                         CompetitorObservation.from_row)


@strawberry.federation.type(keys=["id"], description="A client (the clients service owns it).")
class Client(ExtendedEntity):
    def _key(self) -> uuid.UUID | None:
        return lookup_id(self.id)

    @strawberry.field(description="The contact history, newest first: what you may see (a rep: "
                                  "all of a client they may see, else only their own).")
    async def activities(self, info: strawberry.Info, first: int | None = None,
                         after: str | None = None,
                         kinds: list[ActivityKind] | None = None) -> ActivityConnection:
        size = requested_page_size(info, first)
        key = self._key()
        if key is None:
            return activity_connection(Page([], False, None, []))
        flt = ActivityFilter(kinds=tuple(k.value for k in kinds or []))
        page = await load_page(info.context.loaders.client_activities, (key, size, after, flt))
        return activity_connection(page)

    @strawberry.field(description="When the latest contact you may see took place.")
    async def last_contact_at(self, info: strawberry.Info) -> dt.datetime | None:
        key = self._key()
        return await info.context.loaders.last_contact.load(key) if key else None

    @strawberry.field(description="The next (or current) scheduled meeting you may see.")
    async def next_meeting(self, info: strawberry.Info) -> Meeting | None:
        return await load_node(info.context.loaders.next_meeting, self._key(), Meeting.from_row)

    @strawberry.field(description="Competitor observations made at this client, newest first.")
    async def competitor_observations(self, info: strawberry.Info, first: int | None = None,
                                      after: str | None = None
                                      ) -> CompetitorObservationConnection:
        size = requested_page_size(info, first)
        key = self._key()
        if key is None:
            return observation_connection(Page([], False, None, []))
        page = await load_page(info.context.loaders.client_observations,
                               (key, size, after, None))
        return observation_connection(page)


__all__ = ["Activity", "ActivityConnection", "Client", "Competitor",
           "CompetitorConnection", "CompetitorObservation", "CompetitorObservationConnection",
           "Employee", "Meeting", "MeetingConnection", "activity_connection",
           "competitor_connection", "meeting_connection", "observation_connection"]
