"""updateClient's statements (issue 15): the event's snapshot comes from the UPDATE's RETURNING
(the same snapshot the four reads after it made), and the search document is rebuilt only when a
column it is made of changed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from crm_clients.adapters.tables import clients
from crm_clients.service_layer.client import client_snapshot
from crm_common.testing import request_statements, statements_sent

from .conftest import EventTap, Service
from .fragments import CREATE, UPDATE, company, fresh_eik

pytestmark = pytest.mark.integration

SEARCH = """query($s: String!) { clients(first: 5, filter: {search: $s}) {
  edges { node { id } } } }"""


async def _update(service: Service, variables: dict[str, Any]) -> tuple[dict[str, Any],
                                                                        list[str]]:
    with statements_sent() as seen:
        payload = (await service.data(service.token("manager"), UPDATE,
                                      {"input": variables}))["updateClient"]
    return payload, request_statements(seen)


async def _stored(service: Service, client_id: str) -> tuple[dict[str, Any], str]:
    engine = create_async_engine(service.settings.database_url)
    try:
        async with AsyncSession(engine) as session:
            snap = await client_snapshot(session, uuid.UUID(client_id))
            document = await session.scalar(select(clients.c.search_document).where(
                clients.c.id == uuid.UUID(client_id)))
        return snap, str(document)
    finally:
        await engine.dispose()


async def test_the_event_snapshot_is_the_stored_dossier_and_notes_keep_the_search_document(
        service: Service, tap: EventTap) -> None:
    marker = uuid.uuid4().hex[:8]
    eik = fresh_eik()
    created = (await service.data(service.token("manager"), CREATE, {"input": company(
        f"Снимка {marker} ООД", eik,
        addresses=[{"kind": "OFFICE", "city": "София", "street": "ул. Шипка 1"},
                   {"kind": "DELIVERY", "city": "Пловдив", "street": "бул. Марица 5"}],
        contactPersons=[{"name": "Иван Петров", "phones": ["+359888123456"],
                         "emails": ["ivan@example.bg"]}, {"name": "Мария Иванова"}],
        bankAccounts=[{"iban": "BG80BNBG96611020345678", "bic": "BNBGBGSF"}]),
    }))["createClient"]["client"]
    cid = created["id"]
    _, document_before = await _stored(service, cid)

    payload, statements = await _update(service, {"id": cid, "version": 1,
                                                  "notes": "само бележка"})
    assert payload["userErrors"] == []
    assert not [s for s in statements if "crm_refresh_search" in s]
    # the client is not read again after its UPDATE (its snapshot comes back with it)
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE CLIENTS")]
    assert len(updates) == 1 and "RETURNING" in updates[0]
    # the answer's client is the row the UPDATE returned, not read again after the commit
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT")
                and "FROM clients" in s and "ANY" in s]
    assert payload["client"]["version"] == 2 and payload["client"]["notes"] == "само бележка"
    # (the answer's loaders read the lists after the commit, by ANY(ids) and in their own order)
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT") and (
        "ORDER BY addresses.created_at, addresses.id" in s
        or "ORDER BY bank_accounts.created_at, bank_accounts.id" in s)]

    stored, document_after = await _stored(service, cid)
    assert document_after == document_before
    events = await tap.wait_for(lambda e: e["subject"] == cid
                                and e["type"] == "crm.clients.client.updated")
    assert events[0]["data"]["client"] == stored
    assert events[0]["data"]["changed"] == ["notes"]
    assert sorted(a["city"] for a in stored["addresses"]) == ["Пловдив", "София"]
    assert len(stored["contactPersons"]) == 2 and len(stored["bankAccounts"]) == 1

    # a searched column: the document is rebuilt and the new name is found
    payload, statements = await _update(service, {"id": cid, "version": 2,
                                                  "legalName": f"Преименувана {marker} ЕООД"})
    assert payload["userErrors"] == []
    assert len([s for s in statements if "crm_refresh_search" in s]) == 1
    _, document_renamed = await _stored(service, cid)
    assert "преименувана" in document_renamed and document_renamed != document_before
    found = await service.data(service.token("manager"), SEARCH,
                               {"s": f"Преименувана {marker}"})
    assert [e["node"]["id"] for e in found["clients"]["edges"]] == [cid]
    events = await tap.wait_for(lambda e: e["subject"] == cid and e["data"].get("changed")
                                == ["legal_name"])
    stored, _ = await _stored(service, cid)
    assert events[0]["data"]["client"] == stored


async def test_a_refused_update_changes_nothing_stored(service: Service) -> None:
    created = (await service.data(service.token("manager"), CREATE, {"input": company(
        f"Отказ {uuid.uuid4().hex[:8]}", fresh_eik())}))["createClient"]["client"]
    cid = created["id"]
    before = await _stored(service, cid)
    for bad in ({"notes": "x" * 100_000}, {"legalName": ""}, {"legalName": "\x00злонамерено"},
                {"eik": "123"}, {"phones": ["не е телефон"]}):
        payload, _ = await _update(service, {"id": cid, "version": 1, **bad})
        assert payload["userErrors"], bad
        field = payload["userErrors"][0]["field"]
        assert field[0] == "input" and len(field) >= 2, payload
    assert await _stored(service, cid) == before
    assert (await service.data(service.token("manager"), "query($id: ID!) { client(id: $id) "
                               "{ version } }", {"id": cid}))["client"]["version"] == 1


async def test_search_document_column_list_is_what_the_sql_function_reads(
        service: Service) -> None:
    """SEARCHED_COLUMNS must name every client column crm_refresh_search reads."""
    from crm_clients.service_layer.search import SEARCHED_COLUMNS

    engine = create_async_engine(service.settings.database_url)
    try:
        async with engine.connect() as conn:
            body = await conn.scalar(text(
                "SELECT prosrc FROM pg_proc WHERE proname = 'crm_refresh_search'"))
    finally:
        await engine.dispose()
    assert body
    read = {c.name for c in clients.columns
            if f"c.{c.name}" in body or f"c2.{c.name}" in body}
    read -= {"id", "search_names", "search_document"}
    assert read == SEARCHED_COLUMNS


async def test_a_client_without_children_snapshots_empty_lists(service: Service,
                                                               tap: EventTap) -> None:
    created = (await service.data(service.token("manager"), CREATE, {"input": company(
        f"Без деца {uuid.uuid4().hex[:8]}")}))["createClient"]["client"]
    cid = created["id"]
    payload, _ = await _update(service, {"id": cid, "version": 1, "website": "https://x.bg"})
    assert payload["userErrors"] == []
    events = await tap.wait_for(lambda e: e["subject"] == cid
                                and e["type"] == "crm.clients.client.updated")
    stored, _ = await _stored(service, cid)
    assert events[0]["data"]["client"] == stored
    assert stored["addresses"] == stored["contactPersons"] == stored["bankAccounts"] == []


async def test_create_snapshots_what_it_inserted_without_reading_it_back(
        service: Service, tap: EventTap) -> None:
    with statements_sent() as seen:
        created = (await service.data(service.token("manager"), CREATE, {"input": company(
            f"Нова {uuid.uuid4().hex[:8]} ЕООД", fresh_eik(),
            addresses=[{"kind": "OFFICE", "city": "Варна", "street": "ул. Преслав 3"},
                       {"kind": "BILLING", "city": "Русе", "street": "ул. Борисова 9"},
                       {"kind": "DELIVERY", "city": "Бургас", "street": "ул. Оборище 1"}],
            contactPersons=[{"name": f"Лице {i}"} for i in range(4)],
            bankAccounts=[{"iban": "BG80BNBG96611020345678"}])}))["createClient"]
    assert created["userErrors"] == []
    cid = created["client"]["id"]
    # the code comes from the sequence inside the INSERT, a race on the EIK is the INSERT's ON
    # CONFLICT (no savepoint), the EIK and the VAT number are checked in one statement, and the
    # answer's client is the row the INSERT returned
    assert not [s for s in seen if s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))]
    assert len([s for s in seen if "nextval" in s]) == 1
    assert len([s for s in seen if "vat_number =" in s and "LIMIT" in s]) == 1
    assert not [s for s in seen if s.lstrip().upper().startswith("SELECT")
                and "FROM clients" in s and "ANY" in s]
    assert created["client"]["code"].startswith("C")
    assert not [s for s in seen if s.lstrip().upper().startswith("SELECT") and (
        "ORDER BY addresses.created_at, addresses.id" in s
        or "ORDER BY contact_persons.created_at, contact_persons.id" in s)]
    events = await tap.wait_for(lambda e: e["subject"] == cid
                                and e["type"] == "crm.clients.client.created")
    stored, _ = await _stored(service, cid)
    assert events[0]["data"]["client"] == stored
    assert len(stored["addresses"]) == 3 and len(stored["contactPersons"]) == 4


async def test_client_codes_keep_six_digits_and_grow_past_them(service: Service) -> None:
    """The code is made in the INSERT from the sequence: C + at least six digits, all of them
    once the sequence passes 999,999 (never cut to six)."""
    engine = create_async_engine(service.settings.database_url)
    try:
        async with engine.begin() as conn:
            current = await conn.scalar(text("SELECT last_value FROM client_code_seq"))
            if current < 999_998:
                await conn.execute(text("SELECT setval('client_code_seq', 999998)"))
    finally:
        await engine.dispose()
    codes = []
    for i in range(2):
        created = (await service.data(service.token("manager"), CREATE, {"input": company(
            f"Номер {i} {uuid.uuid4().hex[:8]} ООД", fresh_eik())}))["createClient"]
        assert created["userErrors"] == []
        codes.append(created["client"]["code"])
    numbers = [int(code[1:]) for code in codes]
    assert numbers[0] >= 999_999 and numbers[1] > numbers[0]
    assert codes == [f"C{n:06d}" for n in numbers]
    assert codes[-1] != codes[-1][:7]  # seven digits at least: nothing was cut


async def test_a_create_refused_for_its_eik_or_vat_number_names_the_field(
        service: Service) -> None:
    """The EIK and VAT checks are one statement: a live client with the same EIK is named on
    ``eik``, one with only the same VAT number on ``vatNumber``; when one client has the EIK
    and another the VAT number, the EIK is named (the order of the two checks it replaced)."""
    manager = service.token("manager")

    async def create(identifiers: dict[str, object]) -> dict[str, Any]:
        payload: dict[str, Any] = (await service.data(manager, CREATE, {"input": {
            **company(f"Двойник {uuid.uuid4().hex[:8]}"), **identifiers}}))["createClient"]
        return payload

    eik_only, vat_only = fresh_eik(), fresh_eik()
    for identifiers in ({"eik": eik_only, "status": "ACTIVE"},  # no VAT number
                        {"vatNumber": f"BG{vat_only}"}):  # a prospect with no EIK
        assert (await create(identifiers))["userErrors"] == []
    cases = [({"eik": eik_only}, "eik"),
             ({"vatNumber": f"BG{vat_only}"}, "vatNumber"),
             ({"eik": vat_only, "vatNumber": f"BG{vat_only}"}, "vatNumber"),
             ({"eik": eik_only, "vatNumber": f"BG{eik_only}"}, "eik")]
    # and a client with the EIK and another with its VAT number: the EIK is named
    both = fresh_eik()
    assert (await create({"eik": both, "status": "ACTIVE"}))["userErrors"] == []
    assert (await create({"vatNumber": f"BG{both}"}))["userErrors"] == []
    cases.append(({"eik": both, "vatNumber": f"BG{both}"}, "eik"))
    for identifiers, field in cases:
        refused = await create(identifiers)
        assert refused["client"] is None, identifiers
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
            (["input", field], "DUPLICATE")], identifiers
