"""The clients service's access rule is one function (visibility.client_rule); the by-ids
statement uses its condition as it is, so it is built and compiled once. No server needed."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy.dialects import postgresql

from crm_clients.service_layer import client_queries, visibility
from crm_common.auth import Principal

GRACE = dt.timedelta(hours=24)
NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def _who(*roles: str) -> Principal:
    return Principal(uuid.uuid4(), frozenset(roles))


def test_each_kind_of_principal_gets_one_condition_object() -> None:
    rep = _who("sales_rep")
    assert visibility.client_rule(_who("manager"), grace=GRACE).condition is \
        visibility.EVERY_CLIENT
    assert visibility.client_rule(_who("admin"), grace=GRACE).condition is visibility.EVERY_CLIENT
    assert visibility.client_rule(_who(), grace=GRACE).condition is visibility.NO_CLIENT
    rule = visibility.client_rule(rep, NOW, grace=GRACE)
    assert rule.condition is visibility.OWNED_OR_GRANTED
    assert rule.params == {"visible_me": rep.subject, "visible_now": NOW, "visible_grace": GRACE}


def test_the_by_ids_statement_is_the_rule_over_parameters() -> None:
    statement = client_queries._VISIBLE_CLIENTS_BY_IDS
    assert {"ids", "visible_me", "visible_now", "visible_grace"} <= set(
        statement.compile(dialect=postgresql.dialect()).params)


def test_the_bound_rule_carries_its_values() -> None:
    rep = _who("sales_rep")
    compiled = visibility.visible_clients(rep, NOW, grace=GRACE).compile(
        dialect=postgresql.dialect())
    assert {k: v for k, v in compiled.params.items() if k.startswith("visible_")} == {
        "visible_me": rep.subject, "visible_now": NOW, "visible_grace": GRACE}


def test_a_negative_grace_period_is_refused() -> None:
    with pytest.raises(ValueError, match="grace"):
        visibility.client_rule(_who("sales_rep"), grace=-GRACE)
