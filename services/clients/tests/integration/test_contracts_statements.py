"""The dossier with its contracts, and the contract list, cost the same number of SQL statements
for 1 contract as for 25 (each with discounts): one statement per kind of row."""

from __future__ import annotations

from typing import Any

import pytest

from crm_common.testing import request_statements, statements_sent

from .conftest import Service
from .test_contracts_api import ACTIVATE, act, create_contract, new_client

pytestmark = pytest.mark.integration

DOSSIER = """query($id: ID!) { client(id: $id) {
  id legalName addresses { id } contactPersons { id } bankAccounts { iban }
  contracts { edges { node {
    id number status validUntil discounts { productCode percent } } } } } }"""
LIST = """query($id: ID!) { contracts(first: 100, filter: {clientId: $id}) { edges { node {
  id number discounts { percent } client { id legalName } } } } }"""


async def _statements_for(service: Service, document: str, variables: dict[str, Any]) -> int:
    with statements_sent() as seen:
        data = await service.data(service.token("manager"), document, variables)
    assert data
    return len(request_statements(seen))


async def test_statement_count_does_not_grow_with_contracts(service: Service) -> None:
    manager = service.token("manager")

    async def client_with(n: int) -> str:
        client_id = await new_client(service)
        for i in range(n):
            c = await create_contract(service, client_id, manager, discounts=[
                {"productCode": f"P{i}-{j}", "percent": j + 1} for j in range(3)])
            if i % 2:
                await act(service, manager, ACTIVATE, id=c["id"], version=1)
        return client_id

    one, many = await client_with(1), await client_with(25)
    small = await _statements_for(service, DOSSIER, {"id": one})
    large = await _statements_for(service, DOSSIER, {"id": many})
    assert small == large
    # client, addresses, contacts, bank accounts, contracts, discounts: one each
    assert small <= 6
    small = await _statements_for(service, LIST, {"id": one})
    large = await _statements_for(service, LIST, {"id": many})
    assert small == large
    assert small <= 3  # the page, the discounts, the clients
    one_contract = (await service.data(manager, """query($id: ID!) { client(id: $id) {
        contracts { edges { node { id } } } } }""", {"id": one}))["client"]["contracts"][
        "edges"][0]["node"]["id"]
    single = await _statements_for(service, """query($id: ID!) { contract(id: $id) {
        id discounts { percent } client { id } history(first: 5) { edges { cursor } } } }""",
                                   {"id": one_contract})
    assert single <= 5  # the contract, its client (access), discounts, history
