import datetime as dt
import enum
import uuid
from decimal import Decimal

import pytest

from crm_common.jsonvalues import jsonable, snapshot
from crm_common.problems import Problems, conflict, forbidden, not_found


class Colour(enum.Enum):
    RED = "red"


def test_jsonable_converts_nested_values_like_event_payloads() -> None:
    ident = uuid.uuid4()
    value = {"id": ident, "n": [Decimal("1.50"), (dt.date(2026, 1, 2),)], "c": Colour.RED,
             "at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), "none": None, "ok": True}
    assert jsonable(value) == {"id": str(ident), "n": ["1.50", ["2026-01-02"]], "c": "red",
                               "at": "2026-01-02T03:04:05.000000Z", "none": None, "ok": True}


def test_jsonable_refuses_what_json_cannot_hold() -> None:
    with pytest.raises(TypeError):
        jsonable({"x": object()})
    with pytest.raises(TypeError):
        jsonable(dt.datetime(2026, 1, 1))  # naive


def test_problem_helpers_name_the_field_by_keyword() -> None:
    assert not_found("client").problems[0].field == ("input", "id")
    p = not_found("meeting", field=("input", "meetingId")).problems[0]
    assert (p.field, p.code, p.message) == (("input", "meetingId"), "NOT_FOUND",
                                             "meeting not found")
    c = conflict("task").problems[0]
    assert (c.field, c.code) == (("input", "version"), "CONFLICT") and "task" in c.message
    f = forbidden("no", field=("input", "ownerId")).problems[0]
    assert (f.field, f.code, f.message) == (("input", "ownerId"), "FORBIDDEN", "no")
    assert isinstance(forbidden("x"), Problems)


def test_snapshot_is_camel_case_json_of_the_named_fields() -> None:
    ident = uuid.uuid4()
    row = {"id": ident, "legal_name": "Фирма ЕООД", "credit_limit": Decimal("1000.00"),
           "created_at": dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(
               hours=2))), "valid_until": dt.date(2026, 12, 31), "status": Colour.RED,
           "tags": ("a", "b"), "secret": "not named"}
    assert snapshot(row, ("id", "legal_name", "credit_limit", "created_at", "valid_until",
                          "status", "tags")) == {
        "id": str(ident), "legalName": "Фирма ЕООД", "creditLimit": "1000.00",
        "createdAt": "2026-01-02T01:04:05.000006Z", "validUntil": "2026-12-31",
        "status": "red", "tags": ["a", "b"]}
