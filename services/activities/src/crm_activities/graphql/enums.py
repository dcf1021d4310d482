"""The domain's enums as GraphQL enums (names are the members: VISIT, PHONE_CALL, ...).

Decorated here, once, before any GraphQL type refers to them (inputs and types import them from
this module)."""

from __future__ import annotations

import strawberry

from crm_activities.domain.activity import ActivityKind, Direction
from crm_activities.domain.competitor import Impact, ObservationKind
from crm_activities.domain.meeting import MeetingStatus

strawberry.enum(ActivityKind, description="How the contact was made.")
strawberry.enum(Direction, description="Who reached out: us (OUTBOUND) or the client (INBOUND).")
strawberry.enum(MeetingStatus)
strawberry.enum(ObservationKind, description="What changed in the competitor's strategy.")
strawberry.enum(Impact, description="Estimated impact on our business.")

__all__ = ["ActivityKind", "Direction", "Impact", "MeetingStatus", "ObservationKind"]
