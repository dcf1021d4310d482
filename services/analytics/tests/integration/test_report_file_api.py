"""``createReportFile`` and ``reportFile`` as their users call them: a report run by the
engine over the reporting read model, written as CSV/XLSX/PDF with the requester's access rule,
downloaded over its signed URL; who may see a file; bad input (unknown format, bad ids, a run
over the row caps): errors naming the field, nothing stored."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as dt
import io
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from crm_analytics.config import AnalyticsConfig
from crm_common.testing import CaughtEvents

from .conftest import Publisher, Service, serving, wait_until

pytestmark = pytest.mark.integration

#: this module's caps: a CSV/XLSX of at most 6 rows, a PDF of at most 4
MAX_ROWS, PDF_MAX_ROWS = 6, 4

CREATE = """mutation Create($input: CreateReportFileInput!) { createReportFile(input: $input) {
  file { id kind format title fileName status rowCount size errorCode error url urlExpiresAt
         expiresAt }
  userErrors { field message code } } }"""
GET = """query Get($id: ID!) { reportFile(id: $id) { id status rowCount url errorCode } }"""


@pytest.fixture(scope="module")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str,
                  erp_exchange_name: str, tap: CaughtEvents, mongodb_url: str,
                  mongodb_database: str) -> AsyncIterator[Service]:
    config = AnalyticsConfig(erp_exchange=erp_exchange_name, turnover_debounce_seconds=0.5)
    async with serving(database_url, keys, exchange_name, config,
                       (mongodb_url, mongodb_database), max_rows=MAX_ROWS,
                       pdf_max_rows=PDF_MAX_ROWS) as svc:
        yield svc


@dataclasses.dataclass
class World:
    tag: str
    rep: uuid.UUID
    colleague: uuid.UUID
    names: dict[uuid.UUID, str]


@pytest.fixture(scope="module")
async def world(service: Service, publisher: Publisher) -> World:
    """Five clients whose names carry a tag of their own: two the rep owns (one with a name a
    spreadsheet would take for a formula), three a colleague owns."""
    tag = f"Т{uuid.uuid4().hex[:6]}"
    rep, colleague = uuid.uuid4(), uuid.uuid4()
    names: dict[uuid.UUID, str] = {}
    for i, owner in enumerate((rep, rep, colleague, colleague, colleague)):
        client_id = uuid.uuid4()
        name = f"=SUM(A1) Фирма {tag} {i}" if i == 1 else f"Фирма „{tag}“ №{i} ООД"
        names[client_id] = name
        await publisher.client(client_id, owner=owner, name=name)

    async def kept() -> bool:
        rows = await service.sql("SELECT count(*) AS n FROM rm_clients WHERE client_id = "
                                 "ANY(:ids)", ids=list(names))
        return bool(rows[0]["n"] == len(names))
    await wait_until(kept)
    return World(tag, rep, colleague, names)


def definition(world: World, **extra: Any) -> dict[str, Any]:
    return {"dataset": "CLIENTS", "title": f"Клиенти {world.tag}",
            "columns": ["client", "owner", "client_status"],
            "filters": [{"field": "client", "operator": "CONTAINS", "values": [world.tag]}],
            **extra}


async def create(service: Service, token: str, **input_: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await service.data(token, CREATE, {"input": input_})
                               )["createReportFile"]
    return payload


async def ready(service: Service, token: str, file_id: str) -> dict[str, Any]:
    """The file once it is no longer being written."""
    for _ in range(300):
        found: dict[str, Any] = (await service.data(token, GET, {"id": file_id}))["reportFile"]
        if found["status"] != "WRITING":
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("the file was never finished")


async def count_files(service: Service) -> int:
    return int((await service.sql("SELECT count(*) AS n FROM report_files"))[0]["n"])


async def test_a_manager_gets_a_csv_of_every_client(service: Service, world: World) -> None:
    token = service.token("manager")
    payload = await create(service, token, definition=definition(world), format="CSV")
    assert payload["userErrors"] == []
    file = payload["file"]
    assert (file["kind"], file["format"], file["title"]) == ("REPORT", "CSV",
                                                             f"Клиенти {world.tag}")
    done = await ready(service, token, file["id"])
    assert (done["status"], done["rowCount"]) == ("READY", 5)
    body = (await service.client.get(done["url"])).content
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["Client", "Owner", "Client status"]
    assert sorted(r[0] for r in rows[1:]) == sorted(
        "'" + n if n.startswith("=") else n for n in world.names.values())


async def test_a_rep_gets_only_the_clients_they_may_see(service: Service,
                                                        world: World) -> None:
    token = service.token("sales_rep", world.rep)
    for fmt, magic in (("XLSX", b"PK\x03\x04"), ("PDF", b"%PDF-"), ("CSV", b"\xef\xbb\xbf")):
        payload = await create(service, token, definition=definition(world), format=fmt)
        assert payload["userErrors"] == [], payload
        done = await ready(service, token, payload["file"]["id"])
        assert (done["status"], done["rowCount"]) == ("READY", 2), done
        body = (await service.client.get(done["url"])).content
        assert body.startswith(magic)
        if fmt == "CSV":
            text = body.decode("utf-8-sig")
            assert f"Фирма „{world.tag}“ №0 ООД" in text and "№2" not in text


async def test_a_file_is_seen_by_its_requester_and_admins_only(service: Service,
                                                               world: World) -> None:
    mine = service.token("sales_rep", world.rep)
    payload = await create(service, mine, definition=definition(world), format="CSV")
    file_id = payload["file"]["id"]
    await ready(service, mine, file_id)
    for other in (service.token("sales_rep", world.colleague), service.token("manager")):
        assert (await service.data(other, GET, {"id": file_id}))["reportFile"] is None
    seen = (await service.data(service.token("admin"), GET, {"id": file_id}))["reportFile"]
    assert seen["status"] == "READY" and seen["url"]
    for bad in ("not-an-id", str(uuid.uuid4()), "'; DROP TABLE report_files; --", "x" * 5000):
        assert (await service.data(mine, GET, {"id": bad}))["reportFile"] is None


async def test_an_unknown_format_is_refused_and_nothing_is_stored(service: Service,
                                                                   world: World) -> None:
    token = service.token("manager")
    before = await count_files(service)
    for fmt in ("DOCX", "csv", "", "<script>"):
        errors = await service.errors(token, CREATE, {"input": {
            "definition": definition(world), "format": fmt}})
        assert "ReportFileFormat" in errors[0]["message"], errors
    errors = await service.errors(token, CREATE, {"input": {"definition": definition(world)}})
    assert "format" in errors[0]["message"]
    assert await count_files(service) == before


async def test_bad_ids_and_definitions_are_user_errors_and_nothing_is_stored(
        service: Service, world: World) -> None:
    token = service.token("manager")
    before = await count_files(service)
    cases: list[tuple[dict[str, Any], list[str], str]] = [
        ({"reportId": "not-an-id"}, ["input", "reportId"], "INVALID_ID"),
        ({"reportId": str(uuid.uuid4())}, ["input", "reportId"], "NOT_FOUND"),
        ({}, ["input", "reportId"], "REQUIRED"),
        ({"reportId": str(uuid.uuid4()), "definition": definition(world)},
         ["input", "reportId"], "REQUIRED"),
        ({"definition": definition(world, columns=["client", "nonsense"])},
         ["input", "definition", "columns", "1"], "UNKNOWN_FIELD"),
    ]
    for input_, field, code in cases:
        payload = await create(service, token, format="CSV", **input_)
        assert payload["file"] is None, input_
        assert [(e["field"], e["code"]) for e in payload["userErrors"]][:1] == [(field, code)], \
            (input_, payload)
    assert await count_files(service) == before


async def test_a_run_over_the_row_caps_is_refused_naming_the_field(
        service: Service, world: World, publisher: Publisher) -> None:
    """Five rows: a PDF holds at most four here, any file six; seven clients of a tag of
    their own take a run over both."""
    token = service.token("manager")
    before = await count_files(service)
    payload = await create(service, token, definition=definition(world), format="PDF")
    assert payload["file"] is None
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (["input", "format"], "TOO_MANY_ROWS")
    assert "CSV or XLSX" in error["message"]
    many = World(f"М{uuid.uuid4().hex[:6]}", world.rep, world.colleague, {})
    for i in range(MAX_ROWS + 1):
        client_id = uuid.uuid4()
        many.names[client_id] = f"Фирма {many.tag} {i}"
        await publisher.client(client_id, owner=world.colleague, name=many.names[client_id])

    async def kept() -> bool:
        rows = await service.sql("SELECT count(*) AS n FROM rm_clients WHERE client_id = "
                                 "ANY(:ids)", ids=list(many.names))
        return bool(rows[0]["n"] == len(many.names))
    await wait_until(kept)
    payload = await create(service, token, definition=definition(many), format="XLSX")
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (["input", "definition"], "TOO_MANY_ROWS")
    assert await count_files(service) == before


# -- the client brief -------------------------------------------------------------------------

BRIEF = """mutation Brief($input: CreateClientBriefInput!) { createClientBrief(input: $input) {
  file { id kind format title status rowCount url }
  userErrors { field message code } } }"""


async def test_the_brief_of_a_visible_client_reads_the_read_model(
        service: Service, world: World, publisher: Publisher) -> None:
    from .test_reports import activity, employee, task
    from .test_turnover_api import Feed, month, ship

    client_id = next(iter(world.names))  # the rep's first client
    await employee(publisher, world.rep, "Иван Петров", "sales_rep")
    await task(publisher, uuid.uuid4(), client_id, world.rep, due=month(0, 1))
    await activity(publisher, uuid.uuid4(), client_id, world.rep, "visit",
                   dt.datetime.now(dt.UTC) - dt.timedelta(days=3), 45)
    await publisher.platform.publish(*_tier_message(client_id))
    feed = Feed()
    code = feed.code("A")
    feed.sale(client_id, month(-13, 5), code, "1000.00")
    feed.sale(client_id, month(-1, 5), code, "1500.00")
    await ship(service, publisher, feed)

    async def projected() -> bool:
        rows = await service.sql(
            "SELECT (SELECT count(*) FROM rm_tasks WHERE client_id = :c) AS t, "
            "(SELECT count(*) FROM rm_contacts WHERE client_id = :c) AS k, "
            "(SELECT count(*) FROM client_tiers WHERE client_id = :c) AS r", c=client_id)
        return bool(rows[0] == {"t": 1, "k": 1, "r": 1})
    await wait_until(projected)

    from sqlalchemy.ext.asyncio import create_async_engine

    from crm_analytics.service_layer.client_brief import load_brief
    from crm_analytics.service_layer.client_metrics import RankingCache
    from crm_analytics.service_layer.visibility import Access
    from crm_common.auth import Principal
    engine = create_async_engine(service.database_url)
    try:
        async with engine.connect() as conn:
            rep = Access(Principal(world.rep, frozenset({"sales_rep"})),
                         dt.datetime.now(dt.UTC), dt.timedelta(hours=24))
            ranking = await RankingCache().get(conn, dt.date.today(),
                                               a_cutoff=Decimal(80), b_cutoff=Decimal(95))
            brief = await load_brief(conn, rep, client_id, ranking)
            assert brief is not None
            assert brief.client_name == world.names[client_id]
            assert brief.owner == "Иван Петров"
            assert [t.kind for t in brief.open_tasks] == ["sample"]
            assert [(c.kind, c.minutes) for c in brief.last_contacts] == [("visit", 45)]
            [tier] = brief.tiers
            assert (tier.rule, tier.tier, tier.next_threshold) == ("TURNOVER-Q", 2,
                                                                   Decimal("40000"))
            last = [m for m in brief.months if m.month == month(-1)]
            assert [(m.turnover, m.previous_year) for m in last] == [
                (Decimal("1500.00"), Decimal("1000.00"))]
            other = next(c for c in world.names if c != client_id and
                         world.names[c].endswith("ООД") and "№2" in world.names[c])
            assert await load_brief(conn, rep, other, ranking) is None
    finally:
        await engine.dispose()

    token = service.token("sales_rep", world.rep)
    payload = (await service.data(token, BRIEF, {"input": {"clientId": str(client_id)}})
               )["createClientBrief"]
    assert payload["userErrors"] == []
    assert (payload["file"]["kind"], payload["file"]["format"]) == ("CLIENT_BRIEF", "PDF")
    done = await ready(service, token, payload["file"]["id"])
    assert done["status"] == "READY"
    body = (await service.client.get(done["url"])).content
    assert body.startswith(b"%PDF-")


async def test_a_brief_of_a_client_the_rep_may_not_see_is_not_found(service: Service,
                                                                    world: World) -> None:
    token = service.token("sales_rep", world.rep)
    theirs = [c for c, n in world.names.items() if "№2" in n or "№3" in n]
    before = await count_files(service)
    for client_id, field, code in [(str(theirs[0]), "clientId", "NOT_FOUND"),
                                   (str(uuid.uuid4()), "clientId", "NOT_FOUND"),
                                   ("not-an-id", "clientId", "INVALID_ID"),
                                   ("<script>" * 500, "clientId", "INVALID_ID")]:
        payload = (await service.data(token, BRIEF, {"input": {"clientId": client_id}})
                   )["createClientBrief"]
        assert payload["file"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", field], code)]
    assert await count_files(service) == before


def _tier_message(client_id: uuid.UUID) -> tuple[Any, str]:
    from crm_common.testing import event_message
    data = {"clientId": str(client_id),
            "rule": {"id": str(uuid.uuid4()), "code": "TURNOVER-Q", "version": 1},
            "window": "quarter", "basis": "previous_closed", "metric": "net_amount",
            "productGroupCode": None,
            "basisPeriod": {"start": "2026-07-01", "end": "2026-09-30"},
            "reached": "38200.00", "previousTier": 1, "tier": 2, "tierEffect": "5 %",
            "nextThreshold": "40000.00", "nextTierEffect": "7 %", "turnoverVersion": 3,
            "turnoverAsOf": None}
    _, message = event_message("crm.pricing.client_tier.changed", str(client_id), data,
                               source="crm/pricing")
    return message, "crm.pricing.client_tier.changed"
