"""The inventory's rules without a server: values, audit lines, geolocation, cadence, who may."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from crm_clients.domain import asset, audit, placement
from crm_clients.domain.access import Decision
from crm_common.auth import Principal
from crm_common.problems import Problems
from crm_common.text import InvalidValue

NOW = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 7)


def _codes(exc: pytest.ExceptionInfo[Problems]) -> list[tuple[tuple[str, ...], str]]:
    return [(p.field, p.code) for p in exc.value.problems]


def test_amounts_are_non_negative_euros_with_cents() -> None:
    assert asset.amount("12.5") == Decimal("12.50")
    assert asset.amount(None) is None
    for bad, code in (("-0.01", "OUT_OF_RANGE"), ("NaN", "INVALID_VALUE"),
                      ("1.001", "INVALID_VALUE"), (True, "INVALID_TYPE"),
                      ("1" * 40, "OUT_OF_RANGE"), ("100000000", "OUT_OF_RANGE")):
        with pytest.raises(InvalidValue) as exc:
            asset.amount(bad)
        assert exc.value.code == code, bad


def test_asset_type_defaults_and_immutable_tracking() -> None:
    created = asset.validate_asset_type({"name": " Хладилник ", "category": "fridge",
                                         "tracking": "SERIALIZED"}, creating=True)
    assert created == {"name": "Хладилник", "category": "fridge", "tracking": "serialized",
                       "audit_interval_days": 90}
    with pytest.raises(Problems) as exc:
        asset.validate_asset_type({"tracking": "bulk"}, creating=False)
    assert _codes(exc) == [(("input", "tracking"), "IMMUTABLE")]


def test_codes_are_one_line() -> None:
    assert asset.code(" QR-1 ", what="tagCode") == "QR-1"
    with pytest.raises(InvalidValue):
        asset.code("QR\t1", what="tagCode")


def test_audit_lines_need_an_asset_and_are_unique() -> None:
    same = str(uuid.uuid4())
    with pytest.raises(Problems) as exc:
        audit.validate_audit({"lines": [
            {"asset_id": same, "result": "found"},
            {"asset_id": same.upper(), "result": "missing"},
            {"result": "found"},
            {"tag_code": "QR-1", "result": "gone"},
        ]}, NOW)
    assert _codes(exc) == [
        (("input", "lines", "1", "asset_id"), "DUPLICATE"),
        (("input", "lines", "2", "asset_id"), "REQUIRED"),
        (("input", "lines", "3", "result"), "INVALID_VALUE"),
    ]


def test_geolocation_both_coordinates_in_range() -> None:
    ok = audit.validate_geolocation({"latitude": "42.6977081", "longitude": 23}, ("g",))
    assert ok == {"latitude": Decimal("42.697708"), "longitude": Decimal("23.000000"),
                  "accuracy_meters": None}
    with pytest.raises(Problems) as exc:
        audit.validate_geolocation({"latitude": "-90.5"}, ("g",))
    assert _codes(exc) == [(("g", "latitude"), "OUT_OF_RANGE"), (("g", "longitude"), "REQUIRED")]


def test_audit_moment_within_thirty_days() -> None:
    with pytest.raises(Problems) as exc:
        audit.validate_audit({"audited_at": NOW - dt.timedelta(days=31),
                              "lines": [{"tag_code": "A", "result": "found"}]}, NOW)
    assert _codes(exc) == [(("input", "audited_at"), "OUT_OF_RANGE")]
    naive = audit.validate_audit({"lines": [{"tag_code": "A", "result": "found"}]}, NOW)
    assert naive["audited_at"] == NOW


def test_cadence_and_returns() -> None:
    assert placement.next_audit_due(TODAY, 90) == dt.date(2027, 3, 7)
    back = placement.validate_return({"condition": "worn"}, TODAY)
    assert back == {"returned_on": TODAY, "condition": "worn", "asset_status": "in_stock"}
    with pytest.raises(Problems) as exc:
        placement.validate_return({"condition": "good", "asset_status": "placed"}, TODAY)
    assert _codes(exc) == [(("input", "asset_status"), "INVALID_VALUE")]


def test_who_may_place_and_audit() -> None:
    me = uuid.uuid4()
    rep = Principal(subject=me, roles=frozenset({"sales_rep"}))
    manager = Principal(subject=uuid.uuid4(), roles=frozenset({"manager"}))
    assert placement.decide(rep, me, visible=True) is Decision.ALLOW
    assert placement.decide(rep, uuid.uuid4(), visible=True) is Decision.FORBIDDEN  # a grant
    assert placement.decide(rep, me, visible=False) is Decision.NOT_FOUND
    assert placement.decide(manager, None, visible=True) is Decision.ALLOW
    assert audit.decide(rep, uuid.uuid4(), visible=True) is Decision.ALLOW  # during a visit
    assert audit.decide(rep, me, visible=False) is Decision.NOT_FOUND
    assert asset.manages_inventory(manager) and not asset.manages_inventory(rep)
