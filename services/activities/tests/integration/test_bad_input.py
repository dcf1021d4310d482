"""Every mutation with missing, wrong, huge and hostile values: a userError naming the field,
and nothing stored changes (no row, no history, no event)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from .conftest import Publisher, Service
from .helpers import CANCEL, COMPLETE, LOG, RESCHEDULE, SCHEDULE, make_world, sql
from .test_competitors import CREATE, RECORD, UPDATE

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
HUGE = "й" * 10_000
HOSTILE = "Robert'); DROP TABLE activities;--\u202e"
TABLES = ("activities", "meetings", "competitors", "competitor_observations", "history",
          "outbox", "calendar_feeds")


def _iso(**kw: float) -> str:
    return (NOW + dt.timedelta(**kw)).isoformat()


def _activity(w: Any, **over: Any) -> dict[str, Any]:
    data = {"clientId": str(w.rep_client), "kind": "VISIT", "occurredAt": _iso(hours=-2),
            "durationMinutes": 30, "notes": "Посещение"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not ...}


def _meeting(w: Any, **over: Any) -> dict[str, Any]:
    data = {"clientId": str(w.rep_client), "startsAt": _iso(days=20),
            "endsAt": _iso(days=20, hours=1)}
    data.update(over)
    return {k: v for k, v in data.items() if v is not ...}


ACTIVITY_CASES = [
    ({"clientId": "not-a-uuid"}, ["input", "clientId"], "INVALID_ID"),
    ({"clientId": str(uuid.UUID(int=7))}, ["input", "clientId"], "NOT_FOUND"),
    ({"kind": ...}, ["input", "kind"], "REQUIRED"),
    ({"occurredAt": ...}, ["input", "occurredAt"], "REQUIRED"),
    ({"occurredAt": _iso(days=2)}, ["input", "occurredAt"], "IN_THE_FUTURE"),
    ({"occurredAt": "1970-01-01T00:00:00+00:00"}, ["input", "occurredAt"], "OUT_OF_RANGE"),
    ({"occurredAt": "2026-03-02T10:00:00"}, ["input", "occurredAt"], "TIMEZONE_REQUIRED"),
    ({"durationMinutes": ...}, ["input", "durationMinutes"], "REQUIRED"),
    ({"durationMinutes": 0}, ["input", "durationMinutes"], "OUT_OF_RANGE"),
    ({"kind": "PHONE_CALL", "durationMinutes": 0}, ["input", "durationMinutes"], "OUT_OF_RANGE"),
    ({"durationMinutes": -5}, ["input", "durationMinutes"], "OUT_OF_RANGE"),
    ({"durationMinutes": 100_000}, ["input", "durationMinutes"], "OUT_OF_RANGE"),
    ({"notes": ...}, ["input", "notes"], "REQUIRED"),
    ({"notes": "   "}, ["input", "notes"], "REQUIRED"),
    ({"notes": HUGE}, ["input", "notes"], "TOO_LONG"),
    ({"agreements": HUGE}, ["input", "agreements"], "TOO_LONG"),
    ({"subject": HOSTILE}, ["input", "subject"], "CONTROL_CHARACTERS"),
    ({"location": "a\u0000b"}, ["input", "location"], "CONTROL_CHARACTERS"),
    ({"contactPersonId": "1; DROP"}, ["input", "contactPersonId"], "INVALID_ID"),
    ({"employeeId": str(uuid.UUID(int=9))}, ["input", "employeeId"], "FORBIDDEN"),
]

MEETING_CASES = [
    ({"clientId": str(uuid.UUID(int=8))}, ["input", "clientId"], "NOT_FOUND"),
    ({"startsAt": ...}, ["input", "startsAt"], "REQUIRED"),
    ({"endsAt": ...}, ["input", "endsAt"], "REQUIRED"),
    ({"endsAt": _iso(days=19)}, ["input", "endsAt"], "END_BEFORE_START"),
    ({"endsAt": _iso(days=20)}, ["input", "endsAt"], "END_BEFORE_START"),  # 0 minutes
    ({"endsAt": _iso(days=22)}, ["input", "endsAt"], "TOO_LONG"),
    ({"startsAt": _iso(days=-60), "endsAt": _iso(days=-60, hours=1)}, ["input", "startsAt"],
     "TOO_FAR_IN_THE_PAST"),
    ({"startsAt": "2099-01-01T10:00:00+00:00", "endsAt": "2099-01-01T11:00:00+00:00"},
     ["input", "startsAt"], "TOO_FAR_AHEAD"),
    ({"place": HUGE}, ["input", "place"], "TOO_LONG"),
    ({"purpose": HUGE}, ["input", "purpose"], "TOO_LONG"),
    ({"contactPersonIds": ["x"]}, ["input", "contactPersonIds", "0"], "INVALID_ID"),
    ({"contactPersonIds": [str(uuid.uuid4()) for _ in range(21)]}, ["input", "contactPersonIds"],
     "TOO_MANY"),
    ({"employeeId": "nope"}, ["input", "employeeId"], "INVALID_ID"),
]


async def _counts(service: Service) -> dict[str, Any]:
    rows = await sql(service, " UNION ALL ".join(
        f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in TABLES))
    return {r["t"]: r["n"] for r in rows}


async def _refused(service: Service, token: str, document: str, name: str,
                   data: dict[str, Any], field: list[str], code: str) -> None:
    before = await _counts(service)
    body = (await service.data(token, document, {"input": data}))[name]
    assert (field, code) in [(e["field"], e["code"]) for e in body["userErrors"]], body
    assert all(e["message"] for e in body["userErrors"])
    assert await _counts(service) == before


@pytest.fixture(scope="module")
async def world(service: Service, publisher: Publisher) -> Any:
    return await make_world(service, publisher)


@pytest.mark.parametrize(("change", "field", "code"), ACTIVITY_CASES)
async def test_log_activity_refuses(service: Service, world: Any, change: dict[str, Any],
                                    field: list[str], code: str) -> None:
    await _refused(service, service.token("sales_rep", world.rep), LOG, "logActivity",
                   _activity(world, **change), field, code)


async def test_log_activity_accepts_the_limits(service: Service, world: Any) -> None:
    body = (await service.data(service.token("sales_rep", world.rep), LOG, {"input": _activity(
        world, notes="б" * 5000, kind="EMAIL", durationMinutes=0, occurredAt=_iso(minutes=1),
        subject="Emoji 👍 и кирилица")}))["logActivity"]
    assert body["userErrors"] == [] and len(body["activity"]["notes"]) == 5000


@pytest.mark.parametrize(("change", "field", "code"), MEETING_CASES)
async def test_schedule_meeting_refuses(service: Service, world: Any, change: dict[str, Any],
                                        field: list[str], code: str) -> None:
    await _refused(service, service.token("sales_rep", world.rep), SCHEDULE, "scheduleMeeting",
                   _meeting(world, **change), field, code)


async def test_meeting_changes_refuse_bad_input(service: Service, world: Any) -> None:
    rep = service.token("sales_rep", world.rep)
    meeting = (await service.data(rep, SCHEDULE, {"input": _meeting(
        world, startsAt=_iso(days=25), endsAt=_iso(days=25, hours=1))}))["scheduleMeeting"]
    mid = meeting["meeting"]["id"]
    cases: list[tuple[str, str, dict[str, Any], list[str], str]] = [
        (RESCHEDULE, "rescheduleMeeting", {"id": "zzz", "version": 1}, ["input", "id"],
         "INVALID_ID"),
        (RESCHEDULE, "rescheduleMeeting", {"id": str(uuid.uuid4()), "version": 1,
                                           "place": "x"}, ["input", "id"], "NOT_FOUND"),
        (RESCHEDULE, "rescheduleMeeting", {"id": mid, "version": 1}, ["input", "startsAt"],
         "REQUIRED"),
        (RESCHEDULE, "rescheduleMeeting", {"id": mid, "version": 1, "startsAt": _iso(days=25)},
         ["input", "endsAt"], "REQUIRED"),
        (RESCHEDULE, "rescheduleMeeting", {"id": mid, "version": 1, "startsAt": _iso(days=25),
                                           "endsAt": _iso(days=24)}, ["input", "endsAt"],
         "END_BEFORE_START"),
        (CANCEL, "cancelMeeting", {"id": mid, "version": 1}, ["input", "reason"], "REQUIRED"),
        (CANCEL, "cancelMeeting", {"id": mid, "version": 1, "reason": HUGE},
         ["input", "reason"], "TOO_LONG"),
        (CANCEL, "cancelMeeting", {"id": mid, "version": 5, "reason": "x"}, ["input", "version"],
         "CONFLICT"),
        (COMPLETE, "completeMeeting", {"id": mid, "version": 1, "notes": "x"},
         ["input", "actualDurationMinutes"], "REQUIRED"),
        (COMPLETE, "completeMeeting", {"id": mid, "version": 1, "actualDurationMinutes": 0,
                                       "notes": "x"}, ["input", "actualDurationMinutes"],
         "OUT_OF_RANGE"),
        (COMPLETE, "completeMeeting", {"id": mid, "version": 1, "actualDurationMinutes": 30},
         ["input", "notes"], "REQUIRED"),
        (COMPLETE, "completeMeeting", {"id": mid, "version": 1, "actualDurationMinutes": 30,
                                       "notes": HUGE}, ["input", "notes"], "TOO_LONG"),
        (COMPLETE, "completeMeeting", {"id": mid, "version": 1, "actualDurationMinutes": 30,
                                       "notes": "x", "kind": "EMAIL"}, ["input", "kind"],
         "INVALID_VALUE"),
        (COMPLETE, "completeMeeting", {"id": mid, "version": 1, "actualDurationMinutes": 30,
                                       "notes": "x"}, ["input", "actualStartsAt"],
         "IN_THE_FUTURE"),
    ]
    for document, name, data, field, code in cases:
        await _refused(service, rep, document, name, data, field, code)


async def test_competitor_mutations_refuse_bad_input(service: Service, world: Any) -> None:
    rep = service.token("sales_rep", world.rep)
    created = (await service.data(rep, CREATE, {"input": {"name": f"Конкурент {uuid.uuid4()}"}}
                                  ))["createCompetitor"]["competitor"]
    cid = created["id"]
    good = {"competitorId": cid, "observedOn": str(dt.date.today()), "kind": "PROMOTION",
            "description": "2+1 гратис", "impact": "LOW"}
    cases: list[tuple[str, str, dict[str, Any], list[str], str]] = [
        (CREATE, "createCompetitor", {}, ["input", "name"], "REQUIRED"),
        (CREATE, "createCompetitor", {"name": HUGE}, ["input", "name"], "TOO_LONG"),
        (CREATE, "createCompetitor", {"name": "x", "eik": "123456789"}, ["input", "eik"],
         "INVALID_EIK"),
        (CREATE, "createCompetitor", {"name": "x", "website": "javascript:alert(1)"},
         ["input", "website"], "INVALID_URL"),
        (CREATE, "createCompetitor", {"name": "x", "productGroups": ["a"] * 51},
         ["input", "productGroups"], "TOO_MANY"),
        (CREATE, "createCompetitor", {"name": "x", "productGroups": ["ok", HOSTILE]},
         ["input", "productGroups", "1"], "CONTROL_CHARACTERS"),
        (UPDATE, "updateCompetitor", {"id": cid, "version": 1, "name": ""}, ["input", "name"],
         "REQUIRED"),
        (UPDATE, "updateCompetitor", {"id": cid, "version": 9, "notes": "x"},
         ["input", "version"], "CONFLICT"),
        (UPDATE, "updateCompetitor", {"id": str(uuid.uuid4()), "version": 1, "notes": "x"},
         ["input", "id"], "NOT_FOUND"),
        (RECORD, "recordCompetitorObservation", {**good, "competitorId": str(uuid.uuid4())},
         ["input", "competitorId"], "NOT_FOUND"),
        (RECORD, "recordCompetitorObservation", {**good, "observedOn": "2099-01-01"},
         ["input", "observedOn"], "IN_THE_FUTURE"),
        (RECORD, "recordCompetitorObservation", {**good, "description": HUGE},
         ["input", "description"], "TOO_LONG"),
        (RECORD, "recordCompetitorObservation", {**good, "impact": None}, ["input", "impact"],
         "REQUIRED"),
        (RECORD, "recordCompetitorObservation", {**good, "kind": None}, ["input", "kind"],
         "REQUIRED"),
        (RECORD, "recordCompetitorObservation", {**good, "clientId": str(world.other_client)},
         ["input", "clientId"], "NOT_FOUND"),
        (RECORD, "recordCompetitorObservation", {**good, "source": "a\u202eb"},
         ["input", "source"], "CONTROL_CHARACTERS"),
    ]
    for document, name, data, field, code in cases:
        await _refused(service, rep, document, name, data, field, code)


async def test_malformed_arguments_are_request_errors(service: Service, world: Any) -> None:
    rep = service.token("sales_rep", world.rep)
    for query, variables in [
        ("query($a: String) { activities(after: $a) { edges { cursor } } }", {"a": "garbage"}),
        ("{ activities(first: 0) { edges { cursor } } }", {}),
        ("{ meetings(filter: {clientId: \"x\"}) { edges { cursor } } }", {}),
        ("""query($a: String) { competitorObservations(after: $a) { edges { cursor } } }""",
         {"a": "W10"}),
    ]:
        body = (await service.gql(rep, query, variables)).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    missing = await service.gql(None, "{ activities { edges { cursor } } }")
    assert missing.status_code == 401


@pytest.mark.parametrize(("document", "data"), [
    (LOG, {"kind": "VISIT"}),
    (SCHEDULE, {"startsAt": _iso(days=20), "endsAt": _iso(days=20, hours=1)}),
    (RESCHEDULE, {"version": 1}),
    (RESCHEDULE, {"id": str(uuid.uuid4())}),
    (CANCEL, {"version": 1, "reason": "x"}),
    (COMPLETE, {"id": str(uuid.uuid4()), "notes": "x"}),
    (UPDATE, {"version": 1, "name": "x"}),
    (RECORD, {"kind": "PRICE_CHANGE"}),
])
async def test_a_missing_id_or_version_is_a_request_error(service: Service, world: Any,
                                                          document: str,
                                                          data: dict[str, Any]) -> None:
    """Ids and versions are ``ID!`` / ``Int!`` as in every subgraph: leaving one out is refused
    before anything runs (the business fields stay nullable and come back as REQUIRED)."""
    before = await _counts(service)
    response = await service.gql(service.token("manager", world.manager), document,
                                 {"input": data})
    body = response.json()
    assert body.get("data") is None and body["errors"], body
    assert body["errors"][0]["extensions"]["code"] in {"BAD_USER_INPUT",
                                                       "GRAPHQL_VALIDATION_FAILED"}, body
    assert "required field" in body["errors"][0]["message"], body
    assert await _counts(service) == before
