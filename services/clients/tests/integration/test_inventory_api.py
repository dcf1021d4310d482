"""The advertising inventory through the GraphQL API: types, assets, placements (and the race for
one asset), returns, bulk material, audits with their events, cadence, the reads and who may
do what."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from crm_clients.adapters.tables import placements
from crm_clients.domain.contract import business_today

from .conftest import EventTap, Service
from .inventory_helpers import (
    AUDIT_MUTATION,
    AUDITS_DUE,
    CHANGE_STATUS,
    GET_ASSET,
    INVENTORY,
    ISSUE,
    LIST_ASSETS,
    PLACE,
    RETURN,
    UPDATE_TYPE,
    WRITE_OFF,
    act,
    new_asset,
    new_client,
    new_type,
    ok,
    placed,
    placement_input,
    unique,
)
from .test_meeting_grants import Meetings

pytestmark = pytest.mark.integration

AUDIT_FIELDS = {"auditId", "assetId", "inventoryNumber", "assetTypeName", "clientId",
                "clientOwnerId", "placementId", "result", "condition", "notes", "auditedBy",
                "auditedAt", "activityId", "version"}


async def test_place_and_return_with_history_and_events(service: Service, tap: EventTap) -> None:
    rep = await service.employee()
    manager = service.token("manager")
    client_id, (address_id,) = await new_client(service, owner=rep)
    kind = await new_type(service, auditIntervalDays=30)
    asset = await new_asset(service, kind["id"], purchaseValue="950.50")
    assert asset["status"] == "IN_STOCK" and asset["condition"] == "NEW"
    placement = (await ok(service, service.token("sales_rep", rep), PLACE, **placement_input(
        asset, client_id, address_id, deposit="100.00", minimumMonthlyPurchase="500",
        terms="Само наши продукти в хладилника", expectedReturnOn="2030-01-01")))["placement"]
    today = business_today()
    assert placement["nextAuditDue"] == (today + dt.timedelta(days=30)).isoformat()
    assert placement["deposit"] == "100.00" and placement["returnedOn"] is None

    inventory = (await service.data(manager, INVENTORY, {"id": client_id}))["client"]
    assert inventory["inventory"]["assetCount"] == 1
    assert inventory["inventory"]["placedValue"] == {"amount": "950.50", "currency": "EUR"}
    (open_,) = inventory["inventory"]["placements"]
    assert open_["asset"]["status"] == "PLACED" and open_["address"]["id"] == address_id
    assert open_["lastAudit"] is None

    (event,) = await tap.wait_for_type("crm.clients.asset.placed", asset["id"])
    assert event["data"]["placement"]["id"] == placement["id"]
    assert event["data"]["clientOwnerId"] == str(rep)

    now = (await service.data(manager, GET_ASSET, {"id": asset["id"]}))["asset"]
    back = (await ok(service, manager, RETURN, id=asset["id"], version=now["version"],
                     condition="WORN", notes="надраскана врата"))["asset"]
    assert back["status"] == "IN_STOCK" and back["condition"] == "WORN"
    (returned,) = await tap.wait_for_type("crm.clients.asset.returned", asset["id"])
    assert returned["data"]["placement"]["returnCondition"] == "worn"
    after = (await service.data(manager, INVENTORY, {"id": client_id}))["client"]["inventory"]
    assert after["placements"] == [] and after["assetCount"] == 0
    history = (await service.data(manager, GET_ASSET, {"id": asset["id"]}))["asset"]
    assert [e["node"]["operation"] for e in history["history"]["edges"]] == \
        ["return", "place", "create"]
    assert history["placements"][0]["returnCondition"] == "WORN"
    assert history["openPlacement"] is None
    # the place and return are in the client's dossier history too
    dossier = (await service.data(manager, INVENTORY, {"id": client_id}))["client"]["history"]
    assert {"place", "return"} <= {e["node"]["operation"] for e in dossier["edges"]}


async def test_concurrent_placements_of_one_asset_exactly_one_wins(service: Service) -> None:
    manager = service.token("manager")
    asset = await new_asset(service, (await new_type(service))["id"])
    targets = [await new_client(service) for _ in range(6)]
    results = await asyncio.gather(*[
        act(service, manager, PLACE, **placement_input(asset, cid, addresses[0]))
        for cid, addresses in targets])
    winners = [r for r in results if r["userErrors"] == []]
    assert len(winners) == 1, results
    losers = [r["userErrors"][0]["code"] for r in results if r["userErrors"]]
    assert set(losers) <= {"ALREADY_PLACED", "CONFLICT"} and len(losers) == 5
    now = (await service.data(manager, GET_ASSET, {"id": asset["id"]}))["asset"]
    assert [p["returnedOn"] for p in now["placements"]] == [None]
    assert now["openPlacement"]["id"] == winners[0]["placement"]["id"]


async def test_the_database_refuses_a_second_open_placement(service: Service) -> None:
    """The partial unique index is the last word, whatever a handler checked before."""
    (placement, asset) = await placed(service, *(await _client_and_address(service)))
    client_id, address_id = await _client_and_address(service)
    engine = create_async_engine(service.settings.database_url)
    try:
        async with engine.begin() as conn:
            with pytest.raises(IntegrityError, match="ux_placements_open_asset"):
                await conn.execute(insert(placements).values(
                    id=uuid.uuid4(), asset_id=uuid.UUID(asset["id"]),
                    client_id=uuid.UUID(client_id), address_id=uuid.UUID(address_id),
                    protocol_number="X", placed_on=business_today(), client_signatory="X",
                    next_audit_due=business_today()))
        async with engine.connect() as conn:
            count = len((await conn.execute(select(placements.c.id).where(
                placements.c.asset_id == uuid.UUID(asset["id"])))).all())
        assert count == 1
    finally:
        await engine.dispose()


async def _client_and_address(service: Service, owner: uuid.UUID | None = None
                              ) -> tuple[str, str]:
    client_id, addresses = await new_client(service, owner=owner)
    return client_id, addresses[0]


async def test_audit_results_findings_cadence_and_events(service: Service,
                                                         tap: EventTap) -> None:
    rep = await service.employee()
    rep_token = service.token("sales_rep", rep)
    client_id, address_id = await _client_and_address(service, owner=rep)
    other_client, other_address = await _client_and_address(service)
    kind = await new_type(service, auditIntervalDays=45)
    found, found_asset = await placed(service, client_id, address_id, type_id=kind["id"])
    missing, missing_asset = await placed(service, client_id, address_id, type_id=kind["id"])
    damaged, damaged_asset = await placed(service, client_id, address_id, type_id=kind["id"])
    _, elsewhere = await placed(service, other_client, other_address, type_id=kind["id"])
    activity = str(uuid.uuid4())
    audit = (await ok(service, rep_token, AUDIT_MUTATION, clientId=client_id,
                      addressId=address_id, activityId=activity,
                      geolocation={"latitude": "42.697708", "longitude": "23.321868",
                                   "accuracyMeters": 12},
                      lines=[
                          {"assetId": found_asset["id"], "result": "FOUND",
                           "condition": "GOOD"},
                          {"tagCode": missing_asset["tagCode"].lower(), "result": "MISSING",
                           "notes": "няма го"},
                          {"assetId": damaged_asset["id"], "result": "DAMAGED",
                           "condition": "DAMAGED"},
                          {"tagCode": elsewhere["tagCode"], "result": "UNRECORDED"},
                      ]))["audit"]
    assert audit["activityId"] == activity
    assert audit["geolocation"] == {"latitude": "42.697708", "longitude": "23.321868",
                                    "accuracyMeters": 12}
    assert [line["result"] for line in audit["lines"]] == \
        ["FOUND", "MISSING", "DAMAGED", "UNRECORDED"]
    assert audit["lines"][3]["placementId"] is None

    audited = await tap.wait_for(lambda e: e["type"] == "crm.clients.asset.audited"
                                 and e["data"]["auditId"] == audit["id"])
    audited = await tap.wait_for(lambda e: e["type"] == "crm.clients.asset.audited"
                                 and e["data"]["auditId"] == audit["id"]
                                 and len([x for x in tap.received
                                          if x["type"] == e["type"]
                                          and x["data"]["auditId"] == audit["id"]]) == 4)
    by_asset = {e["subject"]: e["data"] for e in audited}
    assert len(by_asset) == 4 and all(set(d) == AUDIT_FIELDS for d in by_asset.values())
    assert by_asset[missing_asset["id"]]["result"] == "missing"
    assert by_asset[missing_asset["id"]]["clientOwnerId"] == str(rep)
    assert by_asset[missing_asset["id"]]["placementId"] == missing["id"]
    assert by_asset[found_asset["id"]]["activityId"] == activity
    assert by_asset[elsewhere["id"]]["result"] == "unrecorded"
    assert by_asset[elsewhere["id"]]["placementId"] is None
    assert by_asset[damaged_asset["id"]]["version"] == damaged_asset["version"] + 1
    (missing_event,) = await tap.wait_for_type("crm.clients.asset.missing", missing_asset["id"])
    assert missing_event["data"] == by_asset[missing_asset["id"]]
    assert not tap.of_type("crm.clients.asset.missing", found_asset["id"])

    # cadence moved on for the audited placements; the finding moved nothing
    manager = service.token("manager")
    inventory = (await service.data(manager, INVENTORY, {"id": client_id}))["client"]
    due = (business_today() + dt.timedelta(days=45)).isoformat()
    for p in inventory["inventory"]["placements"]:
        assert p["lastAuditedOn"] == business_today().isoformat() and p["nextAuditDue"] == due
        assert p["lastAudit"]["auditId"] == audit["id"]
    now = (await service.data(manager, GET_ASSET, {"id": elsewhere["id"]}))["asset"]
    assert now["openPlacement"]["clientId"] == other_client
    assert now["version"] == elsewhere["version"] and now["lastAuditedAt"] is None
    assert now["auditLines"][0]["result"] == "UNRECORDED"
    hurt = (await service.data(manager, GET_ASSET, {"id": damaged_asset["id"]}))["asset"]
    assert hurt["condition"] == "DAMAGED" and hurt["lastAuditedAt"] is not None
    # the rep does not see the other client's asset through the finding
    assert (await service.data(rep_token, GET_ASSET, {"id": elsewhere["id"]}))["asset"] is None
    # the finding is listed for managers (and for whoever sees the audited client)
    findings = """query($after: String) { unrecordedFindings(first: 100, after: $after) {
      edges { node { auditId assetId result placementId } } pageInfo { hasNextPage } } }"""
    for token in (manager, rep_token):
        listed = (await service.data(token, findings))["unrecordedFindings"]["edges"]
        assert {"auditId": audit["id"], "assetId": elsewhere["id"], "result": "UNRECORDED",
                "placementId": None} in [e["node"] for e in listed]
    stranger = service.token("sales_rep", await service.employee())
    assert (await service.data(stranger, findings))["unrecordedFindings"]["edges"] == []


async def test_audits_due_per_rep(service: Service) -> None:
    rep, other_rep = await service.employee(), await service.employee()
    client_id, address_id = await _client_and_address(service, owner=rep)
    other_client, other_address = await _client_and_address(service, owner=other_rep)
    kind = await new_type(service, auditIntervalDays=10)
    long_ago = (business_today() - dt.timedelta(days=40)).isoformat()
    old, _ = await placed(service, client_id, address_id, type_id=kind["id"], placedOn=long_ago)
    fresh, _ = await placed(service, client_id, address_id, type_id=kind["id"])
    theirs, _ = await placed(service, other_client, other_address, type_id=kind["id"],
                             placedOn=long_ago)
    rep_token = service.token("sales_rep", rep)
    mine = (await service.data(rep_token, AUDITS_DUE, {"owner": str(rep)}))["auditsDue"]
    assert [e["node"]["id"] for e in mine["edges"]] == [old["id"]]
    assert mine["edges"][0]["node"]["client"]["id"] == client_id
    later = (business_today() + dt.timedelta(days=11)).isoformat()
    ahead = (await service.data(rep_token, AUDITS_DUE, {"owner": str(rep), "dueBy": later}))
    assert [e["node"]["id"] for e in ahead["auditsDue"]["edges"]] == [old["id"], fresh["id"]]
    # a rep sees no other rep's clients' placements; a manager does
    assert (await service.data(rep_token, AUDITS_DUE, {"owner": str(other_rep)}))[
        "auditsDue"]["edges"] == []
    managers = await service.data(service.token("manager"), AUDITS_DUE,
                                  {"owner": str(other_rep)})
    assert [e["node"]["id"] for e in managers["auditsDue"]["edges"]] == [theirs["id"]]
    employee = await service.data(rep_token, """query($id: ID!) { _entities(representations:
      [{__typename: "Employee", id: $id}]) { ... on Employee { auditsDue {
      edges { node { id } } } } } }""", {"id": str(rep)})
    assert [e["node"]["id"] for e in employee["_entities"][0]["auditsDue"]["edges"]] == \
        [old["id"]]
    # a shorter interval brings the fresh one forward
    kind_now = (await service.data(service.token("manager"), """query { assetTypes {
      id version } }"""))["assetTypes"]
    version = next(t["version"] for t in kind_now if t["id"] == kind["id"])
    await ok(service, service.token("manager"), UPDATE_TYPE, id=kind["id"], version=version,
             auditIntervalDays=1)
    soon = (business_today() + dt.timedelta(days=1)).isoformat()
    ahead = (await service.data(rep_token, AUDITS_DUE, {"owner": str(rep), "dueBy": soon}))
    assert {e["node"]["id"] for e in ahead["auditsDue"]["edges"]} == {old["id"], fresh["id"]}


async def test_material_issued_during_a_visit(service: Service, tap: EventTap) -> None:
    rep = await service.employee()
    client_id, address_id = await _client_and_address(service, owner=rep)
    leaflets = await new_type(service, tracking="BULK", category="POS_MATERIAL", unit="бр.",
                              value="0.05")
    activity = str(uuid.uuid4())
    issue = (await ok(service, service.token("sales_rep", rep), ISSUE, clientId=client_id,
                      assetTypeId=leaflets["id"], quantity=250, addressId=address_id,
                      activityId=activity, notes="листовки"))["materialIssue"]
    assert issue["quantity"] == 250 and issue["activityId"] == activity
    assert issue["assetType"]["name"] == leaflets["name"]
    (event,) = await tap.wait_for(lambda e: e["type"] == "crm.clients.material.issued"
                                  and e["data"]["issue"]["id"] == issue["id"])
    assert event["subject"] == client_id and event["data"]["issue"]["unit"] == "бр."
    inventory = (await service.data(service.token("manager"), INVENTORY,
                                    {"id": client_id}))["client"]["inventory"]
    assert [m["id"] for m in inventory["materialIssues"]] == [issue["id"]]
    # a bulk type is not registered unit by unit
    refused = await act(service, service.token("manager"), """mutation($input: CreateAssetInput!)
      { createAsset(input: $input) { asset { id } userErrors { field code } } }""",
                        typeId=leaflets["id"], inventoryNumber=unique("I"), tagCode=unique("T"),
                        ownerCompany="Напитки АД")
    assert refused["userErrors"] == [{"field": ["input", "typeId"], "code": "BULK_TYPE"}]


async def test_reads_by_status_type_client_and_group(service: Service) -> None:
    manager = service.token("manager")
    group = (await service.data(manager, """mutation($input: CreateClientGroupInput!) {
      createClientGroup(input: $input) { group { id } userErrors { code } } }""",
                                {"input": {"code": unique("G"), "name": unique("Верига")}}))
    group_id = group["createClientGroup"]["group"]["id"]
    client_id, address_id = await _client_and_address(service)
    await service.data(manager, """mutation($input: UpdateClientInput!) { updateClient(
      input: $input) { userErrors { code } } }""", {"input": {"id": client_id, "version": 1,
                                                          "groupId": group_id}})
    kind = await new_type(service)
    in_group, _ = await placed(service, client_id, address_id, type_id=kind["id"])
    stock = await new_asset(service, kind["id"])
    by_group = (await service.data(manager, LIST_ASSETS, {"filter": {
        "clientGroupId": group_id}}))["assets"]["edges"]
    assert [e["node"]["id"] for e in by_group] == [in_group["assetId"]]
    by_client = (await service.data(manager, LIST_ASSETS, {"filter": {
        "clientId": client_id}}))["assets"]["edges"]
    assert [e["node"]["id"] for e in by_client] == [in_group["assetId"]]
    of_type = (await service.data(manager, LIST_ASSETS, {"first": 1, "filter": {
        "typeId": kind["id"]}}))["assets"]
    assert of_type["pageInfo"]["hasNextPage"]
    rest = (await service.data(manager, LIST_ASSETS, {"first": 5, "after": of_type[
        "pageInfo"]["endCursor"], "filter": {"typeId": kind["id"]}}))["assets"]
    ids = {e["node"]["id"] for e in of_type["edges"] + rest["edges"]}
    assert ids == {in_group["assetId"], stock["id"]} and not rest["pageInfo"]["hasNextPage"]
    in_stock = (await service.data(manager, LIST_ASSETS, {"first": 100, "filter": {
        "status": "IN_STOCK", "typeId": kind["id"]}}))["assets"]["edges"]
    assert [e["node"]["id"] for e in in_stock] == [stock["id"]]
    by_number = (await service.data(manager, LIST_ASSETS, {"filter": {
        "number": stock["inventoryNumber"].lower()}}))["assets"]["edges"]
    assert [e["node"]["id"] for e in by_number] == [stock["id"]]


async def test_access_like_the_rest_of_the_dossier(service: Service) -> None:
    owner, stranger = await service.employee(), await service.employee()
    client_id, address_id = await _client_and_address(service, owner=owner)
    placement, asset = await placed(service, client_id, address_id)
    owner_token = service.token("sales_rep", owner)
    stranger_token = service.token("sales_rep", stranger)
    # the owner sees the inventory and the asset; a stranger sees neither
    assert (await service.data(owner_token, GET_ASSET, {"id": asset["id"]}))["asset"][
        "history"] is None  # the full history spans clients: managers only
    assert (await service.data(stranger_token, GET_ASSET, {"id": asset["id"]}))["asset"] is None
    assert (await service.data(stranger_token, INVENTORY, {"id": client_id}))["client"] is None
    listed = (await service.data(stranger_token, LIST_ASSETS, {"first": 100}))["assets"]
    assert asset["id"] not in {e["node"]["id"] for e in listed["edges"]}
    # types and assets are managed by managers and admins
    refused = await act(service, owner_token, """mutation($input: CreateAssetTypeInput!) {
      createAssetType(input: $input) { assetType { id } userErrors { field code } } }""",
                        name=unique("T"), category="SIGN", tracking="SERIALIZED")
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    refused = await act(service, owner_token, WRITE_OFF, id=asset["id"],
                        version=asset["version"], reason="счупен")
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    # a stranger cannot audit, return or issue at a client they do not see: not found
    refused = await act(service, stranger_token, AUDIT_MUTATION, clientId=client_id, lines=[
        {"assetId": asset["id"], "result": "FOUND"}])
    assert refused["userErrors"] == [{"field": ["input", "clientId"], "code": "NOT_FOUND",
                                      "message": "client not found"}]
    refused = await act(service, stranger_token, RETURN, id=asset["id"],
                        version=asset["version"], condition="GOOD")
    assert refused["userErrors"][0]["code"] == "NOT_FOUND"
    # the owner may return it; back in our hands, the asset is no longer theirs to see
    back = await ok(service, owner_token, RETURN, id=asset["id"], version=asset["version"],
                    condition="GOOD", assetStatus="IN_REPAIR")
    assert back["asset"] is None
    now = (await service.data(service.token("manager"), GET_ASSET, {"id": asset["id"]}))["asset"]
    assert now["status"] == "IN_REPAIR" and now["placements"][0]["returnCondition"] == "GOOD"


async def test_a_meeting_grant_lets_a_rep_audit_but_not_place(service: Service,
                                                             exchange_name: str) -> None:
    owner, visitor = await service.employee(), await service.employee()
    client_id, address_id = await _client_and_address(service, owner=owner)
    _, asset = await placed(service, client_id, address_id)
    meetings = Meetings(service, exchange_name)
    meeting = uuid.uuid4()
    start = dt.datetime.now(dt.UTC)
    await meetings.publish("scheduled", meeting, client_id, visitor, start,
                           start + dt.timedelta(hours=1))
    await meetings.wait_applied(meeting, 1)
    visitor_token = service.token("sales_rep", visitor)
    audit = await ok(service, visitor_token, AUDIT_MUTATION, clientId=client_id,
                     meetingId=str(meeting), lines=[{"assetId": asset["id"], "result": "FOUND"}])
    assert audit["audit"]["meetingId"] == str(meeting)
    other = await new_asset(service, (await new_type(service))["id"])
    refused = await act(service, visitor_token, PLACE,
                        **placement_input(other, client_id, address_id))
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"


async def test_write_off_and_status_changes(service: Service, tap: EventTap) -> None:
    manager = service.token("manager")
    asset = await new_asset(service, (await new_type(service))["id"])
    repair = (await ok(service, manager, CHANGE_STATUS, id=asset["id"], version=asset["version"],
                       status="IN_REPAIR", reason="компресор"))["asset"]
    assert repair["status"] == "IN_REPAIR"
    gone = (await ok(service, manager, WRITE_OFF, id=asset["id"], version=repair["version"],
                     reason="неремонтируем"))["asset"]
    assert gone["status"] == "WRITTEN_OFF" and gone["writtenOffReason"] == "неремонтируем"
    (event,) = await tap.wait_for_type("crm.clients.asset.written_off", asset["id"])
    assert event["data"]["previousStatus"] == "in_repair"
    assert event["data"]["asset"]["status"] == "written_off"
    again = await act(service, manager, CHANGE_STATUS, id=asset["id"], version=gone["version"],
                      status="IN_STOCK")
    assert again["userErrors"][0]["code"] == "WRITTEN_OFF"
