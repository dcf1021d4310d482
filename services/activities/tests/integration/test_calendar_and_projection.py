"""The per-employee iCalendar feed (read with a real iCalendar parser), and the client projection
catching up after the service was down."""

from __future__ import annotations

import datetime as dt
import uuid

import icalendar
import pytest

from .conftest import Publisher, Service, wait_until
from .helpers import CANCEL, SCHEDULE, make_world, sql

pytestmark = pytest.mark.integration

ROTATE = """mutation($input: RotateCalendarFeedInput) { rotateCalendarFeed(input: $input) {
  url employeeId userErrors { field code message } } }"""


async def test_calendar_feed(service: Service, publisher: Publisher) -> None:
    w = await make_world(service, publisher)
    rep = service.token("sales_rep", w.rep)
    start = dt.datetime.now(dt.UTC).replace(microsecond=0, second=0) + dt.timedelta(days=2)
    meetings = []
    for i, purpose in enumerate(["Договор 2027", "Рекламация; партида 7"]):
        result = (await service.data(rep, SCHEDULE, {"input": {
            "clientId": str(w.rep_client), "purpose": purpose, "place": "Пловдив, ул. Капитан "
            "Райчо 2", "startsAt": (start + dt.timedelta(hours=2 * i)).isoformat(),
            "endsAt": (start + dt.timedelta(hours=2 * i + 1)).isoformat()}}))["scheduleMeeting"]
        meetings.append(result["meeting"])
    await service.data(rep, CANCEL, {"input": {"id": meetings[1]["id"], "version": 1,
                                               "reason": "отпада"}})

    feed = (await service.data(rep, ROTATE, {}))["rotateCalendarFeed"]
    assert feed["userErrors"] == [] and feed["employeeId"] == str(w.rep)
    url = feed["url"]
    assert url.startswith(service.url + "/calendar/") and url.endswith(".ics")
    response = await service.client.get(url)  # no bearer token: the secret is the credential
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{m['id']}@crm-activities" for m in meetings}
    first = events[f"{meetings[0]['id']}@crm-activities"]
    assert first.decoded("DTSTART") == start
    assert first.decoded("DTEND") == start + dt.timedelta(hours=1)
    assert str(first["SUMMARY"]) == "Тракия Дистрибуция АД: Договор 2027"
    assert str(first["LOCATION"]) == "Пловдив, ул. Капитан Райчо 2"
    assert str(first["STATUS"]) == "CONFIRMED"
    cancelled = events[f"{meetings[1]['id']}@crm-activities"]
    assert str(cancelled["STATUS"]) == "CANCELLED" and int(cancelled["SEQUENCE"]) == 2
    assert str(cancelled["DESCRIPTION"]) == "Рекламация; партида 7"

    # only the hash is stored; rotating makes the old URL a 404
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    stored = await sql(service, "SELECT token_hash FROM calendar_feeds WHERE employee_id = :e",
                       e=w.rep)
    assert token not in stored[0]["token_hash"] and len(stored[0]["token_hash"]) == 64
    new_url = (await service.data(rep, ROTATE, {}))["rotateCalendarFeed"]["url"]
    assert new_url != url
    assert (await service.client.get(url)).status_code == 404
    assert (await service.client.get(new_url)).status_code == 200
    for bad in ("x.ics", "../../etc/passwd.ics", f"{token[:-1]}!.ics", "A" * 5000 + ".ics"):
        assert (await service.client.get(f"{service.url}/calendar/{bad}")).status_code == 404

    # a rep rotates only their own feed; an admin anyone's
    other = (await service.data(rep, ROTATE, {"input": {"employeeId": str(w.other_rep)}}))
    assert [e["code"] for e in other["rotateCalendarFeed"]["userErrors"]] == ["FORBIDDEN"]
    admin = (await service.data(service.token("admin"), ROTATE, {"input": {
        "employeeId": str(w.rep)}}))["rotateCalendarFeed"]
    assert admin["userErrors"] == [] and (await service.client.get(new_url)).status_code == 404


async def test_the_client_projection_catches_up_after_downtime(service: Service,
                                                               publisher: Publisher) -> None:
    await make_world(service, publisher)  # the queues exist (declared at the first start)
    await service.stop()
    try:
        clients = [uuid.uuid4() for _ in range(25)]
        owner = uuid.uuid4()
        for client in clients:
            await publisher.client(client, owner=owner, name=f"Клиент {client.hex[:6]}")
        # a later version published before an earlier one: the highest version wins
        await publisher.client(clients[0], owner=None, version=3,
                               type_="crm.clients.client.updated", name="Нов собственик")
        await publisher.client(clients[0], owner=owner, version=2,
                               type_="crm.clients.client.updated")
        rows = await sql(service, "SELECT count(*) AS n FROM access_clients "
                         "WHERE owner_id = :o", o=owner)
        assert rows == [{"n": 0}]  # nothing consumed while down
    finally:
        await service.start()

    async def complete() -> bool:
        rows = await sql(service, "SELECT client_id, owner_id, version, name FROM access_clients"
                         " WHERE client_id = ANY(:ids)", ids=clients)
        return len(rows) == 25 and any(r["version"] == 3 for r in rows)

    await wait_until(complete, within=30)
    first = await sql(service, "SELECT owner_id, version, name FROM access_clients "
                      "WHERE client_id = :c", c=clients[0])
    assert first == [{"owner_id": None, "version": 3, "name": "Нов собственик"}]
