"""Every contract mutation with missing, wrong, huge and hostile values: one userError naming the
field, and nothing stored changes (the contracts, their discounts and history read the same)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .conftest import Service
from .test_contracts_api import (
    CONTRACT,
    act,
    create_contract,
    new_client,
    unique_number,
)

pytestmark = pytest.mark.integration

MUTATIONS = {
    "createContract": "CreateContractInput",
    "updateContract": "UpdateContractInput",
    "activateContract": "ActivateContractInput",
    "suspendContract": "SuspendContractInput",
    "terminateContract": "TerminateContractInput",
    "runContractMaintenance": "RunContractMaintenanceInput",
}
SNAPSHOT = f"""query($id: ID!) {{ client(id: $id) {{ version
  contracts(first: 100) {{ edges {{ node {{ {CONTRACT}
    history(first: 100) {{ edges {{ node {{ operation changes }} }} }} }} }} }}
  history(first: 100) {{ edges {{ node {{ operation entityType entityId }} }} }} }} }}"""

MEGABYTE = "x" * 1_000_000  # fits in the 1 MiB request limit, so it reaches the validation
CONTROL = "Договор\x07\x1b[31m"


def _cases(client_id: str, draft: dict[str, Any], other: dict[str, Any],
           ) -> list[tuple[str, dict[str, Any], list[str], str]]:
    """(mutation, input, expected field path, expected code)."""
    base = {"clientId": client_id, "number": unique_number("BAD"), "kind": "SALES",
            "title": "Лош договор", "validFrom": "2026-01-01", "validUntil": "2026-12-31"}
    cid, missing, v = draft["id"], str(uuid.uuid4()), draft["version"]

    def create(**change: Any) -> dict[str, Any]:
        return {**base, **change}

    def update(**change: Any) -> dict[str, Any]:
        return {"id": cid, "version": v, **change}

    return [
        ("createContract", create(title=MEGABYTE), ["input", "title"], "TOO_LONG"),
        ("createContract", create(title=CONTROL), ["input", "title"], "CONTROL_CHARACTERS"),
        ("createContract", create(title="   "), ["input", "title"], "REQUIRED"),
        ("createContract", create(number=""), ["input", "number"], "REQUIRED"),
        ("createContract", create(number="N" * 51), ["input", "number"], "TOO_LONG"),
        ("createContract", create(validUntil="2025-12-31"), ["input", "validUntil"],
         "INVALID_DATE_RANGE"),
        ("createContract", create(validFrom="9999-12-31", validUntil=None),
         ["input", "validFrom"], "INVALID_VALUE"),
        ("createContract", create(paymentTermDays=-1), ["input", "paymentTermDays"],
         "INVALID_VALUE"),
        ("createContract", create(paymentTermDays=2_147_483_647), ["input", "paymentTermDays"],
         "INVALID_VALUE"),
        ("createContract", create(renewalTermMonths=0), ["input", "renewalTermMonths"],
         "INVALID_VALUE"),
        ("createContract", create(autoRenew=True, validUntil=None), ["input", "autoRenew"],
         "INVALID_VALUE"),
        ("createContract", create(currency="XXX"), ["input", "currency"], "INVALID_CURRENCY"),
        ("createContract", create(ourSignatoryId="nobody"), ["input", "ourSignatoryId"],
         "INVALID_ID"),
        ("createContract", create(discounts=[{"productCode": "P1", "percent": "100.01"}]),
         ["input", "discounts", "0", "percent"], "INVALID_VALUE"),
        ("createContract", create(discounts=[{"productCode": "P1", "percent": "NaN"}]),
         ["input", "discounts", "0", "percent"], "INVALID_VALUE"),
        ("createContract", create(discounts=[{"productCode": "P1", "percent": "-5"}]),
         ["input", "discounts", "0", "percent"], "INVALID_VALUE"),
        ("createContract", create(discounts=[{"percent": 5}]),
         ["input", "discounts", "0", "productCode"], "INVALID_VALUE"),
        ("createContract", create(number=other["number"].lower()), ["input", "number"],
         "DUPLICATE"),
        ("createContract", create(clientId=missing), ["input", "clientId"], "NOT_FOUND"),
        ("createContract", create(clientId="'; DROP TABLE contracts; --"),
         ["input", "clientId"], "INVALID_ID"),
        ("updateContract", update(title=MEGABYTE), ["input", "title"], "TOO_LONG"),
        ("updateContract", update(title=None), ["input", "title"], "REQUIRED"),
        ("updateContract", update(priceTerms="ц" * 10_001), ["input", "priceTerms"],
         "TOO_LONG"),
        ("updateContract", update(otherTerms="a\u202eb"), ["input", "otherTerms"],
         "CONTROL_CHARACTERS"),
        ("updateContract", update(validUntil="2025-06-30"), ["input", "validUntil"],
         "INVALID_DATE_RANGE"),  # before the stored validFrom
        ("updateContract", update(validFrom="2027-06-30"), ["input", "validUntil"],
         "INVALID_DATE_RANGE"),  # after the stored validUntil
        ("updateContract", update(noticePeriodDays=-30), ["input", "noticePeriodDays"],
         "INVALID_VALUE"),
        ("updateContract", update(number=other["number"]), ["input", "number"], "DUPLICATE"),
        ("updateContract", update(discounts=[{"productCode": "P1", "percent": 5},
                                             {"productCode": "p1", "percent": 7}]),
         ["input", "discounts", "1", "productCode"], "DUPLICATE"),
        ("updateContract", update(discounts=[{"productCode": "P1", "productGroupCode": "G",
                                              "percent": 5}]),
         ["input", "discounts", "0", "productCode"], "INVALID_VALUE"),
        ("updateContract", update(version=v + 1, title="x"), ["input", "version"], "CONFLICT"),
        ("updateContract", update(id=missing, title="x"), ["input", "id"], "NOT_FOUND"),
        ("updateContract", update(id="1 OR 1=1", title="x"), ["input", "id"], "INVALID_ID"),
        ("activateContract", {"id": cid, "version": v - 1}, ["input", "version"], "CONFLICT"),
        ("activateContract", {"id": missing, "version": 1}, ["input", "id"], "NOT_FOUND"),
        ("suspendContract", {"id": cid, "version": v}, ["input", "id"], "INVALID_TRANSITION"),
        ("suspendContract", {"id": cid, "version": v, "reason": MEGABYTE}, ["input", "reason"],
         "TOO_LONG"),
        ("terminateContract", {"id": cid, "version": v, "terminatedOn": "2026-06-30",
                               "reason": " "}, ["input", "reason"], "REQUIRED"),
        ("terminateContract", {"id": cid, "version": v, "terminatedOn": "2027-01-01",
                               "reason": "край"}, ["input", "terminatedOn"],
         "INVALID_DATE_RANGE"),
        ("terminateContract", {"id": cid, "version": v, "terminatedOn": "0001-01-01",
                               "reason": "край"}, ["input", "terminatedOn"], "INVALID_VALUE"),
        ("terminateContract", {"id": cid, "version": 99, "terminatedOn": "2026-06-30",
                               "reason": "край"}, ["input", "version"], "CONFLICT"),
        ("runContractMaintenance", {"today": "2026-01-01"}, ["input"], "FORBIDDEN"),
    ]


async def test_every_contract_mutation_refuses_bad_input_and_changes_nothing(
    service: Service,
) -> None:
    manager = service.token("manager")
    client_id = await new_client(service)
    draft = await create_contract(service, client_id, manager, validFrom="2026-01-01",
                                  validUntil="2026-12-31", discounts=[
                                      {"productGroupCode": "BEV", "percent": "7.5"}])
    other = await create_contract(service, client_id, manager)
    before = await service.data(manager, SNAPSHOT, {"id": client_id})
    seen: set[str] = set()
    for mutation, payload, field, code in _cases(client_id, draft, other):
        seen.add(mutation)
        selection = "today" if mutation == "runContractMaintenance" else "contract { id }"
        document = (f"mutation($input: {MUTATIONS[mutation]}!) {{ {mutation}(input: $input) "
                    f"{{ {selection} userErrors {{ field message code }} }} }}")
        response = await service.gql(manager, document, {"input": payload})
        assert response.status_code == 200, (mutation, response.status_code)
        body = response.json()
        assert "errors" not in body, (mutation, body)
        result = body["data"][mutation]
        errors = result["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], (mutation, errors)
        assert errors[0]["message"] and MEGABYTE[:1000] not in errors[0]["message"]
        assert result.get("contract") is None
    assert seen == set(MUTATIONS)
    after = await service.data(manager, SNAPSHOT, {"id": client_id})
    assert after == before


@pytest.mark.parametrize("change", [
    {"kind": "LEASE"},                    # not an enum value
    {"validFrom": "2026-02-30"},          # not a date
    {"validFrom": None},                  # required
    {"paymentTermDays": 10**12},          # beyond GraphQL's Int
    {"paymentTermDays": "30"},            # wrong type
])
async def test_malformed_graphql_input_is_a_request_error(service: Service,
                                                          change: dict[str, Any]) -> None:
    client_id = await new_client(service)
    document = """mutation($input: CreateContractInput!) { createContract(input: $input) {
        contract { id } userErrors { code } } }"""
    base = {"clientId": client_id, "number": unique_number(), "kind": "SALES", "title": "T",
            "validFrom": "2026-01-01"}
    body = (await service.gql(service.token("manager"), document,
                              {"input": {**base, **change}})).json()
    assert body.get("data") is None and body["errors"], body
    assert "Unexpected error" not in body["errors"][0]["message"]
    listed = await service.data(service.token("manager"), """query($id: ID!) {
        client(id: $id) { contracts { edges { node { id } } } } }""", {"id": client_id})
    assert listed["client"]["contracts"] == {"edges": []}


async def test_a_percent_that_is_no_number_is_a_user_error_at_the_field(service: Service) -> None:
    """Issue 14: a malformed decimal is the field's userError (it was a request error)."""
    client_id = await new_client(service)
    document = """mutation($input: CreateContractInput!) { createContract(input: $input) {
        contract { id } userErrors { field code } } }"""
    for percent in ("много", "12,5"):
        body = await service.data(service.token("manager"), document, {"input": {
            "clientId": client_id, "number": unique_number(), "kind": "SALES", "title": "T",
            "validFrom": "2026-01-01",
            "discounts": [{"productCode": "P", "percent": percent}]}})
        assert body["createContract"] == {"contract": None, "userErrors": [
            {"field": ["input", "discounts", "0", "percent"], "code": "INVALID_VALUE"}]}
    listed = await service.data(service.token("manager"), """query($id: ID!) {
        client(id: $id) { contracts { edges { node { id } } } } }""", {"id": client_id})
    assert listed["client"]["contracts"] == {"edges": []}


async def test_list_arguments_refuse_hostile_values(service: Service) -> None:
    manager = service.token("manager")
    query = """query($f: ContractFilterInput, $after: String, $first: Int) {
        contracts(first: $first, filter: $f, after: $after) { edges { node { id } } } }"""
    for variables in ({"f": {"clientId": "x' OR 1=1 --"}},
                      {"f": {"expiringWithinDays": -1}},
                      {"f": {"expiringWithinDays": 100_000}},
                      {"first": 0},
                      {"after": "eyJ4IjoxfQ"},              # valid base64, not our cursor
                      {"after": "WzEsMl0"},                 # [1, 2]: right arity, wrong types
                      {"after": "A" * 5000}):
        body = (await service.gql(manager, query, variables)).json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (variables, body)
    history = """query($id: ID!, $after: String) { contract(id: $id) {
        history(first: 5, after: $after) { edges { cursor } } } }"""
    client_id = await new_client(service)
    contract = await create_contract(service, client_id, manager)
    body = (await service.gql(manager, history, {"id": contract["id"],
                                                 "after": "WyJ4Il0"})).json()  # ["x"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
    missing = await service.data(manager, "query($id: ID!) { contract(id: $id) { id } }",
                                 {"id": "not-a-uuid"})
    assert missing["contract"] is None
    huge = await act(service, manager, """mutation($input: CreateContractInput!) {
        createContract(input: $input) { contract { id } userErrors { code } } }""",
                     clientId=client_id, number="N", kind="OTHER", title="T",
                     validFrom="2026-01-01", discounts=[
                         {"productCode": f"P{i}", "percent": 1} for i in range(201)])
    assert huge["userErrors"] == [{"code": "TOO_MANY"}] and huge["contract"] is None
