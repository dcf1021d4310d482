"""The task workflow: which status may follow which, and who may move a task along.

One table, not checks scattered over handlers. A principal stands in one or more *relations* to
a task (its assignee, the one who assigned it, a manager); each allowed transition names the
relations that may make it, and whether it only applies to tasks whose work is making something
(samples, test products) or needs the client's outcome (closing).

Closed (confirmed or refused) and cancelled are final, except that a manager may reopen a task,
which puts it back to ``assigned``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from crm_tasks.domain.task import TaskStatus


class Relation(enum.Enum):
    ASSIGNEE = "assignee"
    ASSIGNER = "assigner"
    MANAGER = "manager"  # managers and admins


class Verdict(enum.Enum):
    ALLOWED = "allowed"
    #: the pair is not in the table (includes "to the same status")
    UNKNOWN_TRANSITION = "unknown_transition"
    #: in the table, but not for someone in the principal's relations to the task
    FORBIDDEN = "forbidden"
    #: "in production" for a task that makes nothing
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Rule:
    who: frozenset[Relation]
    #: only for commitments whose work is making something (sample, test product)
    production_only: bool = False
    #: closes the task: the client's outcome is required
    closes: bool = False
    reopens: bool = False


S = TaskStatus
WORKERS = frozenset({Relation.ASSIGNEE, Relation.ASSIGNER, Relation.MANAGER})
SUPERVISORS = frozenset({Relation.ASSIGNER, Relation.MANAGER})
MANAGERS = frozenset({Relation.MANAGER})

_WORK = Rule(WORKERS)
_PRODUCE = Rule(WORKERS, production_only=True)
_CLOSE = Rule(WORKERS, closes=True)
_CANCEL = Rule(SUPERVISORS)
_REOPEN = Rule(MANAGERS, reopens=True)

TRANSITIONS: dict[tuple[TaskStatus, TaskStatus], Rule] = {
    (S.ASSIGNED, S.IN_PROGRESS): _WORK,
    (S.ASSIGNED, S.IN_PRODUCTION): _PRODUCE,
    (S.ASSIGNED, S.ON_HOLD): _WORK,
    (S.ASSIGNED, S.CLOSED_CONFIRMED): _CLOSE,
    (S.ASSIGNED, S.CLOSED_REFUSED): _CLOSE,
    (S.ASSIGNED, S.CANCELLED): _CANCEL,
    (S.IN_PROGRESS, S.IN_PRODUCTION): _PRODUCE,
    (S.IN_PROGRESS, S.ON_HOLD): _WORK,
    (S.IN_PROGRESS, S.CLOSED_CONFIRMED): _CLOSE,
    (S.IN_PROGRESS, S.CLOSED_REFUSED): _CLOSE,
    (S.IN_PROGRESS, S.CANCELLED): _CANCEL,
    (S.IN_PRODUCTION, S.IN_PROGRESS): _WORK,
    (S.IN_PRODUCTION, S.ON_HOLD): _WORK,
    (S.IN_PRODUCTION, S.CLOSED_CONFIRMED): _CLOSE,
    (S.IN_PRODUCTION, S.CLOSED_REFUSED): _CLOSE,
    (S.IN_PRODUCTION, S.CANCELLED): _CANCEL,
    (S.ON_HOLD, S.IN_PROGRESS): _WORK,
    (S.ON_HOLD, S.IN_PRODUCTION): _PRODUCE,
    (S.ON_HOLD, S.CLOSED_CONFIRMED): _CLOSE,
    (S.ON_HOLD, S.CLOSED_REFUSED): _CLOSE,
    (S.ON_HOLD, S.CANCELLED): _CANCEL,
    (S.CLOSED_CONFIRMED, S.ASSIGNED): _REOPEN,
    (S.CLOSED_REFUSED, S.ASSIGNED): _REOPEN,
    (S.CANCELLED, S.ASSIGNED): _REOPEN,
}


def rule(current: TaskStatus, target: TaskStatus) -> Rule | None:
    return TRANSITIONS.get((current, target))


def decide(current: TaskStatus, target: TaskStatus, relations: frozenset[Relation], *,
           produces: bool) -> Verdict:
    """May someone standing in ``relations`` to a task move it from ``current`` to ``target``?
    ``produces``: the task is a commitment to make a sample or a test product."""
    found = rule(current, target)
    if found is None:
        return Verdict.UNKNOWN_TRANSITION
    if not found.who & relations:
        return Verdict.FORBIDDEN
    if found.production_only and not produces:
        return Verdict.NOT_APPLICABLE
    return Verdict.ALLOWED


def targets(current: TaskStatus, relations: frozenset[Relation], *,
            produces: bool) -> list[TaskStatus]:
    """The statuses this principal may move the task to now (for the API's ``nextStatuses``)."""
    return [t for t in TaskStatus
            if decide(current, t, relations, produces=produces) is Verdict.ALLOWED]


class Change(enum.Enum):
    """Changes to an open task other than its status."""

    UPDATE = "update"  # title, description, watchers
    RESCHEDULE = "reschedule"
    PRIORITY = "priority"
    REASSIGN = "reassign"


#: who may make each change (the task must be open: final tasks change only by reopening)
CHANGE_RIGHTS: dict[Change, frozenset[Relation]] = {
    Change.UPDATE: WORKERS,
    Change.RESCHEDULE: WORKERS,
    Change.PRIORITY: WORKERS,
    Change.REASSIGN: SUPERVISORS,
}


def may_change(change: Change, relations: frozenset[Relation]) -> bool:
    return bool(CHANGE_RIGHTS[change] & relations)
