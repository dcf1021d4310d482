"""GraphQL input types and their conversion to the plain dicts the domain validates.

Ids and versions are non-null, as in every subgraph (``ID!``, ``Int!``). The business fields
are nullable in the schema on purpose: a missing required value is a ``userError`` naming the
field (``REQUIRED``), found together with every other problem of the input, rather than a
request error that stops at the first one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry

from crm_activities.graphql.enums import (
    ActivityKind,
    Direction,
    Impact,
    MeetingStatus,
    ObservationKind,
)
from crm_common.graphql.inputs import to_raw as to_raw

UNSET: Any = strawberry.UNSET




@strawberry.input(description="A done contact. Required: clientId, kind, occurredAt (not in the "
                              "future), durationMinutes (more than 0 for visits, meetings and "
                              "calls) and notes.")
class LogActivityInput:
    client_id: strawberry.ID
    kind: ActivityKind | None = UNSET
    occurred_at: dt.datetime | None = UNSET
    duration_minutes: int | None = UNSET
    notes: str | None = UNSET
    direction: Direction | None = UNSET
    contact_person_id: strawberry.ID | None = UNSET
    employee_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Who made the contact; yourself when left out. Only managers "
                                   "and admins name someone else.")
    location: str | None = UNSET
    subject: str | None = UNSET
    agreements: str | None = UNSET
    next_steps: str | None = UNSET


@strawberry.input(description="Required: clientId, startsAt, endsAt (after startsAt, at most 24 "
                              "hours later).")
class ScheduleMeetingInput:
    client_id: strawberry.ID
    starts_at: dt.datetime | None = UNSET
    ends_at: dt.datetime | None = UNSET
    employee_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Who meets the client; yourself when left out. Only managers "
                                   "and admins schedule for someone else.")
    contact_person_ids: list[strawberry.ID] | None = UNSET
    place: str | None = UNSET
    purpose: str | None = UNSET
    allow_overlap: bool | None = strawberry.field(
        default=UNSET, description="Keep the meeting even if it overlaps another of the same "
                                   "employee.")


@strawberry.input(description="Give a new start and end, another employee (managers), or a "
                              "place; send the version you read.")
class RescheduleMeetingInput:
    id: strawberry.ID
    version: int
    starts_at: dt.datetime | None = UNSET
    ends_at: dt.datetime | None = UNSET
    employee_id: strawberry.ID | None = UNSET
    place: str | None = UNSET
    allow_overlap: bool | None = UNSET


@strawberry.input
class CancelMeetingInput:
    id: strawberry.ID
    version: int
    reason: str | None = UNSET


@strawberry.input(description="The meeting took place. Required: actualDurationMinutes (> 0) "
                              "and notes; actualStartsAt defaults to the scheduled start.")
class CompleteMeetingInput:
    id: strawberry.ID
    version: int
    actual_starts_at: dt.datetime | None = UNSET
    actual_duration_minutes: int | None = UNSET
    kind: ActivityKind | None = UNSET
    contact_person_id: strawberry.ID | None = UNSET
    notes: str | None = UNSET
    agreements: str | None = UNSET
    next_steps: str | None = UNSET


@strawberry.input
class CreateCompetitorInput:
    name: str | None = UNSET
    eik: str | None = UNSET
    website: str | None = UNSET
    product_groups: list[str] | None = UNSET
    notes: str | None = UNSET


@strawberry.input(description="Fields left out stay as they are; null clears an optional one.")
class UpdateCompetitorInput:
    id: strawberry.ID
    version: int
    name: str | None = UNSET
    eik: str | None = UNSET
    website: str | None = UNSET
    product_groups: list[str] | None = UNSET
    notes: str | None = UNSET


@strawberry.input(description="Required: competitorId, observedOn (not in the future), kind, "
                              "description, impact.")
class RecordCompetitorObservationInput:
    competitor_id: strawberry.ID
    observed_on: dt.date | None = UNSET
    kind: ObservationKind | None = UNSET
    description: str | None = UNSET
    impact: Impact | None = UNSET
    client_id: strawberry.ID | None = strawberry.field(default=UNSET,
                                                      description="Where it was seen.")
    product_group: str | None = UNSET
    source: str | None = UNSET


@strawberry.input
class RotateCalendarFeedInput:
    employee_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Yourself when left out; admins may rotate anyone's.")


@strawberry.input
class ActivityFilterInput:
    client_id: strawberry.ID | None = None
    employee_id: strawberry.ID | None = None
    kinds: list[ActivityKind] | None = None
    from_: dt.datetime | None = strawberry.field(default=None, name="from",
                                                 description="occurredAt ≥ from")
    to: dt.datetime | None = strawberry.field(default=None, description="occurredAt < to")


@strawberry.input
class MeetingFilterInput:
    client_id: strawberry.ID | None = None
    employee_id: strawberry.ID | None = None
    statuses: list[MeetingStatus] | None = None
    from_: dt.datetime | None = strawberry.field(default=None, name="from",
                                                 description="startsAt ≥ from")
    to: dt.datetime | None = strawberry.field(default=None, description="startsAt < to")


@strawberry.input
class CompetitorFilterInput:
    search: str | None = strawberry.field(default=None, description="Part of the name.")
    product_group: str | None = None


@strawberry.input
class CompetitorObservationFilterInput:
    competitor_id: strawberry.ID | None = None
    client_id: strawberry.ID | None = None
    kinds: list[ObservationKind] | None = None
    product_group: str | None = None
    from_: dt.date | None = strawberry.field(default=None, name="from",
                                             description="observedOn ≥ from")
    to: dt.date | None = strawberry.field(default=None, description="observedOn ≤ to")
