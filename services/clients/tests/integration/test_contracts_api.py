"""Contracts through the GraphQL API: lifecycle, history, events, who may do what, the queries."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections import Counter
from typing import Any

import aio_pika
import pytest

from crm_clients.domain.contract import business_today
from crm_common.messaging.envelope import DomainEvent, to_cloudevent

from .conftest import AMQP_URL, EventTap, Service
from .fragments import CREATE, company

pytestmark = pytest.mark.integration

CONTRACT = """id clientId number kind title status signedOn validFrom validUntil paymentTermDays
  currency priceTerms otherTerms autoRenew renewalTermMonths noticePeriodDays clientSignatory
  ourSignatoryId activatedOn terminatedOn terminationReason version
  discounts { id productGroupCode productCode percent validFrom validUntil }"""
ERRORS = "userErrors { field message code }"


def mutation(name: str, input_type: str) -> str:
    return (f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ "
            f"contract {{ {CONTRACT} }} {ERRORS} }} }}")


CREATE_CONTRACT = mutation("createContract", "CreateContractInput")
UPDATE_CONTRACT = mutation("updateContract", "UpdateContractInput")
ACTIVATE = mutation("activateContract", "ActivateContractInput")
SUSPEND = mutation("suspendContract", "SuspendContractInput")
TERMINATE = mutation("terminateContract", "TerminateContractInput")
GET_CONTRACT = f"""query($id: ID!, $first: Int, $after: String) {{ contract(id: $id) {{
  {CONTRACT} client {{ id legalName }}
  history(first: $first, after: $after) {{
    edges {{ cursor node {{ operation actorId entityType entityId changes }} }}
    pageInfo {{ hasNextPage endCursor }} }} }} }}"""
CLIENT_CONTRACTS = """query($id: ID!, $status: ContractStatus) { client(id: $id) {
  contracts(first: 100, status: $status) { edges { node { id number status } } }
  history(first: 100) { edges { node { operation entityType entityId } } } } }"""
CLIENT_PAGE = """query($id: ID!, $after: String) { client(id: $id) {
  contracts(first: 3, after: $after) { edges { node { id validFrom } }
    pageInfo { hasNextPage endCursor } } } }"""
LIST = """query($first: Int, $after: String, $filter: ContractFilterInput) {
  contracts(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id number status validUntil } } pageInfo { hasNextPage endCursor } } }"""


def unique_number(prefix: str = "Д") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def new_client(service: Service, token: str | None = None) -> str:
    data = await service.data(token or service.token("manager"), CREATE, {"input": company(
        f"Договорна {uuid.uuid4().hex[:6]} ООД")})
    assert data["createClient"]["userErrors"] == [], data
    return str(data["createClient"]["client"]["id"])


def contract_input(client_id: str, **extra: Any) -> dict[str, Any]:
    today = business_today()
    data: dict[str, Any] = {
        "clientId": client_id, "number": unique_number(), "kind": "SALES",
        "title": "Доставка на напитки", "validFrom": today.isoformat(),
        "validUntil": (today + dt.timedelta(days=365)).isoformat(),
    }
    data.update(extra)
    return data


async def create_contract(service: Service, client_id: str, token: str | None = None,
                          **extra: Any) -> dict[str, Any]:
    payload = (await service.data(token or service.token("manager"), CREATE_CONTRACT,
                                  {"input": contract_input(client_id, **extra)}))[
        "createContract"]
    assert payload["userErrors"] == [], payload
    return dict(payload["contract"])


async def act(service: Service, token: str, document: str, **input_: Any) -> dict[str, Any]:
    data = await service.data(token, document, {"input": input_})
    (payload,) = data.values()
    return dict(payload)


async def test_lifecycle_with_history_and_events(service: Service, tap: EventTap) -> None:
    manager_id = uuid.uuid4()
    manager = service.token("manager", manager_id)
    client_id = await new_client(service)
    signatory = str(uuid.uuid4())
    contract = await create_contract(
        service, client_id, manager, kind="DISTRIBUTION", signedOn="2026-01-10",
        paymentTermDays=30, currency="bgn", priceTerms="Цени по ценова листа А\nФранко склад",
        clientSignatory="Иван Петров, управител", ourSignatoryId=signatory, autoRenew=True,
        noticePeriodDays=60,
        discounts=[{"productGroupCode": "bev", "percent": "12.5"},
                   {"productCode": "P-100", "percent": 3, "validUntil": "2027-06-30"}])
    cid = contract["id"]
    assert contract["status"] == "DRAFT" and contract["version"] == 1
    assert contract["currency"] == "BGN" and contract["ourSignatoryId"] == signatory
    assert [d["percent"] for d in contract["discounts"]] == ["12.50", "3.00"]
    assert contract["discounts"][0]["productGroupCode"] == "BEV"

    updated = await act(service, manager, UPDATE_CONTRACT, id=cid, version=1,
                        title="Дистрибуция 2026", discounts=[
                            {"productGroupCode": "BEV", "percent": "15"}])
    assert updated["userErrors"] == [] and updated["contract"]["version"] == 2
    assert [d["percent"] for d in updated["contract"]["discounts"]] == ["15.00"]
    unchanged = await act(service, manager, UPDATE_CONTRACT, id=cid, version=2,
                          title="Дистрибуция 2026")
    assert unchanged["contract"]["version"] == 2  # no change, no new version, no event

    active = await act(service, manager, ACTIVATE, id=cid, version=2)
    assert active["userErrors"] == []
    assert active["contract"]["status"] == "ACTIVE"
    assert active["contract"]["activatedOn"] == business_today().isoformat()
    amended = await act(service, manager, UPDATE_CONTRACT, id=cid, version=3,
                        paymentTermDays=45, priceTerms=None)
    assert amended["userErrors"] == [] and amended["contract"]["paymentTermDays"] == 45
    suspended = await act(service, manager, SUSPEND, id=cid, version=4, reason="неплатени")
    assert suspended["contract"]["status"] == "SUSPENDED"
    again = await act(service, manager, ACTIVATE, id=cid, version=5)
    assert again["contract"]["status"] == "ACTIVE"
    last_day = (business_today() + dt.timedelta(days=90)).isoformat()
    ended = await act(service, manager, TERMINATE, id=cid, version=6, terminatedOn=last_day,
                      reason="  По взаимно съгласие  ")
    assert ended["userErrors"] == []
    assert ended["contract"]["status"] == "TERMINATED"
    assert ended["contract"]["terminatedOn"] == last_day
    assert ended["contract"]["terminationReason"] == "По взаимно съгласие"

    # a terminated contract stays readable and can no longer change
    refused = await act(service, manager, UPDATE_CONTRACT, id=cid, version=7, title="x")
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == \
        [(["input", "id"], "INVALID_STATUS")]
    refused = await act(service, manager, ACTIVATE, id=cid, version=7)
    assert refused["userErrors"][0]["code"] == "INVALID_TRANSITION"
    read = (await service.data(manager, GET_CONTRACT, {"id": cid, "first": 3}))["contract"]
    assert read["status"] == "TERMINATED" and read["client"]["id"] == client_id

    # history: newest first, paged, who and what (old → new)
    ops = [e["node"]["operation"] for e in read["history"]["edges"]]
    assert ops == ["terminate", "activate", "suspend"]
    assert read["history"]["pageInfo"]["hasNextPage"] is True
    rest = (await service.data(manager, GET_CONTRACT, {
        "id": cid, "first": 50, "after": read["history"]["pageInfo"]["endCursor"]}))["contract"]
    history = read["history"]["edges"] + rest["history"]["edges"]
    assert [e["node"]["operation"] for e in history] == [
        "terminate", "activate", "suspend", "update", "activate", "update", "create"]
    assert {e["node"]["actorId"] for e in history} == {str(manager_id)}
    assert {e["node"]["entityType"] for e in history} == {"contract"}
    amend = history[3]["node"]["changes"]
    assert amend["paymentTermDays"] == [30, 45]  # the API's names and values (camelCase, enums)
    assert amend["priceTerms"] == ["Цени по ценова листа А\nФранко склад", None]
    first_update = history[5]["node"]["changes"]
    assert first_update["title"] == ["Доставка на напитки", "Дистрибуция 2026"]
    assert [d["percent"] for d in first_update["discounts"][0]] == ["12.50", "3.00"]
    assert [d["percent"] for d in first_update["discounts"][1]] == ["15.00"]
    assert history[0]["node"]["changes"]["terminationReason"] == [None, "По взаимно съгласие"]
    assert history[2]["node"]["changes"] == {"status": ["ACTIVE", "SUSPENDED"],
                                             "reason": "неплатени"}
    assert history[1]["node"]["changes"]["status"] == ["SUSPENDED", "ACTIVE"]
    assert history[4]["node"]["changes"]["activatedOn"][0] is None  # was activated_on
    assert history[6]["node"]["changes"]["new"]["status"] == "DRAFT"
    # the client's history shows the contract's entries too
    dossier = (await service.data(manager, CLIENT_CONTRACTS, {"id": client_id}))["client"]
    assert [e["node"]["id"] for e in dossier["contracts"]["edges"]] == [cid]
    contract_entries = [e["node"]["operation"] for e in dossier["history"]["edges"]
                        if e["node"]["entityId"] == cid]
    assert contract_entries == [e["node"]["operation"] for e in history]

    await tap.wait_for(lambda e: e["subject"] == cid
                       and e["type"] == "crm.clients.contract.terminated")
    await asyncio.sleep(0.5)  # anything extra would have arrived by now
    mine = [e for e in tap.received if e["subject"] == cid]
    assert Counter(e["type"] for e in mine) == Counter({
        "crm.clients.contract.created": 1, "crm.clients.contract.updated": 2,
        "crm.clients.contract.activated": 2, "crm.clients.contract.suspended": 1,
        "crm.clients.contract.terminated": 1})
    assert not tap.invalid
    terminated = next(e for e in mine if e["type"] == "crm.clients.contract.terminated")
    assert terminated["data"]["previousStatus"] == "active"
    assert terminated["data"]["reason"] == "По взаимно съгласие"
    assert terminated["data"]["contract"]["terminatedOn"] == last_day
    assert terminated["actorid"] == str(manager_id)
    changed = sorted(tuple(e["data"]["changed"]) for e in mine
                     if e["type"] == "crm.clients.contract.updated")
    assert changed == [("discounts", "title"), ("paymentTermDays", "priceTerms")]


async def test_reps_draft_their_own_clients_contracts_and_see_nothing_else(
    service: Service,
) -> None:
    manager = service.token("manager")
    rep_id, stranger_id = uuid.uuid4(), uuid.uuid4()
    rep, stranger = service.token("sales_rep", rep_id), service.token("sales_rep", stranger_id)
    client_id = await new_client(service, rep)  # a rep's new client is theirs
    contract = await create_contract(service, client_id, rep)
    cid = contract["id"]
    ok = await act(service, rep, UPDATE_CONTRACT, id=cid, version=1, title="Рамков договор")
    assert ok["userErrors"] == []
    forbidden = await act(service, rep, ACTIVATE, id=cid, version=2)
    assert [(e["field"], e["code"]) for e in forbidden["userErrors"]] == \
        [(["input", "id"], "FORBIDDEN")]
    assert (await act(service, manager, ACTIVATE, id=cid, version=2))["userErrors"] == []
    forbidden = await act(service, rep, UPDATE_CONTRACT, id=cid, version=3, title="x")
    assert forbidden["userErrors"][0]["code"] == "FORBIDDEN"
    forbidden = await act(service, rep, TERMINATE, id=cid, version=3, terminatedOn="2026-12-31",
                          reason="x")
    assert forbidden["userErrors"][0]["code"] == "FORBIDDEN"
    # the rep still reads it, through their client
    assert (await service.data(rep, GET_CONTRACT, {"id": cid}))["contract"]["status"] == "ACTIVE"

    # a rep who may not see the client learns nothing
    assert (await service.data(stranger, GET_CONTRACT, {"id": cid}))["contract"] is None
    for document, input_ in ((UPDATE_CONTRACT, {"id": cid, "version": 3, "title": "x"}),
                             (SUSPEND, {"id": cid, "version": 3})):
        payload = await act(service, stranger, document, **input_)
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == \
            [(["input", "id"], "NOT_FOUND")] and payload["contract"] is None
    payload = await act(service, stranger, CREATE_CONTRACT, **contract_input(client_id))
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == \
        [(["input", "clientId"], "NOT_FOUND")]
    listed = (await service.data(stranger, LIST, {"first": 100}))["contracts"]["edges"]
    assert cid not in {e["node"]["id"] for e in listed}
    listed = (await service.data(stranger, LIST, {"first": 100, "filter": {
        "clientId": client_id}}))["contracts"]["edges"]
    assert listed == []
    mine = (await service.data(rep, LIST, {"first": 100}))["contracts"]["edges"]
    assert {e["node"]["id"] for e in mine} == {cid}

    # a meeting lets the stranger read the client's contracts, not write them
    await _grant_meeting(service, client_id, stranger_id)
    for _ in range(100):
        if (await service.data(stranger, GET_CONTRACT, {"id": cid}))["contract"]:
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the meeting grant never arrived")
    payload = await act(service, stranger, CREATE_CONTRACT, **contract_input(client_id))
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == \
        [(["input", "clientId"], "FORBIDDEN")]
    listed = (await service.data(stranger, LIST, {"first": 100}))["contracts"]["edges"]
    assert {e["node"]["id"] for e in listed} == {cid}


async def _grant_meeting(service: Service, client_id: str, employee_id: uuid.UUID) -> None:
    now = dt.datetime.now(dt.UTC)
    envelope = to_cloudevent(DomainEvent(
        type="crm.activities.meeting.scheduled", subject=str(uuid.uuid4()), data={
            "meetingId": str(uuid.uuid4()), "clientId": client_id,
            "employeeId": str(employee_id), "startsAt": now.isoformat(),
            "endsAt": (now + dt.timedelta(hours=2)).isoformat(), "status": "scheduled",
            "version": 1}), source="crm/activities", actor_id="system")
    conn = await aio_pika.connect(AMQP_URL)
    async with conn:
        channel = await conn.channel()
        exchange = await channel.get_exchange(service.settings.events_exchange)
        await exchange.publish(aio_pika.Message(json.dumps(envelope).encode(),
                                                message_id=envelope["id"],
                                                content_type="application/cloudevents+json"),
                               routing_key=envelope["type"])


async def test_in_force_and_expiring_queries(service: Service) -> None:
    manager = service.token("manager")
    client_id = await new_client(service)
    today = business_today()

    def day(offset: int) -> str:
        return (today + dt.timedelta(days=offset)).isoformat()

    async def make(status: str, valid_from: int, valid_until: int | None) -> str:
        c = await create_contract(service, client_id, manager, validFrom=day(valid_from),
                                  validUntil=day(valid_until) if valid_until is not None
                                  else None)
        if status != "DRAFT":
            await act(service, manager, ACTIVATE, id=c["id"], version=1)
        if status == "SUSPENDED":
            await act(service, manager, SUSPEND, id=c["id"], version=2)
        return str(c["id"])

    draft = await make("DRAFT", -10, 20)
    soon = await make("ACTIVE", -100, 10)
    later = await make("ACTIVE", -100, 200)
    open_ended = await make("ACTIVE", -5, None)
    paused = await make("SUSPENDED", -100, 25)
    future = await make("ACTIVE", 30, 60)
    ended = await make("ACTIVE", -100, 300)
    await act(service, manager, TERMINATE, id=ended, version=2, terminatedOn=day(5), reason="x")

    async def ids(**flt: Any) -> set[str]:
        edges = (await service.data(manager, LIST, {"first": 100, "filter": {
            "clientId": client_id, **flt}}))["contracts"]["edges"]
        return {e["node"]["id"] for e in edges}

    assert await ids(inForceOn=day(0)) == {soon, later, open_ended, ended}
    assert await ids(inForceOn=day(6)) == {soon, later, open_ended}  # terminated on day 5
    assert await ids(inForceOn=day(40)) == {later, open_ended, future}
    assert await ids(inForceOn=day(-50)) == {soon, later, ended}
    assert await ids(expiringWithinDays=30) == {soon, paused}
    assert await ids(expiringWithinDays=10) == {soon}
    assert await ids(expiringWithinDays=9) == set()
    assert await ids(status="DRAFT") == {draft}
    assert await ids(status="ACTIVE", expiringWithinDays=365) == {soon, later, future}
    by_status = (await service.data(manager, CLIENT_CONTRACTS, {
        "id": client_id, "status": "SUSPENDED"}))["client"]["contracts"]["edges"]
    assert [e["node"]["id"] for e in by_status] == [paused]

    # keyset paging by number visits every contract once
    seen: list[str] = []
    after = None
    while True:
        page = (await service.data(manager, LIST, {"first": 3, "after": after, "filter": {
            "clientId": client_id}}))["contracts"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == 7 and set(seen) == {draft, soon, later, open_ended, paused, future, ended}
    # Client.contracts is a keyset connection too: latest validity first, pages of 3
    seen = []
    after = None
    while True:
        page = (await service.data(manager, CLIENT_PAGE, {"id": client_id, "after": after}))[
            "client"]["contracts"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    whole = (await service.data(manager, CLIENT_CONTRACTS, {"id": client_id}))["client"][
        "contracts"]["edges"]
    assert seen == [e["node"]["id"] for e in whole] and len(seen) == 7
    starts = [e["node"]["validFrom"] for e in (await service.data(
        manager, CLIENT_PAGE.replace("first: 3", "first: 50"), {"id": client_id}))["client"][
        "contracts"]["edges"]]
    assert starts == sorted(starts, reverse=True)


async def test_concurrent_changes_one_wins_and_numbers_stay_unique(service: Service) -> None:
    manager = service.token("manager")
    client_id = await new_client(service)
    contract = await create_contract(service, client_id, manager)
    results = await asyncio.gather(*[
        act(service, manager, UPDATE_CONTRACT, id=contract["id"], version=1, title=f"T{i}")
        for i in range(4)])
    winners = [r for r in results if not r["userErrors"]]
    assert len(winners) == 1
    assert {r["userErrors"][0]["code"] for r in results if r["userErrors"]} == {"CONFLICT"}
    number = unique_number("RACE")
    created = await asyncio.gather(*[
        service.data(manager, CREATE_CONTRACT, {"input": contract_input(
            client_id, number=number if i % 2 else number.lower())})
        for i in range(4)])
    payloads = [c["createContract"] for c in created]
    assert sum(1 for p in payloads if p["contract"]) == 1
    assert [e["code"] for p in payloads for e in p["userErrors"]] == ["DUPLICATE"] * 3


async def test_an_archived_clients_contracts_can_only_be_ended(service: Service) -> None:
    manager = service.token("manager")
    client_id = await new_client(service)
    draft = await create_contract(service, client_id, manager)
    active = await create_contract(service, client_id, manager)
    assert (await act(service, manager, ACTIVATE, id=active["id"], version=1))["userErrors"] == []
    archived = await service.data(manager, """mutation($input: ArchiveClientInput!) {
        archiveClient(input: $input) { userErrors { code } } }""", {"input": {
        "id": client_id, "version": 1}})
    assert archived["archiveClient"]["userErrors"] == []
    for document, input_, field in (
            (CREATE_CONTRACT, contract_input(client_id), ["input", "clientId"]),
            (UPDATE_CONTRACT, {"id": draft["id"], "version": 1, "title": "x"}, ["input", "id"]),
            (ACTIVATE, {"id": draft["id"], "version": 1}, ["input", "id"])):
        payload = await act(service, manager, document, **input_)
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, "ARCHIVED")]
    ended = await act(service, manager, TERMINATE, id=active["id"], version=2,
                      terminatedOn=business_today().isoformat(), reason="клиентът е закрит")
    assert ended["userErrors"] == [] and ended["contract"]["status"] == "TERMINATED"
    contracts = [e["node"] for e in (await service.data(
        manager, CLIENT_CONTRACTS, {"id": client_id}))["client"]["contracts"]["edges"]]
    assert {c["id"]: c["status"] for c in contracts} == {draft["id"]: "DRAFT",
                                                        active["id"]: "TERMINATED"}
