"""The fields this subgraph adds to Client and Employee: values, the access rule, and a statement
count that does not grow with the number of entities or rows."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from crm_common.testing import request_statements, statements_sent

from .conftest import Publisher, Service, wait_until
from .helpers import LOG, SCHEDULE, make_world

pytestmark = pytest.mark.integration

ENTITIES = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Client { id lastContactAt nextMeeting { id startsAt }
                  activities(first: 3) { edges { node { id kind } } pageInfo { hasNextPage } }
                  competitorObservations(first: 2) { edges { node { id } } } }
  ... on Employee { id agenda(from: $from, to: $to) { edges { node { id clientId startsAt } }
                    pageInfo { hasNextPage } } } } }"""
ENTITIES = ENTITIES.replace("query($reps: [_Any!]!)",
                            "query($reps: [_Any!]!, $from: DateTime!, $to: DateTime!)")


def _now(**kw: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(**kw)


async def _populate(service: Service, manager: str, client: uuid.UUID, employee: uuid.UUID,
                    n: int) -> None:
    for i in range(n):
        result = await service.data(manager, LOG, {"input": {
            "clientId": str(client), "employeeId": str(employee), "kind": "PHONE_CALL",
            "durationMinutes": 3, "occurredAt": _now(hours=-(i + 1)).isoformat(),
            "notes": f"#{i}"}})
        assert result["logActivity"]["userErrors"] == []
    start = _now(days=1, hours=n)
    result = await service.data(manager, SCHEDULE, {"input": {
        "clientId": str(client), "employeeId": str(employee), "startsAt": start.isoformat(),
        "endsAt": (start + dt.timedelta(hours=1)).isoformat(), "allowOverlap": True}})
    assert result["scheduleMeeting"]["userErrors"] == []


async def _entities(service: Service, token: str, reps: list[dict[str, str]]
                    ) -> tuple[list[Any], int]:
    with statements_sent() as seen:
        data = await service.data(token, ENTITIES, {
            "reps": reps, "from": _now(days=-1).isoformat(), "to": _now(days=30).isoformat()})
    ours = [s for s in request_statements(seen) if "access_" not in s[:60]]
    return data["_entities"], len(ours)


async def test_client_and_employee_fields(service: Service, publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    manager = service.token("manager", w.manager)
    await _populate(service, manager, w.rep_client, w.rep, 4)
    await _populate(service, manager, w.other_client, w.other_rep, 1)
    reps = [{"__typename": "Client", "id": str(w.rep_client)},
            {"__typename": "Client", "id": str(w.other_client)},
            {"__typename": "Employee", "id": str(w.rep)}]
    entities, _ = await _entities(service, manager, reps)
    mine, other, employee = entities
    assert [e["node"]["kind"] for e in mine["activities"]["edges"]] == ["PHONE_CALL"] * 3
    assert mine["activities"]["pageInfo"]["hasNextPage"] is True
    # the newest of the four calls, logged an hour before the test ran
    assert abs(dt.datetime.fromisoformat(mine["lastContactAt"]) - _now(hours=-1)) < \
        dt.timedelta(minutes=5)
    assert mine["nextMeeting"] is not None and other["nextMeeting"] is not None
    assert len(other["activities"]["edges"]) == 1
    assert {e["node"]["clientId"] for e in employee["agenda"]["edges"]} == {str(w.rep_client)}

    # a rep asking about a client they may not see gets nothing of it
    rep_view, _ = await _entities(service, service.token("sales_rep", w.rep), reps)
    assert rep_view[1] == {"id": str(w.other_client), "lastContactAt": None,
                           "nextMeeting": None,
                           "activities": {"edges": [], "pageInfo": {"hasNextPage": False}},
                           "competitorObservations": {"edges": []}}
    assert len(rep_view[0]["activities"]["edges"]) == 3


async def test_statement_count_does_not_grow_with_entities_or_rows(
        service: Service, publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    manager = service.token("manager", w.manager)
    await _populate(service, manager, w.rep_client, w.rep, 1)
    await _populate(service, manager, w.free_client, w.rep, 6)
    await _populate(service, manager, w.other_client, w.other_rep, 6)
    one = [{"__typename": "Client", "id": str(w.rep_client)},
           {"__typename": "Employee", "id": str(w.rep)}]
    many = [*({"__typename": "Client", "id": str(c)}
              for c in (w.rep_client, w.free_client, w.other_client)),
            *({"__typename": "Employee", "id": str(e)} for e in (w.rep, w.other_rep))]
    for token in (manager, service.token("sales_rep", w.rep)):
        _, small = await _entities(service, token, one)
        _, large = await _entities(service, token, many)
        assert small == large == 5  # activities, last contact, next meeting, observations, agenda


AGENDA = """query($reps: [_Any!]!, $from: DateTime!, $to: DateTime!, $after: String) {
  _entities(representations: $reps) { ... on Employee {
    agenda(from: $from, to: $to, first: 2, after: $after) { edges { node { id startsAt } }
      pageInfo { hasNextPage endCursor } } } } }"""


async def test_the_agenda_is_a_keyset_connection(service: Service, publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    manager = service.token("manager", w.manager)
    for hours in (5, 1, 3, 2, 4):
        start = _now(days=2, hours=hours)
        result = await service.data(manager, SCHEDULE, {"input": {
            "clientId": str(w.rep_client), "employeeId": str(w.rep),
            "startsAt": start.isoformat(), "endsAt": (start + dt.timedelta(minutes=30)).isoformat(),
            "allowOverlap": True}})
        assert result["scheduleMeeting"]["userErrors"] == []
    window = {"reps": [{"__typename": "Employee", "id": str(w.rep)}],
              "from": _now(days=2).isoformat(), "to": _now(days=3).isoformat()}
    seen: list[str] = []
    after = None
    while True:
        (employee,) = (await service.data(manager, AGENDA, {**window, "after": after}))[
            "_entities"]
        seen += [e["node"]["startsAt"] for e in employee["agenda"]["edges"]]
        if not employee["agenda"]["pageInfo"]["hasNextPage"]:
            break
        after = employee["agenda"]["pageInfo"]["endCursor"]
    assert len(seen) == 5 and seen == sorted(seen, key=dt.datetime.fromisoformat)
    bad = await service.gql(manager, AGENDA, {**window, "after": "garbage"})
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


ME = """query($from: DateTime!, $to: DateTime!) { me { id fullName
  agenda(from: $from, to: $to) { edges { node { clientId } } } } }"""
NAMES = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Employee { id fullName } } }"""


async def test_me_and_the_name_from_the_directory_copy(service: Service,
                                                       publisher: Publisher) -> None:
    """``me`` is answered here too (shareable with the clients service) and provides
    ``Employee.fullName`` from the access_employees projection, so the gateway can start a rep's
    morning here (issue 15): the caller's entry, null for a caller the directory does not know,
    a rename once its event is in. Asked here directly for an employee (the gateway does not:
    the field is external here), the name comes from the copy too, NOT_FOUND when unknown."""
    w = await make_world(service, publisher)
    await _populate(service, service.token("manager", w.manager), w.rep_client, w.rep, 1)
    window = {"from": _now(days=-1).isoformat(), "to": _now(days=30).isoformat()}
    rep = service.token("sales_rep", w.rep)
    me = (await service.data(rep, ME, window))["me"]
    assert me["id"] == str(w.rep) and me["fullName"] == "Иван Петров"
    assert [e["node"]["clientId"] for e in me["agenda"]["edges"]] == [str(w.rep_client)]

    assert (await service.data(service.token("sales_rep"), ME, window))["me"] is None

    await publisher.employee(w.rep, name="Иван Петров-Стоянов", version=2)

    async def renamed() -> bool:
        return bool((await service.data(rep, ME, window))["me"]["fullName"]
                    == "Иван Петров-Стоянов")

    await wait_until(renamed)

    stranger = uuid.uuid4()
    body = (await service.gql(rep, NAMES, {"reps": [
        {"__typename": "Employee", "id": str(w.other_rep)},
        {"__typename": "Employee", "id": str(stranger)}]})).json()
    assert body["data"]["_entities"] == [{"id": str(w.other_rep), "fullName": "Петър Иванов"},
                                         None]
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "NOT_FOUND" and str(stranger) in error["message"]
    assert error["path"] == ["_entities", 1, "fullName"]
