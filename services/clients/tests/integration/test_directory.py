"""The staff directory, client groups and owner reassignment: commands, reads, events, history,
federation, and that every clients event type of the catalogue is published."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from crm_common.messaging.catalogue import Catalogue

from .conftest import CREATE_EMPLOYEE, EventTap, Service
from .fragments import CREATE, GET, company, fresh_eik

pytestmark = pytest.mark.integration

EMPLOYEE = """query($id: ID!) { employee(id: $id) {
  id fullName email phone role active version managerId manager { id fullName }
  history(first: 10) { edges { node { operation changes actorId } } } } }"""
UPDATE_EMPLOYEE = """mutation($input: UpdateEmployeeInput!) { updateEmployee(input: $input) {
  employee { id fullName email role active version managerId } userErrors { field code } } }"""
DEACTIVATE = """mutation($input: VersionedIdInput!) { deactivateEmployee(input: $input) {
  employee { id active version } userErrors { field code } } }"""
EMPLOYEES = """query($f: EmployeeFilterInput, $after: String) {
  employees(first: 2, filter: $f, after: $after) {
    edges { node { id fullName } } pageInfo { hasNextPage endCursor } } }"""
CREATE_GROUP = """mutation($input: CreateClientGroupInput!) { createClientGroup(input: $input) {
  group { id code name description version } userErrors { field code message } } }"""
UPDATE_GROUP = """mutation($input: UpdateClientGroupInput!) { updateClientGroup(input: $input) {
  group { id code name version } userErrors { field code } } }"""
ARCHIVE_GROUP = """mutation($input: VersionedIdInput!) { archiveClientGroup(input: $input) {
  group { id archivedAt } userErrors { field code message } } }"""
REASSIGN = """mutation($input: ReassignClientOwnerInput!) { reassignClientOwner(input: $input) {
  client { id version ownerId owner { id fullName role } history(first: 1) {
    edges { node { operation changes } } } } userErrors { field code } } }"""
UPDATE_CLIENT = """mutation($input: UpdateClientInput!) { updateClient(input: $input) {
  client { id version groupId group { code name } } userErrors { field code } } }"""
ENTITIES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Employee { id fullName role } ... on Client { id legalName owner { fullName } } } }"""


async def test_an_admin_keeps_the_staff_directory(service: Service, tap: EventTap) -> None:
    admin = service.token("admin")
    boss = await service.employee("manager", "Мария Шефова")
    rep_id = uuid.uuid4()
    created = (await service.data(admin, CREATE_EMPLOYEE, {"input": {
        "id": str(rep_id), "fullName": "  Петър   Продавачев ", "role": "SALES_REP",
        "email": "Petar@Example.BG", "phone": "0888 123 456", "managerId": str(boss)}}))
    assert created["createEmployee"]["userErrors"] == []
    employee = (await service.data(admin, EMPLOYEE, {"id": str(rep_id)}))["employee"]
    assert employee["email"] == "Petar@example.bg" and employee["phone"] == "+359888123456"
    assert employee["manager"]["fullName"] == "Мария Шефова"
    # a rep reads the directory too (owners, managers, assignees), but may not change it
    rep = service.token("sales_rep", rep_id)
    assert (await service.data(rep, "{ me { id role } }"))["me"] == {
        "id": str(rep_id), "role": "SALES_REP"}
    refused = await service.data(rep, UPDATE_EMPLOYEE, {"input": {
        "id": str(rep_id), "version": 1, "role": "ADMIN"}})
    assert refused["updateEmployee"]["userErrors"] == [{"field": ["input"], "code": "FORBIDDEN"}]
    changed = await service.data(admin, UPDATE_EMPLOYEE, {"input": {
        "id": str(rep_id), "version": 1, "fullName": "Петър Продавачев-Нов"}})
    assert changed["updateEmployee"]["employee"]["version"] == 2
    stale = await service.data(admin, UPDATE_EMPLOYEE, {"input": {
        "id": str(rep_id), "version": 1, "fullName": "X"}})
    assert stale["updateEmployee"]["userErrors"] == [{"field": ["input", "version"],
                                                      "code": "CONFLICT"}]
    gone = await service.data(admin, DEACTIVATE, {"input": {"id": str(rep_id), "version": 2}})
    assert gone["deactivateEmployee"]["employee"] == {"id": str(rep_id), "active": False,
                                                      "version": 3}
    history = (await service.data(admin, EMPLOYEE, {"id": str(rep_id)}))["employee"]["history"]
    assert [e["node"]["operation"] for e in history["edges"]] == ["update", "update", "create"]
    assert history["edges"][0]["node"]["changes"]["active"] == [True, False]
    types = [e["type"] for e in await tap.wait_for(
        lambda e: e["subject"] == str(rep_id) and e["type"].endswith(".deactivated"))]
    await asyncio.sleep(0.3)
    types = [e["type"] for e in tap.received if e["subject"] == str(rep_id)]
    assert types == ["crm.clients.employee.created", "crm.clients.employee.updated",
                     "crm.clients.employee.deactivated"]
    last = tap.of_type("crm.clients.employee.deactivated")[-1]["data"]["employee"]
    assert last["active"] is False and last["managerId"] == str(boss)


async def test_bad_employee_input_is_refused_and_changes_nothing(service: Service) -> None:
    admin = service.token("admin")
    existing = await service.employee(email="taken@example.bg")
    cases = [
        ({"id": "not-a-uuid", "fullName": "X", "role": "SALES_REP"}, ["input", "id"],
         "INVALID_ID"),
        ({"id": str(uuid.uuid4()), "fullName": "x" * 1_000_000, "role": "SALES_REP"},
         ["input", "fullName"], "TOO_LONG"),
        ({"id": str(uuid.uuid4()), "fullName": "Зъл\u202eчовек", "role": "SALES_REP"},
         ["input", "fullName"], "CONTROL_CHARACTERS"),
        ({"id": str(uuid.uuid4()), "fullName": "  ", "role": "SALES_REP"},
         ["input", "fullName"], "REQUIRED"),
        ({"id": str(uuid.uuid4()), "fullName": "X", "role": "SALES_REP", "email": "no-at"},
         ["input", "email"], "INVALID_EMAIL"),
        ({"id": str(uuid.uuid4()), "fullName": "X", "role": "SALES_REP", "phone": "12"},
         ["input", "phone"], "INVALID_PHONE"),
        ({"id": str(uuid.uuid4()), "fullName": "X", "role": "SALES_REP",
          "managerId": str(uuid.uuid4())}, ["input", "managerId"], "NOT_FOUND"),
        ({"id": str(existing), "fullName": "X", "role": "SALES_REP"}, ["input", "id"],
         "DUPLICATE"),
        ({"id": str(uuid.uuid4()), "fullName": "X", "role": "SALES_REP",
          "email": "TAKEN@example.bg"}, ["input", "email"], "DUPLICATE"),
    ]
    for variables, field, code in cases:
        payload = (await service.data(admin, CREATE_EMPLOYEE, {"input": variables}))
        errors = payload["createEmployee"]["userErrors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], (variables, errors)
        assert payload["createEmployee"]["employee"] is None
    # a manager loop is refused: A manages B, so B cannot manage A
    a = await service.employee("manager")
    b = await service.employee("manager", managerId=str(a))
    loop = await service.data(admin, UPDATE_EMPLOYEE, {"input": {
        "id": str(a), "version": 1, "managerId": str(b)}})
    assert loop["updateEmployee"]["userErrors"] == [{"field": ["input", "managerId"],
                                                     "code": "INVALID_VALUE"}]
    assert (await service.data(admin, EMPLOYEE, {"id": str(a)}))["employee"]["version"] == 1


async def test_the_directory_pages_by_name(service: Service) -> None:
    marker = uuid.uuid4().hex[:8]
    for name in ("Яна", "Аля", "Боян"):
        await service.employee(name=f"{name} {marker}")
    token, seen, after = service.token("sales_rep"), [], None
    while True:
        page = (await service.data(token, EMPLOYEES, {"f": {"name": marker.upper()},
                                                       "after": after}))["employees"]
        seen += [e["node"]["fullName"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [f"Аля {marker}", f"Боян {marker}", f"Яна {marker}"]


async def test_owners_must_be_active_employees_and_reassignment_is_recorded(
        service: Service, tap: EventTap) -> None:
    manager, admin = service.token("manager"), service.token("admin")
    first = await service.employee(name="Първи Търговец")
    second = await service.employee(name="Втори Търговец")
    stranger = uuid.uuid4()
    refused = (await service.data(manager, CREATE, {"input": company(
        "Без Собственик ООД", owner=str(stranger))}))["createClient"]
    assert refused["userErrors"][0]["field"] == ["input", "ownerId"]
    client = (await service.data(manager, CREATE, {"input": company(
        f"Преминаващ {uuid.uuid4().hex[:6]} ООД", fresh_eik(),
        owner=str(first))}))["createClient"]["client"]
    rep_token = service.token("sales_rep", first)
    by_rep = await service.data(rep_token, REASSIGN, {"input": {
        "id": client["id"], "version": 1, "ownerId": str(second)}})
    assert by_rep["reassignClientOwner"]["userErrors"] == [{"field": ["input", "id"],
                                                            "code": "FORBIDDEN"}]
    to_stranger = await service.data(manager, REASSIGN, {"input": {
        "id": client["id"], "version": 1, "ownerId": str(stranger)}})
    assert to_stranger["reassignClientOwner"]["userErrors"] == [
        {"field": ["input", "ownerId"], "code": "NOT_FOUND"}]
    moved = (await service.data(manager, REASSIGN, {"input": {
        "id": client["id"], "version": 1, "ownerId": str(second),
        "reason": "Първи напуска"}}))["reassignClientOwner"]
    assert moved["userErrors"] == []
    assert moved["client"]["owner"] == {"id": str(second), "fullName": "Втори Търговец",
                                        "role": "SALES_REP"}
    entry = moved["client"]["history"]["edges"][0]["node"]
    assert entry["operation"] == "reassign"
    assert entry["changes"] == {"ownerId": [str(first), str(second)], "reason": "Първи напуска"}
    # the old owner no longer sees it, the new one does
    assert (await service.data(rep_token, GET, {"id": client["id"]}))["client"] is None
    event = (await tap.wait_for(lambda e: e["subject"] == client["id"] and
                                e["type"] == "crm.clients.client.owner_reassigned"))[0]
    assert event["data"]["previousOwnerId"] == str(first)
    assert event["data"]["client"]["ownerId"] == str(second)
    # a deactivated employee cannot be given clients
    version = (await service.data(admin, EMPLOYEE, {"id": str(first)}))["employee"]["version"]
    await service.data(admin, DEACTIVATE, {"input": {"id": str(first), "version": version}})
    back = await service.data(manager, REASSIGN, {"input": {
        "id": client["id"], "version": 2, "ownerId": str(first)}})
    assert back["reassignClientOwner"]["userErrors"] == [{"field": ["input", "ownerId"],
                                                          "code": "NOT_FOUND"}]


async def test_employee_and_client_resolve_as_federation_entities(service: Service) -> None:
    manager = service.token("manager")
    owner = await service.employee(name="Федерален Търговец")
    client = (await service.data(manager, CREATE, {"input": company(
        f"Федерация {uuid.uuid4().hex[:6]} ООД", owner=str(owner))}))["createClient"]["client"]
    reps = [{"__typename": "Employee", "id": str(owner)},
            {"__typename": "Employee", "id": str(uuid.uuid4())},
            {"__typename": "Employee", "id": "junk"},
            {"__typename": "Client", "id": client["id"]}]
    found = (await service.data(manager, ENTITIES, {"r": reps}))["_entities"]
    assert found[0] == {"id": str(owner), "fullName": "Федерален Търговец", "role": "SALES_REP"}
    assert found[1] is None and found[2] is None
    assert found[3]["owner"] == {"fullName": "Федерален Търговец"}


async def test_client_groups(service: Service, tap: EventTap) -> None:
    manager, rep = service.token("manager"), service.token("sales_rep")
    code = f"g-{uuid.uuid4().hex[:6]}"
    assert (await service.data(rep, CREATE_GROUP, {"input": {"code": code, "name": "X"}}))[
        "createClientGroup"]["userErrors"] == [{"field": ["input"], "code": "FORBIDDEN",
                                                "message": "only managers and admins manage "
                                                           "client groups"}]
    group = (await service.data(manager, CREATE_GROUP, {"input": {
        "code": code, "name": "Вериги магазини", "description": "Национални вериги"}}))[
        "createClientGroup"]["group"]
    assert group["code"] == code.upper() and group["version"] == 1
    dup = await service.data(manager, CREATE_GROUP, {"input": {"code": code.upper(),
                                                               "name": "Друга"}})
    assert dup["createClientGroup"]["userErrors"][0]["code"] == "DUPLICATE"
    for bad, field, err in (({"code": "has space", "name": "X"}, "code", "INVALID_VALUE"),
                            ({"code": "A" * 31, "name": "X"}, "code", "TOO_LONG"),
                            ({"code": "OK1", "name": ""}, "name", "REQUIRED")):
        answer = await service.data(manager, CREATE_GROUP, {"input": bad})
        assert [(e["field"], e["code"]) for e in answer["createClientGroup"]["userErrors"]] \
            == [(["input", field], err)]
    renamed = await service.data(manager, UPDATE_GROUP, {"input": {
        "id": group["id"], "version": 1, "name": "Търговски вериги"}})
    assert renamed["updateClientGroup"]["group"]["version"] == 2
    client = (await service.data(manager, CREATE, {"input": company(
        f"Член {uuid.uuid4().hex[:6]} ООД", groupId=group["id"])}))["createClient"]["client"]
    shown = (await service.data(manager, UPDATE_CLIENT, {"input": {
        "id": client["id"], "version": 1, "notes": "в група"}}))["updateClient"]["client"]
    assert shown["group"] == {"code": code.upper(), "name": "Търговски вериги"}
    in_use = await service.data(manager, ARCHIVE_GROUP, {"input": {"id": group["id"],
                                                                   "version": 2}})
    assert in_use["archiveClientGroup"]["userErrors"][0]["code"] == "IN_USE"
    out = await service.data(manager, UPDATE_CLIENT, {"input": {
        "id": client["id"], "version": 2, "groupId": None}})
    assert out["updateClient"]["client"]["groupId"] is None
    archived = await service.data(manager, ARCHIVE_GROUP, {"input": {"id": group["id"],
                                                                     "version": 2}})
    assert archived["archiveClientGroup"]["group"]["archivedAt"]
    rejoin = await service.data(manager, UPDATE_CLIENT, {"input": {
        "id": client["id"], "version": 3, "groupId": group["id"]}})
    assert rejoin["updateClient"]["userErrors"] == [{"field": ["input", "groupId"],
                                                     "code": "NOT_FOUND"}]
    await tap.wait_for(lambda e: e["subject"] == group["id"] and e["type"].endswith("archived"))


GROUPS = """query($first: Int, $after: String, $archived: Boolean!) {
  clientGroups(first: $first, after: $after, includeArchived: $archived) {
    edges { cursor node { id code archivedAt } } pageInfo { hasNextPage endCursor } } }"""


async def test_client_groups_are_a_keyset_connection_by_code(service: Service) -> None:
    manager = service.token("manager")
    prefix = f"P{uuid.uuid4().hex[:6]}".upper()
    made = [(await service.data(manager, CREATE_GROUP, {"input": {
        "code": f"{prefix}{n}", "name": f"Група {n}"}}))["createClientGroup"]["group"]
        for n in (3, 1, 4, 2, 5)]
    archived = await service.data(manager, ARCHIVE_GROUP, {"input": {"id": made[0]["id"],
                                                                     "version": 1}})
    assert archived["archiveClientGroup"]["userErrors"] == []

    async def codes(archived: bool) -> list[str]:
        seen: list[str] = []
        after = None
        while True:
            page = (await service.data(manager, GROUPS, {"first": 2, "after": after,
                                                         "archived": archived}))["clientGroups"]
            seen += [e["node"]["code"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return [c for c in seen if c.startswith(prefix)]
            after = page["pageInfo"]["endCursor"]

    assert await codes(False) == [f"{prefix}{n}" for n in (1, 2, 4, 5)]
    assert await codes(True) == [f"{prefix}{n}" for n in (1, 2, 3, 4, 5)]
    bad = await service.gql(manager, GROUPS, {"after": "garbage", "archived": False})
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_every_clients_event_type_of_the_catalogue_is_published(
        service: Service, tap: EventTap) -> None:
    """Each type the catalogue lists for the clients service, but the contract and inventory
    ones (test_contracts_api and test_inventory_api exercise those), is published by the changes
    made here."""
    expected = {t for t in Catalogue().event_types_of("clients")
                if not any(part in t for part in (".contract.", ".asset.", ".material."))}
    manager, admin = service.token("manager"), service.token("admin")
    owner = await service.employee()
    await service.data(admin, UPDATE_EMPLOYEE, {"input": {"id": str(owner), "version": 1,
                                                          "fullName": "Сменено Име"}})
    await service.data(admin, DEACTIVATE, {"input": {"id": str(owner), "version": 2}})
    group = (await service.data(manager, CREATE_GROUP, {"input": {
        "code": f"C{uuid.uuid4().hex[:6]}", "name": "Покритие"}}))["createClientGroup"]["group"]
    await service.data(manager, UPDATE_GROUP, {"input": {"id": group["id"], "version": 1,
                                                         "name": "Покритие 2"}})
    await service.data(manager, ARCHIVE_GROUP, {"input": {"id": group["id"], "version": 2}})
    client = (await service.data(manager, CREATE, {"input": company(
        f"Покритие {uuid.uuid4().hex[:6]} ООД", fresh_eik())}))["createClient"]["client"]
    await service.data(manager, UPDATE_CLIENT, {"input": {"id": client["id"], "version": 1,
                                                          "notes": "x"}})
    await service.data(manager, REASSIGN, {"input": {"id": client["id"], "version": 2,
                                                     "ownerId": None}})
    await service.data(manager, REASSIGN, {"input": {"id": client["id"], "version": 2,
                                                     "ownerId": str(await service.employee())}})
    await service.data(manager, """mutation($i: ArchiveClientInput!) { archiveClient(input: $i)
        { userErrors { code } } }""", {"i": {"id": client["id"], "version": 3}})
    subjects = {str(owner), group["id"], client["id"]}

    def seen() -> set[str]:
        return {e["type"] for e in tap.received if e["subject"] in subjects}

    for _ in range(300):
        if expected <= seen():
            break
        await asyncio.sleep(0.05)
    missing = expected - seen()
    assert not missing, f"never published: {missing}"
