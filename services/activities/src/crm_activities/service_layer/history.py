"""The append-only audit history (DESIGN §4) of meetings, activities, competitors and their
observations, and calendar feeds: who, when, which operation, old → new.

Written in the same transaction as the change, through the kit's writer (``crm_common.history``);
the table refuses UPDATE and DELETE (a trigger). :data:`SPELLING` names the enum fields of each
entity type, so that ``changes`` carry them as the API spells them (``CANCELLED``, not
``cancelled``).
"""

from __future__ import annotations

from crm_activities.adapters.tables import history
from crm_activities.domain.activity import ActivityKind, Direction
from crm_activities.domain.competitor import Impact, ObservationKind
from crm_activities.domain.meeting import MeetingStatus
from crm_common.history import HistoryWriter, Spelling, diff

#: entity type → its fields whose values are enums (camelCase, as the API names them)
SPELLING: dict[str, Spelling] = {
    "activity": {"kind": ActivityKind, "direction": Direction},
    "meeting": {"status": MeetingStatus},
    "competitor_observation": {"kind": ObservationKind, "impact": Impact},
}

record_history = HistoryWriter(history, SPELLING)

__all__ = ["SPELLING", "diff", "record_history"]
