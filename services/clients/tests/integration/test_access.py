"""Who sees what: admins and managers see all; a rep sees their own; the rest is not found."""

from __future__ import annotations

import pytest

from .conftest import Service
from .fragments import ARCHIVE, CREATE, GET, LIST, UPDATE, company

pytestmark = pytest.mark.integration


async def test_rep_sees_own_clients_only(service: Service) -> None:
    manager = service.token("manager")
    rep_a, rep_b = await service.employee(), await service.employee()
    client = (await service.data(manager, CREATE, {"input": company(
        "Достъп ООД", owner=str(rep_a))}))["createClient"]["client"]
    token_a = service.token("sales_rep", rep_a)
    token_b = service.token("sales_rep", rep_b)
    assert (await service.data(token_a, GET, {"id": client["id"]}))["client"]["id"] == client["id"]
    assert (await service.data(token_b, GET, {"id": client["id"]}))["client"] is None
    assert (await service.data(service.token("admin"), GET, {"id": client["id"]}))["client"]
    listed_a = (await service.data(token_a, LIST, {"first": 100}))["clients"]["edges"]
    assert {e["node"]["id"] for e in listed_a} == {client["id"]}
    listed_b = (await service.data(token_b, LIST, {"first": 100}))["clients"]["edges"]
    assert listed_b == []
    # filtering by someone else's id does not widen a rep's view
    spy = (await service.data(token_b, LIST, {"first": 100, "filter": {"ownerId": str(rep_a)}}))
    assert spy["clients"]["edges"] == []
    # federation entity resolution follows the same rule
    entities = """query($r: [_Any!]!) { _entities(representations: $r) {
        ... on Client { id legalName } } }"""
    reps = {"r": [{"__typename": "Client", "id": client["id"]}]}
    assert (await service.data(token_b, entities, reps))["_entities"] == [None]
    assert (await service.data(token_a, entities, reps))["_entities"][0]["id"] == client["id"]


async def test_rep_changes_own_client_but_not_others_and_cannot_archive(service: Service) -> None:
    manager = service.token("manager")
    rep_a, rep_b = await service.employee(), await service.employee()
    client = (await service.data(manager, CREATE, {"input": company(
        "Промени ООД", owner=str(rep_a))}))["createClient"]["client"]
    token_a = service.token("sales_rep", rep_a)
    token_b = service.token("sales_rep", rep_b)
    other = (await service.data(token_b, UPDATE, {"input": {"id": client["id"], "version": 1,
                                                            "notes": "hijack"}}))
    assert other["updateClient"]["userErrors"][0]["code"] == "NOT_FOUND"
    own = (await service.data(token_a, UPDATE, {"input": {"id": client["id"], "version": 1,
                                                          "notes": "visited"}}))
    assert own["updateClient"]["userErrors"] == []
    archive = (await service.data(token_a, ARCHIVE, {"input": {"id": client["id"],
                                                               "version": 2}}))
    assert archive["archiveClient"]["userErrors"][0]["code"] == "FORBIDDEN"
    child = (await service.data(token_b, """mutation($i: AddAddressInput!) {
        addAddress(input: $i) { userErrors { code field } } }""", {"i": {
        "clientId": client["id"], "address": {"kind": "OFFICE", "city": "София",
                                              "street": "ул. 1"}}}))
    assert child["addAddress"]["userErrors"] == [{"code": "NOT_FOUND", "field": ["input",
                                                                              "clientId"]}]


async def test_rep_creates_clients_for_self_only(service: Service) -> None:
    rep = await service.employee()
    token = service.token("sales_rep", rep)
    mine = (await service.data(token, CREATE, {"input": company("Моя ООД")}))["createClient"]
    assert mine["client"]["ownerId"] == str(rep)
    theirs = (await service.data(token, CREATE, {"input": company(
        "Чужда ООД", owner=str(await service.employee()))}))["createClient"]
    assert theirs["client"] is None
    assert theirs["userErrors"][0] == {"field": ["input", "ownerId"], "code": "FORBIDDEN",
                                       "message": theirs["userErrors"][0]["message"]}
