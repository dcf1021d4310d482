"""Scheduled meetings: scheduling, overlaps, rescheduling, cancelling, completing; their events,
and the access to the client a meeting gives."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from .conftest import EventTap, Publisher, Service
from .helpers import CANCEL, COMPLETE, LOG, RESCHEDULE, SCHEDULE, TIMELINE, make_world, sql

pytestmark = pytest.mark.integration


def _at(days: float = 0, hours: float = 0) -> dt.datetime:
    base = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return base + dt.timedelta(days=days, hours=hours)


def _slot(days: float, hours: float = 10, length: float = 1) -> dict[str, str]:
    start = _at(days) .replace(hour=0) + dt.timedelta(hours=hours)
    return {"startsAt": start.isoformat(),
            "endsAt": (start + dt.timedelta(hours=length)).isoformat()}


async def _schedule(service: Service, token: str, **fields: Any) -> dict[str, Any]:
    return (await service.data(token, SCHEDULE, {"input": fields}))["scheduleMeeting"]


async def _timeline_ids(service: Service, token: str, client: uuid.UUID) -> list[str]:
    page = await service.data(token, TIMELINE, {"filter": {"clientId": str(client)}})
    return [e["node"]["id"] for e in page["activities"]["edges"]]


async def test_a_meeting_grants_access_until_cancelled(service: Service, publisher: Publisher,
                                                       tap: EventTap) -> None:
    w = await make_world(service, publisher)
    manager, rep = service.token("manager", w.manager), service.token("sales_rep", w.rep)
    logged = (await service.data(manager, LOG, {"input": {
        "clientId": str(w.free_client), "kind": "VISIT", "durationMinutes": 40,
        "occurredAt": _at(-3).isoformat(), "notes": "Първа среща", "employeeId": str(w.other_rep),
    }}))["logActivity"]["activity"]
    assert await _timeline_ids(service, rep, w.free_client) == []

    contact = str(uuid.uuid4())
    scheduled = await _schedule(service, manager, clientId=str(w.free_client),
                                employeeId=str(w.rep), contactPersonIds=[contact, contact],
                                place="София, ул. Шипка 6", purpose="Годишен договор",
                                **_slot(2))
    assert scheduled["userErrors"] == []
    meeting = scheduled["meeting"]
    assert meeting["status"] == "SCHEDULED" and meeting["version"] == 1
    assert meeting["contactPersonIds"] == [contact]
    # the grant is written with the meeting: the rep sees the client's history at once
    assert await _timeline_ids(service, rep, w.free_client) == [logged["id"]]

    event = (await tap.wait_for(lambda e: e["type"] == "crm.activities.meeting.scheduled"
                                and e["subject"] == meeting["id"]))[0]
    assert {k: event["data"][k] for k in ("meetingId", "clientId", "employeeId", "status",
                                          "version")} == {
        "meetingId": meeting["id"], "clientId": str(w.free_client), "employeeId": str(w.rep),
        "status": "scheduled", "version": 1}
    assert dt.datetime.fromisoformat(event["data"]["startsAt"]) == \
        dt.datetime.fromisoformat(meeting["startsAt"])

    cancelled = (await service.data(rep, CANCEL, {"input": {
        "id": meeting["id"], "version": 1, "reason": "Клиентът отложи"}}))["cancelMeeting"]
    assert cancelled["userErrors"] == [] and cancelled["meeting"]["status"] == "CANCELLED"
    assert cancelled["meeting"]["cancelReason"] == "Клиентът отложи"
    assert await _timeline_ids(service, rep, w.free_client) == []
    event = (await tap.wait_for(lambda e: e["type"] == "crm.activities.meeting.cancelled"
                                and e["subject"] == meeting["id"]))[0]
    assert event["data"]["status"] == "cancelled" and event["data"]["version"] == 2
    assert event["data"]["reason"] == "Клиентът отложи"
    # a cancelled meeting changes no more
    again = (await service.data(manager, CANCEL, {"input": {
        "id": meeting["id"], "version": 2, "reason": "x"}}))["cancelMeeting"]
    assert [e["code"] for e in again["userErrors"]] == ["NOT_SCHEDULED"]
    grants = await sql(service, "SELECT status, version FROM access_meeting_grants "
                       "WHERE meeting_id = :m", m=uuid.UUID(meeting["id"]))
    assert grants == [{"status": "cancelled", "version": 2}]
    # the history speaks the API's names and values (MeetingStatus as the schema spells it)
    history = (await service.data(manager, """query($id: ID!) { meeting(id: $id) {
      history(first: 5) { edges { node { operation entityType entityId changes } } } } }""",
                                  {"id": meeting["id"]}))["meeting"]["history"]["edges"]
    entries = [e["node"] for e in history]
    assert [e["operation"] for e in entries] == ["cancel", "create"]
    assert {(e["entityType"], e["entityId"]) for e in entries} == {("meeting", meeting["id"])}
    assert entries[0]["changes"] == {"status": ["SCHEDULED", "CANCELLED"],
                                     "reason": "Клиентът отложи"}
    assert entries[1]["changes"]["new"]["status"] == "SCHEDULED"
    assert "employeeId" in entries[1]["changes"]["new"]


async def test_access_ends_with_the_grace_period(service: Service, publisher: Publisher) -> None:
    """A meeting whose end plus the grace period (24 h here) has passed gives no access: the
    manager moves the meeting to two days ago (meetings may be entered up to 31 days back)."""
    w = await make_world(service, publisher)
    manager, rep = service.token("manager", w.manager), service.token("sales_rep", w.rep)
    await service.data(manager, LOG, {"input": {
        "clientId": str(w.free_client), "kind": "EMAIL", "durationMinutes": 0,
        "occurredAt": _at(-1).isoformat(), "notes": "Оферта"}})
    meeting = (await _schedule(service, manager, clientId=str(w.free_client),
                               employeeId=str(w.rep), **_slot(1)))["meeting"]
    assert len(await _timeline_ids(service, rep, w.free_client)) == 1
    moved = (await service.data(manager, RESCHEDULE, {"input": {
        "id": meeting["id"], "version": 1, **_slot(-2)}}))["rescheduleMeeting"]
    assert moved["userErrors"] == [] and moved["meeting"]["version"] == 2
    assert await _timeline_ids(service, rep, w.free_client) == []
    # ended 20 hours ago: still within the grace period
    recent = _at(hours=-20)
    moved = (await service.data(manager, RESCHEDULE, {"input": {
        "id": meeting["id"], "version": 2, "startsAt": (recent - dt.timedelta(hours=1)).isoformat(),
        "endsAt": recent.isoformat()}}))["rescheduleMeeting"]
    assert moved["userErrors"] == []
    assert len(await _timeline_ids(service, rep, w.free_client)) == 1


async def test_overlaps_are_refused_naming_the_other_meeting(service: Service,
                                                            publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    rep = service.token("sales_rep", w.rep)
    first = (await _schedule(service, rep, clientId=str(w.rep_client), **_slot(3, 10, 2)))
    assert first["userErrors"] == []
    clash = await _schedule(service, rep, clientId=str(w.rep_client), **_slot(3, 11, 1))
    assert clash["meeting"] is None
    (error,) = clash["userErrors"]
    assert error["field"] == ["input", "startsAt"] and error["code"] == "OVERLAP"
    assert first["meeting"]["id"] in error["message"] and "Тракия" in error["message"]
    # touching is not overlapping; allowOverlap keeps both
    after = await _schedule(service, rep, clientId=str(w.rep_client), **_slot(3, 12, 1))
    assert after["userErrors"] == []
    both = await _schedule(service, rep, clientId=str(w.rep_client), allowOverlap=True,
                           **_slot(3, 11, 1))
    assert both["userErrors"] == []
    # another employee's meeting at the same time is no overlap
    other = await _schedule(service, service.token("manager", w.manager),
                            clientId=str(w.rep_client), employeeId=str(w.other_rep),
                            **_slot(3, 10, 2))
    assert other["userErrors"] == []
    # rescheduling into a clash is refused too, and changes nothing
    moved = (await service.data(rep, RESCHEDULE, {"input": {
        "id": after["meeting"]["id"], "version": 1, **_slot(3, 10, 1)}}))["rescheduleMeeting"]
    assert [e["code"] for e in moved["userErrors"]] == ["OVERLAP"]
    stored = await sql(service, "SELECT version, starts_at FROM meetings WHERE id = :m",
                       m=uuid.UUID(after["meeting"]["id"]))
    assert stored[0]["version"] == 1


async def test_who_may_schedule(service: Service, publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    rep = service.token("sales_rep", w.rep)
    hidden = await _schedule(service, rep, clientId=str(w.other_client), **_slot(4))
    assert [(e["field"], e["code"]) for e in hidden["userErrors"]] == [
        (["input", "clientId"], "NOT_FOUND")]
    for_other = await _schedule(service, rep, clientId=str(w.rep_client),
                                employeeId=str(w.other_rep), **_slot(4))
    assert [(e["field"], e["code"]) for e in for_other["userErrors"]] == [
        (["input", "employeeId"], "FORBIDDEN")]
    # a rep the staff directory does not know yet may still schedule for themself
    newcomer = uuid.uuid4()
    await publisher.client(client := uuid.uuid4(), owner=newcomer)
    from .conftest import wait_until

    async def known() -> bool:
        rows = await sql(service, "SELECT 1 FROM access_clients WHERE client_id = :c", c=client)
        return bool(rows)
    await wait_until(known)
    own = await _schedule(service, service.token("sales_rep", newcomer), clientId=str(client),
                          **_slot(4))
    assert own["userErrors"] == []
    # a manager's choice of employee must be an active employee
    unknown = await _schedule(service, service.token("manager", w.manager),
                              clientId=str(w.rep_client), employeeId=str(uuid.uuid4()),
                              **_slot(4))
    assert [e["code"] for e in unknown["userErrors"]] == ["UNKNOWN_EMPLOYEE"]
    gone = uuid.uuid4()
    await publisher.employee(gone, active=False)

    async def deactivated() -> bool:
        return bool(await sql(service, "SELECT 1 FROM access_employees WHERE employee_id = :e",
                              e=gone))
    await wait_until(deactivated)
    inactive = await _schedule(service, service.token("manager", w.manager),
                               clientId=str(w.rep_client), employeeId=str(gone), **_slot(4))
    assert [e["code"] for e in inactive["userErrors"]] == ["UNKNOWN_EMPLOYEE"]


async def test_reschedule_to_another_rep_moves_the_grant(service: Service, publisher: Publisher,
                                                         tap: EventTap) -> None:
    w = await make_world(service, publisher)
    manager = service.token("manager", w.manager)
    meeting = (await _schedule(service, manager, clientId=str(w.free_client),
                               employeeId=str(w.rep), **_slot(5)))["meeting"]
    stale = (await service.data(manager, RESCHEDULE, {"input": {
        "id": meeting["id"], "version": 7, "employeeId": str(w.other_rep)}}))["rescheduleMeeting"]
    assert [(e["field"], e["code"]) for e in stale["userErrors"]] == [
        (["input", "version"], "CONFLICT")]
    by_rep = (await service.data(service.token("sales_rep", w.rep), RESCHEDULE, {"input": {
        "id": meeting["id"], "version": 1, "employeeId": str(w.other_rep)}}))["rescheduleMeeting"]
    assert [e["code"] for e in by_rep["userErrors"]] == ["FORBIDDEN"]
    moved = (await service.data(manager, RESCHEDULE, {"input": {
        "id": meeting["id"], "version": 1, "employeeId": str(w.other_rep),
        "place": "Офис"}}))["rescheduleMeeting"]
    assert moved["userErrors"] == [] and moved["meeting"]["employeeId"] == str(w.other_rep)
    event = (await tap.wait_for(lambda e: e["type"] == "crm.activities.meeting.rescheduled"
                                and e["subject"] == meeting["id"]))[0]
    assert event["data"]["employeeId"] == str(w.other_rep) and event["data"]["version"] == 2
    assert event["data"]["place"] == "Офис"
    grants = await sql(service, "SELECT employee_id FROM access_meeting_grants "
                       "WHERE meeting_id = :m", m=uuid.UUID(meeting["id"]))
    assert grants == [{"employee_id": w.other_rep}]
    query = "query($id: ID!) { meeting(id: $id) { id } }"
    assert (await service.data(service.token("sales_rep", w.rep), query,
                               {"id": meeting["id"]}))["meeting"] is None


async def test_complete_turns_a_meeting_into_a_done_contact(service: Service,
                                                            publisher: Publisher,
                                                            tap: EventTap) -> None:
    w = await make_world(service, publisher)
    rep = service.token("sales_rep", w.rep)
    contact = str(uuid.uuid4())
    future = (await _schedule(service, rep, clientId=str(w.rep_client), **_slot(6),
                              contactPersonIds=[contact]))["meeting"]
    early = (await service.data(rep, COMPLETE, {"input": {
        "id": future["id"], "version": 1, "actualDurationMinutes": 30,
        "notes": "x"}}))["completeMeeting"]
    assert [(e["field"], e["code"]) for e in early["userErrors"]] == [
        (["input", "actualStartsAt"], "IN_THE_FUTURE")]

    start = _at(hours=-3)
    past = (await _schedule(service, rep, clientId=str(w.rep_client), purpose="Нова ценова листа",
                            place="Склад Пловдив", contactPersonIds=[contact],
                            startsAt=start.isoformat(),
                            endsAt=(start + dt.timedelta(hours=1)).isoformat()))["meeting"]
    done = (await service.data(rep, COMPLETE, {"input": {
        "id": past["id"], "version": 1, "actualStartsAt": (start + dt.timedelta(minutes=10)
                                                           ).isoformat(),
        "actualDurationMinutes": 75, "notes": "Договорихме отстъпка 3 %",
        "agreements": "Отстъпка 3 % от 1-во число", "nextSteps": "Изпращам договор"}}
    ))["completeMeeting"]
    assert done["userErrors"] == []
    activity = done["activity"]
    assert done["meeting"]["status"] == "COMPLETED"
    assert done["meeting"]["activityId"] == activity["id"]
    assert activity["meetingId"] == past["id"] and activity["kind"] == "MEETING"
    assert activity["durationMinutes"] == 75 and activity["contactPersonId"] == contact
    assert activity["subject"] == "Нова ценова листа" and activity["location"] == "Склад Пловдив"
    assert activity["agreements"] == "Отстъпка 3 % от 1-во число"
    completed = (await tap.wait_for(lambda e: e["type"] == "crm.activities.meeting.completed"
                                    and e["subject"] == past["id"]))[0]["data"]
    assert dt.datetime.fromisoformat(completed["endsAt"]) == \
        start + dt.timedelta(minutes=85)  # the actual end
    assert completed["activityId"] == activity["id"] and completed["status"] == "completed"
    logged = await tap.wait_for(lambda e: e["type"] == "crm.activities.activity.logged"
                                and e["subject"] == activity["id"])
    assert logged[0]["data"]["activity"]["meetingId"] == past["id"]
    twice = (await service.data(rep, COMPLETE, {"input": {
        "id": past["id"], "version": 2, "actualDurationMinutes": 75,
        "notes": "x"}}))["completeMeeting"]
    assert [e["code"] for e in twice["userErrors"]] == ["NOT_SCHEDULED"]
    rows = await sql(service, "SELECT count(*) AS n FROM activities WHERE meeting_id = :m",
                     m=uuid.UUID(past["id"]))
    assert rows == [{"n": 1}]
