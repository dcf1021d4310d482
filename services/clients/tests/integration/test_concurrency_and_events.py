"""Optimistic concurrency and the outbox: no lost update, one event per committed change."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from .conftest import EventTap, Service
from .fragments import ARCHIVE, CREATE, UPDATE, company, fresh_eik

pytestmark = pytest.mark.integration


async def test_two_concurrent_updates_one_wins_the_other_conflicts(service: Service) -> None:
    manager = service.token("manager")
    client = (await service.data(manager, CREATE, {"input": company("Гонка ООД")}))[
        "createClient"]["client"]
    for round_ in range(5):
        current = (await service.data(manager, "query($id: ID!) { client(id: $id) { version } }",
                                      {"id": client["id"]}))["client"]["version"]
        a, b = await asyncio.gather(
            service.data(manager, UPDATE, {"input": {"id": client["id"], "version": current,
                                                     "tradeName": f"A{round_}"}}),
            service.data(manager, UPDATE, {"input": {"id": client["id"], "version": current,
                                                     "notes": f"B{round_}"}}),
        )
        results = [a["updateClient"], b["updateClient"]]
        winners = [r for r in results if not r["userErrors"]]
        losers = [r for r in results if r["userErrors"]]
        assert len(winners) == 1 and len(losers) == 1
        assert losers[0]["userErrors"][0]["code"] == "CONFLICT"
        assert winners[0]["client"]["version"] == current + 1
        # the loser reloads and retries: both changes survive
        retry_input = {"id": client["id"], "version": current + 1}
        if winners[0]["client"]["tradeName"] == f"A{round_}":
            retry_input["notes"] = f"B{round_}"
        else:
            retry_input["tradeName"] = f"A{round_}"
        retried = (await service.data(manager, UPDATE, {"input": retry_input}))["updateClient"]
        assert retried["userErrors"] == []
        assert retried["client"]["tradeName"] == f"A{round_}"
        assert retried["client"]["notes"] == f"B{round_}"
        assert retried["client"]["version"] == current + 2


async def test_concurrent_creates_with_the_same_eik_store_one(service: Service) -> None:
    manager = service.token("manager")
    eik = fresh_eik()
    results = await asyncio.gather(*[
        service.data(manager, CREATE, {"input": company(f"Близнак {i}", eik)}) for i in range(4)
    ])
    created = [r for r in results if r["createClient"]["client"]]
    refused = [r for r in results if r["createClient"]["userErrors"]]
    assert len(created) == 1 and len(refused) == 3
    assert {r["createClient"]["userErrors"][0]["code"] for r in refused} == {"DUPLICATE"}


async def test_an_event_for_every_committed_change_and_none_for_the_rest(
    service: Service, tap: EventTap
) -> None:
    manager = service.token("manager")
    marker = uuid.uuid4().hex
    client = (await service.data(manager, CREATE, {"input": company(
        f"Събития {marker}", fresh_eik())}))["createClient"]["client"]
    cid = client["id"]
    # refused changes: validation, conflict, archive by a rep
    bad = await service.data(manager, UPDATE, {"input": {"id": cid, "version": 1,
                                                         "eik": "123456789"}})
    assert bad["updateClient"]["userErrors"]
    stale = await service.data(manager, UPDATE, {"input": {"id": cid, "version": 7,
                                                           "notes": "x"}})
    assert stale["updateClient"]["userErrors"][0]["code"] == "CONFLICT"
    ok = await service.data(manager, UPDATE, {"input": {"id": cid, "version": 1,
                                                        "notes": "committed"}})
    assert ok["updateClient"]["userErrors"] == []
    noop = await service.data(manager, UPDATE, {"input": {"id": cid, "version": 2,
                                                          "notes": "committed"}})
    assert noop["updateClient"]["client"]["version"] == 2
    archived = await service.data(manager, ARCHIVE, {"input": {"id": cid, "version": 2}})
    assert archived["archiveClient"]["userErrors"] == []

    def mine(e: dict) -> bool:  # type: ignore[type-arg]
        return e["subject"] == cid

    await tap.wait_for(lambda e: mine(e) and e["type"] == "crm.clients.client.archived")
    await asyncio.sleep(0.5)  # anything extra would have arrived by now
    types = [e["type"] for e in tap.received if mine(e)]
    assert types == ["crm.clients.client.created", "crm.clients.client.updated",
                     "crm.clients.client.archived"]
    created, updated, archived_event = [e for e in tap.received if mine(e)]
    assert created["data"]["client"]["legalName"] == f"Събития {marker}"
    assert updated["data"]["client"]["notes"] == "committed"
    assert updated["data"]["changed"] == ["notes"]
    assert archived_event["data"]["client"]["status"] == "archived"
    assert not tap.invalid  # each validated against events/asyncapi.yaml on arrival
    # (test_directory.py checks that every clients event type of the catalogue is published)
    for envelope in (created, updated, archived_event):
        assert envelope["specversion"] == "1.0" and envelope["source"] == "crm/clients"
        assert envelope["actorid"] and envelope["correlationid"]


async def test_correlation_id_travels_from_request_to_event(service: Service,
                                                           tap: EventTap) -> None:
    cid_header = f"corr-{uuid.uuid4().hex}"
    response = await service.gql(service.token("manager"), CREATE,
                                 {"input": company("Корелация ЕООД")},
                                 headers={"x-correlation-id": cid_header})
    assert response.headers["x-correlation-id"] == cid_header
    client_id = response.json()["data"]["createClient"]["client"]["id"]
    event = (await tap.wait_for(lambda e: e["subject"] == client_id))[0]
    assert event["correlationid"] == cid_header


async def test_outbox_is_drained(service: Service) -> None:
    dsn = service.settings.database_url.replace("postgresql+asyncpg", "postgresql")
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(100):
            pending = await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            if pending == 0:
                break
            await asyncio.sleep(0.1)
        assert pending == 0
    finally:
        await conn.close()
