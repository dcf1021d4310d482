"""Competitors and observations of their strategy: recording, timelines, filters, access."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import EventTap, Publisher, Service
from .helpers import make_world

pytestmark = pytest.mark.integration

ERRORS = "userErrors { field code message }"
CREATE = f"""mutation($input: CreateCompetitorInput!) {{ createCompetitor(input: $input) {{
  competitor {{ id name eik website productGroups notes version }} {ERRORS} }} }}"""
UPDATE = f"""mutation($input: UpdateCompetitorInput!) {{ updateCompetitor(input: $input) {{
  competitor {{ id name website productGroups version }} {ERRORS} }} }}"""
RECORD = f"""mutation($input: RecordCompetitorObservationInput!) {{
  recordCompetitorObservation(input: $input) {{ observation {{ id competitorId observedOn kind
    description clientId productGroup source impact reportedBy }} {ERRORS} }} }}"""
OBSERVATIONS = """query($filter: CompetitorObservationFilterInput, $first: Int, $after: String) {
  competitorObservations(filter: $filter, first: $first, after: $after) {
    edges { node { id kind observedOn } } pageInfo { hasNextPage endCursor } } }"""


async def test_competitors_and_their_observations(service: Service, publisher: Publisher,
                                                  tap: EventTap) -> None:
    w = await make_world(service, publisher)
    rep, manager = service.token("sales_rep", w.rep), service.token("manager", w.manager)
    name = f"Агрохим {w.rep.hex[:6]}"
    created = (await service.data(rep, CREATE, {"input": {
        "name": name, "eik": "121759222", "website": "agrohim.bg",
        "productGroups": ["Торове", "торове", "Препарати"], "notes": "Силни в Тракия"}}
    ))["createCompetitor"]
    assert created["userErrors"] == []
    competitor = created["competitor"]
    assert competitor["website"] == "https://agrohim.bg"
    assert competitor["productGroups"] == ["Торове", "Препарати"]
    duplicate = (await service.data(manager, CREATE, {"input": {"name": name.upper()}}
                                    ))["createCompetitor"]
    assert [(e["field"], e["code"]) for e in duplicate["userErrors"]] == [
        (["input", "name"], "DUPLICATE")]
    stranger = (await service.data(service.token("sales_rep", w.other_rep), UPDATE, {"input": {
        "id": competitor["id"], "version": 1, "notes": "x"}}))["updateCompetitor"]
    assert [e["code"] for e in stranger["userErrors"]] == ["FORBIDDEN"]
    updated = (await service.data(manager, UPDATE, {"input": {
        "id": competitor["id"], "version": 1, "website": None,
        "productGroups": ["Торове"]}}))["updateCompetitor"]
    assert updated["userErrors"] == [] and updated["competitor"]["version"] == 2
    assert updated["competitor"]["website"] is None
    stale = (await service.data(manager, UPDATE, {"input": {
        "id": competitor["id"], "version": 1, "notes": "x"}}))["updateCompetitor"]
    assert [e["code"] for e in stale["userErrors"]] == ["CONFLICT"]

    today = dt.date.today()
    recorded = []
    for i, (kind, client) in enumerate([("PRICE_CHANGE", w.rep_client), ("PROMOTION", None),
                                        ("NEW_PRODUCT", w.rep_client),
                                        ("PRICE_CHANGE", w.other_client)]):
        token = manager if client == w.other_client else rep
        result = (await service.data(token, RECORD, {"input": {
            "competitorId": competitor["id"], "observedOn": str(today - dt.timedelta(days=i)),
            "kind": kind, "description": f"Наблюдение {i}: -5 % на NPK",
            "clientId": str(client) if client else None, "productGroup": "Торове",
            "source": "купувач на клиента", "impact": "HIGH"}}))["recordCompetitorObservation"]
        assert result["userErrors"] == [], result
        recorded.append(result["observation"])
    event = (await tap.wait_for(
        lambda e: e["type"] == "crm.activities.competitor.observation.recorded"
        and e["subject"] == recorded[0]["id"]))[0]
    assert event["data"]["competitor"] == {"id": competitor["id"], "name": name}
    assert event["data"]["observation"]["impact"] == "high"

    async def ids(token: str, flt: dict[str, object]) -> list[str]:
        page = await service.data(token, OBSERVATIONS, {"filter": flt})
        return [e["node"]["id"] for e in page["competitorObservations"]["edges"]]

    everything = {"competitorId": competitor["id"]}
    assert await ids(manager, everything) == [o["id"] for o in recorded]
    # the rep does not see the observation made at a client they may not see
    assert await ids(rep, everything) == [o["id"] for o in recorded[:3]]
    assert await ids(manager, {**everything, "kinds": ["PRICE_CHANGE"]}) == [
        recorded[0]["id"], recorded[3]["id"]]
    assert await ids(manager, {**everything, "clientId": str(w.rep_client)}) == [
        recorded[0]["id"], recorded[2]["id"]]
    assert await ids(manager, {**everything, "from": str(today - dt.timedelta(days=2)),
                               "to": str(today - dt.timedelta(days=1)), "productGroup": "торове"}
                     ) == [recorded[1]["id"], recorded[2]["id"]]
    timeline = await service.data(manager, """query($id: ID!) { competitor(id: $id) {
      observations(first: 3) { edges { node { id } } pageInfo { hasNextPage } } } }""",
                                  {"id": competitor["id"]})
    assert timeline["competitor"]["observations"]["pageInfo"]["hasNextPage"] is True
    listed = await service.data(rep, """query($s: String) { competitors(filter: {search: $s}) {
      edges { node { id } } } }""", {"s": name[:5].lower()})
    assert competitor["id"] in [e["node"]["id"] for e in listed["competitors"]["edges"]]
