"""Issue 14 in the analytics service: its report mutations honour the Idempotency-Key in the
kit's weaker form (they commit through transactions of their own, docs/api.md): a retried
saveReport is answered from the stored outcome and saves once; a keyed runReport still runs."""

from __future__ import annotations

import uuid

import pytest

from .conftest import Service
from .test_reports import RUN, World, sales_yoy, service, tok, world  # noqa: F401 - fixtures

pytestmark = pytest.mark.integration

SAVE = """mutation S($input: SaveReportInput!) { saveReport(input: $input) {
  savedReport { id version } userErrors { field code } } }"""


async def test_a_retried_save_report_saves_once(service: Service,  # noqa: F811
                                                world: World) -> None:  # noqa: F811
    token = tok(service, world, "manager")
    name = f"Идемпотентен {uuid.uuid4().hex[:6]}"
    key = str(uuid.uuid4())
    variables = {"input": {"name": name, "definition": sales_yoy(world)}}
    answers = []
    for _ in range(2):
        body = (await service.gql(token, SAVE, variables, headers={"idempotency-key": key})
                ).json()
        assert "errors" not in body, body
        answers.append(body["data"]["saveReport"])
    assert [a["userErrors"] for a in answers] == [[], []]
    assert answers[0]["savedReport"]["id"] == answers[1]["savedReport"]["id"]
    assert await service.sql("SELECT count(*) AS n FROM saved_reports WHERE name = :n",
                             n=name) == [{"n": 1}]
    other = (await service.gql(token, SAVE, {"input": {"name": name + " 2",
                                                       "definition": sales_yoy(world)}},
                               headers={"idempotency-key": key})).json()
    assert [e["code"] for e in other["data"]["saveReport"]["userErrors"]] == \
        ["IDEMPOTENCY_KEY_REUSED"]


async def test_a_keyed_run_report_runs_each_time(service: Service,  # noqa: F811
                                                 world: World) -> None:  # noqa: F811
    token = tok(service, world, "manager")
    key = str(uuid.uuid4())
    for _ in range(2):
        body = (await service.gql(token, RUN, {"input": {"definition": sales_yoy(world)}},
                                  headers={"idempotency-key": key})).json()
        assert "errors" not in body, body
        assert body["data"]["runReport"]["userErrors"] == []
