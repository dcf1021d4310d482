"""The dossier query makes the same number of SQL statements for 1 contact person as for 50,
and the full dossier (owner, group, terms, accounts, contracts, history) for 1 of each as for
many."""

from __future__ import annotations

import pytest

from crm_common.testing import request_statements, statements_sent

from .conftest import Service
from .fragments import CREATE, company, fresh_eik

pytestmark = pytest.mark.integration

DOSSIER = """query($id: ID!) { client(id: $id) {
  id legalName addresses { id city } contactPersons { id name phones }
  bankAccounts { iban } } }"""


FULL_DOSSIER = """query($id: ID!) { client(id: $id) {
  id legalName paymentTermDays currency creditLimit documentDescriptions { kind text }
  owner { id fullName manager { fullName } } group { code name }
  addresses { id city } contactPersons { id name phones } bankAccounts { iban isDefault }
  contracts { edges { node { id number status discounts { percent } } } }
  history(first: 50) { edges { node { operation entityType } } } } }"""


async def _statements_for(service: Service, client_id: str, query: str = DOSSIER) -> int:
    with statements_sent() as seen:
        await service.data(service.token("manager"), query, {"id": client_id})
    return len(request_statements(seen))


async def test_dossier_statement_count_does_not_grow_with_contacts(service: Service) -> None:
    manager = service.token("manager")

    async def make(n: int) -> str:
        contacts = [{"name": f"Лице {i}", "phones": [f"+35988{i:07d}"]} for i in range(n)]
        return (await service.data(manager, CREATE, {"input": company(
            f"Контакти {n}", contactPersons=contacts,
            addresses=[{"kind": "OFFICE", "city": "Варна", "street": "ул. 2"}])}
        ))["createClient"]["client"]["id"]

    one, fifty = await make(1), await make(50)
    small = await _statements_for(service, one)
    large = await _statements_for(service, fifty)
    assert small == large
    assert 3 <= small <= 4  # client, addresses, contacts, bank accounts: one each


def _iban(n: int) -> str:
    """A valid Bulgarian IBAN per n (MOD-97 check digits computed)."""
    bban = f"BNBG9661{10 + n % 90:02d}{n:08d}"
    numeric = "".join(str(int(ch, 36)) for ch in bban + "BG00")
    return f"BG{98 - int(numeric) % 97:02d}{bban}"


async def test_full_dossier_statement_count_does_not_grow(service: Service) -> None:
    manager = service.token("manager")
    boss = await service.employee("manager")
    owner = await service.employee(managerId=str(boss))
    group = (await service.data(manager, """mutation($i: CreateClientGroupInput!) {
        createClientGroup(input: $i) { group { id } } }""", {"i": {
        "code": f"ST{fresh_eik()}", "name": "Броене"}}))["createClientGroup"]["group"]["id"]

    async def make(n: int) -> str:
        client = (await service.data(manager, CREATE, {"input": company(
            f"Пълно досие {n} {fresh_eik()}", owner=str(owner), groupId=group,
            paymentTermDays=30, documentDescriptions=[{"kind": "INVOICE", "text": "Ф"}],
            contactPersons=[{"name": f"Лице {i}"} for i in range(n)],
            bankAccounts=[{"iban": _iban(i), "currency": "EUR" if i else "BGN"}
                          for i in range(n)])}))["createClient"]["client"]
        for i in range(n):
            made = await service.data(manager, """mutation($i: CreateContractInput!) {
                createContract(input: $i) { userErrors { field code } } }""", {"i": {
                "clientId": client["id"], "number": f"SC-{client['id'][:8]}-{i}",
                "kind": "SALES", "title": "Договор", "validFrom": "2026-01-01",
                "discounts": [{"productGroupCode": f"G{i}", "percent": 5}]}})
            assert made["createContract"]["userErrors"] == []
        return str(client["id"])

    one, many = await make(1), await make(12)
    small = await _statements_for(service, one, FULL_DOSSIER)
    large = await _statements_for(service, many, FULL_DOSSIER)
    assert small == large
    # client, owner, its manager, group, addresses, contacts, accounts, contracts, discounts,
    # history: one each at most
    assert small <= 10


async def test_history_on_a_list_is_one_statement(service: Service) -> None:
    """clients { history } for a page of clients: one history statement, not one per client."""
    manager = service.token("manager")
    marker = fresh_eik()
    for i in range(6):
        await service.data(manager, CREATE, {"input": company(f"История{marker} {i}")})
    listing = """query($f: ClientFilterInput) { clients(first: 10, filter: $f) { edges { node {
      id history(first: 2) { edges { cursor node { operation } } pageInfo { hasNextPage } }
    } } } }"""
    with statements_sent() as seen:
        edges = (await service.data(manager, listing, {"f": {"search": f"история{marker}"}}))[
            "clients"]["edges"]
    assert len(edges) == 6 and len([s for s in seen if "FROM history" in s]) == 1
    for edge in edges:
        assert [e["node"]["operation"] for e in edge["node"]["history"]["edges"]] == ["create"]
        assert edge["node"]["history"]["pageInfo"]["hasNextPage"] is False
