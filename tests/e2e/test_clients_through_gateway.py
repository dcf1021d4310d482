"""End to end through the gateway: the scenarios a manager and two reps go through."""

from __future__ import annotations

import uuid

import pytest

from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.identifiers import eik_check_digit

from .conftest import Platform

pytestmark = pytest.mark.e2e

CREATE = """mutation($input: CreateClientInput!) { createClient(input: $input) {
  client { id code legalName ownerId version
           addresses { city street isDefault } contactPersons { name phones emails isPrimary } }
  userErrors { field message code } } }"""
DOSSIER = """query($id: ID!) { client(id: $id) { id code legalName eik vatNumber status
  addresses { kind city postalCode street isDefault }
  contactPersons { name position phones emails isPrimary }
  bankAccounts { iban currency isDefault } } }"""


def _eik(n: int) -> str:
    first = f"{(int(uuid.uuid4().int % 10**7) + n * 7) % 10**8:08d}"
    return first + eik_check_digit(first)


def test_manager_creates_owner_reads_other_rep_does_not(platform: Platform) -> None:
    rep, other_rep = platform.employee(), platform.employee()
    eik = _eik(1)
    created = platform.data(platform.token("manager"), CREATE, {"input": {
        "kind": "COMPANY", "legalName": "Тракия Дистрибуция АД", "tradeName": "Trakia",
        "eik": eik, "vatNumber": f"BG{eik}", "status": "ACTIVE", "ownerId": str(rep),
        "phones": ["032 123 456"],
        "addresses": [
            {"kind": "REGISTERED", "city": "Пловдив", "postalCode": "4000",
             "street": "бул. Руски 15", "isDefault": True},
            {"kind": "DELIVERY", "city": "Пловдив", "postalCode": "4004",
             "street": "ул. Кукленско шосе 9"}],
        "contactPersons": [
            {"name": "Георги Иванов", "position": "Управител", "isPrimary": True,
             "phones": ["0887 111 222"], "emails": ["g.ivanov@trakia.bg"]},
            {"name": "Елена Димитрова", "position": "Снабдител",
             "emails": ["elena@trakia.bg"]}],
        "bankAccounts": [{"iban": "BG80 BNBG 9661 1020 3456 78", "isDefault": True}],
    }})["createClient"]
    assert created["userErrors"] == []
    client_id = created["client"]["id"]

    dossier = platform.data(platform.token("sales_rep", rep), DOSSIER, {"id": client_id})
    client = dossier["client"]
    assert client["legalName"] == "Тракия Дистрибуция АД"
    assert client["eik"] == eik and client["vatNumber"] == f"BG{eik}"
    assert [c["name"] for c in client["contactPersons"]] == ["Георги Иванов", "Елена Димитрова"]
    assert client["contactPersons"][0]["phones"] == ["+359887111222"]
    assert client["addresses"][0] == {"kind": "REGISTERED", "city": "Пловдив",
                                      "postalCode": "4000", "street": "бул. Руски 15",
                                      "isDefault": True}
    assert client["bankAccounts"] == [{"iban": "BG80BNBG96611020345678", "currency": "EUR",
                                       "isDefault": True}]

    hidden = platform.data(platform.token("sales_rep", other_rep), DOSSIER, {"id": client_id})
    assert hidden["client"] is None
    listed = platform.data(platform.token("sales_rep", other_rep),
                           "{ clients(first: 50) { edges { node { id } } } }")
    assert client_id not in {e["node"]["id"] for e in listed["clients"]["edges"]}


@pytest.mark.parametrize("case", ["missing", "expired", "other-key", "garbage"])
def test_requests_without_a_valid_token_are_refused(platform: Platform, case: str) -> None:
    token: str | None
    if case == "missing":
        token = None
    elif case == "expired":
        token = platform.token("manager", ttl_seconds=-120)
    elif case == "other-key":
        token = mint_token(generate_key_pair()[0], subject=uuid.uuid4(), roles=["admin"])
    else:
        token = "not.a.jwt"
    response = platform.post(token, "{ clients(first: 1) { edges { node { id } } } }")
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json() or response.json()["data"] is None
    # and the subgraph refuses the same token when reached directly
    direct = platform.post(token, "{ clients(first: 1) { edges { node { id } } } }",
                           url=platform.subgraph)
    assert direct.status_code == 401


def test_bad_identifiers_come_back_as_user_errors_naming_the_field(platform: Platform) -> None:
    result = platform.data(platform.token("manager"), CREATE, {"input": {
        "kind": "COMPANY", "legalName": "Грешки ООД", "status": "ACTIVE",
        "eik": "123456780", "vatNumber": "BG12345678X", "phones": ["+359 1"],
        "emails": ["ivan@@example"],
        "bankAccounts": [{"iban": "BG80BNBG96611020345670"}],
    }})["createClient"]
    assert result["client"] is None
    fields = {tuple(e["field"]): e["code"] for e in result["userErrors"]}
    assert fields == {
        ("input", "eik"): "INVALID_EIK",
        ("input", "vatNumber"): "INVALID_VAT",
        ("input", "phones", "0"): "INVALID_PHONE",
        ("input", "emails", "0"): "INVALID_EMAIL",
        ("input", "bankAccounts", "0", "iban"): "INVALID_IBAN",
    }
    assert all(e["message"] for e in result["userErrors"])


def test_a_query_past_the_depth_limit_is_refused(platform: Platform) -> None:
    """The e2e platform runs with a depth limit of 6 (default 10) so that a real query of this
    schema can pass it: the gateway refuses it, and so does the subgraph reached directly."""
    token = platform.token("manager")
    shallow = platform.post(token, f'{{ client(id: "{uuid.uuid4()}") {{ addresses {{ city }} }} }}')
    assert shallow.json() == {"data": {"client": None}}
    deep = (f'{{ client(id: "{uuid.uuid4()}") {{ contracts {{ edges {{ node {{ client {{ '
            f'owner {{ id }} }} }} }} }} }} }}')  # depth 7
    body = platform.post(token, deep).json()
    assert body.get("data") is None
    assert any(e.get("extensions", {}).get("code") == "MAX_DEPTH_EXCEEDED"
               for e in body["errors"]), body
    direct = platform.post(token, deep, url=platform.subgraph).json()
    assert direct.get("data") is None and direct["errors"], direct


def test_too_many_aliases_are_refused(platform: Platform) -> None:
    aliases = " ".join(f'a{i}: client(id: "{uuid.uuid4()}") {{ id }}' for i in range(40))
    body = platform.post(platform.token("manager"), "{ " + aliases + " }").json()
    assert body.get("data") is None
    assert any(e.get("extensions", {}).get("code") == "MAX_ALIASES_EXCEEDED"
               for e in body["errors"]), body
    direct = platform.post(platform.token("manager"), "{ " + aliases + " }",
                           url=platform.subgraph).json()
    assert direct.get("data") is None and direct["errors"], direct
