"""The workflow table, every pair of statuses × every combination of relations."""

from __future__ import annotations

import itertools

import pytest

from crm_tasks.domain.task import TaskStatus as S
from crm_tasks.domain.workflow import (
    TRANSITIONS,
    Change,
    Relation,
    Verdict,
    decide,
    may_change,
    targets,
)

R = Relation
OPEN = [S.ASSIGNED, S.IN_PROGRESS, S.IN_PRODUCTION, S.ON_HOLD]
FINAL = [S.CLOSED_CONFIRMED, S.CLOSED_REFUSED, S.CANCELLED]
ALL_RELATION_SETS = [frozenset(c) for n in range(len(R) + 1)
                     for c in itertools.combinations(R, n)]


def expected(current: S, target: S, rel: frozenset[Relation], produces: bool) -> Verdict:
    """The rules of the issue written out independently of the table."""
    worker = bool(rel & {R.ASSIGNEE, R.ASSIGNER, R.MANAGER})
    supervisor = bool(rel & {R.ASSIGNER, R.MANAGER})
    if current in FINAL:
        if target is not S.ASSIGNED:
            return Verdict.UNKNOWN_TRANSITION
        return Verdict.ALLOWED if R.MANAGER in rel else Verdict.FORBIDDEN
    if target is current or target is S.ASSIGNED:
        return Verdict.UNKNOWN_TRANSITION
    if target is S.CANCELLED:
        return Verdict.ALLOWED if supervisor else Verdict.FORBIDDEN
    if not worker:
        return Verdict.FORBIDDEN
    if target is S.IN_PRODUCTION and not produces:
        return Verdict.NOT_APPLICABLE
    return Verdict.ALLOWED


@pytest.mark.parametrize("current", list(S))
@pytest.mark.parametrize("target", list(S))
def test_every_pair_for_every_relation(current: S, target: S) -> None:
    for rel in ALL_RELATION_SETS:
        for produces in (True, False):
            assert decide(current, target, rel, produces=produces) == \
                expected(current, target, rel, produces), (current, target, rel, produces)


def test_final_statuses_are_final_except_reopening_by_a_manager() -> None:
    for final in FINAL:
        assert [t for (f, t) in TRANSITIONS if f is final] == [S.ASSIGNED]
        everyone = frozenset({R.ASSIGNEE, R.ASSIGNER})
        assert targets(final, everyone, produces=True) == []
        assert targets(final, frozenset({R.MANAGER}), produces=True) == [S.ASSIGNED]


def test_a_stranger_may_do_nothing() -> None:
    for current in S:
        assert targets(current, frozenset(), produces=True) == []
    assert not any(may_change(c, frozenset()) for c in Change)


def test_only_the_assigner_or_a_manager_reassigns_or_cancels() -> None:
    assert not may_change(Change.REASSIGN, frozenset({R.ASSIGNEE}))
    assert may_change(Change.REASSIGN, frozenset({R.ASSIGNER}))
    assert may_change(Change.RESCHEDULE, frozenset({R.ASSIGNEE}))
    assert S.CANCELLED not in targets(S.IN_PROGRESS, frozenset({R.ASSIGNEE}), produces=False)


def test_production_only_for_samples_and_test_products() -> None:
    assert S.IN_PRODUCTION in targets(S.ASSIGNED, frozenset({R.ASSIGNEE}), produces=True)
    assert S.IN_PRODUCTION not in targets(S.ASSIGNED, frozenset({R.ASSIGNEE}), produces=False)
