"""Commercial terms, document descriptions, duplicate warnings and free-text search."""

from __future__ import annotations

import uuid

import pytest

from .conftest import Service
from .fragments import CREATE, company, fresh_eik

pytestmark = pytest.mark.integration

TERMS = "id version paymentTermDays currency creditLimit documentDescriptions { kind text }"
CREATE_T = f"""mutation($input: CreateClientInput!) {{ createClient(input: $input) {{
  client {{ {TERMS} }} userErrors {{ field code message }}
  duplicateWarnings {{ id code legalName similarity }} }} }}"""
UPDATE_T = f"""mutation($input: UpdateClientInput!) {{ updateClient(input: $input) {{
  client {{ {TERMS} }} userErrors {{ field code message }} }} }}"""
GET_T = f"""query($id: ID!) {{ client(id: $id) {{ {TERMS}
  history(first: 50) {{ edges {{ node {{ operation }} }} }} }} }}"""
SEARCH = """query($f: ClientFilterInput, $after: String, $first: Int) {
  clients(first: $first, filter: $f, after: $after) {
    edges { cursor node { id legalName } } pageInfo { hasNextPage endCursor } } }"""
ADD_CONTACT = """mutation($input: AddContactPersonInput!) { addContactPerson(input: $input) {
  userErrors { field code } } }"""


async def test_terms_are_stored_normalised_and_recorded(service: Service) -> None:
    manager = service.token("manager")
    created = (await service.data(manager, CREATE_T, {"input": company(
        f"Условия {uuid.uuid4().hex[:6]} ООД", paymentTermDays=30, currency="bgn",
        creditLimit="25000.5", documentDescriptions=[
            {"kind": "INVOICE", "text": "Доставка по договор № 7"},
            {"kind": "DELIVERY_NOTE", "text": "Склад Север,\nрампа 3"}])}))["createClient"]
    assert created["userErrors"] == []
    client = created["client"]
    assert (client["paymentTermDays"], client["currency"], client["creditLimit"]) == \
        (30, "BGN", "25000.50")
    assert client["documentDescriptions"] == [
        {"kind": "DELIVERY_NOTE", "text": "Склад Север,\nрампа 3"},
        {"kind": "INVOICE", "text": "Доставка по договор № 7"}]
    updated = (await service.data(manager, UPDATE_T, {"input": {
        "id": client["id"], "version": 1, "paymentTermDays": 45, "creditLimit": None,
        "documentDescriptions": [{"kind": "OFFER", "text": "Оферта за вериги"}]}}))
    after = updated["updateClient"]["client"]
    assert (after["paymentTermDays"], after["creditLimit"], after["version"]) == (45, None, 2)
    assert after["documentDescriptions"] == [{"kind": "OFFER", "text": "Оферта за вериги"}]
    history = (await service.data(manager, GET_T, {"id": client["id"]}))["client"]["history"]
    assert [e["node"]["operation"] for e in history["edges"]] == ["update", "create"]


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"paymentTermDays": -1}, "paymentTermDays", "OUT_OF_RANGE"),
    ({"paymentTermDays": 366}, "paymentTermDays", "OUT_OF_RANGE"),
    ({"currency": "EURO"}, "currency", "INVALID_CURRENCY"),
    ({"creditLimit": "-5"}, "creditLimit", "OUT_OF_RANGE"),
    ({"creditLimit": "1e400"}, "creditLimit", "OUT_OF_RANGE"),
    ({"creditLimit": "12.345"}, "creditLimit", "INVALID_VALUE"),
    ({"creditLimit": "NaN"}, "creditLimit", "INVALID_VALUE"),
    ({"groupId": "not-an-id"}, "groupId", "INVALID_ID"),
    ({"groupId": str(uuid.uuid4())}, "groupId", "NOT_FOUND"),
])
async def test_bad_terms_are_refused_and_change_nothing(service: Service, change: dict[str, object],
                                                        field: str, code: str) -> None:
    manager = service.token("manager")
    client = (await service.data(manager, CREATE_T, {"input": company(
        f"Лоши условия {uuid.uuid4().hex[:6]} ООД", paymentTermDays=15)}))["createClient"]
    before = (await service.data(manager, GET_T, {"id": client["client"]["id"]}))["client"]
    response = await service.gql(manager, UPDATE_T, {"input": {
        "id": before["id"], "version": 1, **change}})
    body = response.json()
    if "errors" in body:  # a value GraphQL's own Decimal scalar refuses (e.g. 1e400 → overflow)
        assert response.status_code in (200, 400)
    else:
        errors = body["data"]["updateClient"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(["input", field], code)]
    assert (await service.data(manager, GET_T, {"id": before["id"]}))["client"] == before


@pytest.mark.parametrize(("descriptions", "path", "code"), [
    ([{"kind": "INVOICE", "text": "a"}, {"kind": "INVOICE", "text": "b"}],
     ["input", "documentDescriptions", "1", "kind"], "DUPLICATE"),
    ([{"kind": "OFFER", "text": "x" * 2001}], ["input", "documentDescriptions", "0", "text"],
     "TOO_LONG"),
    ([{"kind": "OFFER", "text": "   "}], ["input", "documentDescriptions", "0", "text"],
     "REQUIRED"),
    ([{"kind": "OFFER", "text": "bell\u0007"}], ["input", "documentDescriptions", "0", "text"],
     "CONTROL_CHARACTERS"),
])
async def test_bad_document_descriptions(service: Service, descriptions: list[object],
                                         path: list[str], code: str) -> None:
    manager = service.token("manager")
    payload = (await service.data(manager, CREATE_T, {"input": company(
        f"Документи {uuid.uuid4().hex[:6]} ООД",
        documentDescriptions=descriptions)}))["createClient"]
    assert payload["client"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(path, code)]


async def test_duplicates_refused_by_identifier_warned_by_name(service: Service) -> None:
    manager = service.token("manager")
    eik = fresh_eik()
    marker = uuid.uuid4().hex[:5]
    name = f"Дубликатор {marker} Трейдинг ЕООД"
    first = (await service.data(manager, CREATE_T, {"input": company(name, eik)}))["createClient"]
    assert first["userErrors"] == [] and first["duplicateWarnings"] == []
    # same VAT number on a company without EIK: refused, naming the existing client
    vat = await service.data(manager, CREATE_T, {"input": {
        "kind": "INDIVIDUAL", "legalName": "Друг", "vatNumber": f"BG{eik}"}})
    error = vat["createClient"]["userErrors"][0]
    assert (error["field"], error["code"]) == (["input", "vatNumber"], "DUPLICATE")
    assert first["client"]["id"] in error["message"]
    # a very similar name: created, with the candidate as a warning
    similar = (await service.data(manager, CREATE_T, {"input": company(
        f"Дубликатор {marker} Трейдинг ООД")}))["createClient"]
    assert similar["userErrors"] == [] and similar["client"] is not None
    assert [w["id"] for w in similar["duplicateWarnings"]] == [first["client"]["id"]]
    assert 0.6 <= similar["duplicateWarnings"][0]["similarity"] <= 1
    different = (await service.data(manager, CREATE_T, {"input": company(
        f"Съвсем друго {marker} АД")}))["createClient"]
    assert different["duplicateWarnings"] == []


async def _names(service: Service, token: str, term: str, **flt: object) -> list[str]:
    page = (await service.data(token, SEARCH, {"first": 20, "f": {"search": term, **flt}}))
    return [e["node"]["legalName"] for e in page["clients"]["edges"]]


async def test_search_cyrillic_latin_typos_contacts_phones(service: Service) -> None:
    manager = service.token("manager")
    m = uuid.uuid4().hex[:6]
    petrov = f"Петров и синове {m} ООД"
    created = (await service.data(manager, CREATE, {"input": company(
        petrov, fresh_eik(), phones=["+359 2 981 1234"], emails=[f"office{m}@petrov.bg"],
        contactPersons=[{"name": f"Стоянка Кирилова{m}", "phones": ["0887 654 321"]}],
    )}))["createClient"]["client"]
    await service.data(manager, CREATE, {"input": company(f"Иванов {m} АД", fresh_eik())})
    assert await _names(service, manager, f"петров и синове {m}") == [petrov]  # exact words
    assert await _names(service, manager, f"ПЕТРОВ {m}") == [petrov]  # case
    assert await _names(service, manager, f"petrov i sinove {m}") == [petrov]  # Latin
    assert petrov in await _names(service, manager, f"Петрв синове {m}")  # a typo
    assert await _names(service, manager, f"кирилова{m}") == [petrov]  # contact person
    assert await _names(service, manager, f"office{m}@petrov") == [petrov]  # e-mail
    assert petrov in await _names(service, manager, "0887654321")  # contact phone, national
    assert petrov in await _names(service, manager, created["eik"])  # EIK
    assert await _names(service, manager, f"несъществуващо {m}") == []
    # filters combine with the term
    assert await _names(service, manager, f"петров {m}", status="PROSPECT") == []
    # a rep finds only what they may see
    assert await _names(service, service.token("sales_rep"), f"петров {m}") == []
    # a contact added later is found
    await service.data(manager, ADD_CONTACT, {"input": {"clientId": created["id"],
                                                        "contactPerson": {"name": f"Зорница{m}"}}})
    assert await _names(service, manager, f"зорница{m}") == [petrov]


@pytest.mark.parametrize("slip", [
    "Тракиски", "Мелнци", "Мелнеци",  # issue 14: a letter missing, missing, wrong
    "Тракийкси", "Мелниции", "Бракийски", "Тракийскм", "мЕЛНИЦИ", "trakiski", "melnitzi",
])
async def test_one_slip_in_a_word_of_five_letters_or_more_is_forgiven(
        service: Service, slip: str) -> None:
    """docs/clients.md: one slip (a letter missing, added or wrong, two neighbours swapped) in
    a word of five letters or more still finds the client, alone or beside another word."""
    manager = service.token("manager")
    m = uuid.uuid4().hex[:6]
    name = f"Тракийски Мелници {m} ООД"
    await service.data(manager, CREATE, {"input": company(name)})
    assert await _names(service, manager, f"{slip} {m}") == [name]


@pytest.mark.parametrize("slip", ["Апзар", "Пазра", "Пазр", "Пазарр", "Пакар"])
async def test_one_slip_in_a_five_letter_word(service: Service, slip: str) -> None:
    """The shortest word the promise covers, slips at its start and end included ("Пазр" is
    the five-letter word with a letter missing)."""
    manager = service.token("manager")
    m = uuid.uuid4().hex[:6]
    name = f"Пазар {m} ЕООД"
    await service.data(manager, CREATE, {"input": company(name)})
    assert await _names(service, manager, f"{slip} {m}") == [name]


@pytest.mark.parametrize("different", ["Тракторни", "Мелодии", "Тркийсик", "Мелнкаци", "Търговия",
                                       "Странджа"])
async def test_a_clearly_different_word_still_finds_nothing(
        service: Service, different: str) -> None:
    manager = service.token("manager")
    m = uuid.uuid4().hex[:6]
    await service.data(manager, CREATE, {"input": company(f"Тракийски Мелници {m} ООД")})
    assert await _names(service, manager, f"{different} {m}") == []


async def test_search_pages_best_match_first(service: Service) -> None:
    manager = service.token("manager")
    m = uuid.uuid4().hex[:6]
    names = [f"Търсачка{m} Алфа ООД", f"Търсачка{m} Бета ООД", f"Търсачка{m} Гама ООД",
             f"Търсачка{m} Делта ООД", f"Търсачка{m}"]
    for name in names:
        await service.data(manager, CREATE, {"input": company(name)})
    seen, after = [], None
    while True:
        page = (await service.data(manager, SEARCH, {"first": 2, "after": after,
                                                     "f": {"search": f"търсачка{m}"}}))
        seen += [e["node"]["legalName"] for e in page["clients"]["edges"]]
        if not page["clients"]["pageInfo"]["hasNextPage"]:
            break
        after = page["clients"]["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(names) and len(seen) == len(set(seen))
    assert seen[0] == f"Търсачка{m}"  # the best match (the whole document) first


@pytest.mark.parametrize("term", ["a", "x" * 201, "bad\u0000term"])
async def test_unusable_search_terms_are_bad_input(service: Service, term: str) -> None:
    body = (await service.gql(service.token("manager"), SEARCH,
                              {"first": 5, "f": {"search": term}})).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_hostile_search_terms_match_literally(service: Service) -> None:
    manager = service.token("manager")
    for term in ("%%", "__", "' OR 1=1 --", "\\\\x", ".*"):
        body = (await service.gql(manager, SEARCH, {"first": 5, "f": {"search": term}})).json()
        assert "errors" not in body, body


async def test_filter_by_contract_in_force(service: Service) -> None:
    manager = service.token("manager")
    m = uuid.uuid4().hex[:6]
    with_contract = (await service.data(manager, CREATE, {"input": company(
        f"Договорна{m} ООД")}))["createClient"]["client"]
    await service.data(manager, CREATE, {"input": company(f"Безд{m} Договорна{m} ООД")})
    contract = (await service.data(manager, """mutation($i: CreateContractInput!) {
        createContract(input: $i) { contract { id version } userErrors { field code } } }""",
        {"i": {"clientId": with_contract["id"], "number": f"Д-{m}", "kind": "SALES",
               "title": "Рамков", "validFrom": "2026-01-01"}}))["createContract"]["contract"]
    before = await _names(service, manager, f"договорна{m}", hasContractInForce=True)
    assert before == []  # a draft is not in force
    await service.data(manager, """mutation($i: ActivateContractInput!) {
        activateContract(input: $i) { userErrors { code } } }""",
                       {"i": {"id": contract["id"], "version": contract["version"]}})
    assert await _names(service, manager, f"договорна{m}", hasContractInForce=True) == [
        with_contract["legalName"]]
    assert await _names(service, manager, f"договорна{m}", hasContractInForce=False) == [
        f"Безд{m} Договорна{m} ООД"]
