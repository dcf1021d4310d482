"""Issue 14 in the activities service: a logged activity whose first attempt lost its database
connection, retried with its Idempotency-Key, exists once."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from crm_common.testing import lost_and_retried

from .conftest import Publisher, Service
from .helpers import LOG, make_world, sql

pytestmark = pytest.mark.integration


async def test_a_visit_logged_over_a_dropped_connection_and_retried_exists_once(
        service: Service, publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    rep = service.token("sales_rep", w.rep)
    notes = f"Посещение {uuid.uuid4().hex[:8]}"
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    variables = {"input": {"clientId": str(w.rep_client), "kind": "VISIT", "occurredAt": when,
                           "durationMinutes": 30, "notes": notes}}
    second, third = await lost_and_retried(service, rep, LOG, variables, "logActivity")
    assert second["activity"]["id"] == third["activity"]["id"]
    assert second["activity"]["notes"] == notes
    rows = await sql(service, "SELECT count(*) AS n FROM activities WHERE notes = :n", n=notes)
    assert rows == [{"n": 1}]


async def test_the_same_key_for_another_activity_is_refused(
        service: Service, publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    rep = service.token("sales_rep", w.rep)
    key = str(uuid.uuid4())
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    answers = []
    for notes in ("първо", "второ"):
        body = (await service.gql(rep, LOG, {"input": {
            "clientId": str(w.rep_client), "kind": "PHONE_CALL", "occurredAt": when,
            "durationMinutes": 5, "notes": f"{notes} {key}"}},
            headers={"idempotency-key": key})).json()
        answers.append(body["data"]["logActivity"])
    assert answers[0]["userErrors"] == []
    assert [e["code"] for e in answers[1]["userErrors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert answers[1]["activity"] is None
    rows = await sql(service, "SELECT count(*) AS n FROM activities WHERE notes LIKE :n",
                     n=f"%{key}")
    assert rows == [{"n": 1}]
