"""The report generator as its users call it (docs/reports.md): the reporting read model kept
from the other services' events (idempotent, newest version wins, catching up after downtime),
``runReport`` over every dataset (summaries with comparison, listings, keyset pages, totals,
charts), bad input, saved and built-in reports, background jobs and schedules, and the access
rule of DESIGN §6 as a matrix (sales rep / manager / admin × dataset, shared and scheduled runs).

Every world is hand-made with ids of its own: client, employee, contract, contact, task,
observation and asset events as their services publish them, ERP invoices through the feed.
Expected figures are worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import pytest

from crm_analytics.config import AnalyticsConfig
from crm_analytics.reports.datasets import DATASETS
from crm_analytics.reports.definition import (
    Chart,
    Definition,
    Filter,
    Grouping,
    Measure,
    PeriodSpec,
    Sort,
    check,
)
from crm_analytics.reports.engine import report_table
from crm_analytics.service_layer import report_schedules
from crm_analytics.service_layer.visibility import Access
from crm_common.auth import Principal
from crm_common.db import make_engine
from crm_common.messaging.envelope import DomainEvent, to_cloudevent
from crm_common.testing import CaughtEvents, event_message

from .conftest import Publisher, Service, serving, wait_until
from .test_turnover_api import Feed, month, ship

pytestmark = pytest.mark.integration

INLINE_ROWS = 20


@pytest.fixture(scope="module")
async def service(database_url: str, keys: tuple[str, str], exchange_name: str,
                  erp_exchange_name: str, tap: CaughtEvents, mongodb_url: str,
                  mongodb_database: str) -> AsyncIterator[Service]:
    """The analytics service with a small inline threshold (runs over 20 rows become jobs) and
    a quick job worker."""
    config = AnalyticsConfig(erp_exchange=erp_exchange_name, turnover_debounce_seconds=0.5,
                             report_inline_rows=INLINE_ROWS, report_job_interval_seconds=0.2)
    async with serving(database_url, keys, exchange_name, config,
                       (mongodb_url, mongodb_database)) as svc:
        yield svc


# --------------------------------------------------------------------------------------------
# events as the other services publish them

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TODAY = NOW.date()


def iso(moment: dt.datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def publish(publisher: Publisher, type_: str, subject: uuid.UUID, data: dict[str, Any],
                  source: str) -> dict[str, Any]:
    envelope, message = event_message(type_, str(subject), data, source=source)
    await publisher.platform.publish(message, routing_key=type_)
    return envelope


async def publish_raw(publisher: Publisher, type_: str, subject: uuid.UUID,
                      data: dict[str, Any]) -> dict[str, Any]:
    """An event the catalogue does not list yet (the inventory's), published as its service
    will."""
    envelope = to_cloudevent(DomainEvent(type_, str(subject), data), source="crm/clients",
                             actor_id="system")
    await publisher.platform.publish(aio_pika.Message(
        json.dumps(envelope).encode(), message_id=envelope["id"],
        content_type="application/cloudevents+json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key=type_)
    return envelope


def client_state(client_id: uuid.UUID, *, owner: uuid.UUID | None, group: uuid.UUID | None,
                 city: str, name: str, version: int = 1, status: str = "active"
                 ) -> dict[str, Any]:
    return {
        "id": str(client_id), "code": f"C{uuid.uuid4().int % 10**6:06d}", "kind": "company",
        "legalName": name, "tradeName": None, "eik": None, "vatNumber": None, "status": status,
        "ownerId": str(owner) if owner else None, "phones": [], "emails": [], "website": None,
        "notes": None, "tags": [], "version": version, "createdAt": iso(NOW),
        "updatedAt": iso(NOW), "archivedAt": None,
        "addresses": [{"id": str(uuid.uuid4()), "kind": "registered", "country": "BG",
                       "city": city, "postalCode": None, "street": "ул. Раковски 1",
                       "isDefault": True, "version": 1}],
        "contactPersons": [], "bankAccounts": [], "groupId": str(group) if group else None,
        "paymentTermDays": 30, "currency": "EUR", "creditLimit": None,
        "documentDescriptions": {}}


async def client(publisher: Publisher, client_id: uuid.UUID, **kw: Any) -> None:
    state = client_state(client_id, **kw)
    type_ = "crm.clients.client.created" if state["version"] == 1 else \
        "crm.clients.client.updated"
    data: dict[str, Any] = {"client": state}
    if state["version"] > 1:
        data["changed"] = ["status"]
    await publish(publisher, type_, client_id, data, "crm/clients")


async def group(publisher: Publisher, group_id: uuid.UUID, name: str) -> None:
    await publish(publisher, "crm.clients.group.created", group_id, {"group": {
        "id": str(group_id), "code": f"G{uuid.uuid4().hex[:6].upper()}", "name": name,
        "description": None, "version": 1, "createdAt": iso(NOW), "updatedAt": iso(NOW),
        "archivedAt": None}}, "crm/clients")


async def employee(publisher: Publisher, employee_id: uuid.UUID, name: str, role: str,
                   active: bool = True) -> None:
    await publish(publisher, "crm.clients.employee.created", employee_id, {"employee": {
        "id": str(employee_id), "fullName": name, "email": None, "phone": None, "role": role,
        "managerId": None, "active": active, "version": 1, "createdAt": iso(NOW),
        "updatedAt": iso(NOW)}}, "crm/clients")


async def contract(publisher: Publisher, contract_id: uuid.UUID, client_id: uuid.UUID, *,
                   status: str, valid_until: dt.date | None, version: int = 1,
                   number: str = "Д-1") -> None:
    type_ = "crm.clients.contract.created" if version == 1 else "crm.clients.contract.updated"
    data: dict[str, Any] = {"contract": {
        "id": str(contract_id), "clientId": str(client_id), "number": number, "kind": "sales",
        "title": "Договор за доставка", "status": status, "signedOn": None,
        "validFrom": (TODAY - dt.timedelta(days=300)).isoformat(),
        "validUntil": valid_until.isoformat() if valid_until else None,
        "paymentTermDays": 30, "currency": "EUR", "priceTerms": None, "otherTerms": None,
        "autoRenew": False, "renewalTermMonths": 12, "noticePeriodDays": 30,
        "clientSignatory": None, "ourSignatoryId": None, "activatedOn": None,
        "terminatedOn": None, "terminationReason": None, "version": version,
        "createdAt": iso(NOW), "updatedAt": iso(NOW), "discounts": []}}
    if version > 1:
        data["changed"] = ["title"]
    await publish(publisher, type_, contract_id, data, "crm/clients")


async def activity(publisher: Publisher, activity_id: uuid.UUID, client_id: uuid.UUID,
                   employee_id: uuid.UUID, kind: str, when: dt.datetime, minutes: int) -> None:
    await publish(publisher, "crm.activities.activity.logged", activity_id, {"activity": {
        "id": str(activity_id), "clientId": str(client_id), "contactPersonId": None,
        "employeeId": str(employee_id), "kind": kind, "direction": "outbound",
        "occurredAt": iso(when), "durationMinutes": minutes, "location": None,
        "subject": None, "notes": "Разговор за новата листа", "agreements": None,
        "nextSteps": None, "meetingId": None, "createdBy": str(employee_id),
        "createdAt": iso(when)}}, "crm/activities")


async def meeting(publisher: Publisher, meeting_id: uuid.UUID, client_id: uuid.UUID,
                  employee_id: uuid.UUID, starts: dt.datetime, status: str = "scheduled",
                  version: int = 1) -> None:
    data: dict[str, Any] = {
        "meetingId": str(meeting_id), "clientId": str(client_id),
        "employeeId": str(employee_id), "startsAt": iso(starts),
        "endsAt": iso(starts + dt.timedelta(minutes=45)), "status": status,
        "version": version}
    if status == "cancelled":
        data["reason"] = "клиентът отказа"
    await publish(publisher, f"crm.activities.meeting.{status}", meeting_id, data,
                  "crm/activities")


async def observation(publisher: Publisher, observation_id: uuid.UUID,
                      client_id: uuid.UUID | None, reporter: uuid.UUID, kind: str,
                      product_group: str | None) -> None:
    competitor = uuid.uuid4()
    await publish(publisher, "crm.activities.competitor.observation.recorded", observation_id, {
        "observation": {
            "id": str(observation_id), "competitorId": str(competitor),
            "observedOn": (TODAY - dt.timedelta(days=3)).isoformat(), "kind": kind,
            "description": "Нова промоция -15 %",
            "clientId": str(client_id) if client_id else None, "productGroup": product_group,
            "source": None, "impact": "high", "reportedBy": str(reporter),
            "createdAt": iso(NOW)},
        "competitor": {"id": str(competitor), "name": "Конкурент ООД"}}, "crm/activities")


async def task(publisher: Publisher, task_id: uuid.UUID, client_id: uuid.UUID | None,
               assignee: uuid.UUID, *, status: str = "assigned", outcome: str | None = None,
               due: dt.date, version: int = 1, kind: str = "commitment",
               closed_days: int | None = None) -> None:
    created = NOW - dt.timedelta(days=10)
    state = {
        "id": str(task_id), "number": f"T{uuid.uuid4().int % 10**6:06d}",
        "title": "Мостра на новия продукт", "description": None, "kind": kind,
        "commitmentType": "sample" if kind == "commitment" else None,
        "clientId": str(client_id) if client_id else None, "activityId": None,
        "meetingId": None, "contractId": None, "assigneeId": str(assignee),
        "assignedBy": str(assignee), "dueDate": due.isoformat(), "priority": "normal",
        "status": status, "outcome": outcome,
        "refusalReason": "цена" if outcome == "refused" else None, "watchers": [],
        "version": version, "createdAt": iso(created), "updatedAt": iso(NOW),
        "closedAt": iso(created + dt.timedelta(days=closed_days))
        if closed_days is not None else None}
    if outcome is not None:
        await publish(publisher, "crm.tasks.task.closed", task_id, {
            "task": state, "outcome": outcome,
            "refusalReason": state["refusalReason"], "comment": None}, "crm/tasks")
    else:
        await publish(publisher, "crm.tasks.task.created", task_id, {"task": state},
                      "crm/tasks")


def asset_state(asset_id: uuid.UUID, status: str, version: int,
                last_audited: dt.datetime | None = None) -> dict[str, Any]:
    """An ``AssetState`` as the clients service's inventory publishes it."""
    return {"id": str(asset_id), "typeId": str(uuid.UUID(int=7)),
            "assetTypeName": "Хладилна витрина", "inventoryNumber": f"INV-{asset_id.hex[:6]}",
            "tagCode": f"TAG-{asset_id.hex[:6]}", "serialNumber": None,
            "ownerCompany": "Дистрибутор ООД", "status": status, "condition": "good",
            "purchaseDate": None, "purchaseValue": "1200.00", "notes": None,
            "lastAuditedAt": iso(last_audited) if last_audited else None,
            "writtenOffOn": None, "writtenOffReason": None, "version": version}


def placement_state(asset_id: uuid.UUID, client_id: uuid.UUID, placed: dt.date,
                    next_audit: dt.date) -> dict[str, Any]:
    return {"id": str(uuid.uuid5(uuid.NAMESPACE_OID, asset_id.hex)), "assetId": str(asset_id),
            "clientId": str(client_id), "addressId": str(uuid.uuid4()), "contractId": None,
            "protocolNumber": f"П-{asset_id.hex[:4]}", "placedOn": placed.isoformat(),
            "expectedReturnOn": None, "deposit": None, "terms": None,
            "minimumMonthlyPurchase": None, "clientSignatory": "Петър Петров",
            "ourSignatoryId": None, "lastAuditedOn": None,
            "nextAuditDue": next_audit.isoformat(), "returnedOn": None,
            "returnCondition": None, "returnNotes": None, "version": 1}


async def placed(publisher: Publisher, asset_id: uuid.UUID, client_id: uuid.UUID,
                 owner: uuid.UUID, *, placed_on: dt.date, next_audit: dt.date,
                 version: int) -> None:
    await publish_raw(publisher, "crm.clients.asset.placed", asset_id, {
        "placement": placement_state(asset_id, client_id, placed_on, next_audit),
        "asset": asset_state(asset_id, "placed", version), "clientOwnerId": str(owner)})


async def audited(publisher: Publisher, asset_id: uuid.UUID, client_id: uuid.UUID,
                  owner: uuid.UUID, *, result: str, when: dt.datetime, version: int) -> None:
    line = {"auditId": str(uuid.uuid4()), "assetId": str(asset_id),
            "inventoryNumber": f"INV-{asset_id.hex[:6]}", "assetTypeName": "Хладилна витрина",
            "clientId": str(client_id), "clientOwnerId": str(owner),
            "placementId": str(uuid.uuid5(uuid.NAMESPACE_OID, asset_id.hex)),
            "result": result, "condition": "good", "notes": None, "auditedBy": str(owner),
            "auditedAt": iso(when), "activityId": None, "version": version}
    await publish_raw(publisher, "crm.clients.asset.audited", asset_id, line)
    if result == "missing":
        await publish_raw(publisher, "crm.clients.asset.missing", asset_id, line)


async def rows_of(service: Service, statement: str, **params: Any) -> list[dict[str, Any]]:
    return await service.sql(statement, **params)


async def until_rows(service: Service, statement: str, n: int, **params: Any
                     ) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]] | None:
        rows = await service.sql(statement, **params)
        return rows if len(rows) == n else None
    result: list[dict[str, Any]] = await wait_until(found)
    return result


# --------------------------------------------------------------------------------------------
# GraphQL

RUN = """mutation Run($input: RunReportInput!) { runReport(input: $input) {
  result { title columns { key label kind } rows { cursor cells } totalRows totals chart
           pageInfo { hasNextPage endCursor } dataAsOf parameters { label value } }
  job { id status rowsTotal }
  userErrors { field message code } } }"""


async def run(service: Service, token: str, **input_: Any) -> dict[str, Any]:
    data = await service.data(token, RUN, {"input": input_})
    payload: dict[str, Any] = data["runReport"]
    return payload


async def table(service: Service, token: str, **input_: Any) -> dict[str, Any]:
    """A run that must succeed inline: the result."""
    payload = await run(service, token, **input_)
    assert payload["userErrors"] == [], payload
    assert payload["result"] is not None, payload
    result: dict[str, Any] = payload["result"]
    return result


def by_key(result: dict[str, Any]) -> list[dict[str, str | None]]:
    keys = [c["key"] for c in result["columns"]]
    return [dict(zip(keys, r["cells"], strict=True)) for r in result["rows"]]


# --------------------------------------------------------------------------------------------
# the world: two reps, a manager, an admin; clients owned by each rep; a bit of everything


class World:
    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:6]
        self.rep1, self.rep2 = uuid.uuid4(), uuid.uuid4()
        self.manager, self.admin = uuid.uuid4(), uuid.uuid4()
        self.group = uuid.uuid4()
        self.c1, self.c2, self.c3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
        self.feed = Feed()


@pytest.fixture(scope="module")
async def world(service: Service, publisher: Publisher) -> World:
    w = World()
    await employee(publisher, w.rep1, f"Иван Петров {w.tag}", "sales_rep")
    await employee(publisher, w.rep2, f"Мария Иванова {w.tag}", "sales_rep")
    await employee(publisher, w.manager, f"Георги Димитров {w.tag}", "manager")
    await employee(publisher, w.admin, f"Админ {w.tag}", "admin")
    await group(publisher, w.group, f"Вериги {w.tag}")
    # c1, c2 are rep1's (Sofia, Plovdiv); c3 rep2's (Varna)
    await client(publisher, w.c1, owner=w.rep1, group=w.group, city="София",
                 name=f"Алфа {w.tag}")
    await client(publisher, w.c2, owner=w.rep1, group=None, city="Пловдив",
                 name=f"Бета {w.tag}")
    await client(publisher, w.c3, owner=w.rep2, group=w.group, city="Варна",
                 name=f"Гама {w.tag}")
    # sales: this quarter's first month and the same month a year earlier
    # c1: 100 now, 80 a year ago (+20, +25 %); c2: 50 now, 0 before; c3: 0 now, 40 before
    q_start = month(-((TODAY.month - 1) % 3))
    f = w.feed
    f.sale(w.c1, q_start, f"G{w.tag}", "100.00")
    f.sale(w.c1, q_start.replace(year=q_start.year - 1), f"G{w.tag}", "80.00")
    f.sale(w.c2, q_start, f"H{w.tag}", "50.00")
    f.sale(w.c3, q_start.replace(year=q_start.year - 1), f"G{w.tag}", "40.00")
    await ship(service, publisher, f)
    # contracts: c1's ends in 20 days, c3's in 200 days, c2's (expired) 10 days ago
    w.k1, w.k2, w.k3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await contract(publisher, w.k1, w.c1, status="active",
                   valid_until=TODAY + dt.timedelta(days=20), number=f"K1-{w.tag}")
    await contract(publisher, w.k2, w.c2, status="expired",
                   valid_until=TODAY - dt.timedelta(days=10), number=f"K2-{w.tag}")
    await contract(publisher, w.k3, w.c3, status="active",
                   valid_until=TODAY + dt.timedelta(days=200), number=f"K3-{w.tag}")
    # contacts: rep1 visits c1 twice and calls c2; rep2 calls c3; a meeting of rep1 at c3
    yesterday = NOW - dt.timedelta(days=1)
    await activity(publisher, uuid.uuid4(), w.c1, w.rep1, "visit", yesterday, 30)
    await activity(publisher, uuid.uuid4(), w.c1, w.rep1, "visit", yesterday, 60)
    await activity(publisher, uuid.uuid4(), w.c2, w.rep1, "phone_call", yesterday, 5)
    await activity(publisher, uuid.uuid4(), w.c3, w.rep2, "phone_call", yesterday, 10)
    w.m1 = uuid.uuid4()
    await meeting(publisher, w.m1, w.c3, w.rep1, NOW - dt.timedelta(days=5))  # ended: no grant
    # tasks: rep1 has an overdue commitment at c3 (assigned to rep1 though c3 is rep2's), a
    # confirmed one at c1 closed in 4 days; rep2 a refused one at c3 closed in 2 days
    w.t1, w.t2, w.t3 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await task(publisher, w.t1, w.c3, w.rep1, due=TODAY - dt.timedelta(days=3))
    await task(publisher, w.t2, w.c1, w.rep1, status="closed_confirmed", outcome="confirmed",
               due=TODAY + dt.timedelta(days=3), closed_days=4)
    await task(publisher, w.t3, w.c3, w.rep2, status="closed_refused", outcome="refused",
               due=TODAY + dt.timedelta(days=3), closed_days=2)
    # competitor observations: at c1 (rep1 sees), at c3 by rep2, at no client by rep2
    await observation(publisher, uuid.uuid4(), w.c1, w.rep1, "promotion", "ХЛЯБ")
    await observation(publisher, uuid.uuid4(), w.c3, w.rep2, "price_change", "ХЛЯБ")
    await observation(publisher, uuid.uuid4(), None, w.rep2, "new_product", None)
    # inventory (events as the clients service's inventory publishes them): a fridge at c1
    # audited today, next audit in 60 days; one at c3 never audited, its audit due 120 days ago
    w.a1, w.a3 = uuid.uuid4(), uuid.uuid4()
    await placed(publisher, w.a1, w.c1, w.rep1, placed_on=TODAY - dt.timedelta(days=300),
                 next_audit=TODAY + dt.timedelta(days=60), version=2)
    await audited(publisher, w.a1, w.c1, w.rep1, result="found", when=NOW, version=3)
    await placed(publisher, w.a3, w.c3, w.rep2, placed_on=TODAY - dt.timedelta(days=300),
                 next_audit=TODAY - dt.timedelta(days=120), version=2)
    # everything kept
    await until_rows(service, "SELECT 1 FROM rm_clients WHERE client_id = ANY(:ids)", 3,
                     ids=[w.c1, w.c2, w.c3])
    await until_rows(service, "SELECT 1 FROM access_employees WHERE employee_id = ANY(:ids)",
                     4, ids=[w.rep1, w.rep2, w.manager, w.admin])
    await until_rows(service, "SELECT 1 FROM rm_contracts WHERE client_id = ANY(:ids)", 3,
                     ids=[w.c1, w.c2, w.c3])
    await until_rows(service, "SELECT 1 FROM rm_contacts WHERE client_id = ANY(:ids)", 5,
                     ids=[w.c1, w.c2, w.c3])
    await until_rows(service, "SELECT 1 FROM rm_tasks WHERE task_id = ANY(:ids)", 3,
                     ids=[w.t1, w.t2, w.t3])
    await until_rows(service, "SELECT 1 FROM rm_competitor_observations WHERE "
                     "reported_by = ANY(:ids)", 3, ids=[w.rep1, w.rep2])
    await until_rows(service, "SELECT 1 FROM rm_assets WHERE asset_id = ANY(:ids) AND "
                     "placed_at IS NOT NULL", 2, ids=[w.a1, w.a3])
    await until_rows(service, "SELECT 1 FROM rm_asset_audits WHERE asset_id = :a", 1, a=w.a1)
    return w


def tok(service: Service, w: World, who: str) -> str:
    role = {"rep1": "sales_rep", "rep2": "sales_rep", "manager": "manager",
            "admin": "admin"}[who]
    return service.token(role, getattr(w, who))


def mine(w: World, rows: list[dict[str, Any]], column: str = "client") -> set[str | None]:
    """The world's values of ``column`` among ``rows`` (other tests' rows left out)."""
    return {r[column] for r in rows if r[column] is None or w.tag in str(r[column])}


# --------------------------------------------------------------------------------------------
# the read model


async def test_the_read_model_keeps_each_entity_with_its_reporting_fields(
        service: Service, world: World) -> None:
    w = world
    c = (await rows_of(service, "SELECT * FROM rm_clients WHERE client_id = :c", c=w.c1))[0]
    assert (c["city"], c["owner_id"], c["group_id"], c["status"]) == \
        ("София", w.rep1, w.group, "active")
    k = (await rows_of(service, "SELECT * FROM rm_contracts WHERE contract_id = :k", k=w.k1))[0]
    assert (k["status"], k["valid_until"], k["value"]) == \
        ("active", TODAY + dt.timedelta(days=20), None)
    t = (await rows_of(service, "SELECT * FROM rm_tasks WHERE task_id = :t", t=w.t2))[0]
    assert (t["status"], t["outcome"], t["commitment_type"]) == \
        ("closed_confirmed", "confirmed", "sample")
    m = (await rows_of(service, "SELECT * FROM rm_contacts WHERE contact_id = :m", m=w.m1))[0]
    assert (m["source"], m["kind"], m["status"], m["duration_minutes"]) == \
        ("meeting", "meeting", "scheduled", 45)
    a = (await rows_of(service, "SELECT * FROM rm_assets WHERE asset_id = :a", a=w.a1))[0]
    assert (a["status"], a["last_audit_result"], a["version"], a["client_id"]) == \
        ("placed", "found", 3, w.c1)
    assert (a["inventory_number"], a["next_audit_due"]) == \
        (f"INV-{w.a1.hex[:6]}", TODAY + dt.timedelta(days=60))


async def test_an_older_or_repeated_event_changes_nothing(service: Service, world: World,
                                                          publisher: Publisher) -> None:
    w = world
    cid = uuid.uuid4()
    await contract(publisher, cid, w.c1, status="active", valid_until=TODAY, version=3)
    await until_rows(service, "SELECT 1 FROM rm_contracts WHERE contract_id = :k AND "
                     "version = 3", 1, k=cid)
    # version 2 arrives late: ignored; version 3 again (a new event id): the same state
    await contract(publisher, cid, w.c1, status="terminated", valid_until=TODAY, version=2)
    await contract(publisher, cid, w.c1, status="suspended", valid_until=TODAY, version=4)
    await until_rows(service, "SELECT 1 FROM rm_contracts WHERE contract_id = :k AND "
                     "version = 4", 1, k=cid)
    row = (await rows_of(service, "SELECT status FROM rm_contracts WHERE contract_id = :k",
                         k=cid))[0]
    assert row["status"] == "suspended"
    # the very same envelope twice: the inbox drops the second (one row, status unchanged)
    aid = uuid.uuid4()
    for _ in range(2):
        await activity(publisher, aid, w.c2, w.rep1, "email", NOW, 0)
    await until_rows(service, "SELECT 1 FROM rm_contacts WHERE contact_id = :a", 1, a=aid)


async def test_the_inventory_follows_placements_returns_audits_and_write_offs(
        service: Service, world: World, publisher: Publisher) -> None:
    w = world
    a5 = uuid.uuid4()
    await placed(publisher, a5, w.c2, w.rep1, placed_on=TODAY - dt.timedelta(days=10),
                 next_audit=TODAY + dt.timedelta(days=80), version=2)
    # an audit finds it missing: .audited and .missing carry the same line, kept once
    await audited(publisher, a5, w.c2, w.rep1, result="missing", when=NOW, version=3)
    await until_rows(service, "SELECT 1 FROM rm_assets WHERE asset_id = :a AND version = 3",
                     1, a=a5)
    row = (await rows_of(service, "SELECT status, last_audit_result FROM rm_assets "
                                  "WHERE asset_id = :a", a=a5))[0]
    assert (row["status"], row["last_audit_result"]) == ("placed", "missing")
    # returned (version 4), then the placement again arriving late (version 2): ignored
    back = placement_state(a5, w.c2, TODAY - dt.timedelta(days=10),
                           TODAY + dt.timedelta(days=80))
    back.update(returnedOn=TODAY.isoformat(), returnCondition="worn", version=2)
    await publish_raw(publisher, "crm.clients.asset.returned", a5, {
        "placement": back, "asset": asset_state(a5, "in_stock", 4)})
    await until_rows(service, "SELECT 1 FROM rm_assets WHERE asset_id = :a AND version = 4",
                     1, a=a5)
    await placed(publisher, a5, w.c2, w.rep1, placed_on=TODAY - dt.timedelta(days=10),
                 next_audit=TODAY + dt.timedelta(days=80), version=2)
    await publish_raw(publisher, "crm.clients.asset.written_off", a5, {
        "asset": asset_state(a5, "written_off", 5), "previousStatus": "in_stock"})
    await until_rows(service, "SELECT 1 FROM rm_assets WHERE asset_id = :a AND version = 5",
                     1, a=a5)
    row = (await rows_of(service, "SELECT * FROM rm_assets WHERE asset_id = :a", a=a5))[0]
    assert (row["status"], row["client_id"], row["returned_at"].date()) == \
        ("written_off", w.c2, TODAY)
    lines = await rows_of(service, "SELECT result FROM rm_asset_audits WHERE asset_id = :a",
                          a=a5)
    assert [r["result"] for r in lines] == ["missing"]


async def test_the_read_model_catches_up_after_downtime(service: Service, world: World,
                                                        publisher: Publisher) -> None:
    w = world
    await service.stop()
    gone = uuid.uuid4()
    try:
        # while the service is down: a new task and a client moving to rep2
        await task(publisher, gone, w.c2, w.rep1, due=TODAY)
        await client(publisher, w.c2, owner=w.rep1, group=None, city="Пловдив",
                     name=f"Бета {w.tag}", version=2, status="inactive")
        assert await rows_of(service, "SELECT 1 FROM rm_tasks WHERE task_id = :t",
                             t=gone) == []
    finally:
        await service.start()
    await until_rows(service, "SELECT 1 FROM rm_tasks WHERE task_id = :t", 1, t=gone)
    await until_rows(service, "SELECT 1 FROM rm_clients WHERE client_id = :c AND "
                     "status = 'inactive' AND version = 2", 1, c=w.c2)


# --------------------------------------------------------------------------------------------
# running reports


SALES_YOY = {"dataset": "SALES", "groupBy": [{"field": "client"}],
             "measures": [{"aggregate": "SUM", "field": "turnover"},
                          {"aggregate": "SHARE", "field": "turnover"}],
             "filters": [{"field": "client", "operator": "CONTAINS", "values": []}],
             "period": {"relative": "CURRENT_QUARTER"}, "comparison": "PREVIOUS_YEAR",
             "sort": [{"column": "client"}],
             "chart": {"kind": "BAR", "x": "client", "y": "sum_turnover"}}


def sales_yoy(w: World) -> dict[str, Any]:
    return {**SALES_YOY, "filters": [{"field": "client", "operator": "CONTAINS",
                                      "values": [w.tag]}]}


async def test_turnover_per_client_with_year_on_year(service: Service, world: World) -> None:
    w = world
    result = await table(service, tok(service, w, "manager"), definition=sales_yoy(w))
    rows = by_key(result)
    # c1 100 vs 80 (+20, +25.0 %); c2 50 vs 0 (% undefined); c3 0 vs 40 (−40, −100.0 %);
    # shares of the 150 now: 66.67 and 33.33
    assert [(r["client"], r["sum_turnover"], r["sum_turnover_previous"],
             r["sum_turnover_change"], r["sum_turnover_change_percent"]) for r in rows] == [
        (f"Алфа {w.tag}", "100.00", "80.00", "20.00", "25.0"),
        (f"Бета {w.tag}", "50.00", "0", "50.00", None),
        (f"Гама {w.tag}", "0", "40.00", "-40.00", "-100.0")]
    assert [r["share_turnover"] for r in rows] == ["66.67", "33.33", None]
    keys = [c["key"] for c in result["columns"]]
    totals = dict(zip(keys, result["totals"], strict=True))
    assert (totals["sum_turnover"], totals["sum_turnover_previous"],
            totals["sum_turnover_change"], totals["sum_turnover_change_percent"]) == \
        ("150.00", "120.00", "30.00", "25.0")
    chart = result["chart"]
    assert chart["mark"]["type"] == "bar"
    assert chart["encoding"]["x"]["field"] == "client"
    assert [v["sum_turnover"] for v in chart["data"]["values"]] == [100.0, 50.0, 0]
    assert result["totalRows"] == 3
    assert any(p["label"].startswith("Period") for p in result["parameters"])


async def test_a_date_dimension_groups_by_its_granularity(service: Service,
                                                          world: World) -> None:
    w = world
    q = (TODAY.month - 1) // 3 + 1
    result = await table(service, tok(service, w, "manager"), definition={
        "dataset": "SALES", "groupBy": [{"field": "month", "granularity": "QUARTER"}],
        "measures": [{"aggregate": "SUM", "field": "turnover"},
                     {"aggregate": "COUNT_DISTINCT", "field": "client"}],
        "filters": [{"field": "client", "operator": "CONTAINS", "values": [w.tag]}],
        "period": {"relative": "LAST_12_MONTHS"}, "comparison": "PREVIOUS_YEAR"})
    # the last 12 months hold this quarter's sales (c1 100 + c2 50); the 12 months before,
    # moved a year on, the same quarter's (c1 80 + c3 40): one row, labelled this quarter
    assert by_key(result) == [{
        "month_quarter": f"{TODAY.year}-Q{q}", "sum_turnover": "150.00",
        "sum_turnover_previous": "120.00", "sum_turnover_change": "30.00",
        "sum_turnover_change_percent": "25.0", "count_distinct_client": "2",
        "count_distinct_client_previous": "2", "count_distinct_client_change": "0",
        "count_distinct_client_change_percent": "0.0"}]


async def test_a_comparison_over_overlapping_periods(service: Service, world: World) -> None:
    """A period longer than a year against the previous year: the months in both count in
    both (under their own period's keys)."""
    w = world
    q_start = month(-((TODAY.month - 1) % 3))
    start = q_start.replace(year=q_start.year - 1)
    result = await table(service, tok(service, w, "manager"), definition={
        "dataset": "SALES", "groupBy": [{"field": "client"}],
        "measures": [{"aggregate": "SUM", "field": "turnover"}],
        "filters": [{"field": "client", "operator": "CONTAINS", "values": [w.tag]}],
        "period": {"from": start.isoformat(), "to": TODAY.isoformat()},
        "comparison": "PREVIOUS_YEAR", "sort": [{"column": "client"}]})
    # now: c1 80 + 100, c2 50, c3 40; a year earlier (start − 1 year to today − 1 year):
    # c1 80, c3 40
    assert [(r["client"], r["sum_turnover"], r["sum_turnover_previous"],
             r["sum_turnover_change"]) for r in by_key(result)] == [
        (f"Алфа {w.tag}", "180.00", "80.00", "100.00"),
        (f"Бета {w.tag}", "50.00", "0", "50.00"),
        (f"Гама {w.tag}", "40.00", "40.00", "0.00")]


async def test_listing_pages_by_keyset_until_the_end(service: Service, world: World) -> None:
    w = world
    definition = {"dataset": "CONTACTS", "columns": ["client", "employee", "kind",
                                                     "duration_minutes"],
                  "filters": [{"field": "client", "operator": "CONTAINS", "values": [w.tag]}],
                  "sort": [{"column": "duration_minutes", "descending": True}]}
    token = tok(service, w, "manager")
    seen: list[str | None] = []
    after = None
    for _ in range(10):
        result = await table(service, token, definition=definition, first=2, after=after)
        seen += [r["duration_minutes"] for r in by_key(result)]
        # 4 activities, the scheduled meeting, the e-mail of the idempotency test
        assert result["totalRows"] == 6
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    assert seen == ["60", "45", "30", "10", "5", "0"]
    # a cursor of another report, or made up: a userError naming input.after
    payload = await run(service, token, definition=definition, first=2, after="bm90IGl0")
    assert payload["userErrors"][0]["field"] == ["input", "after"]


async def test_each_built_in_report_is_present_and_runs(service: Service,
                                                        world: World) -> None:
    w = world
    token = tok(service, w, "manager")
    reports: list[dict[str, Any]] = []
    after = None
    while True:  # page through them, 5 at a time
        data = await service.data(token, """query($after: String) {
          savedReports(first: 5, after: $after) {
            edges { node { id builtin name } } pageInfo { hasNextPage endCursor } } }""",
                                  {"after": after})
        reports += [e["node"] for e in data["savedReports"]["edges"]]
        if not data["savedReports"]["pageInfo"]["hasNextPage"]:
            break
        after = data["savedReports"]["pageInfo"]["endCursor"]
    assert len(set(r["id"] for r in reports)) == len(reports)
    builtins = {r["builtin"]: r["id"] for r in reports if r["builtin"]}
    assert len(builtins) == 11
    for key, report_id in builtins.items():
        payload = await run(service, token, reportId=report_id, first=50)
        assert payload["userErrors"] == [], (key, payload)
        assert payload["result"] is not None or payload["job"] is not None, key
    # overdue tasks: t1 (3 days); contracts expiring in 60 days: k1 (not k2, k3)
    overdue = await table(service, token, reportId=builtins["overdue_tasks"], first=100)
    assert any(r["days_overdue"] == "3" and r["assignee"] == f"Иван Петров {w.tag}"
               for r in by_key(overdue))
    expiring = by_key(await table(service, token,
                                  reportId=builtins["contracts_expiring_60_days"], first=100))
    numbers = {r["number"] for r in expiring}
    assert f"K1-{w.tag}" in numbers and not {f"K2-{w.tag}", f"K3-{w.tag}"} & numbers
    audits = by_key(await table(service, token, reportId=builtins["audits_overdue"],
                                first=100))
    assert f"INV-{w.a3.hex[:6]}" in {r["inventory_number"] for r in audits}
    assert f"INV-{w.a1.hex[:6]}" not in {r["inventory_number"] for r in audits}


async def test_commitments_per_rep(service: Service, world: World) -> None:
    w = world
    result = await table(service, tok(service, w, "manager"), definition={
        "dataset": "TASKS", "groupBy": [{"field": "assignee"}],
        "measures": [{"aggregate": "COUNT"}, {"aggregate": "SUM", "field": "fulfilled"},
                     {"aggregate": "AVG", "field": "fulfilled_percent"},
                     {"aggregate": "AVG", "field": "days_to_close"}],
        "filters": [{"field": "assignee", "operator": "CONTAINS", "values": [w.tag]},
                    {"field": "kind", "operator": "EQ", "values": ["commitment"]}],
        "sort": [{"column": "assignee"}]})
    rows = {r["assignee"]: r for r in by_key(result)}
    # rep1: t1 open, t2 confirmed in 4 days (and the task made while the service was down,
    # open): 3 opened, 1 fulfilled, 33.33 %; rep2: t3 refused in 2 days
    rep1 = rows[f"Иван Петров {w.tag}"]
    assert (rep1["count"], rep1["sum_fulfilled"], rep1["avg_days_to_close"]) == \
        ("3", "1", "4.00")
    assert rep1["avg_fulfilled_percent"] == "33.33"
    rep2 = rows[f"Мария Иванова {w.tag}"]
    assert (rep2["count"], rep2["sum_fulfilled"], rep2["avg_days_to_close"]) == \
        ("1", "0", "2.00")


# --------------------------------------------------------------------------------------------
# access: a matrix of role × dataset


async def test_access_matrix(service: Service, world: World) -> None:
    """What each role sees of the world in each dataset, grouped by client."""
    w = world
    a, b, g = f"Алфа {w.tag}", f"Бета {w.tag}", f"Гама {w.tag}"
    everyone = {a, b, g}
    expected: dict[str, dict[str, set[str | None]]] = {
        # rep1 owns Alfa and Beta; rep2 Gama
        "rep1": {"SALES": {a, b}, "CLIENTS": {a, b}, "CONTRACTS": {a, b},
                 # rep1's meeting at Gama ended 5 days ago (no grant), but it is rep1's contact
                 "CONTACTS": {a, b, g},
                 # t1 at Gama is assigned to rep1
                 "TASKS": {a, b, g},
                 # observations at no client are everyone's
                 "COMPETITOR_OBSERVATIONS": {a, None},
                 # a1 at Alfa; a5 (written off since) at Beta
                 "INVENTORY": {a, b}, "INVENTORY_AUDITS": {a, b}},
        "rep2": {"SALES": {g}, "CLIENTS": {g}, "CONTRACTS": {g}, "CONTACTS": {g},
                 "TASKS": {g}, "COMPETITOR_OBSERVATIONS": {g, None}, "INVENTORY": {g},
                 "INVENTORY_AUDITS": set()},
    }
    everything: dict[str, set[str | None]] = {
        "SALES": everyone, "CLIENTS": everyone, "CONTRACTS": everyone, "CONTACTS": everyone,
        "TASKS": everyone, "COMPETITOR_OBSERVATIONS": {a, g, None}, "INVENTORY": everyone,
        "INVENTORY_AUDITS": {a, b}}
    expected["manager"] = expected["admin"] = everything
    for who in ("rep1", "rep2", "manager", "admin"):
        token = tok(service, w, who)
        for dataset, want in expected[who].items():
            # this world's rows: its clients, or (observations) its reporters
            mark = "reported_by" if dataset == "COMPETITOR_OBSERVATIONS" else "client"
            definition: dict[str, Any] = {
                "dataset": dataset, "groupBy": [{"field": "client"}],
                "measures": [{"aggregate": "COUNT"}],
                "filters": [{"field": mark, "operator": "CONTAINS", "values": [w.tag]}]}
            if dataset == "SALES":  # Gama's sales are a year old: the comparison shows them
                definition["period"] = {"relative": "LAST_12_MONTHS"}
                definition["comparison"] = "PREVIOUS_YEAR"
            rows = by_key(await table(service, token, definition=definition, first=500))
            assert {r["client"] for r in rows} == want, (who, dataset, rows)


async def test_a_shared_report_runs_with_the_runners_access(service: Service,
                                                            world: World) -> None:
    w = world
    saved = await service.data(tok(service, w, "manager"), """
      mutation S($input: SaveReportInput!) { saveReport(input: $input) {
        savedReport { id version sharedWith } userErrors { field code } } }""",
                               {"input": {"name": f"Оборот {w.tag}", "definition": sales_yoy(w),
                                          "sharedWith": ["sales_rep"]}})
    report = saved["saveReport"]["savedReport"]
    assert report["version"] == 1 and report["sharedWith"] == ["sales_rep"]
    manager_rows = by_key(await table(service, tok(service, w, "manager"),
                                      reportId=report["id"]))
    rep_rows = by_key(await table(service, tok(service, w, "rep2"), reportId=report["id"]))
    assert mine(w, manager_rows) == {f"Алфа {w.tag}", f"Бета {w.tag}", f"Гама {w.tag}"}
    assert mine(w, rep_rows) == {f"Гама {w.tag}"}
    # a private report: other people do not find it
    private = await service.data(tok(service, w, "rep1"), """
      mutation S($input: SaveReportInput!) { saveReport(input: $input) {
        savedReport { id } userErrors { field code } } }""",
                                 {"input": {"name": "Моят", "definition": sales_yoy(w)}})
    pid = private["saveReport"]["savedReport"]["id"]
    other = await run(service, tok(service, w, "rep2"), reportId=pid)
    assert other["userErrors"][0]["code"] == "NOT_FOUND"
    # versions: a change makes version 2; a stale version is a CONFLICT
    update = """mutation U($input: UpdateSavedReportInput!) { updateSavedReport(input: $input) {
      savedReport { version versions { version name } } userErrors { field code } } }"""
    changed = await service.data(tok(service, w, "rep1"), update,
                                 {"input": {"id": pid, "version": 1, "name": "Моят 2"}})
    assert [v["version"] for v in changed["updateSavedReport"]["savedReport"]["versions"]] == \
        [2, 1]
    stale = await service.data(tok(service, w, "rep1"), update,
                               {"input": {"id": pid, "version": 1, "name": "Моят 3"}})
    assert stale["updateSavedReport"]["userErrors"][0]["code"] == "CONFLICT"
    # another rep may not change it (not found: they do not see it)
    theirs = await service.data(tok(service, w, "rep2"), update,
                                {"input": {"id": pid, "version": 2, "name": "Х"}})
    assert theirs["updateSavedReport"]["userErrors"][0]["code"] == "NOT_FOUND"


# --------------------------------------------------------------------------------------------
# jobs and schedules


JOB = """query J($id: ID!) { reportJob(id: $id) { id status rowsDone rowsTotal error file } }"""


async def test_a_big_run_becomes_a_job_that_completes_with_an_event(
        service: Service, world: World, publisher: Publisher, tap: CaughtEvents) -> None:
    w = world
    calls = [uuid.uuid4() for _ in range(INLINE_ROWS)]
    for call in calls:
        await activity(publisher, call, w.c1, w.rep1, "phone_call", NOW, 3)
    await until_rows(service, "SELECT 1 FROM rm_contacts WHERE contact_id = ANY(:ids)",
                     INLINE_ROWS, ids=calls)
    # every contact of the world: more than the inline threshold
    payload = await run(service, tok(service, w, "admin"), definition={
        "dataset": "CONTACTS", "columns": ["client", "kind", "date"],
        "filters": [{"field": "client", "operator": "CONTAINS", "values": [w.tag]}]}, first=5)
    assert payload["result"] is None and payload["userErrors"] == []
    job = payload["job"]
    assert job["status"] in ("queued", "running", "completed")
    assert job["rowsTotal"] == INLINE_ROWS + 6
    event = (await tap.wait_for_type("crm.analytics.report.completed", job["id"]))[0]
    assert event["data"]["rows"] == job["rowsTotal"]
    file = event["data"]["file"]  # the job's file: an XLSX of the requester's
    assert file["format"] == "xlsx"
    download = await service.client.get(file["url"])
    assert download.status_code == 200 and download.content.startswith(b"PK\x03\x04")
    done = (await service.data(tok(service, w, "admin"), JOB, {"id": job["id"]}))["reportJob"]
    assert (done["status"], done["rowsDone"]) == ("completed", job["rowsTotal"])
    # another user does not see it
    assert (await service.data(tok(service, w, "rep1"), JOB, {"id": job["id"]})
            )["reportJob"] is None


async def test_a_scheduled_run_uses_each_recipients_access(service: Service, world: World,
                                                           tap: CaughtEvents) -> None:
    w = world
    token = tok(service, w, "manager")
    saved = await service.data(token, """
      mutation S($input: SaveReportInput!) { saveReport(input: $input) {
        savedReport { id } userErrors { field code } } }""",
                               {"input": {"name": f"Клиенти {w.tag}", "sharedWith": ["sales_rep"],
                                          "definition": {
                                              "dataset": "CLIENTS", "columns": ["client"],
                                              "filters": [{"field": "client",
                                                           "operator": "CONTAINS",
                                                           "values": [w.tag]}]}}})
    report_id = saved["saveReport"]["savedReport"]["id"]
    schedule = """mutation P($input: SetReportScheduleInput!) { setReportSchedule(input: $input) {
      schedule { id cron recipients nextRunAt } userErrors { field code message } } }"""
    bad = await service.data(token, schedule, {"input": {
        "reportId": report_id, "cron": "61 * * * *", "recipients": [str(w.rep1)]}})
    assert bad["setReportSchedule"]["userErrors"][0]["field"] == ["input", "cron"]
    unknown = await service.data(token, schedule, {"input": {
        "reportId": report_id, "cron": "0 6 * * 1", "recipients": [str(uuid.uuid4())]}})
    assert unknown["setReportSchedule"]["userErrors"][0]["field"] == \
        ["input", "recipients", "0"]
    too_many = await service.data(token, schedule, {"input": {
        "reportId": report_id, "cron": "0 6 * * 1",
        "recipients": [str(uuid.uuid4()) for _ in range(51)]}})
    assert too_many["setReportSchedule"]["userErrors"][0]["field"] == ["input", "recipients"]
    hostile = await service.data(token, schedule, {"input": {
        "reportId": report_id, "cron": "0 6 * * 1; DROP TABLE report_schedules" + " " * 500,
        "recipients": ["not-an-id"]}})
    assert {tuple(e["field"]) for e in hostile["setReportSchedule"]["userErrors"]} >= \
        {("input", "recipients", "0")}
    assert await rows_of(service, "SELECT 1 FROM report_schedules WHERE report_id = :r",
                         r=uuid.UUID(report_id)) == []
    ok = await service.data(token, schedule, {"input": {
        "reportId": report_id, "cron": "0 6 * * 1",
        "recipients": [str(w.rep1), str(w.rep2), str(w.manager)]}})
    made = ok["setReportSchedule"]["schedule"]
    next_run = dt.datetime.fromisoformat(made["nextRunAt"])
    assert next_run.weekday() == 0 and (next_run.hour, next_run.minute) == (6, 0)
    # the clock reaches the run: one job per recipient, each with its own rows
    engine = make_engine(service.database_url, pool_size=1)
    try:
        assert await report_schedules.enqueue_due(engine, now=next_run) >= 3
    finally:
        await engine.dispose()
    schedule_id = made["id"]

    rows: dict[str, int] = {}

    async def all_done() -> bool:
        found = [e for e in tap.of_type("crm.analytics.report.completed")
                 if e["data"]["scheduleId"] == schedule_id]
        rows.update({e["data"]["requestedBy"]: e["data"]["rows"] for e in found})
        return len(rows) == 3
    await wait_until(all_done)
    # rep1 sees Alfa and Beta, rep2 Gama, the manager all three
    assert rows == {str(w.rep1): 2, str(w.rep2): 1, str(w.manager): 3}


# --------------------------------------------------------------------------------------------
# bad input: a userError naming the field, nothing runs


BAD: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown field", {"columns": ["client", "password"]}, ["columns", "1"]),
    ("unknown filter field", {"columns": ["client"], "filters": [
        {"field": "pg_sleep", "operator": "EQ", "values": ["1"]}]}, ["filters", "0", "field"]),
    ("operator misfit", {"columns": ["client"], "filters": [
        {"field": "created_on", "operator": "CONTAINS", "values": ["2026"]}]},
     ["filters", "0", "operator"]),
    ("enum value", {"columns": ["client"], "filters": [
        {"field": "client_status", "operator": "EQ", "values": ["deleted"]}]},
     ["filters", "0", "values", "0"]),
    ("10,000 values", {"columns": ["client"], "filters": [
        {"field": "client", "operator": "IN", "values": [f"x{i}" for i in range(10_000)]}]},
     ["filters", "0", "values"]),
    ("four dimensions", {"groupBy": [{"field": "client"}, {"field": "city"},
                                     {"field": "owner"}, {"field": "kind"}],
                         "measures": [{"aggregate": "COUNT"}]}, ["groupBy"]),
    ("limit of 10 million", {"columns": ["client"], "limit": 10_000_000}, ["limit"]),
    ("500 years", {"columns": ["client"], "period": {"from": "1526-01-01",
                                                     "to": "2026-01-01"}}, ["period", "from"]),
    ("11 years", {"columns": ["client"], "period": {"from": "2015-01-01",
                                                    "to": "2026-01-02"}}, ["period", "to"]),
    ("sum of text", {"groupBy": [{"field": "city"}],
                     "measures": [{"aggregate": "SUM", "field": "client"}]},
     ["measures", "0", "aggregate"]),
    ("granularity of text", {"groupBy": [{"field": "city", "granularity": "WEEK"}],
                             "measures": [{"aggregate": "COUNT"}]},
     ["groupBy", "0", "granularity"]),
    ("NUL in a value", {"columns": ["client"], "filters": [
        {"field": "client", "operator": "EQ", "values": ["a\x00b"]}]},
     ["filters", "0", "values", "0"]),
    ("hostile title", {"columns": ["client"], "title": "x" * 5000}, ["title"]),
    ("control characters in a title", {"columns": ["client"], "title": "a\x1b[31mb"},
     ["title"]),
    ("injection as a field", {"columns": ["client; DROP TABLE rm_clients"]}, ["columns", "0"]),
    ("sort by unknown", {"columns": ["client"], "sort": [{"column": "1=1"}]},
     ["sort", "0", "column"]),
    ("comparison without period", {"groupBy": [{"field": "city"}],
                                   "measures": [{"aggregate": "COUNT"}],
                                   "comparison": "PREVIOUS_YEAR"}, ["period"]),
    ("chart of nothing", {"groupBy": [{"field": "city"}], "measures": [{"aggregate": "COUNT"}],
                          "chart": {"kind": "STACKED_BAR", "x": "city", "y": "count"}},
     ["chart", "series"]),
    ("both modes", {"columns": ["client"], "measures": [{"aggregate": "COUNT"}]},
     ["columns"]),
]


@pytest.mark.parametrize(("what", "definition", "field"), BAD, ids=[b[0] for b in BAD])
async def test_bad_definitions_are_user_errors_and_nothing_runs(
        service: Service, world: World, what: str, definition: dict[str, Any],
        field: list[str]) -> None:
    jobs_before = await rows_of(service, "SELECT count(*) AS n FROM report_jobs")
    payload = await run(service, tok(service, world, "manager"),
                        definition={"dataset": "CLIENTS", **definition})
    assert payload["result"] is None and payload["job"] is None
    fields = [e["field"] for e in payload["userErrors"]]
    assert ["input", "definition", *field] in fields, (what, payload["userErrors"])
    assert await rows_of(service, "SELECT count(*) AS n FROM report_jobs") == jobs_before
    assert (await rows_of(service, "SELECT count(*) AS n FROM rm_clients"))[0]["n"] > 0


async def test_bad_parameters_and_saving_bad_reports(service: Service, world: World) -> None:
    w = world
    token = tok(service, w, "manager")
    payload = await run(service, token, definition=sales_yoy(w),
                        parameters={"from": "2026-05-01", "to": "2026-04-01"})
    assert payload["userErrors"][0]["field"] == ["input", "parameters", "to"]
    neither = await run(service, token)
    assert neither["userErrors"][0]["field"] == ["input", "reportId"]
    big_page = await run(service, token, definition=sales_yoy(w), first=100_000)
    assert big_page["userErrors"][0]["field"] == ["input", "first"]
    before = await rows_of(service, "SELECT count(*) AS n FROM saved_reports")
    save = """
      mutation S($input: SaveReportInput!) { saveReport(input: $input) {
        savedReport { id } userErrors { field code } } }"""
    # a control character is refused by the kit before the command reads anything else
    saved = await service.data(token, save, {"input": {
        "name": "\x00", "sharedWith": ["root"],
        "definition": {"dataset": "SALES", "columns": ["nope"]}}})
    assert [(e["field"], e["code"]) for e in saved["saveReport"]["userErrors"]] == [
        (["input", "name"], "CONTROL_CHARACTERS")]
    saved = await service.data(token, save, {"input": {
        "name": "", "sharedWith": ["root"],
        "definition": {"dataset": "SALES", "columns": ["nope"]}}})
    fields = [e["field"] for e in saved["saveReport"]["userErrors"]]
    assert ["input", "name"] in fields and ["input", "sharedWith", "0"] in fields
    huge = await service.data(token, """
      mutation S($input: SaveReportInput!) { saveReport(input: $input) {
        savedReport { id } userErrors { field code } } }""",
                              {"input": {"name": "Отчет" * 1000, "description": "x" * 100_000,
                                         "definition": sales_yoy(w)}})
    assert {tuple(e["field"]) for e in huge["saveReport"]["userErrors"]} == \
        {("input", "name"), ("input", "description")}
    assert await rows_of(service, "SELECT count(*) AS n FROM saved_reports") == before


async def test_the_datasets_are_listed_with_their_fields(service: Service,
                                                         world: World) -> None:
    data = await service.data(tok(service, world, "rep1"),
                              "{ reportDatasets { name fields { name kind operators } } }")
    names = [d["name"] for d in data["reportDatasets"]]
    assert names == list(DATASETS)
    sales = next(d for d in data["reportDatasets"] if d["name"] == "sales")
    turnover = next(f for f in sales["fields"] if f["name"] == "turnover")
    assert turnover["kind"] == "money" and "contains" not in turnover["operators"]


async def test_cancel_archive_and_a_failed_scheduled_run(service: Service, world: World,
                                                         publisher: Publisher,
                                                         tap: CaughtEvents) -> None:
    w = world
    token = tok(service, w, "manager")
    saved = await service.data(token, """
      mutation S($input: SaveReportInput!) { saveReport(input: $input) {
        savedReport { id version } userErrors { field code } } }""",
                               {"input": {"name": f"Задачи {w.tag}", "definition": {
                                   "dataset": "TASKS", "columns": ["number"]}}})
    report = saved["saveReport"]["savedReport"]
    # a schedule for rep1, who leaves before it runs: the run fails, naming why
    gone = uuid.uuid4()
    await employee(publisher, gone, f"Напуснал {w.tag}", "sales_rep")
    await until_rows(service, "SELECT 1 FROM access_employees WHERE employee_id = :e", 1,
                     e=gone)
    ok = await service.data(token, """mutation P($input: SetReportScheduleInput!) {
      setReportSchedule(input: $input) { schedule { id nextRunAt } userErrors { code } } }""",
                            {"input": {"reportId": report["id"], "cron": "0 7 * * *",
                                       "recipients": [str(gone)]}})
    made = ok["setReportSchedule"]["schedule"]
    await service.sql("UPDATE access_employees SET active = false, version = version + 1 "
                      "WHERE employee_id = :e", e=gone)
    engine = make_engine(service.database_url, pool_size=1)
    try:
        assert await report_schedules.enqueue_due(
            engine, now=dt.datetime.fromisoformat(made["nextRunAt"])) == 1
    finally:
        await engine.dispose()
    failed = (await tap.wait_for(lambda e: e["type"] == "crm.analytics.report.failed"
                                 and e["data"]["scheduleId"] == made["id"]))[0]
    assert "not an active employee" in failed["data"]["error"]
    # a finished job cannot be cancelled; a job of someone else is not found
    cancel = """mutation C($input: CancelReportJobInput!) { cancelReportJob(input: $input) {
      job { status } userErrors { field code } } }"""
    job_id = failed["data"]["jobId"]
    finished = await service.data(tok(service, w, "admin"), cancel, {"input": {"id": job_id}})
    assert finished["cancelReportJob"]["userErrors"][0]["code"] == "ALREADY_FINISHED"
    other = await service.data(tok(service, w, "rep2"), cancel, {"input": {"id": job_id}})
    assert other["cancelReportJob"]["userErrors"][0]["code"] == "NOT_FOUND"
    # a queued job cancelled before a worker takes it: cancelled, no event
    queued = uuid.uuid4()
    await service.sql(
        "INSERT INTO report_jobs (job_id, definition, requested_by, roles, status, created_at)"
        " VALUES (:j, CAST(:d AS jsonb), :r, CAST('[\"admin\"]' AS jsonb), 'queued', "
        "now() + interval '1 hour')",
        j=queued, d=json.dumps({"dataset": "tasks", "columns": ["number"]}), r=w.admin)
    stopped = await service.data(tok(service, w, "admin"), cancel, {"input": {"id": str(queued)}})
    assert stopped["cancelReportJob"]["job"]["status"] == "cancelled"
    # archiving: the report is gone for everyone, its runs refused
    archive = """mutation A($input: ArchiveSavedReportInput!) { archiveSavedReport(input: $input)
      { userErrors { field code } } }"""
    stale = await service.data(token, archive, {"input": {"id": report["id"], "version": 9}})
    assert stale["archiveSavedReport"]["userErrors"][0]["code"] == "CONFLICT"
    done = await service.data(token, archive, {"input": {"id": report["id"], "version": 1}})
    assert done["archiveSavedReport"]["userErrors"] == []
    refused = await run(service, token, reportId=report["id"])
    assert refused["userErrors"][0]["code"] == "NOT_FOUND"
    assert not any(e["data"]["jobId"] == str(queued)
                   for e in tap.of_type("crm.analytics.report.completed"))


async def test_report_table_streams_what_run_report_pages(service: Service,
                                                          world: World) -> None:
    """The seam the files read (``reports.engine.report_table``): the same columns, rows,
    totals and chart as runReport's pages, with the requester's access rule."""
    w = world
    token = tok(service, w, "rep1")
    paged = await table(service, token, definition=sales_yoy(w), first=500)
    definition = Definition(dataset="sales", group_by=(Grouping("client"),),
                            measures=(Measure("sum", "turnover"), Measure("share", "turnover")),
                            filters=(Filter("client", "contains", (w.tag,)),),
                            period=PeriodSpec(relative="current_quarter"),
                            comparison="previous_year", sort=(Sort("client"),),
                            chart=Chart("bar", "client", "sum_turnover"))
    plan = check(definition, TODAY)
    rule = Access(Principal(w.rep1, frozenset({"sales_rep"}), "Иван"), NOW,
                  dt.timedelta(hours=24))
    engine = make_engine(service.database_url, pool_size=2)
    try:
        async with report_table(engine, plan, rule) as t:
            rows = [list(r) async for r in t.rows]
    finally:
        await engine.dispose()
    assert [c.key for c in t.columns] == [c["key"] for c in paged["columns"]]
    assert [c.kind for c in t.columns] == [c["kind"] for c in paged["columns"]]
    # rep1 sees Alfa and Beta only
    assert [[None if v is None else str(v) for v in r] for r in rows] == \
        [r["cells"] for r in paged["rows"]]
    assert [r[0] for r in rows] == [f"Алфа {w.tag}", f"Бета {w.tag}"]
    assert [None if v is None else str(v) for v in (t.totals or [])] == paged["totals"]
    assert t.chart is not None and t.chart["data"]["values"] == paged["chart"]["data"]["values"]
    assert ("Requested by", "Иван") in list(t.parameters)


async def test_user_error_messages_name_things_as_the_user_writes_them(
        service: Service, world: World) -> None:
    """Field names and column keys are text the user writes (snake_case, quoted); operators,
    aggregates and datasets are the API's enums (upper case)."""
    payload = await run(service, tok(service, world, "manager"), definition={
        "dataset": "COMPETITOR_OBSERVATIONS", "columns": ["observed_on", "nope_field"],
        "filters": [{"field": "observed_on", "operator": "CONTAINS", "values": ["x"]}],
        "sort": [{"column": "zzz"}]})
    messages = {tuple(e["field"]): e["message"] for e in payload["userErrors"]}
    assert messages[("input", "definition", "columns", "1")] == \
        "unknown field 'nope_field' of dataset COMPETITOR_OBSERVATIONS"
    assert messages[("input", "definition", "filters", "0", "operator")].startswith(
        "CONTAINS does not fit 'observed_on' (date); use EQ, NE, LT")
    assert "'observed_on'" in messages[("input", "definition", "sort", "0", "column")]


HOSTILE_CONTRACT = uuid.uuid4()
HOSTILE_EVENTS: list[tuple[str, dict[str, Any]]] = [
    # wrong: a version as text, a time without zone, a duration of a billion minutes, a client
    # id that is no id; missing: the task's assignee and dates, the asset's version; hostile:
    # SQL as an id; huge: a contract whose title is a megabyte of NUL characters
    ("crm.tasks.task.created", {"task": {"id": str(uuid.uuid4()), "version": "1"}}),
    ("crm.tasks.task.created", {"task": {"id": str(uuid.uuid4()), "number": "T000001",
                                         "title": "x", "kind": "general", "version": 1}}),
    ("crm.activities.activity.logged", {"activity": {
        "id": "1'; DROP TABLE rm_contacts; --", "clientId": str(uuid.uuid4()),
        "employeeId": str(uuid.uuid4()), "kind": "visit", "occurredAt": "2026-01-01T00:00:00Z",
        "durationMinutes": 10}}),
    ("crm.activities.activity.logged", {"activity": {
        "id": str(uuid.uuid4()), "clientId": str(uuid.uuid4()), "employeeId": str(uuid.uuid4()),
        "kind": "visit", "occurredAt": "2026-01-01T00:00:00", "durationMinutes": 10**9}}),
    ("crm.clients.contract.created", {"contract": {"id": str(HOSTILE_CONTRACT),
                                                   "title": "\x00" * 1_000_000}}),
    ("crm.clients.asset.placed", {"assetId": str(uuid.uuid4()), "clientId": "nope"}),
]


async def test_hostile_events_go_to_the_dead_letter_queue_and_the_rest_flows(
        service: Service, world: World, publisher: Publisher) -> None:
    """Events whose payload lacks what a projection needs (wrong types, missing fields, huge
    or hostile values) store nothing and are dead-lettered after the retries; a good event
    published after them is applied."""
    w = world
    from crm_common.testing import queue_depth

    from .conftest import QUEUE_PREFIX

    dlq = f"{QUEUE_PREFIX}analytics.reporting.dlq"
    dead_before = await queue_depth(dlq)
    contacts_before = (await rows_of(service, "SELECT count(*) AS n FROM rm_contacts"))[0]["n"]
    for type_, data in HOSTILE_EVENTS:
        await publish_raw(publisher, type_, uuid.uuid4(), data)
    good = uuid.uuid4()
    await task(publisher, good, w.c1, w.rep1, due=TODAY)
    await until_rows(service, "SELECT 1 FROM rm_tasks WHERE task_id = :t", 1, t=good)

    async def all_dead() -> bool:
        return await queue_depth(dlq) - dead_before >= len(HOSTILE_EVENTS)
    await wait_until(all_dead, within=90)
    assert (await rows_of(service, "SELECT count(*) AS n FROM rm_contacts"))[0]["n"] == \
        contacts_before
    assert await rows_of(service, "SELECT 1 FROM rm_contracts WHERE contract_id = :k",
                         k=HOSTILE_CONTRACT) == []
