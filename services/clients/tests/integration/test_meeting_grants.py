"""Access through scheduled meetings (DESIGN §6): the grant store fed by the activities
service's meeting events, published here to RabbitMQ as the activities service would, and the
rule as a matrix: roles × (owned, granted, expired grant, revoked grant, neither) × the parts of
the dossier."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from crm_clients.adapters.tables import meeting_grants
from crm_common.testing import publish_event

from .conftest import Service
from .fragments import CREATE, company, fresh_eik

pytestmark = pytest.mark.integration

DOSSIER = """
query($id: ID!) {
  client(id: $id) {
    id legalName
    contactPersons { id name }
    bankAccounts { id iban }
    history(first: 5) { edges { node { operation entityType } } }
    %s
  }
}"""

ADD_CONTACT = """
mutation($input: AddContactPersonInput!) {
  addContactPerson(input: $input) { contactPerson { id } userErrors { field code } }
}"""

LIST_IDS = """query($f: ClientFilterInput) { clients(first: 100, filter: $f) {
  edges { node { id } } } }"""


class Meetings:
    """Publishes crm.activities.meeting.* events as the activities service does."""

    def __init__(self, service: Service, exchange: str) -> None:
        self.service, self.exchange = service, exchange
        self.versions: dict[uuid.UUID, int] = {}

    async def publish(self, status: str, meeting_id: uuid.UUID, client_id: str,
                      employee_id: uuid.UUID, starts_at: dt.datetime, ends_at: dt.datetime,
                      *, version: int | None = None) -> None:
        version = version or self.versions.get(meeting_id, 0) + 1
        self.versions[meeting_id] = max(version, self.versions.get(meeting_id, 0))
        verb = {"scheduled": "scheduled", "cancelled": "cancelled",
                "completed": "completed"}[status] if version == 1 or status != "scheduled" \
            else "rescheduled"
        # checked against the catalogue: what we publish is what the contract says
        await publish_event(self.exchange, f"crm.activities.meeting.{verb}", str(meeting_id), {
            "meetingId": str(meeting_id), "clientId": client_id,
            "employeeId": str(employee_id), "startsAt": starts_at.isoformat(),
            "endsAt": ends_at.isoformat(), "status": status, "version": version,
        }, source="crm/activities")

    async def wait_applied(self, meeting_id: uuid.UUID, version: int) -> dict[str, Any]:
        engine = create_async_engine(self.service.settings.database_url)
        try:
            for _ in range(300):
                async with engine.connect() as conn:
                    row = (await conn.execute(select(meeting_grants).where(
                        meeting_grants.c.meeting_id == meeting_id))).mappings().one_or_none()
                if row is not None and row["version"] >= version:
                    return dict(row)
                await asyncio.sleep(0.05)
        finally:
            await engine.dispose()
        raise AssertionError(f"meeting {meeting_id} v{version} was not applied")


@pytest.fixture(scope="module")
async def meetings(service: Service, exchange_name: str) -> Meetings:
    return Meetings(service, exchange_name)


async def _client_with_dossier(service: Service, name: str, owner: uuid.UUID | None) -> str:
    manager = service.token("manager")
    eik = fresh_eik()
    payload = (await service.data(manager, CREATE, {"input": company(
        name, eik, owner=str(owner) if owner else None,
        contactPersons=[{"name": "Иван Колев", "phones": ["0888 111 222"]}],
        bankAccounts=[{"iban": "BG80BNBG96611020345678", "isDefault": True}],
    )}))["createClient"]
    assert payload["userErrors"] == [], payload
    return str(payload["client"]["id"])


STATES = ("owned", "granted", "expired", "revoked", "neither")


@pytest.fixture(scope="module")
async def matrix(service: Service, meetings: Meetings) -> dict[str, Any]:
    """One rep and one client per state of the rule."""
    rep = await service.employee()
    now = dt.datetime.now(dt.UTC)
    clients = {state: await _client_with_dossier(
        service, f"Матрица {state} {uuid.uuid4().hex[:6]} ООД",
        rep if state == "owned" else await service.employee()) for state in STATES}
    granted, expired, revoked = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await meetings.publish("scheduled", granted, clients["granted"], rep,
                           now + dt.timedelta(hours=1), now + dt.timedelta(hours=2))
    # ended 25 hours ago: past the 24-hour grace period
    await meetings.publish("completed", expired, clients["expired"], rep,
                           now - dt.timedelta(hours=26), now - dt.timedelta(hours=25))
    await meetings.publish("scheduled", revoked, clients["revoked"], rep,
                           now + dt.timedelta(hours=1), now + dt.timedelta(hours=2))
    await meetings.publish("cancelled", revoked, clients["revoked"], rep,
                           now + dt.timedelta(hours=1), now + dt.timedelta(hours=2))
    for meeting, version in ((granted, 1), (expired, 1), (revoked, 2)):
        await meetings.wait_applied(meeting, version)
    return {"rep": rep, "clients": clients}


VISIBLE_TO_REP = {"owned", "granted"}


@pytest.mark.parametrize("role", ["admin", "manager", "sales_rep"])
@pytest.mark.parametrize("state", STATES)
async def test_the_dossier_follows_the_client_rule(service: Service, matrix: dict[str, Any],
                                                   role: str, state: str) -> None:
    subject = matrix["rep"] if role == "sales_rep" else uuid.uuid4()
    token = service.token(role, subject)
    client_id = matrix["clients"][state]
    extra = "contracts { edges { node { id } } }" if "contracts" in _client_fields(service) else ""
    client = (await service.data(token, DOSSIER % extra, {"id": client_id}))["client"]
    listed = {e["node"]["id"] for e in (await service.data(
        token, LIST_IDS, {"f": {"status": "ACTIVE"}}))["clients"]["edges"]}
    if role != "sales_rep" or state in VISIBLE_TO_REP:
        assert client is not None and client["id"] == client_id
        assert [c["name"] for c in client["contactPersons"]] == ["Иван Колев"]
        assert [b["iban"] for b in client["bankAccounts"]] == ["BG80BNBG96611020345678"]
        assert client["history"]["edges"][0]["node"] == {"operation": "create",
                                                         "entityType": "client"}
        if extra:
            assert client["contracts"] == {"edges": []}
        if role == "sales_rep" or len(listed) < 100:
            assert client_id in listed
    else:
        # not found: the client, and with it every part of the dossier, reads as absent
        assert client is None
        assert client_id not in listed


_FIELDS: dict[str, set[str]] = {}


def _client_fields(service: Service) -> set[str]:
    if "fields" not in _FIELDS:
        from crm_clients.graphql.schema import build_schema
        schema = build_schema()
        _FIELDS["fields"] = {f.name for f in schema.get_type_by_name("Client").fields}
    return _FIELDS["fields"]


async def test_a_granted_rep_reads_but_may_not_change(service: Service,
                                                     matrix: dict[str, Any]) -> None:
    token = service.token("sales_rep", matrix["rep"])
    granted = await service.data(token, ADD_CONTACT, {"input": {
        "clientId": matrix["clients"]["granted"], "contactPerson": {"name": "Нов Човек"}}})
    assert granted["addContactPerson"]["userErrors"] == [
        {"field": ["input", "clientId"], "code": "FORBIDDEN"}]
    for state in ("expired", "revoked", "neither"):
        refused = await service.data(token, ADD_CONTACT, {"input": {
            "clientId": matrix["clients"][state], "contactPerson": {"name": "Нов Човек"}}})
        assert refused["addContactPerson"]["userErrors"] == [
            {"field": ["input", "clientId"], "code": "NOT_FOUND"}]
    owned = await service.data(token, ADD_CONTACT, {"input": {
        "clientId": matrix["clients"]["owned"], "contactPerson": {"name": "Нов Човек"}}})
    assert owned["addContactPerson"]["userErrors"] == []


async def test_events_out_of_order_and_twice_keep_the_newest(
        service: Service, meetings: Meetings) -> None:
    rep = await service.employee()
    client_id = await _client_with_dossier(service, f"Ред {uuid.uuid4().hex[:6]} АД", None)
    token = service.token("sales_rep", rep)
    meeting = uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    start, end = now + dt.timedelta(hours=3), now + dt.timedelta(hours=4)
    # the cancellation (v2) overtakes the scheduling (v1), which then arrives twice
    await meetings.publish("cancelled", meeting, client_id, rep, start, end, version=2)
    await meetings.wait_applied(meeting, 2)
    await meetings.publish("scheduled", meeting, client_id, rep, start, end, version=1)
    await meetings.publish("scheduled", meeting, client_id, rep, start, end, version=1)
    await asyncio.sleep(0.5)
    row = await meetings.wait_applied(meeting, 2)
    assert row["status"] == "cancelled" and row["version"] == 2
    assert (await service.data(token, DOSSIER % "", {"id": client_id}))["client"] is None


async def test_rescheduling_to_another_rep_moves_the_grant(
        service: Service, meetings: Meetings) -> None:
    first, second = await service.employee(), await service.employee()
    client_id = await _client_with_dossier(service, f"Смяна {uuid.uuid4().hex[:6]} АД", None)
    meeting = uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    start, end = now + dt.timedelta(days=1), now + dt.timedelta(days=1, hours=1)
    await meetings.publish("scheduled", meeting, client_id, first, start, end, version=1)
    await meetings.wait_applied(meeting, 1)
    assert (await service.data(service.token("sales_rep", first), DOSSIER % "",
                               {"id": client_id}))["client"] is not None
    await meetings.publish("scheduled", meeting, client_id, second, start, end, version=2)
    await meetings.wait_applied(meeting, 2)
    assert (await service.data(service.token("sales_rep", first), DOSSIER % "",
                               {"id": client_id}))["client"] is None
    assert (await service.data(service.token("sales_rep", second), DOSSIER % "",
                               {"id": client_id}))["client"]["id"] == client_id
