"""The contract aggregate's rules: validation, transitions, who may do what, renewal arithmetic."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from crm_clients.domain.access import Decision
from crm_clients.domain.contract import (
    Action,
    ContractStatus,
    add_months,
    business_today,
    decide,
    notice_problem,
    parse_notice_days,
    renewed_until,
    transition,
    validate_contract,
    validate_discounts,
    validate_reason,
)
from crm_common.auth import Principal
from crm_common.problems import Problems

D = dt.date


def fields(exc: Problems) -> dict[tuple[str, ...], str]:
    return {p.field: p.code for p in exc.problems}


def valid(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {"number": " Д-2026/001 ", "kind": "sales", "title": "Доставки",
                               "valid_from": D(2026, 1, 1), "valid_until": D(2026, 12, 31)}
    data.update(extra)
    return data


def test_a_valid_contract_is_normalised_with_defaults() -> None:
    out = validate_contract(valid(currency="bgn", discounts=[
        {"product_group_code": " bev-01 ", "percent": Decimal("12.5")},
        {"product_code": "P-100", "percent": 3, "valid_from": D(2026, 2, 1)}]), creating=True)
    assert out["number"] == "Д-2026/001" and out["currency"] == "BGN"
    assert out["auto_renew"] is False and out["renewal_term_months"] == 12
    assert out["notice_period_days"] == 30 and out["payment_term_days"] is None
    assert out["discounts"][0] == {"product_group_code": "BEV-01", "product_code": None,
                                   "percent": Decimal("12.50"), "valid_from": None,
                                   "valid_until": None}
    assert out["discounts"][1]["percent"] == Decimal("3.00")


def test_create_reports_every_problem_at_once() -> None:
    with pytest.raises(Problems) as exc:
        validate_contract({"number": "", "kind": "lease", "title": "x" * 1_000_000,
                           "valid_from": D(2026, 5, 1), "valid_until": D(2026, 4, 30),
                           "payment_term_days": -1, "currency": "XYZ",
                           "price_terms": "ok\x07", "renewal_term_months": 0,
                           "notice_period_days": 366, "our_signatory_id": "nope"},
                          creating=True)
    assert fields(exc.value) == {
        ("input", "number"): "REQUIRED",
        ("input", "kind"): "INVALID_VALUE",
        ("input", "title"): "TOO_LONG",
        ("input", "valid_until"): "INVALID_DATE_RANGE",
        ("input", "payment_term_days"): "INVALID_VALUE",
        ("input", "currency"): "INVALID_CURRENCY",
        ("input", "price_terms"): "CONTROL_CHARACTERS",
        ("input", "renewal_term_months"): "INVALID_VALUE",
        ("input", "notice_period_days"): "INVALID_VALUE",
        ("input", "our_signatory_id"): "INVALID_ID",
    }


def test_required_fields_on_create_and_only_present_fields_on_update() -> None:
    with pytest.raises(Problems) as exc:
        validate_contract({}, creating=True)
    assert fields(exc.value) == {("input", "number"): "REQUIRED",
                                 ("input", "title"): "REQUIRED",
                                 ("input", "kind"): "REQUIRED",
                                 ("input", "valid_from"): "REQUIRED"}
    assert validate_contract({"title": " Нов "}, creating=False) == {"title": "Нов"}
    assert validate_contract({"valid_until": None}, creating=False) == {"valid_until": None}
    with pytest.raises(Problems) as exc:
        validate_contract({"valid_from": None, "title": None}, creating=False)
    assert fields(exc.value) == {("input", "valid_from"): "REQUIRED",
                                 ("input", "title"): "REQUIRED"}


@pytest.mark.parametrize("value", [D(1899, 12, 31), D(2200, 1, 1), D(9999, 12, 31)])
def test_absurd_dates_are_refused(value: dt.date) -> None:
    with pytest.raises(Problems) as exc:
        validate_contract(valid(valid_until=value, valid_from=D(1900, 1, 1)), creating=True)
    assert fields(exc.value) == {("input", "valid_until"): "INVALID_VALUE"}


def test_wrong_types_are_refused_not_coerced() -> None:
    with pytest.raises(Problems) as exc:
        validate_contract({"title": 5, "valid_from": "2026-01-01", "payment_term_days": True,
                           "signed_on": dt.datetime(2026, 1, 1)}, creating=False)
    assert fields(exc.value) == {("input", "title"): "INVALID_TYPE",
                                 ("input", "valid_from"): "INVALID_TYPE",
                                 ("input", "payment_term_days"): "INVALID_TYPE",
                                 ("input", "signed_on"): "INVALID_TYPE"}


def test_open_ended_contract_cannot_auto_renew() -> None:
    with pytest.raises(Problems) as exc:
        validate_contract(valid(valid_until=None, auto_renew=True), creating=True)
    assert fields(exc.value) == {("input", "auto_renew"): "INVALID_VALUE"}
    out = validate_contract(valid(auto_renew=True), creating=True)
    assert out["auto_renew"] is True


@pytest.mark.parametrize(("discount", "field", "code"), [
    ({"percent": 10}, "product_code", "INVALID_VALUE"),  # neither target
    ({"product_code": "A", "product_group_code": "G", "percent": 10}, "product_code",
     "INVALID_VALUE"),                                  # both targets
    ({"product_code": "A", "percent": Decimal("100.01")}, "percent", "INVALID_VALUE"),
    ({"product_code": "A", "percent": 0}, "percent", "INVALID_VALUE"),
    ({"product_code": "A", "percent": -5}, "percent", "INVALID_VALUE"),
    ({"product_code": "A", "percent": Decimal("NaN")}, "percent", "INVALID_VALUE"),
    ({"product_code": "A", "percent": Decimal("Infinity")}, "percent", "INVALID_VALUE"),
    ({"product_code": "A", "percent": Decimal("1E+999999")}, "percent", "INVALID_VALUE"),
    ({"product_code": "A", "percent": Decimal("12.345")}, "percent", "INVALID_VALUE"),
    ({"product_code": "A", "percent": "1" * 5000}, "percent", "INVALID_VALUE"),
    ({"product_code": "A", "percent": True}, "percent", "INVALID_TYPE"),
    ({"product_code": "A"}, "percent", "REQUIRED"),
    ({"product_code": "x" * 65, "percent": 5}, "product_code", "TOO_LONG"),
    ({"product_code": "A\u202e", "percent": 5}, "product_code", "CONTROL_CHARACTERS"),
    ({"product_code": "A", "percent": 5, "valid_from": D(2026, 3, 1),
      "valid_until": D(2026, 2, 1)}, "valid_until", "INVALID_DATE_RANGE"),
])
def test_bad_discounts_name_their_field(discount: dict[str, object], field: str,
                                        code: str) -> None:
    with pytest.raises(Problems) as exc:
        validate_discounts([{"product_group_code": "OK", "percent": 1}, discount],
                           ("input", "discounts"))
    assert fields(exc.value) == {("input", "discounts", "1", field): code}


def test_overlapping_discounts_for_the_same_target_are_duplicates() -> None:
    first = {"product_code": "p1", "percent": 5, "valid_until": D(2026, 6, 30)}
    later = {"product_code": "P1", "percent": 7, "valid_from": D(2026, 7, 1)}
    assert len(validate_discounts([first, later], ("d",))) == 2  # back to back: fine
    with pytest.raises(Problems) as exc:
        validate_discounts([first, {**later, "valid_from": D(2026, 6, 30)}], ("d",))
    assert fields(exc.value) == {("d", "1", "product_code"): "DUPLICATE"}
    group = {"product_group_code": "P1", "percent": 5}  # a group and a product may share a code
    assert len(validate_discounts([first, group], ("d",))) == 2


def test_too_many_discounts() -> None:
    items = [{"product_code": f"P{i}", "percent": 1} for i in range(201)]
    with pytest.raises(Problems) as exc:
        validate_discounts(items, ("input", "discounts"))
    assert fields(exc.value) == {("input", "discounts"): "TOO_MANY"}


def test_transition_table() -> None:
    S = ContractStatus
    allowed = {(s, a): transition(s, a) for s in S for a in Action if transition(s, a)}
    assert allowed == {
        (S.DRAFT, Action.ACTIVATE): S.ACTIVE, (S.DRAFT, Action.TERMINATE): S.TERMINATED,
        (S.ACTIVE, Action.SUSPEND): S.SUSPENDED, (S.ACTIVE, Action.TERMINATE): S.TERMINATED,
        (S.ACTIVE, Action.EXPIRE): S.EXPIRED, (S.SUSPENDED, Action.ACTIVATE): S.ACTIVE,
        (S.SUSPENDED, Action.TERMINATE): S.TERMINATED, (S.SUSPENDED, Action.EXPIRE): S.EXPIRED,
    }
    assert all(transition(S.TERMINATED, a) is None for a in Action)
    assert all(transition(S.EXPIRED, a) is None for a in Action)


def test_who_may_do_what() -> None:
    me = uuid.uuid4()
    rep = Principal(me, frozenset({"sales_rep"}))
    manager = Principal(uuid.uuid4(), frozenset({"manager"}))
    other = uuid.uuid4()
    draft, active = ContractStatus.DRAFT, ContractStatus.ACTIVE
    assert decide(manager, other, visible=True, action="terminate") is Decision.ALLOW
    assert decide(manager, other, visible=False, action="update") is Decision.NOT_FOUND
    assert decide(rep, me, visible=True, action="create") is Decision.ALLOW
    assert decide(rep, me, visible=True, action="update", status=draft) is Decision.ALLOW
    assert decide(rep, me, visible=True, action="update", status=active) is Decision.FORBIDDEN
    assert decide(rep, me, visible=True, action="activate", status=draft) is Decision.FORBIDDEN
    # a rep who sees the client through a meeting, without owning it, may read but not write
    assert decide(rep, other, visible=True, action="create") is Decision.FORBIDDEN
    assert decide(rep, other, visible=False, action="create") is Decision.NOT_FOUND


def test_month_arithmetic_clamps_to_the_months_end() -> None:
    assert add_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    assert add_months(D(2028, 1, 31), 1) == D(2028, 2, 29)
    assert add_months(D(2026, 11, 30), 14) == D(2028, 1, 30)
    assert add_months(D(2026, 3, 15), -3) == D(2025, 12, 15)


def test_renewal_catches_up_whole_terms() -> None:
    assert renewed_until(D(2026, 1, 31), 1, D(2026, 2, 1)) == D(2026, 2, 28)
    assert renewed_until(D(2026, 1, 31), 1, D(2026, 3, 1)) == D(2026, 3, 31)  # not 28 Mar
    assert renewed_until(D(2025, 12, 31), 12, D(2026, 1, 1)) == D(2026, 12, 31)
    assert renewed_until(D(2023, 12, 31), 12, D(2026, 6, 1)) == D(2026, 12, 31)


def test_auto_renewal_can_be_cancelled_only_before_the_notice_deadline() -> None:
    stored = {"auto_renew": True, "status": "active", "valid_until": D(2026, 12, 31),
              "notice_period_days": 30}
    off = {"auto_renew": False}
    assert notice_problem(stored, off, D(2026, 12, 1)) is None  # the deadline itself
    late = notice_problem(stored, off, D(2026, 12, 2))
    assert late is not None and late.code == "NOTICE_PERIOD_PASSED"
    assert late.field == ("input", "auto_renew")
    assert notice_problem({**stored, "status": "draft"}, off, D(2026, 12, 30)) is None
    assert notice_problem(stored, {"auto_renew": True}, D(2026, 12, 30)) is None


def test_reason_and_notice_days_settings() -> None:
    assert validate_reason("  ", required=False) is None
    with pytest.raises(Problems) as exc:
        validate_reason(None, required=True)
    assert fields(exc.value) == {("input", "reason"): "REQUIRED"}
    assert parse_notice_days(None) == (30,)
    assert parse_notice_days(" 7, 30,30 ,90") == (90, 30, 7)
    for bad in ("x", "-1", "7;30", "99999"):
        with pytest.raises(ValueError):
            parse_notice_days(bad)


def test_business_today_is_the_sofia_date() -> None:
    late_utc = dt.datetime(2026, 6, 30, 22, 30, tzinfo=dt.UTC)  # 01:30 on 1 July in Sofia
    assert business_today(late_utc) == D(2026, 7, 1)
