"""Every mutation with missing, wrong, huge and hostile values: a userError naming the field, and
nothing stored changes (the dossier and its history read the same before and after)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from .conftest import Service
from .fragments import CLIENT_FIELDS, CREATE, company

pytestmark = pytest.mark.integration

SNAPSHOT = f"""query($id: ID!) {{ client(id: $id) {{ {CLIENT_FIELDS}
  history(first: 100) {{ edges {{ node {{ operation entityType }} }} }} }} }}"""

MUTATIONS = {
    "updateClient": "UpdateClientInput",
    "archiveClient": "ArchiveClientInput",
    "addAddress": "AddAddressInput",
    "updateAddress": "UpdateAddressInput",
    "removeAddress": "RemoveInput",
    "addContactPerson": "AddContactPersonInput",
    "updateContactPerson": "UpdateContactPersonInput",
    "removeContactPerson": "RemoveInput",
    "addBankAccount": "AddBankAccountInput",
    "updateBankAccount": "UpdateBankAccountInput",
    "removeBankAccount": "RemoveInput",
}

HUGE = "Щ" * 100_000
CONTROL = "ред\x07\x1b[31m"


async def _client_with_children(service: Service) -> dict[str, Any]:
    manager = service.token("manager")
    return (await service.data(manager, CREATE, {"input": company(
        f"Крепост {uuid.uuid4().hex[:6]} ООД",
        addresses=[{"kind": "OFFICE", "city": "Русе", "street": "ул. Борисова 10",
                    "isDefault": True}],
        contactPersons=[{"name": "Стефан Колев", "isPrimary": True}],
        bankAccounts=[{"iban": "BG80BNBG96611020345678", "isDefault": True}],
    )}))["createClient"]["client"]


def _cases(c: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[str], str]]:
    """(mutation, input, expected field path, expected code)."""
    a, p, b = c["addresses"][0], c["contactPersons"][0], c["bankAccounts"][0]
    cid, missing = c["id"], str(uuid.uuid4())
    return [
        ("updateClient", {"id": cid, "version": 1, "legalName": HUGE},
         ["input", "legalName"], "TOO_LONG"),
        ("updateClient", {"id": cid, "version": 1, "legalName": ""},
         ["input", "legalName"], "REQUIRED"),
        ("updateClient", {"id": cid, "version": 1, "tradeName": CONTROL},
         ["input", "tradeName"], "CONTROL_CHARACTERS"),
        ("updateClient", {"id": cid, "version": 1, "eik": "0000000001"},
         ["input", "eik"], "INVALID_EIK"),
        ("updateClient", {"id": cid, "version": 1, "status": "ARCHIVED"},
         ["input", "status"], "INVALID_VALUE"),
        ("updateClient", {"id": cid, "version": 99, "notes": "x"},
         ["input", "version"], "CONFLICT"),
        ("updateClient", {"id": "'; DROP TABLE clients; --", "version": 1, "notes": "x"},
         ["input", "id"], "INVALID_ID"),
        ("updateClient", {"id": missing, "version": 1, "notes": "x"},
         ["input", "id"], "NOT_FOUND"),
        ("archiveClient", {"id": cid, "version": 5}, ["input", "version"], "CONFLICT"),
        ("archiveClient", {"id": missing, "version": 1}, ["input", "id"], "NOT_FOUND"),
        ("addAddress", {"clientId": cid, "address": {"kind": "OFFICE", "city": HUGE,
                                                     "street": "x"}},
         ["input", "address", "city"], "TOO_LONG"),
        ("addAddress", {"clientId": cid, "address": {"kind": "OFFICE", "city": "Русе",
                                                     "street": "ул. 1", "country": "Bulgaria"}},
         ["input", "address", "country"], "INVALID_COUNTRY"),
        ("addAddress", {"clientId": missing, "address": {"kind": "OFFICE", "city": "Русе",
                                                         "street": "ул. 1"}},
         ["input", "clientId"], "NOT_FOUND"),
        ("updateAddress", {"id": a["id"], "version": 1, "postalCode": "12345"},
         ["input", "postalCode"], "INVALID_POSTAL_CODE"),
        ("updateAddress", {"id": a["id"], "version": 2, "city": "Плевен"},
         ["input", "version"], "CONFLICT"),
        ("updateAddress", {"id": a["id"], "version": 1, "street": None},
         ["input", "street"], "REQUIRED"),
        ("removeAddress", {"id": missing, "version": 1}, ["input", "id"], "NOT_FOUND"),
        ("removeAddress", {"id": "not-an-id", "version": 1}, ["input", "id"], "INVALID_ID"),
        ("addContactPerson", {"clientId": cid, "contactPerson": {"name": "Иван",
                                                                 "phones": ["+1 555"]}},
         ["input", "contactPerson", "phones", "0"], "INVALID_PHONE"),
        ("addContactPerson", {"clientId": cid, "contactPerson": {"name": "Иван",
                                                                 "notes": "н" * 10_001}},
         ["input", "contactPerson", "notes"], "TOO_LONG"),
        ("updateContactPerson", {"id": p["id"], "version": 1, "emails": ["a" * 250 + "@x.bg"]},
         ["input", "emails", "0"], "TOO_LONG"),
        ("updateContactPerson", {"id": p["id"], "version": 1, "name": "\u202eАнна"},
         ["input", "name"], "CONTROL_CHARACTERS"),
        ("removeContactPerson", {"id": p["id"], "version": 0}, ["input", "version"], "CONFLICT"),
        ("addBankAccount", {"clientId": cid, "bankAccount": {"iban": "BG00 0000"}},
         ["input", "bankAccount", "iban"], "INVALID_IBAN"),
        ("addBankAccount", {"clientId": cid, "bankAccount": {"iban": "BG80BNBG96611020345678",
                                                             "currency": "XXX"}},
         ["input", "bankAccount", "currency"], "INVALID_CURRENCY"),
        ("addBankAccount", {"clientId": cid, "bankAccount": {"iban": "BG80BNBG96611020345678"}},
         ["input", "bankAccount", "iban"], "DUPLICATE"),
        ("updateBankAccount", {"id": b["id"], "version": 1, "bic": "NOT A BIC"},
         ["input", "bic"], "INVALID_BIC"),
        ("updateBankAccount", {"id": b["id"], "version": 1, "iban": "x" * 10_000},
         ["input", "iban"], "INVALID_IBAN"),
        ("removeBankAccount", {"id": b["id"], "version": 3}, ["input", "version"], "CONFLICT"),
    ]


async def test_every_mutation_refuses_bad_input_and_changes_nothing(service: Service) -> None:
    manager = service.token("manager")
    client = await _client_with_children(service)
    before = await service.data(manager, SNAPSHOT, {"id": client["id"]})
    seen: set[str] = set()
    for mutation, payload, field, code in _cases(client):
        seen.add(mutation)
        document = (f"mutation($input: {MUTATIONS[mutation]}!) {{ {mutation}(input: $input) "
                    "{ userErrors { field message code } } }")
        response = await service.gql(manager, document, {"input": payload})
        assert response.status_code == 200, (mutation, payload)
        body = response.json()
        assert "errors" not in body, (mutation, body)
        errors = body["data"][mutation]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], (mutation, errors)
        assert errors[0]["message"] and HUGE not in errors[0]["message"]
    assert seen == set(MUTATIONS)
    after = await service.data(manager, SNAPSHOT, {"id": client["id"]})
    assert after == before


@pytest.mark.parametrize("bad", [
    {"kind": "COMPANY"},                                   # legalName missing
    {"kind": "ROBOT", "legalName": "X"},                   # not an enum value
    {"kind": "COMPANY", "legalName": 42},                  # wrong type
    {"kind": "COMPANY", "legalName": "X", "phones": "0888123456"},  # coerced to a list: fine?
])
async def test_malformed_graphql_input_is_a_request_error(service: Service,
                                                          bad: dict[str, Any]) -> None:
    response = await service.gql(service.token("manager"), CREATE, {"input": bad})
    body = response.json()
    if bad.get("phones") == "0888123456":  # GraphQL coerces a single value to a one-item list
        assert body["data"]["createClient"]["client"]["phones"] == ["+359888123456"]
        return
    assert body.get("data") is None and body["errors"]
    assert "Unexpected error" not in body["errors"][0]["message"]


async def test_list_arguments_refuse_hostile_values(service: Service) -> None:
    manager = service.token("manager")
    query = """query($f: ClientFilterInput, $after: String) {
        clients(first: 5, filter: $f, after: $after) { edges { node { id } } } }"""
    for variables in ({"f": {"ownerId": "x' OR 1=1 --"}},
                      {"after": "eyJ4IjoxfQ"},              # valid base64, not our cursor
                      {"after": "A" * 5000}):
        body = (await service.gql(manager, query, variables)).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    body = (await service.gql(manager, query, {"f": {"city": "Ж" * 50_000}})).json()
    assert body["data"]["clients"]["edges"] == []


async def test_concurrent_default_flags_leave_exactly_one_default(service: Service) -> None:
    manager = service.token("manager")
    client = await _client_with_children(service)
    add = """mutation($input: AddAddressInput!) { addAddress(input: $input) {
        address { id } userErrors { code } } }"""
    results = await asyncio.gather(*[
        service.data(manager, add, {"input": {"clientId": client["id"], "address": {
            "kind": "OFFICE", "city": "Русе", "street": f"ул. {i}", "isDefault": True}}})
        for i in range(6)])
    assert all(r["addAddress"]["userErrors"] == [] for r in results)
    after = (await service.data(manager, SNAPSHOT, {"id": client["id"]}))["client"]
    defaults = [a for a in after["addresses"] if a["isDefault"]]
    assert len(after["addresses"]) == 7 and len(defaults) == 1
