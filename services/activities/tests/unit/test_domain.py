"""The domain rules without a database: done contacts, meetings, competitors, values."""

from __future__ import annotations

import datetime as dt
import uuid

import icalendar
import pytest

from crm_activities.calendar_route import calendar_of
from crm_activities.domain.activity import validate_activity
from crm_activities.domain.competitor import validate_competitor, validate_observation
from crm_activities.domain.meeting import validate_completion, validate_schedule
from crm_common.identifiers import normalize_eik, normalize_url
from crm_common.problems import Problems
from crm_common.text import InvalidValue, clean_text

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _codes(exc: pytest.ExceptionInfo[Problems]) -> set[tuple[str, str]]:
    return {(".".join(p.field), p.code) for p in exc.value.problems}


def test_a_done_contact_needs_date_duration_kind_and_notes_all_reported_at_once() -> None:
    with pytest.raises(Problems) as exc:
        validate_activity({"client_id": str(uuid.uuid4())}, NOW)
    assert _codes(exc) == {("input.kind", "REQUIRED"), ("input.occurred_at", "REQUIRED"),
                           ("input.duration_minutes", "REQUIRED"), ("input.notes", "REQUIRED")}


@pytest.mark.parametrize("kind", ["visit", "meeting", "phone_call", "video_call"])
def test_calls_and_visits_last_more_than_zero_minutes(kind: str) -> None:
    with pytest.raises(Problems) as exc:
        validate_activity({"client_id": str(uuid.uuid4()), "kind": kind, "occurred_at": NOW,
                           "duration_minutes": 0, "notes": "n"}, NOW)
    assert _codes(exc) == {("input.duration_minutes", "OUT_OF_RANGE")}


def test_an_email_may_take_zero_minutes_and_a_contact_is_not_in_the_future() -> None:
    ok = validate_activity({"client_id": str(uuid.uuid4()), "kind": "email",
                            "occurred_at": NOW + dt.timedelta(minutes=1),
                            "duration_minutes": 0, "notes": " н "}, NOW)
    assert ok.notes == "н" and ok.direction.value == "outbound"
    with pytest.raises(Problems) as exc:
        validate_activity({"client_id": str(uuid.uuid4()), "kind": "email",
                           "occurred_at": NOW + dt.timedelta(hours=1), "duration_minutes": 0,
                           "notes": "n"}, NOW)
    assert _codes(exc) == {("input.occurred_at", "IN_THE_FUTURE")}


def test_a_meeting_ends_after_it_starts() -> None:
    start = NOW + dt.timedelta(days=1)
    for end in (start, start - dt.timedelta(minutes=1)):
        with pytest.raises(Problems) as exc:
            validate_schedule({"client_id": str(uuid.uuid4()), "starts_at": start,
                               "ends_at": end}, NOW)
        assert _codes(exc) == {("input.ends_at", "END_BEFORE_START")}
    ok = validate_schedule({"client_id": str(uuid.uuid4()), "starts_at": start,
                            "ends_at": start + dt.timedelta(minutes=1),
                            "allow_overlap": True}, NOW)
    assert ok.allow_overlap and ok.contact_person_ids == []


def test_completion_needs_an_actual_duration_and_notes() -> None:
    with pytest.raises(Problems) as exc:
        validate_completion({"actual_duration_minutes": 0}, NOW)
    assert _codes(exc) == {("input.actual_duration_minutes", "OUT_OF_RANGE"),
                           ("input.notes", "REQUIRED")}


def test_competitor_and_observation_values() -> None:
    values = validate_competitor({"name": "  Агро  ", "eik": "121 759 222",
                                  "product_groups": ["A", "a", "B"]}, creating=True)
    assert values == {"name": "Агро", "eik": "121759222", "product_groups": ["A", "B"]}
    with pytest.raises(Problems) as exc:
        validate_observation({"competitor_id": "x", "observed_on": dt.date(2099, 1, 1)},
                             NOW.date())
    assert _codes(exc) == {("input.competitor_id", "INVALID_ID"),
                           ("input.observed_on", "IN_THE_FUTURE"), ("input.kind", "REQUIRED"),
                           ("input.description", "REQUIRED"), ("input.impact", "REQUIRED")}


@pytest.mark.parametrize(("value", "code"), [
    ("121759223", "INVALID_EIK"), ("12175922", "INVALID_EIK"), ("abc", "INVALID_EIK")])
def test_bad_eik(value: str, code: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        normalize_eik(value)
    assert exc.value.code == code


def test_values() -> None:
    assert normalize_url("Example.BG/път") == "https://example.bg/път"
    for bad in ("ftp://x.bg", "http://user:pw@x.bg", "localhost", "http://1.2.3.4"):
        with pytest.raises(InvalidValue):
            normalize_url(bad)
    with pytest.raises(InvalidValue) as exc:
        clean_text("a\u202eb", max_length=10)
    assert exc.value.code == "CONTROL_CHARACTERS"
    assert clean_text("ред 1\r\nред 2", max_length=20, multiline=True) == "ред 1\nред 2"


def test_calendar_of_escapes_text_and_round_trips_through_a_parser() -> None:
    start = NOW + dt.timedelta(days=1)
    row = {"id": uuid.uuid4(), "starts_at": start, "ends_at": start + dt.timedelta(hours=1),
           "version": 3, "client_name": "Тракия; ООД, \\ \"х\"", "purpose": "ред 1\nред 2",
           "place": "Пловдив, бул. Руски 15", "status": "scheduled", "updated_at": NOW}
    calendar = icalendar.Calendar.from_ical(calendar_of("e", [row], NOW))
    (event,) = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Тракия; ООД, \\ \"х\": ред 1\nред 2"
    assert event.decoded("DTSTART") == start and int(event["SEQUENCE"]) == 3
    assert str(calendar["VERSION"]) == "2.0"
