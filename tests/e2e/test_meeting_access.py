"""The dossier rule end to end (DESIGN §6), through the gateway, every service a process of its
own: a manager schedules a meeting for a rep with a client the rep does not own; the rep can then
read the client's full dossier; after the meeting is cancelled — or once its end plus the grace
period (24 h, the platform's setting) has passed — the dossier reads as not found again.

"Once its end plus the grace period has passed": the e2e platform is shared and keeps the
default grace, and a test does not wait a day. So the manager moves the second meeting to the
day before yesterday (meetings may be entered or corrected up to 31 days back, for back-office
entry): its end plus 24 h is then in the past, exactly as it would be after time passed. The
clients service evaluates ``ends_at + grace > now`` at read time, so moving the end back and
letting time pass are the same test of its rule; only the event that carries the new end is
extra, and it is the real one (``crm.activities.meeting.rescheduled``)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from .conftest import Platform

pytestmark = pytest.mark.e2e

ERRORS = "userErrors { field code message }"
CREATE_EMPLOYEE = f"""mutation($input: CreateEmployeeInput!) {{ createEmployee(input: $input) {{
  employee {{ id }} {ERRORS} }} }}"""
CREATE_CLIENT = f"""mutation($input: CreateClientInput!) {{ createClient(input: $input) {{
  client {{ id }} {ERRORS} }} }}"""
SCHEDULE = f"""mutation($input: ScheduleMeetingInput!) {{ scheduleMeeting(input: $input) {{
  meeting {{ id version status }} {ERRORS} }} }}"""
RESCHEDULE = f"""mutation($input: RescheduleMeetingInput!) {{ rescheduleMeeting(input: $input) {{
  meeting {{ id version }} {ERRORS} }} }}"""
CANCEL = f"""mutation($input: CancelMeetingInput!) {{ cancelMeeting(input: $input) {{
  meeting {{ id status }} {ERRORS} }} }}"""
DOSSIER = """query($id: ID!) { client(id: $id) { id legalName eik
  contactPersons { name phones } addresses { city street } nextMeeting { id } } }"""


def _eventually(check: Callable[[], Any], what: str, within: float = 30.0) -> Any:
    """Events travel through RabbitMQ between the services: poll until ``check`` is truthy."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {within} s: {what}")
        time.sleep(0.2)


def _slot(start: dt.datetime, hours: float = 1) -> dict[str, str]:
    return {"startsAt": start.isoformat(), "endsAt": (start + dt.timedelta(hours=hours)
                                                      ).isoformat()}


def test_a_meeting_opens_the_dossier_until_cancelled_or_expired(platform: Platform) -> None:
    admin = platform.token("admin")
    manager_id, rep_id, owner_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    manager = platform.token("manager", manager_id)
    rep = platform.token("sales_rep", rep_id)
    for employee, name, role in [(rep_id, "Иван Петров", "SALES_REP"),
                                 (owner_id, "Петър Иванов", "SALES_REP")]:
        created = platform.data(admin, CREATE_EMPLOYEE, {"input": {
            "id": str(employee), "fullName": name, "role": role,
            "email": f"{employee.hex[:8]}@example.bg"}})["createEmployee"]
        assert created["userErrors"] == [], created
    client = platform.data(manager, CREATE_CLIENT, {"input": {
        "kind": "COMPANY", "legalName": "Дунав Агро ЕАД", "status": "PROSPECT",
        "ownerId": str(owner_id),
        "addresses": [{"kind": "OFFICE", "city": "Русе", "street": "ул. Александровска 5"}],
        "contactPersons": [{"name": "Мария Колева", "phones": ["082 123 456"]}]}}
    )["createClient"]
    assert client["userErrors"] == [], client
    client_id = client["client"]["id"]

    def dossier() -> Any:
        return platform.data(rep, DOSSIER, {"id": client_id})["client"]

    assert dossier() is None  # not the rep's client

    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0)

    def schedule(start: dt.datetime) -> Any:
        """Retried while the activities service has not yet heard of the client or the rep."""
        body = platform.data(manager, SCHEDULE, {"input": {
            "clientId": client_id, "employeeId": str(rep_id), "purpose": "Запознанство",
            **_slot(start)}})["scheduleMeeting"]
        waiting = {"NOT_FOUND", "UNKNOWN_EMPLOYEE"}
        if body["userErrors"] and all(e["code"] in waiting for e in body["userErrors"]):
            return None
        assert body["userErrors"] == [], body
        return body["meeting"]

    # 1. scheduled: the rep reads the full dossier (through the gateway, from two subgraphs)
    meeting = _eventually(lambda: schedule(tomorrow), "the activities service knows the client")
    seen = _eventually(dossier, "the clients service got the meeting grant")
    assert seen["legalName"] == "Дунав Агро ЕАД"
    assert seen["contactPersons"] == [{"name": "Мария Колева", "phones": ["+35982123456"]}]
    assert seen["addresses"] == [{"city": "Русе", "street": "ул. Александровска 5"}]
    assert seen["nextMeeting"] == {"id": meeting["id"]}

    # 2. cancelled: not found again
    cancelled = platform.data(manager, CANCEL, {"input": {
        "id": meeting["id"], "version": meeting["version"], "reason": "Клиентът отказа"}}
    )["cancelMeeting"]
    assert cancelled["userErrors"] == [] and cancelled["meeting"]["status"] == "CANCELLED"
    _eventually(lambda: dossier() is None, "the cancellation revoked the grant")

    # 3. a new meeting opens it again; once its end plus the grace period is past, closed
    second = _eventually(lambda: schedule(tomorrow + dt.timedelta(hours=3)), "scheduled")
    _eventually(dossier, "the second meeting's grant arrived")
    two_days_ago = tomorrow - dt.timedelta(days=3)
    moved = platform.data(manager, RESCHEDULE, {"input": {
        "id": second["id"], "version": second["version"], **_slot(two_days_ago)}}
    )["rescheduleMeeting"]
    assert moved["userErrors"] == [], moved
    _eventually(lambda: dossier() is None, "the grant expired (end + 24 h is past)")
    # a manager still reads it, and the rep's listing does not show it
    assert platform.data(manager, DOSSIER, {"id": client_id})["client"]["id"] == client_id
    listed = platform.data(rep, "{ clients(first: 50) { edges { node { id } } } }")
    assert client_id not in {e["node"]["id"] for e in listed["clients"]["edges"]}
