"""Contact history through the service's GraphQL API: logging, the timeline and who sees what."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from .conftest import EventTap, Publisher, Service
from .helpers import LOG, TIMELINE, make_world, sql

pytestmark = pytest.mark.integration


def _ago(**kw: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**kw)).isoformat()


async def test_log_and_read_a_timeline(service: Service, publisher: Publisher,
                                       tap: EventTap) -> None:
    w = await make_world(service, publisher)
    rep = service.token("sales_rep", w.rep)
    contact = str(uuid.uuid4())
    created = []
    for i, kind in enumerate(["VISIT", "PHONE_CALL", "EMAIL", "VISIT", "MESSAGE"]):
        result = (await service.data(rep, LOG, {"input": {
            "clientId": str(w.rep_client), "kind": kind, "occurredAt": _ago(days=5 - i),
            "durationMinutes": 0 if kind in ("EMAIL", "MESSAGE") else 30 + i,
            "notes": f"Разговор {i}: цени за Q3", "contactPersonId": contact,
            "agreements": "Оферта до петък" if i == 0 else None, "direction": "INBOUND",
            "location": "Пловдив, бул. Руски 15" if kind == "VISIT" else None,
        }}))["logActivity"]
        assert result["userErrors"] == [], result
        created.append(result["activity"])
    first = created[0]
    assert first["employeeId"] == str(w.rep) and first["createdBy"] == str(w.rep)
    assert first["agreements"] == "Оферта до петък" and first["direction"] == "INBOUND"
    assert first["contactPersonId"] == contact

    # newest first, keyset pages of two
    seen: list[str] = []
    after = None
    while True:
        page = (await service.data(rep, TIMELINE, {
            "filter": {"clientId": str(w.rep_client)}, "first": 2, "after": after}))["activities"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [a["id"] for a in reversed(created)]

    visits = (await service.data(rep, TIMELINE, {"filter": {
        "clientId": str(w.rep_client), "kinds": ["VISIT"]}}))["activities"]["edges"]
    assert [e["node"]["id"] for e in visits] == [created[3]["id"], created[0]["id"]]
    period = (await service.data(rep, TIMELINE, {"filter": {
        "clientId": str(w.rep_client), "from": _ago(days=3, hours=1), "to": _ago(days=1, hours=1)
    }}))["activities"]["edges"]
    assert [e["node"]["id"] for e in period] == [created[3]["id"], created[2]["id"]]
    by_employee = (await service.data(service.token("manager", w.manager), TIMELINE, {
        "filter": {"employeeId": str(w.rep), "from": _ago(days=10)}}))["activities"]["edges"]
    assert {e["node"]["id"] for e in by_employee} == {a["id"] for a in created}

    events = await tap.wait_for(lambda e: e["type"] == "crm.activities.activity.logged"
                                and e["subject"] == created[0]["id"])
    assert events[0]["data"]["activity"]["clientId"] == str(w.rep_client)
    assert events[0]["actorid"] == str(w.rep)
    history = await sql(service, "SELECT operation, changes FROM history WHERE entity_id = :i",
                        i=uuid.UUID(first["id"]))
    assert [h["operation"] for h in history] == ["create"]
    new = history[0]["changes"]["new"]  # the API's names and values
    assert new["kind"].isupper() and new["direction"] in ("OUTBOUND", "INBOUND")
    assert new["clientId"] == str(w.rep_client)


async def test_who_sees_which_activities(service: Service, publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    manager = service.token("manager", w.manager)
    # a manager logs a contact of the other rep with the other rep's client
    other = (await service.data(manager, LOG, {"input": {
        "clientId": str(w.other_client), "employeeId": str(w.other_rep), "kind": "PHONE_CALL",
        "occurredAt": _ago(hours=2), "durationMinutes": 5, "notes": "Обаждане"}}))["logActivity"]
    assert other["userErrors"] == [] and other["activity"]["employeeId"] == str(w.other_rep)
    # the rep may not log for a client they may not see: the same answer as an unknown one
    hidden = (await service.data(service.token("sales_rep", w.rep), LOG, {"input": {
        "clientId": str(w.other_client), "kind": "EMAIL", "occurredAt": _ago(hours=1),
        "durationMinutes": 0, "notes": "x"}}))["logActivity"]
    assert hidden["activity"] is None
    assert hidden["userErrors"] == [{"field": ["input", "clientId"], "code": "NOT_FOUND",
                                     "message": "client not found"}]
    rep = service.token("sales_rep", w.rep)
    query = "query($id: ID!) { activity(id: $id) { id } }"
    assert (await service.data(rep, query, {"id": other["activity"]["id"]}))["activity"] is None
    page = await service.data(rep, TIMELINE, {"filter": {"clientId": str(w.other_client)}})
    assert page["activities"]["edges"] == []
    own = service.token("sales_rep", w.other_rep)
    assert (await service.data(own, query, {"id": other["activity"]["id"]}))["activity"] == {
        "id": other["activity"]["id"]}
    # a rep may not log for someone else
    forged = (await service.data(rep, LOG, {"input": {
        "clientId": str(w.rep_client), "employeeId": str(w.other_rep), "kind": "EMAIL",
        "occurredAt": _ago(hours=1), "durationMinutes": 0, "notes": "x"}}))["logActivity"]
    assert [e["code"] for e in forged["userErrors"]] == ["FORBIDDEN"]
    # a manager's choice of employee is checked against the staff directory
    stranger = (await service.data(manager, LOG, {"input": {
        "clientId": str(w.rep_client), "employeeId": str(uuid.uuid4()), "kind": "EMAIL",
        "occurredAt": _ago(hours=1), "durationMinutes": 0, "notes": "x"}}))["logActivity"]
    assert [(e["field"], e["code"]) for e in stranger["userErrors"]] == [
        (["input", "employeeId"], "UNKNOWN_EMPLOYEE")]
