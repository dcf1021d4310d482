"""Pure rules of the staff directory, client groups, commercial terms and the access decision."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from crm_clients.domain import access
from crm_clients.domain.access import Decision
from crm_clients.domain.client import money, validate_client
from crm_clients.domain.employee import validate_employee
from crm_clients.domain.group import validate_group
from crm_common.auth import Principal
from crm_common.problems import Problems


def _codes(exc: pytest.ExceptionInfo[Problems]) -> list[tuple[tuple[str, ...], str]]:
    return [(p.field, p.code) for p in exc.value.problems]


def test_an_employee_is_normalised() -> None:
    eid = uuid.uuid4()
    out = validate_employee({"id": str(eid), "full_name": "  Ана  ", "role": "SALES_REP",
                             "email": "Ana@Example.BG", "phone": "0888 123 456"}, creating=True)
    assert out == {"id": eid, "full_name": "Ана", "role": "sales_rep",
                   "email": "Ana@example.bg", "phone": "+359888123456"}


@pytest.mark.parametrize(("data", "field", "code"), [
    ({"full_name": "X", "role": "sales_rep"}, "id", "REQUIRED"),
    ({"id": "nope", "full_name": "X", "role": "sales_rep"}, "id", "INVALID_ID"),
    ({"id": str(uuid.uuid4()), "full_name": "X", "role": "boss"}, "role", "INVALID_VALUE"),
    ({"id": str(uuid.uuid4()), "full_name": "", "role": "admin"}, "full_name", "REQUIRED"),
    ({"id": str(uuid.uuid4()), "full_name": 5, "role": "admin"}, "full_name", "INVALID_TYPE"),
])
def test_bad_employees(data: dict[str, object], field: str, code: str) -> None:
    with pytest.raises(Problems) as exc:
        validate_employee(data, creating=True)
    assert _codes(exc) == [(("input", field), code)]


def test_an_employee_cannot_manage_themself() -> None:
    eid = str(uuid.uuid4())
    with pytest.raises(Problems) as exc:
        validate_employee({"id": eid, "full_name": "X", "role": "manager", "manager_id": eid},
                          creating=True)
    assert _codes(exc) == [(("input", "manager_id"), "INVALID_VALUE")]


def test_group_codes_are_upper_case_and_plain() -> None:
    assert validate_group({"code": " ret-1 ", "name": "Магазини"}, creating=True)["code"] \
        == "RET-1"
    with pytest.raises(Problems) as exc:
        validate_group({"code": "-x", "name": "A"}, creating=True)
    assert _codes(exc) == [(("input", "code"), "INVALID_VALUE")]
    assert validate_group({"name": "Само име"}, creating=False) == {"name": "Само име"}


@pytest.mark.parametrize(("raw", "expected"), [
    ("0", Decimal("0.00")), ("12.5", Decimal("12.50")), (" 1000 ", Decimal("1000.00")),
    (Decimal("999999999999.99"), Decimal("999999999999.99")), (None, None),
])
def test_money(raw: object, expected: Decimal | None) -> None:
    assert money(raw) == expected


@pytest.mark.parametrize("raw", ["-0.01", "1.001", "abc", "Infinity", "1e13", True])
def test_bad_money(raw: object) -> None:
    with pytest.raises(ValueError):
        money(raw)


def test_terms_on_a_client() -> None:
    out = validate_client({"payment_term_days": 0, "currency": "bgn", "credit_limit": "5",
                           "document_descriptions": [{"kind": "invoice", "text": " Фактура "}],
                           "group_id": None}, creating=False)
    assert out == {"payment_term_days": 0, "currency": "BGN", "credit_limit": Decimal("5.00"),
                   "document_descriptions": {"invoice": "Фактура"}, "group_id": None}
    assert validate_client({"document_descriptions": None}, creating=False) == {
        "document_descriptions": {}}
    with pytest.raises(Problems) as exc:
        validate_client({"payment_term_days": True, "document_descriptions": "x"},
                        creating=False)
    assert _codes(exc) == [(("input", "payment_term_days"), "INVALID_TYPE"),
                           (("input", "document_descriptions"), "INVALID_TYPE")]


def test_a_granted_rep_may_read_but_not_change() -> None:
    rep = Principal(uuid.uuid4(), frozenset({"sales_rep"}))
    other = uuid.uuid4()
    assert access.can_see(rep, other, granted=True)
    assert not access.can_see(rep, other, granted=False)
    assert access.can_edit(rep, other, granted=True) is Decision.FORBIDDEN
    assert access.can_edit(rep, other, granted=False) is Decision.NOT_FOUND
    assert access.can_edit(rep, rep.subject) is Decision.ALLOW
    assert access.can_archive(rep, other, granted=True) is Decision.FORBIDDEN
