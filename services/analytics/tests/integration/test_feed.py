"""The live ERP feed through RabbitMQ: a hostile feed (duplicates, out-of-order versions,
cancellations, unknown products, credit notes larger than their invoice, payments before their
invoice, contract breaches, raw bodies that are no CloudEvents, a 10,000-line invoice), shuffled
and partly sent twice, gives exactly the figures the independent reference computes; the
unmatched documents are matched when their client appears; the turnover events follow."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from prometheus_client import REGISTRY

from crm_common.messaging.envelope import InvalidEnvelope, parse_envelope
from crm_common.testing import queue_depth
from crm_pricing.domain.turnover import turnover_from_event

from .conftest import QUEUE_PREFIX, Publisher, Service, wait_until

pytestmark = pytest.mark.integration

ZERO = Decimal(0)


FEED_QUEUE = f"{QUEUE_PREFIX}analytics.erp-feed"


def consumed() -> float:
    """Deliveries of the feed's queue the service's consumer has finished with (applied,
    duplicate or dead-lettered; a failed try is redelivered and counted again at its end)."""
    return sum(REGISTRY.get_sample_value(
        "crm_events_consumed_total",
        {"service": "analytics", "queue": FEED_QUEUE, "outcome": outcome}) or 0.0
        for outcome in ("applied", "duplicate", "dead_lettered"))


async def settled(service: Service, deliveries: float, within: float = 90.0) -> None:
    """Wait until the consumer has finished ``deliveries`` (what :func:`send` returned), the
    feed's queue is drained and the ledger stops changing. (An empty queue alone is not
    enough: up to the prefetch count of messages are delivered but not yet applied.)"""
    last: list[Any] = []

    async def check() -> bool:
        nonlocal last
        if consumed() < deliveries:
            return False
        if await queue_depth(FEED_QUEUE) != 0:
            return False
        now = await service.sql(
            "SELECT (SELECT count(*) FROM erp_documents) AS d,"
            " (SELECT count(*) FROM erp_payments) AS p, (SELECT count(*) FROM erp_parked) AS k,"
            " (SELECT coalesce(sum(invoiced_net), 0) FROM turnover_monthly) AS t,"
            " (SELECT count(*) FROM inbox) AS i")
        same = now == last
        last = now
        return same
    await wait_until(check, within=within)


async def rollups(service: Service, clients: set[str]) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """The service's rollup rows of these clients that are not all zero."""
    monthly = {}
    for r in await service.sql("SELECT * FROM turnover_monthly WHERE client_id::text = ANY(:c)",
                               c=sorted(clients)):
        values = (r["invoiced_net"], r["credited_net"], r["invoiced_quantity"],
                  r["credited_quantity"], r["ordered_net"], r["ordered_quantity"],
                  r["invoices"], r["credit_notes"], r["orders"])
        if any(values):
            monthly[(str(r["client_id"]), r["month"])] = values
    items = {}
    for r in await service.sql(
            "SELECT * FROM turnover_items_monthly WHERE client_id::text = ANY(:c)",
            c=sorted(clients)):
        values = (r["invoiced_net"], r["credited_net"], r["invoiced_quantity"],
                  r["credited_quantity"], r["ordered_net"], r["ordered_quantity"])
        if any(values):
            items[(str(r["client_id"]), r["month"], r["product_group_code"],
                   r["product_code"])] = values
    # the by-group rollup is the items' sum by group
    groups: dict[Any, Any] = {}
    for r in await service.sql(
            "SELECT * FROM turnover_groups_monthly WHERE client_id::text = ANY(:c)",
            c=sorted(clients)):
        values = (r["invoiced_net"], r["credited_net"], r["invoiced_quantity"],
                  r["credited_quantity"], r["ordered_net"], r["ordered_quantity"])
        if any(values):
            groups[(str(r["client_id"]), r["month"], r["product_group_code"])] = values
    summed: dict[Any, Any] = {}
    for (client, month, group, _), values in items.items():
        old = summed.get((client, month, group), (0,) * 6)
        summed[(client, month, group)] = tuple(a + b for a, b in zip(old, values, strict=True))
    assert groups == {k: v for k, v in summed.items() if any(v)}
    return monthly, items


def expected_rollups(expected: Any) -> tuple[dict[Any, Any], dict[Any, Any]]:
    monthly = {}
    for key, f in expected.monthly.items():
        values = (f.invoiced_net, f.credited_net, f.invoiced_quantity, f.credited_quantity,
                  f.ordered_net, f.ordered_quantity, f.invoices, f.credit_notes, f.orders)
        if any(values):
            monthly[key] = values
    items = {}
    for key, f in expected.items.items():
        values = (f.invoiced_net, f.credited_net, f.invoiced_quantity, f.credited_quantity,
                  f.ordered_net, f.ordered_quantity)
        if any(values):
            items[key] = values
    return monthly, items


def eik(rng: random.Random) -> str:
    return f"{rng.randrange(10**8, 10**9)}"


async def send(publisher: Publisher, feed: list[Any]) -> float:
    """Publish the feed; return the count :func:`settled` waits for."""
    target = consumed() + len(feed)
    for item in feed:
        if isinstance(item, bytes):
            await publisher.erp_raw(item)
        else:
            await publisher.erp_envelope(item)
    return target


def not_envelopes(feed: list[Any]) -> int:
    bad = 0
    for item in feed:
        if isinstance(item, bytes):
            try:
                parse_envelope(item)
            except InvalidEnvelope:
                bad += 1
    return bad


async def test_a_hostile_feed_gives_the_reference_figures(
        service: Service, publisher: Publisher, reference: ModuleType) -> None:
    rng = random.Random(20261201)
    owner = uuid.uuid4()
    clients = [str(uuid.uuid4()) for _ in range(3)]
    eik_of = {c: eik(rng) for c in clients}
    for c in clients:
        await publisher.client(uuid.UUID(c), owner=owner, eik=eik_of[c])
    await wait_until(lambda: service.sql("SELECT 1 FROM client_profiles WHERE client_id = :c",
                                         c=uuid.UUID(clients[-1])))
    feed = reference.hostile_feed(rng, clients, eik_of, big=True)
    once = list(feed)
    rng.shuffle(once)
    again = rng.sample(feed, len(feed) // 3)  # a third delivered twice (the inbox, versions)
    dlq = f"{QUEUE_PREFIX}analytics.erp-feed.dlq"
    dead_before = await queue_depth(dlq)
    await settled(service, await send(publisher, once + again))

    expected = reference.compute(feed, {c: eik_of[c] for c in clients})
    got_monthly, got_items = await rollups(service, set(clients))
    want_monthly, want_items = expected_rollups(expected)
    assert got_monthly == want_monthly
    assert got_items == want_items
    assert want_items, "the feed must produce figures"
    # every parked message is kept with its reason; raw bodies that are no CloudEvents are
    # dead-lettered by the consumer (nothing retried forever, nothing lost)
    parked = await service.sql("SELECT event_id, reason FROM erp_parked")
    parked_ids = {r["event_id"] for r in parked}
    for event_id, _reason in expected.parked:
        if event_id is not None and any(
                isinstance(i, dict) and i.get("id") == event_id for i in feed):
            assert event_id in parked_ids, f"{event_id} was not parked"
    assert await queue_depth(dlq) - dead_before >= not_envelopes(feed)
    # the unmatched documents the reference names are kept, unmatched
    unmatched = {(r["doc_type"], r["erp_id"]) for r in await service.sql(
        "SELECT doc_type, erp_id FROM erp_documents WHERE client_id IS NULL")}
    assert expected.unmatched <= unmatched

    # the stranger appears as a CRM client: its documents are matched and counted
    stranger_eik = next(r["client_eik"] for r in await service.sql(
        "SELECT client_eik FROM erp_documents WHERE client_id IS NULL AND client_eik IS NOT NULL"
        " AND erp_id LIKE :tag", tag=f"%{next(iter(expected.unmatched))[1][-8:]}"))
    stranger = str(uuid.uuid4())
    await publisher.client(uuid.UUID(stranger), owner=owner, eik=stranger_eik)
    known = {**{c: eik_of[c] for c in clients}, stranger: stranger_eik}
    after = reference.compute(feed, known)

    async def matched() -> bool:
        rows = await service.sql("SELECT count(*) AS n FROM turnover_monthly "
                                 "WHERE client_id = :c", c=uuid.UUID(stranger))
        return rows[0]["n"] > 0
    await wait_until(matched)
    got_monthly, got_items = await rollups(service, {*clients, stranger})
    want_monthly, want_items = expected_rollups(after)
    assert got_monthly == want_monthly
    assert got_items == want_items
    assert not after.unmatched & {(r["doc_type"], r["erp_id"]) for r in await service.sql(
        "SELECT doc_type, erp_id FROM erp_documents WHERE client_id IS NULL")}


async def test_turnover_events_carry_the_figures_pricing_reads(
        service: Service, publisher: Publisher, reference: ModuleType, tap: Any) -> None:
    rng = random.Random(7)
    clients = [str(uuid.uuid4()) for _ in range(2)]
    eik_of = {c: eik(rng) for c in clients}
    for c in clients:
        await publisher.client(uuid.UUID(c), eik=eik_of[c])
    await wait_until(lambda: service.sql("SELECT 1 FROM client_profiles WHERE client_id = :c",
                                         c=uuid.UUID(clients[-1])))
    feed = reference.hostile_feed(rng, clients, eik_of)
    await settled(service, await send(publisher, feed))
    expected = reference.compute(feed, eik_of)
    events = await tap.wait_for_type("crm.analytics.client.turnover.updated", clients[0],
                                     within=30)
    data = events[-1]["data"]
    assert data["clientId"] == clients[0] and data["currency"] == "EUR"
    assert len(data["months"]) == 25
    versions = [e["data"]["version"] for e in events]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    turnover = turnover_from_event(data)
    for month in turnover.months:
        want = expected.turnover(clients[0], month.month, month.month)
        assert month.total.invoiced_net == want, month.month
    assert turnover.payments is not None


async def test_a_rep_sees_the_figures_of_own_clients_only(
        service: Service, publisher: Publisher, reference: ModuleType) -> None:
    rng = random.Random(99)
    rep, other = uuid.uuid4(), uuid.uuid4()
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    eik_of = {mine: eik(rng), theirs: eik(rng)}
    await publisher.client(uuid.UUID(mine), owner=rep, eik=eik_of[mine])
    await publisher.client(uuid.UUID(theirs), owner=other, eik=eik_of[theirs])
    await wait_until(lambda: service.sql(
        "SELECT 1 FROM access_clients WHERE client_id = :c", c=uuid.UUID(theirs)))
    feed = reference.hostile_feed(rng, [mine, theirs], eik_of)
    await settled(service, await send(publisher, feed))
    expected = reference.compute(feed, eik_of)
    query = """query($reps: [_Any!]!) { _entities(representations: $reps) {
      ... on Client { id turnover(from: "2025-01-01", to: "2026-12-31") {
        total { turnover { amount currency } invoices }
        byProductGroup { code turnover { amount } share } } } } }"""
    reps = [{"__typename": "Client", "id": mine}, {"__typename": "Client", "id": theirs}]
    as_rep = (await service.data(service.token("sales_rep", rep), query,
                                 {"reps": reps}))["_entities"]
    assert as_rep[1]["turnover"] is None  # not theirs to see
    start, end = dt.date(2025, 1, 1), dt.date(2026, 12, 1)
    want = expected.turnover(mine, start, end)
    assert Decimal(as_rep[0]["turnover"]["total"]["turnover"]["amount"]) == want
    groups = {g["code"]: Decimal(g["turnover"]["amount"])
              for g in as_rep[0]["turnover"]["byProductGroup"]}
    assert groups == {k: v for k, v in expected.by_group(mine, start, end).items()
                      if v or k in groups}
    as_manager = (await service.data(service.token("manager"), query,
                                     {"reps": reps}))["_entities"]
    assert Decimal(as_manager[1]["turnover"]["total"]["turnover"]["amount"]) == \
        expected.turnover(theirs, start, end)
    # the operator lists are for admins
    listing = "{ unmatchedErpDocuments(first: 5) { totalCount edges { node { erpId } } } }"
    errors = await service.errors(service.token("manager"), listing)
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    admin = await service.data(service.token("admin"), listing)
    assert admin["unmatchedErpDocuments"]["totalCount"] >= 1
    parked = await service.data(service.token("admin"),
                                "{ parkedErpMessages(first: 50) { totalCount edges { node { "
                                "reason source } } } }")
    assert parked["parkedErpMessages"]["totalCount"] >= 1
    assert all(e["node"]["reason"] for e in parked["parkedErpMessages"]["edges"])
