"""The clients API as a rep and a manager use it: create, read, list, update, archive, children."""

from __future__ import annotations

import uuid

import pytest

from .conftest import Service
from .fragments import ARCHIVE, CREATE, GET, LIST, UPDATE, company, fresh_eik

pytestmark = pytest.mark.integration


async def test_manager_creates_a_full_client_and_reads_it_back(service: Service) -> None:
    manager = service.token("manager")
    rep_id = await service.employee()
    eik = fresh_eik()
    data = await service.data(manager, CREATE, {"input": company(
        "Агрополис ЕООД", eik, owner=str(rep_id), tradeName="Agropolis",
        phones=["0888 123 456"], emails=["Office@Agropolis.BG"], website="agropolis.bg",
        tags=["HoReCa", "horeca", "Варна"],
        addresses=[{"kind": "REGISTERED", "city": "София", "street": "бул. Витоша 1",
                    "postalCode": "1000", "isDefault": True},
                   {"kind": "DELIVERY", "city": "Пловдив", "street": "ул. Иван Вазов 5",
                    "postalCode": "4000"}],
        contactPersons=[{"name": "Иван Петров", "position": "Управител", "isPrimary": True,
                         "phones": ["+359 2 981 2345"], "emails": ["ivan@agropolis.bg"]}],
        bankAccounts=[{"iban": "bg80 bnbg 9661 1020 3456 78", "bic": "bnbgbgsd",
                       "currency": "eur", "isDefault": True}],
    )})
    payload = data["createClient"]
    assert payload["userErrors"] == []
    client = payload["client"]
    assert client["code"].startswith("C") and len(client["code"]) == 7
    assert client["eik"] == eik and client["vatNumber"] == f"BG{eik}"
    assert client["phones"] == ["+359888123456"]
    assert client["emails"] == ["Office@agropolis.bg"]
    assert client["website"] == "https://agropolis.bg"
    assert client["tags"] == ["horeca", "варна"]
    assert client["ownerId"] == str(rep_id)
    assert client["version"] == 1
    assert [a["city"] for a in client["addresses"]] == ["София", "Пловдив"]
    assert client["contactPersons"][0]["phones"] == ["+35929812345"]
    assert client["bankAccounts"][0]["iban"] == "BG80BNBG96611020345678"
    assert client["bankAccounts"][0]["currency"] == "EUR"

    owner_view = await service.data(service.token("sales_rep", rep_id), GET, {"id": client["id"]})
    assert owner_view["client"] == client


async def test_bad_identifiers_are_user_errors_naming_the_field(service: Service) -> None:
    manager = service.token("manager")
    before = await service.data(manager, LIST, {"first": 100})
    response = await service.data(manager, CREATE, {"input": {
        "kind": "COMPANY", "legalName": "Лоша Фирма", "status": "ACTIVE",
        "eik": "123456789", "vatNumber": "BG999999999", "phones": ["12"],
        "emails": ["not-an-email"], "website": "javascript:alert(1)",
        "bankAccounts": [{"iban": "BG80BNBG96611020345679"}],
        "addresses": [{"kind": "OFFICE", "city": "София", "street": "x", "postalCode": "12"}],
    }})
    errors = response["createClient"]["userErrors"]
    by_field = {tuple(e["field"]): e["code"] for e in errors}
    assert by_field[("input", "eik")] == "INVALID_EIK"
    assert by_field[("input", "vatNumber")] == "INVALID_VAT"
    assert by_field[("input", "phones", "0")] == "INVALID_PHONE"
    assert by_field[("input", "emails", "0")] == "INVALID_EMAIL"
    assert by_field[("input", "website")] == "INVALID_URL"
    assert by_field[("input", "bankAccounts", "0", "iban")] == "INVALID_IBAN"
    assert by_field[("input", "addresses", "0", "postalCode")] == "INVALID_POSTAL_CODE"
    assert response["createClient"]["client"] is None
    after = await service.data(manager, LIST, {"first": 100})
    assert after == before


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("legalName", "Я" * 301, "TOO_LONG"),
        ("legalName", "   ", "REQUIRED"),
        ("legalName", "Фирма\x00ООД", "CONTROL_CHARACTERS"),
        ("legalName", "Фирма\u202eДОО", "CONTROL_CHARACTERS"),
        ("notes", "н" * 10_001, "TOO_LONG"),
        ("tags", ["x" * 51], "TOO_LONG"),
        ("phones", ["0888 123 456"] * 21, "TOO_MANY"),
    ],
)
async def test_hostile_values_are_refused_and_nothing_is_stored(
    service: Service, field: str, value: object, code: str
) -> None:
    manager = service.token("manager")
    name = f"Hostile {uuid.uuid4().hex}"
    payload = company(name)
    payload[field] = value
    result = (await service.data(manager, CREATE, {"input": payload}))["createClient"]
    assert result["client"] is None
    assert result["userErrors"][0]["code"] == code
    assert result["userErrors"][0]["field"][:2] == ["input", field]


async def test_one_megabyte_name_is_refused_by_the_body_limit(service: Service) -> None:
    response = await service.gql(service.token("manager"), CREATE,
                                 {"input": company("Я" * 1_100_000)})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_update_and_archive_keep_version_and_reject_stale(service: Service) -> None:
    manager = service.token("manager")
    created = (await service.data(manager, CREATE, {"input": company("Версия АД")}))
    client = created["createClient"]["client"]
    updated = (await service.data(manager, UPDATE, {"input": {
        "id": client["id"], "version": 1, "tradeName": "Versia", "notes": None}}))["updateClient"]
    assert updated["userErrors"] == []
    assert updated["client"]["tradeName"] == "Versia"
    assert updated["client"]["version"] == 2
    stale = (await service.data(manager, UPDATE, {"input": {
        "id": client["id"], "version": 1, "tradeName": "Stale"}}))["updateClient"]
    assert stale["userErrors"][0]["code"] == "CONFLICT"
    archived = (await service.data(manager, ARCHIVE, {"input": {
        "id": client["id"], "version": 2, "reason": "closed down"}}))["archiveClient"]
    assert archived["client"]["status"] == "ARCHIVED"
    again = (await service.data(manager, UPDATE, {"input": {
        "id": client["id"], "version": 3, "tradeName": "After"}}))["updateClient"]
    assert again["userErrors"][0]["code"] == "ARCHIVED"
    still = await service.data(manager, GET, {"id": client["id"]})
    assert still["client"]["tradeName"] == "Versia"


async def test_duplicate_eik_is_refused_naming_the_existing_client(service: Service) -> None:
    manager = service.token("manager")
    eik = fresh_eik()
    first = (await service.data(manager, CREATE, {"input": company("Първа ООД", eik)}))
    code = first["createClient"]["client"]["code"]
    second = (await service.data(manager, CREATE, {"input": company("Втора ООД", eik)}))
    error = second["createClient"]["userErrors"][0]
    assert error["code"] == "DUPLICATE" and error["field"] == ["input", "eik"]
    assert code in error["message"]


async def test_addresses_contacts_and_accounts_lifecycle(service: Service) -> None:
    manager = service.token("manager")
    client = (await service.data(manager, CREATE, {"input": company(
        "Деца ЕООД", addresses=[{"kind": "OFFICE", "city": "Варна", "street": "ул. Дубровник 3",
                                 "isDefault": True}])}))["createClient"]["client"]
    first_address = client["addresses"][0]
    added = (await service.data(manager, """
        mutation($input: AddAddressInput!) { addAddress(input: $input) {
          address { id isDefault city } client { addresses { id isDefault } }
          userErrors { field code } } }""", {"input": {"clientId": client["id"], "address": {
        "kind": "OFFICE", "city": "Варна", "street": "бул. Приморски 1", "isDefault": True}}}
    ))["addAddress"]
    assert added["userErrors"] == []
    defaults = {a["id"]: a["isDefault"] for a in added["client"]["addresses"]}
    assert defaults == {added["address"]["id"]: True, first_address["id"]: False}

    contact = (await service.data(manager, """
        mutation($input: AddContactPersonInput!) { addContactPerson(input: $input) {
          contactPerson { id name version } userErrors { field code } } }""",
        {"input": {"clientId": client["id"], "contactPerson": {
            "name": "Мария Георгиева", "emails": ["bad@"]}}}))["addContactPerson"]
    assert contact["userErrors"] == [{"field": ["input", "contactPerson", "emails", "0"],
                                      "code": "INVALID_EMAIL"}]
    contact = (await service.data(manager, """
        mutation($input: AddContactPersonInput!) { addContactPerson(input: $input) {
          contactPerson { id name version } userErrors { field code } } }""",
        {"input": {"clientId": client["id"], "contactPerson": {"name": "Мария Георгиева"}}}
    ))["addContactPerson"]["contactPerson"]
    changed = (await service.data(manager, """
        mutation($input: UpdateContactPersonInput!) { updateContactPerson(input: $input) {
          contactPerson { position version } userErrors { code } } }""",
        {"input": {"id": contact["id"], "version": 1, "position": "Снабдител"}}
    ))["updateContactPerson"]
    assert changed["contactPerson"] == {"position": "Снабдител", "version": 2}
    removed = (await service.data(manager, """
        mutation($input: RemoveInput!) { removeContactPerson(input: $input) {
          removedId client { contactPersons { id } } userErrors { code } } }""",
        {"input": {"id": contact["id"], "version": 1}}))["removeContactPerson"]
    assert removed["userErrors"][0]["code"] == "CONFLICT"
    removed = (await service.data(manager, """
        mutation($input: RemoveInput!) { removeContactPerson(input: $input) {
          removedId client { contactPersons { id } } userErrors { code } } }""",
        {"input": {"id": contact["id"], "version": 2}}))["removeContactPerson"]
    assert removed["removedId"] == contact["id"]
    assert removed["client"]["contactPersons"] == []

    account = (await service.data(manager, """
        mutation($input: AddBankAccountInput!) { addBankAccount(input: $input) {
          bankAccount { iban } userErrors { field code } } }""",
        {"input": {"clientId": client["id"], "bankAccount": {"iban": "BG80BNBG96611020345678"}}}
    ))["addBankAccount"]
    assert account["bankAccount"]["iban"] == "BG80BNBG96611020345678"
    duplicate = (await service.data(manager, """
        mutation($input: AddBankAccountInput!) { addBankAccount(input: $input) {
          bankAccount { iban } userErrors { field code } } }""",
        {"input": {"clientId": client["id"], "bankAccount": {"iban": "bg80bnbg96611020345678"}}}
    ))["addBankAccount"]
    assert duplicate["userErrors"] == [{"field": ["input", "bankAccount", "iban"],
                                        "code": "DUPLICATE"}]

    history = (await service.data(manager, """
        query($id: ID!) { client(id: $id) { history(first: 50) { edges { node {
          operation entityType changes } } } } }""", {"id": client["id"]}))
    ops = [(e["node"]["entityType"], e["node"]["operation"])
           for e in history["client"]["history"]["edges"]]
    assert ops == [("bank_account", "create"), ("contact_person", "remove"),
                   ("contact_person", "update"), ("contact_person", "create"),
                   ("address", "create"), ("client", "create")]
    removed_entry = history["client"]["history"]["edges"][1]["node"]["changes"]
    assert removed_entry["old"]["name"] == "Мария Георгиева"
    # entries carry the API's names and values: camelCase keys (bankName, not bank_name), enum
    # values as the schema spells them, in nested entities too
    edges = history["client"]["history"]["edges"]
    new_account = edges[0]["node"]["changes"]["new"]
    assert "bankName" in new_account and "bank_name" not in new_account
    assert new_account["isDefault"] in (True, False)
    new_client = edges[-1]["node"]["changes"]["new"]
    assert new_client["kind"] == "COMPANY" and new_client["status"] in ("PROSPECT", "ACTIVE")
    assert "legalName" in new_client
    assert all(a["kind"].isupper() for a in new_client["addresses"])
    new_address = edges[4]["node"]["changes"]["new"]
    assert new_address["kind"].isupper() and "postalCode" in new_address


async def test_list_is_keyset_paged_and_filtered(service: Service) -> None:
    manager = service.token("manager")
    owner = str(await service.employee())
    names = [f"Страница {i:02d} ООД" for i in range(7)]
    for i, name in enumerate(names):
        city = "Пловдив" if i % 2 else "Бургас"
        await service.data(manager, CREATE, {"input": company(name, owner=owner, addresses=[
            {"kind": "OFFICE", "city": city, "street": "ул. 1"}])})
    seen: list[str] = []
    after = None
    while True:
        page = (await service.data(manager, LIST, {"first": 3, "after": after,
                                                   "filter": {"ownerId": owner}}))["clients"]
        seen += [e["node"]["legalName"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == names
    burgas = (await service.data(manager, LIST, {"first": 50, "filter": {
        "ownerId": owner, "city": "бургас"}}))["clients"]["edges"]
    assert [e["node"]["legalName"] for e in burgas] == names[0::2]
    desc = (await service.data(manager, LIST, {"first": 2, "filter": {"ownerId": owner},
                                               "orderBy": {"field": "NAME", "direction": "DESC"}}))
    assert [e["node"]["legalName"] for e in desc["clients"]["edges"]] == names[::-1][:2]
    bad = (await service.gql(manager, LIST, {"first": 2, "after": "not-a-cursor"})).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert bad["errors"][0]["message"].startswith("after:")
    negative = (await service.gql(manager, LIST, {"first": -1})).json()
    assert negative["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # over the cap: refused naming the cap (it was cut to the cap before issue 9)
    cap = service.settings.max_page_size
    too_many = (await service.gql(manager, LIST, {"first": 100000})).json()
    assert too_many["data"] is None
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert too_many["errors"][0]["message"] == (
        f"Requesting 100000 records on the `clients` connection exceeds the `first` limit of "
        f"{cap} records.")
    assert len((await service.data(manager, LIST, {"first": cap}))["clients"]["edges"]) <= cap


async def test_requests_without_a_valid_token_are_refused(service: Service) -> None:
    assert (await service.gql(None, GET, {"id": str(uuid.uuid4())})).status_code == 401
    expired = service.token("manager", ttl_seconds=-60)
    assert (await service.gql(expired, GET, {"id": str(uuid.uuid4())})).status_code == 401
    from crm_common.devkeys import generate_key_pair, mint_token
    other_private, _ = generate_key_pair()
    forged = mint_token(other_private, subject=uuid.uuid4(), roles=["admin"])
    assert (await service.gql(forged, GET, {"id": str(uuid.uuid4())})).status_code == 401


async def test_a_chunked_body_past_the_limit_is_refused(service: Service) -> None:
    async def chunks():  # no Content-Length: the service counts while reading
        yield b'{"query": "{ clients(first: 1) { edges { node { id } } } }", "x": "'
        for _ in range(20):
            yield b"y" * 65_536
        yield b'"}'

    response = await service.client.post(
        f"{service.url}/graphql", content=chunks(),
        headers={"authorization": f"Bearer {service.token('manager')}",
                 "content-type": "application/json"})
    assert response.status_code == 413


async def test_health_readiness_and_metrics(service: Service) -> None:
    alive = await service.client.get(f"{service.url}/healthz")
    assert alive.status_code == 200 and alive.json()["status"] == "alive"
    ready = await service.client.get(f"{service.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "broker": True, "consumers": True,
                                      "mongodb": True}  # the inventory's files
    await service.data(service.token("manager"), CREATE, {"input": company("Метрики ООД")})
    metrics = await service.client.get(f"{service.url}/metrics")
    assert metrics.status_code == 200
    assert 'crm_http_requests_total{path="/graphql",service="clients",status="200"}' in metrics.text
    assert 'crm_broker_connected{role="relay",service="clients"} 1.0' in metrics.text
    assert 'crm_outbox_pending{service="clients"}' in metrics.text


async def test_readiness_fails_while_the_database_is_unreachable(service: Service) -> None:
    import asyncio
    import dataclasses

    import uvicorn

    from crm_clients.app import create_app
    from crm_dev import procs

    port = procs.free_port()
    settings = dataclasses.replace(
        service.settings, port=port, run_relay=False,
        database_url="postgresql+asyncpg://postgres@127.0.0.1:5432/crm_clients_missing_db")
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(100):
            if server.started:
                break
            await asyncio.sleep(0.05)
        assert (await service.client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        ready = await service.client.get(f"http://127.0.0.1:{port}/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] is False
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=20)


async def test_history_is_append_only(service: Service) -> None:
    import asyncpg

    await service.data(service.token("manager"), CREATE, {"input": company("Архив ООД")})
    conn = await asyncpg.connect(
        service.settings.database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        assert await conn.fetchval("SELECT count(*) FROM history") > 0
        for statement in ("UPDATE history SET operation = 'x'", "DELETE FROM history",
                          "TRUNCATE history"):
            with pytest.raises(asyncpg.RaiseError, match="append-only"):
                await conn.execute(statement)
    finally:
        await conn.close()


async def test_rules_across_fields_apply_to_the_client_after_the_change(service: Service) -> None:
    manager = service.token("manager")
    prospect = (await service.data(manager, CREATE, {"input": company("Проспект ООД")}))[
        "createClient"]["client"]
    activate = (await service.data(manager, UPDATE, {"input": {
        "id": prospect["id"], "version": 1, "status": "ACTIVE"}}))["updateClient"]
    assert [(e["field"], e["code"]) for e in activate["userErrors"]] == [
        (["input", "eik"], "REQUIRED")]
    eik = fresh_eik()
    active = (await service.data(manager, CREATE, {"input": company("Активна ООД", eik)}))[
        "createClient"]["client"]
    other_vat = (await service.data(manager, UPDATE, {"input": {
        "id": active["id"], "version": 1, "vatNumber": "BG121759222"}}))["updateClient"]
    assert [(e["field"], e["code"]) for e in other_vat["userErrors"]] == [
        (["input", "vatNumber"], "VAT_EIK_MISMATCH")]


async def test_deeply_nested_json_is_a_400_not_a_server_error(service: Service) -> None:
    """5,000 nested arrays in the variables overflow the JSON decoder's recursion: a clear 400,
    and the service goes on serving."""
    body = ('{"query": "{ __typename }", "variables": {"x": ' + "[" * 5000 + "]" * 5000
            + "}}").encode()
    response = await service.client.post(
        f"{service.url}/graphql", content=body,
        headers={"authorization": f"Bearer {service.token('manager')}",
                 "content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert "nested too deeply" in response.text
    assert (await service.gql(service.token("manager"), "{ __typename }")).status_code == 200
