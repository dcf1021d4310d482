"""Ids and moments from input (crm_common.parsing): parsed, or refused in the user's words."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from crm_common.parsing import aware_moment, parse_uuid
from crm_common.text import InvalidValue


def test_parse_uuid_reads_text_and_passes_a_uuid_through() -> None:
    value = uuid.uuid4()
    assert parse_uuid(str(value)) == value
    assert parse_uuid(str(value).upper()) == value
    assert parse_uuid(value) is value


@pytest.mark.parametrize("raw", ["", "x", "123", None, 42, "0" * 65, str(uuid.uuid4()) + "0"])
def test_parse_uuid_refuses_with_a_message_for_people(raw: object) -> None:
    with pytest.raises(InvalidValue) as exc:
        parse_uuid(raw)
    assert exc.value.code == "INVALID_ID"
    assert exc.value.message == "This is not a valid id."  # not "badly formed hexadecimal ..."


def test_an_invalid_id_is_still_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_uuid("nope")


def test_aware_moment_is_returned_in_utc() -> None:
    sofia = dt.timezone(dt.timedelta(hours=2))
    moment = aware_moment(dt.datetime(2026, 3, 2, 10, 0, tzinfo=sofia))
    assert moment == dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    assert moment.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(("raw", "code"), [
    (dt.datetime(2026, 3, 2, 10, 0), "TIMEZONE_REQUIRED"),
    (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), "OUT_OF_RANGE"),
    (dt.datetime(2100, 1, 1, tzinfo=dt.UTC), "OUT_OF_RANGE"),
    ("2026-03-02T10:00:00Z", "INVALID_TYPE"),
    (dt.date(2026, 3, 2), "INVALID_TYPE"),
])
def test_aware_moment_refuses(raw: object, code: str) -> None:
    with pytest.raises(InvalidValue) as exc:
        aware_moment(raw)
    assert exc.value.code == code


def test_parse_uuid_names_the_kind_of_id_when_told() -> None:
    with pytest.raises(InvalidValue) as exc:
        parse_uuid("nope", what="employee id")
    assert exc.value.message == "This is not a valid employee id."


def test_lookup_id_finds_nothing_for_what_is_not_an_id() -> None:
    from crm_common.parsing import lookup_id

    ident = uuid.uuid4()
    assert lookup_id(str(ident)) == ident and lookup_id(ident) is ident
    for bad in (None, "", "zzz", "1; DROP TABLE clients", "a" * 10_000, 12, "12\x00"):
        assert lookup_id(bad) is None
