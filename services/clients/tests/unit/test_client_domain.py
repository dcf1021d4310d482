"""The client aggregate's validation: every problem reported at once, each naming its field."""

from __future__ import annotations

import pytest

from crm_clients.domain.client import (
    validate_address,
    validate_bank_account,
    validate_children,
    validate_client,
    validate_contact,
)
from crm_common.problems import Problems


def fields(exc: Problems) -> dict[tuple[str, ...], str]:
    return {p.field: p.code for p in exc.problems}


def test_a_valid_company_is_normalised() -> None:
    out = validate_client({"kind": "company", "legal_name": "  Агрополис  ЕООД ",
                           "eik": " 121759222 ", "vat_number": "bg121759222",
                           "status": "active", "phones": ["0888 123 456", "+359888123456"],
                           "tags": ["VIP", "vip"]}, creating=True)
    assert out["eik"] == "121759222" and out["vat_number"] == "BG121759222"
    assert out["phones"] == ["+359888123456"]  # the same number twice is kept once
    assert out["tags"] == ["vip"]
    assert out["legal_name"].startswith("Агрополис")


def test_create_reports_every_problem_at_once() -> None:
    with pytest.raises(Problems) as exc:
        validate_client({"kind": "robot", "legal_name": "", "eik": "1", "vat_number": "XX1",
                         "phones": ["nope"], "emails": ["a@"], "status": "archived"},
                        creating=True)
    assert fields(exc.value) == {
        ("input", "kind"): "INVALID_VALUE",
        ("input", "legal_name"): "REQUIRED",
        ("input", "eik"): "INVALID_EIK",
        ("input", "vat_number"): "INVALID_VAT",
        ("input", "phones", "0"): "INVALID_PHONE",
        ("input", "emails", "0"): "INVALID_EMAIL",
        ("input", "status"): "INVALID_VALUE",
    }


def test_active_company_needs_eik_and_vat_must_match_it() -> None:
    with pytest.raises(Problems) as exc:
        validate_client({"kind": "company", "legal_name": "Фирма", "status": "active"},
                        creating=True)
    assert fields(exc.value) == {("input", "eik"): "REQUIRED"}
    with pytest.raises(Problems) as exc:
        validate_client({"kind": "company", "legal_name": "Фирма", "status": "active",
                         "eik": "121759222", "vat_number": "BG175074752"}, creating=True)
    assert fields(exc.value) == {("input", "vat_number"): "VAT_EIK_MISMATCH"}
    prospect = validate_client({"kind": "company", "legal_name": "Фирма"}, creating=True)
    assert prospect["status"] == "prospect"


def test_update_checks_only_what_is_sent_and_none_clears() -> None:
    assert validate_client({"trade_name": None, "notes": "ред 1\nред 2"}, creating=False) == {
        "trade_name": None, "notes": "ред 1\nред 2"}
    with pytest.raises(Problems) as exc:
        validate_client({"legal_name": None}, creating=False)
    assert fields(exc.value) == {("input", "legal_name"): "REQUIRED"}


def test_children_defaults_and_duplicates() -> None:
    with pytest.raises(Problems) as exc:
        validate_children([
            {"kind": "office", "city": "София", "street": "ул. 1", "is_default": True},
            {"kind": "office", "city": "София", "street": "ул. 2", "is_default": True},
            {"kind": "billing", "city": "", "street": "ул. 3", "postal_code": "10000"},
        ], key="addresses", limit=50, validator=validate_address)
    assert fields(exc.value) == {
        ("input", "addresses", "1", "is_default"): "DUPLICATE_DEFAULT",
        ("input", "addresses", "2", "city"): "REQUIRED",
        ("input", "addresses", "2", "postal_code"): "INVALID_POSTAL_CODE",
    }
    with pytest.raises(Problems) as exc:
        validate_children([{"name": "А", "is_primary": True}, {"name": "Б", "is_primary": True}],
                          key="contact_persons", limit=200, validator=validate_contact)
    assert fields(exc.value) == {("input", "contact_persons"): "DUPLICATE_PRIMARY"}
    with pytest.raises(Problems) as exc:
        validate_children([{"iban": "BG80BNBG96611020345678"},
                           {"iban": "bg80 bnbg 9661 1020 3456 78"}],
                          key="bank_accounts", limit=20, validator=validate_bank_account)
    assert fields(exc.value) == {("input", "bank_accounts", "1", "iban"): "DUPLICATE"}
    with pytest.raises(Problems) as exc:
        validate_children([{"name": "x"}] * 3, key="contact_persons", limit=2,
                          validator=validate_contact)
    assert fields(exc.value) == {("input", "contact_persons"): "TOO_MANY"}


def test_bank_account_normalises_and_defaults_to_euro() -> None:
    out = validate_bank_account({"iban": "bg80 bnbg 9661 1020 3456 78", "bic": "bnbg bgsd"},
                                creating=True, prefix=("input",))
    assert out == {"iban": "BG80BNBG96611020345678", "bic": "BNBGBGSD", "currency": "EUR",
                   "is_default": False}
    with pytest.raises(Problems) as exc:
        validate_bank_account({"iban": "BG80BNBG96611020345679", "currency": "LEV"},
                              creating=True, prefix=("input",))
    assert fields(exc.value) == {("input", "iban"): "INVALID_IBAN",
                                 ("input", "currency"): "INVALID_CURRENCY"}
