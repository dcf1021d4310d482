"""The development seed (crm_dev.seed_data) must pass the clients service's own validators.

If a validator is tightened, or someone edits the seed by hand, these tests fail before
``crm-dev seed`` does.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from stdnum.bg import vat as stdnum_bg_vat

from crm_common.identifiers import (
    eik_check_digit,
    normalize_country,
    normalize_eik,
    normalize_email,
    normalize_phone,
    normalize_postal_code,
    normalize_url,
    normalize_vat,
)
from crm_common.text import clean_text
from crm_dev import seed_data
from crm_dev.seed_data import CLIENTS, EMPLOYEES, SEED_NAMESPACE, make_eik

CLIENT_KEYS = {
    "kind", "legalName", "tradeName", "eik", "vatNumber", "status", "ownerId", "phones", "emails",
    "website", "notes", "tags", "addresses", "contactPersons",
}  # fmt: skip
ADDRESS_KEYS = {"kind", "country", "city", "postalCode", "street", "isDefault"}
CONTACT_KEYS = {"name", "position", "phones", "emails", "isPrimary", "notes"}
POSTAL_RANGES = {"София": (1000, 1799), "Пловдив": (4000, 4030), "Варна": (9000, 9030)}


def _client_id(client: dict[str, Any]) -> str:
    return str(client["legalName"])


# ------------------------------------------------------------------------------------------------
# the EIK helper


def test_make_eik_known_values() -> None:
    assert make_eik("17507475") == "175074752"
    assert make_eik("12175922") == "121759222"
    assert make_eik("00069428") == "000694286"


def test_seed_check_digit_agrees_with_stdnum() -> None:
    for base in range(0, 100_000_000, 999_983):
        first_eight = f"{base:08d}"
        assert eik_check_digit(first_eight) == stdnum_bg_vat.calc_check_digit_legal(first_eight)


def test_make_eik_rejects_bad_base() -> None:
    with pytest.raises(ValueError):
        make_eik("1234567")


# ------------------------------------------------------------------------------------------------
# employees


def test_employees_one_manager_three_reps_with_stable_ids() -> None:
    assert [e["role"] for e in EMPLOYEES] == ["manager", "sales_rep", "sales_rep", "sales_rep"]
    assert SEED_NAMESPACE == uuid.UUID("274bfc27-8b38-4c0d-8353-16f50014be10")
    assert EMPLOYEES[0]["id"] == str(uuid.uuid5(SEED_NAMESPACE, "employee:maria.petrova"))
    for employee in EMPLOYEES:
        assert set(employee) == {"id", "name", "role"}
        assert uuid.UUID(employee["id"]).version == 5
        assert clean_text(employee["name"], max_length=200, required=True) == employee["name"]
    assert len({e["id"] for e in EMPLOYEES}) == len(EMPLOYEES)


# ------------------------------------------------------------------------------------------------
# clients


def test_about_25_clients_mostly_active() -> None:
    assert 20 <= len(CLIENTS) <= 30
    statuses = [c["status"] for c in CLIENTS]
    assert set(statuses) <= {"PROSPECT", "ACTIVE", "INACTIVE"}  # ARCHIVED is not allowed on create
    assert statuses.count("ACTIVE") > len(CLIENTS) / 2
    assert statuses.count("PROSPECT") >= 2


def test_identifiers_are_unique() -> None:
    assert len({c["eik"] for c in CLIENTS}) == len(CLIENTS)
    assert len({c["legalName"] for c in CLIENTS}) == len(CLIENTS)
    emails = [e for c in CLIENTS for p in c["contactPersons"] for e in p["emails"]]
    assert len(set(emails)) == len(emails)


def test_every_client_is_owned_by_a_sales_rep() -> None:
    reps = {e["id"] for e in EMPLOYEES if e["role"] == "sales_rep"}
    assert {c["ownerId"] for c in CLIENTS} == reps


@pytest.mark.parametrize("client", CLIENTS, ids=_client_id)
def test_client_shape_matches_create_client_input(client: dict[str, Any]) -> None:
    assert set(client) <= CLIENT_KEYS
    assert client["kind"] == "COMPANY"
    for address in client["addresses"]:
        assert set(address) <= ADDRESS_KEYS
        assert {"kind", "country", "city", "street"} <= set(address)
        assert address["kind"] in {"REGISTERED", "CORRESPONDENCE", "DELIVERY", "BILLING", "OFFICE"}
    assert sum(1 for a in client["addresses"] if a.get("isDefault")) == 1
    assert 1 <= len(client["contactPersons"]) <= 4
    for person in client["contactPersons"]:
        assert set(person) <= CONTACT_KEYS
    assert [p["isPrimary"] for p in client["contactPersons"]].count(True) == 1


@pytest.mark.parametrize("client", CLIENTS, ids=_client_id)
def test_client_identifiers_pass_validators(client: dict[str, Any]) -> None:
    assert normalize_eik(client["eik"]) == client["eik"]
    assert len(client["eik"]) == 9
    assert normalize_vat(client["vatNumber"]) == client["vatNumber"] == "BG" + client["eik"]
    assert normalize_url(client["website"]) == client["website"]
    for phone in client["phones"]:
        assert normalize_phone(phone) == phone
    for email in client["emails"]:
        assert normalize_email(email) == email


@pytest.mark.parametrize("client", CLIENTS, ids=_client_id)
def test_client_texts_are_clean(client: dict[str, Any]) -> None:
    assert clean_text(client["legalName"], max_length=300, required=True) == client["legalName"]
    assert any("\u0400" <= ch <= "\u04ff" for ch in client["legalName"])  # Cyrillic legal name
    assert client["tradeName"].isascii()  # Latin trade name
    assert clean_text(client["tradeName"], max_length=300) == client["tradeName"]
    if "notes" in client:
        assert clean_text(client["notes"], max_length=5000, multiline=True) == client["notes"]
    for tag in client["tags"]:
        assert clean_text(tag, max_length=50, required=True) == tag


@pytest.mark.parametrize("client", CLIENTS, ids=_client_id)
def test_client_addresses_pass_validators(client: dict[str, Any]) -> None:
    for address in client["addresses"]:
        assert normalize_country(address["country"]) == address["country"] == "BG"
        code = address["postalCode"]
        assert normalize_postal_code(code, address["country"]) == code
        low, high = POSTAL_RANGES[address["city"]]
        assert low <= int(code) <= high
        assert clean_text(address["street"], max_length=300, required=True) == address["street"]


@pytest.mark.parametrize("client", CLIENTS, ids=_client_id)
def test_contact_persons_pass_validators(client: dict[str, Any]) -> None:
    for person in client["contactPersons"]:
        assert clean_text(person["name"], max_length=200, required=True) == person["name"]
        assert any("\u0400" <= ch <= "\u04ff" for ch in person["name"])
        if "position" in person:
            assert clean_text(person["position"], max_length=200) == person["position"]
        for phone in person["phones"]:
            assert normalize_phone(phone) == phone
            assert phone.startswith(("+35987", "+35988", "+35989", "+35998"))  # mobiles
        for email in person["emails"]:
            assert normalize_email(email) == email


def test_seed_module_does_no_io() -> None:
    source = seed_data.__file__
    assert source is not None
    with open(source, encoding="utf-8") as handle:
        text = handle.read()
    for forbidden in ("open(", "httpx", "requests", "socket", "subprocess", "os.environ"):
        assert forbidden not in text
