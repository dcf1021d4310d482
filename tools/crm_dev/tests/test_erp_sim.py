"""The ERP simulator (``./crm erp-sim``): its output against the event catalogue, determinism,
the shape of the history, NDJSON streaming, and publishing to a real RabbitMQ exchange."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
import json
import re
import tracemalloc
import uuid
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import aio_pika
import pytest
from jsonschema import ValidationError

from crm_common.messaging.catalogue import Catalogue
from crm_common.messaging.envelope import dumps
from crm_dev import cli, seed_data
from crm_dev.erp_sim import EVENT_TYPES, SimConfig, Simulation
from crm_dev.erp_sim.generate import bgn_to_eur
from crm_dev.erp_sim.sinks import publish, write_ndjson

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
UNTIL = dt.date(2026, 12, 1)
EURO = dt.date(2026, 1, 1)
#: stand-ins for the ids ``./crm seed`` gets back from the CRM
CRM_IDS = {c["eik"]: str(uuid.uuid5(seed_data.SEED_NAMESPACE, f"test:{c['eik']}"))
           for c in seed_data.CLIENTS}
SEEDED_EIKS = {c["eik"] for c in seed_data.CLIENTS}


def _cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


def _in_eur(cents: int, currency: str) -> int:
    return bgn_to_eur(cents) if currency == "BGN" else cents


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue()


@pytest.fixture(scope="module")
def envelopes() -> list[dict[str, Any]]:
    return list(Simulation(SimConfig(seed=7, until=UNTIL, crm_ids=CRM_IDS)))


@pytest.fixture(scope="module")
def by_type(envelopes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for envelope in envelopes:
        grouped[envelope["type"]].append(envelope)
    return grouped


def _latest(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """The last state of each document (highest version; the stream is in time order)."""
    latest: dict[str, dict[str, Any]] = {}
    for e in items:
        data = e["data"]
        if data[key] not in latest or data["version"] >= latest[data[key]]["version"]:
            latest[data[key]] = data
    return latest


def test_every_envelope_validates_against_the_catalogue(envelopes, catalogue) -> None:
    validators = {t: catalogue.validator(t) for t in EVENT_TYPES}
    for envelope in envelopes:
        validators[envelope["type"]].validate(envelope)
    assert {e["type"] for e in envelopes} == set(EVENT_TYPES)
    assert {e["source"] for e in envelopes} == {"erp/simulator"}
    assert len({e["id"] for e in envelopes}) == len(envelopes)


def test_the_catalogue_refuses_what_the_contract_forbids(by_type, catalogue) -> None:
    invoice = next(e for e in by_type["erp.sales.invoice.posted"]
                   if e["data"]["kind"] == "invoice")
    credit = next(e for e in by_type["erp.sales.invoice.posted"]
                  if e["data"]["kind"] == "credit_note")
    catalogue.validate(invoice)
    bad = [
        {**invoice, "data": {**invoice["data"], "totalNet": 12.5}},  # money is a string
        {**invoice, "data": {**invoice["data"], "kind": "receipt"}},
        {**invoice, "data": {**invoice["data"], "client": {"id": None, "eik": None}}},
        {**invoice, "data": {**invoice["data"], "creditedDocumentId": "D1"}},  # invoices don't
        {**credit, "data": {k: v for k, v in credit["data"].items()
                            if k != "creditedDocumentId"}},
        {**invoice, "source": "crm/clients"},
    ]
    for envelope in bad:
        with pytest.raises(ValidationError):
            catalogue.validate(envelope)


def test_same_seed_same_output_other_seed_other_output() -> None:
    def digest(seed: int) -> str:
        h = hashlib.sha256()
        for e in Simulation(SimConfig(seed=seed, months=3, until=UNTIL, crm_ids=CRM_IDS)):
            h.update(dumps(e))
        return h.hexdigest()

    assert digest(3) == digest(3)
    assert digest(3) != digest(4)


def test_the_catalogue_of_products(by_type) -> None:
    products = _latest(by_type["erp.catalog.product.upserted"], "code")
    assert 200 <= len(products) <= 400
    groups = {p["productGroup"]["code"]: p["productGroup"]["name"] for p in products.values()}
    assert 15 <= len(groups) <= 25
    assert all(re.search("[а-яА-Я]", p["name"]) for p in products.values())
    assert all(re.search("[а-яА-Я]", name) for name in groups.values())
    assert {p["vatRate"] for p in products.values()} == {"20", "9"}
    priced = [p for p in products.values() if "basePrice" in p]
    assert 0.8 * len(products) <= len(priced) < len(products)  # most, not all
    assert {p["unit"] for p in products.values()} >= {"бр.", "кг"}
    assert any(not p["active"] for p in products.values())  # some withdrawn
    for e in by_type["erp.catalog.product.upserted"]:
        if "basePrice" in e["data"]:
            expected = "EUR" if e["time"] >= "2026-01-01" else "BGN"
            assert e["data"]["basePrice"]["currency"] == expected


def test_24_months_bgn_before_the_euro_eur_after(by_type) -> None:
    months = {e["data"]["issueDate"][:7] for e in by_type["erp.sales.invoice.posted"]}
    expected = {f"{y}-{m:02d}" for y, m in [(2024, 12)] + [(2025, m) for m in range(1, 13)]
                + [(2026, m) for m in range(1, 12)]}
    assert months == expected
    dated = [("erp.sales.order.confirmed", "orderDate"), ("erp.sales.invoice.posted", "issueDate"),
             ("erp.sales.payment.received", "paidOn")]
    for type_, field in dated:
        for e in by_type[type_]:
            day = dt.date.fromisoformat(e["data"][field])
            assert e["data"]["currency"] == ("EUR" if day >= EURO else "BGN"), e
            assert day < UNTIL


def test_credit_notes_refer_to_real_invoices_and_never_exceed_them(by_type) -> None:
    documents = _latest(by_type["erp.sales.invoice.posted"], "documentId")
    credits = [d for d in documents.values() if d["kind"] == "credit_note"]
    assert len(credits) >= 20
    for credit in credits:
        invoice = documents[credit["creditedDocumentId"]]
        assert invoice["kind"] == "invoice"
        assert invoice["client"] == credit["client"]
        assert credit["issueDate"] >= invoice["issueDate"]
        lines = {line["lineId"]: line for line in invoice["lines"]}
        for line in credit["lines"]:
            assert any(il["productCode"] == line["productCode"]
                       and Decimal(line["quantity"]) <= Decimal(il["quantity"])
                       for il in lines.values())
        for total in ("totalNet", "totalGross"):
            assert _in_eur(_cents(credit[total]), credit["currency"]) <= _in_eur(
                _cents(invoice[total]), invoice["currency"])


def test_totals_are_the_sum_of_the_lines(by_type) -> None:
    for e in by_type["erp.sales.invoice.posted"]:
        data = e["data"]
        assert _cents(data["totalNet"]) == sum(_cents(x["netAmount"]) for x in data["lines"])
        assert _cents(data["totalNet"]) < _cents(data["totalGross"]) <= \
            _cents(data["totalNet"]) * 1.2 + len(data["lines"])


def test_versions_grow_resends_and_cancellations(by_type) -> None:
    for type_group, key in [(("erp.sales.order.confirmed", "erp.sales.order.cancelled"),
                             "orderId"),
                            (("erp.sales.invoice.posted", "erp.sales.invoice.cancelled"),
                             "documentId"),
                            (("erp.catalog.product.upserted",), "code")]:
        seen: dict[str, list[int]] = defaultdict(list)
        lines_by_version: dict[tuple[str, int], Any] = {}
        merged = sorted((e for t in type_group for e in by_type[t]), key=lambda e: e["time"])
        for e in merged:
            data = e["data"]
            seen[data[key]].append(data["version"])
            lines_by_version[(data[key], data["version"])] = data.get("lines")
        for versions in seen.values():
            assert versions == sorted(versions) and versions[0] == 1
        assert sum(1 for v in seen.values() if v[-1] > 1) >= 10, type_group
        if key != "code":  # documents re-sent with changed lines
            assert any(lines_by_version[(doc, 1)] != lines_by_version[(doc, v[-1])]
                       for doc, v in seen.items() if v[-1] > 1
                       and (doc, v[-1]) in lines_by_version)
    assert len(by_type["erp.sales.order.cancelled"]) >= 5
    assert len(by_type["erp.sales.invoice.cancelled"]) >= 5
    # a few exact re-sends of the same version (a consumer ignores them)
    posted = Counter((e["data"]["documentId"], e["data"]["version"])
                     for e in by_type["erp.sales.invoice.posted"])
    assert any(n > 1 for n in posted.values())
    cancelled_orders = {e["data"]["orderId"] for e in by_type["erp.sales.order.cancelled"]}
    invoiced_orders = {e["data"]["orderId"] for e in by_type["erp.sales.invoice.posted"]}
    assert not cancelled_orders & invoiced_orders


def test_payments_on_time_late_partial_and_missing(by_type) -> None:
    documents = _latest(by_type["erp.sales.invoice.posted"], "documentId")
    cancelled = {e["data"]["documentId"] for e in by_type["erp.sales.invoice.cancelled"]}
    paid: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in by_type["erp.sales.payment.received"]:
        paid[e["data"]["documentId"]].append(e["data"])
    late_by_client: dict[str, list[bool]] = defaultdict(list)
    for doc_id, payments in paid.items():
        invoice = documents[doc_id]
        assert invoice["kind"] == "invoice" and doc_id not in cancelled
        total = sum(_in_eur(_cents(p["amount"]), p["currency"]) for p in payments)
        assert total <= _in_eur(_cents(invoice["totalGross"]), invoice["currency"]) + 1
        last = max(p["paidOn"] for p in payments)
        late_by_client[invoice["client"]["eik"]].append(last > invoice["dueDate"])
    assert any(len(p) > 1 for p in paid.values())  # partial payments
    late_payers = [eik for eik, late in late_by_client.items() if sum(late) > len(late) / 2]
    on_time = [eik for eik, late in late_by_client.items() if sum(late) < len(late) / 10]
    assert late_payers and on_time
    overdue = [d for d in documents.values() if d["kind"] == "invoice" and
               d["documentId"] not in paid and d["documentId"] not in cancelled and
               d["dueDate"] < "2026-09-01"]
    assert overdue  # never paid


def _net_by(by_type, key) -> dict[Any, int]:
    """Turnover (invoices minus credit notes, EUR cents) by ``key(data, line)``."""
    documents = _latest(by_type["erp.sales.invoice.posted"], "documentId")
    cancelled = {e["data"]["documentId"] for e in by_type["erp.sales.invoice.cancelled"]}
    net: dict[Any, int] = defaultdict(int)
    for d in documents.values():
        if d["documentId"] in cancelled:
            continue
        sign = 1 if d["kind"] == "invoice" else -1
        for line in d["lines"]:
            net[key(d, line)] += sign * _in_eur(_cents(line["netAmount"]), d["currency"])
    return net


def test_growing_declining_clients_and_seasonality(by_type) -> None:
    first = {"2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05"}
    last = {"2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"}
    by_client_month = _net_by(by_type, lambda d, _: (d["client"]["eik"], d["issueDate"][:7]))
    ratios = []
    for eik in {eik for eik, _ in by_client_month}:
        before = sum(v for (e, m), v in by_client_month.items() if e == eik and m in first)
        after = sum(v for (e, m), v in by_client_month.items() if e == eik and m in last)
        if before > 0:
            ratios.append(after / before)
    assert max(ratios) > 1.5 and min(ratios) < 0.5

    by_group_month = _net_by(by_type, lambda d, line: (line["productGroupCode"],
                                                       int(d["issueDate"][5:7])))

    def share(groups: set[str], months: set[int]) -> float:
        part = sum(v for (g, m), v in by_group_month.items() if g in groups and m in months)
        total = sum(v for (_, m), v in by_group_month.items() if m in months)
        return part / total

    summer, winter, before_christmas = {6, 7, 8}, {1, 2}, {11, 12}
    beverages = {"NAP", "VOD", "BIR"}
    assert share(beverages, summer) > 1.3 * share(beverages, winter)
    assert share({"SLA"}, summer) > 2 * share({"SLA"}, winter)
    assert share({"SLD"}, before_christmas) > 1.3 * share({"SLD"}, summer)


def test_clients_matched_by_id_by_eik_or_not_at_all(by_type) -> None:
    refs = {(e["data"]["client"]["id"], e["data"]["client"]["eik"])
            for e in by_type["erp.sales.invoice.posted"]}
    by_id = {(i, eik) for i, eik in refs if i is not None}
    assert by_id and all(CRM_IDS[eik] == i for i, eik in by_id)
    assert any(i is None and eik in SEEDED_EIKS for i, eik in refs)  # the ERP knows the EIK only
    unmatched = {eik for i, eik in refs if eik not in SEEDED_EIKS}
    assert unmatched and all(i is None for i, eik in refs if eik in unmatched)
    for eik in unmatched:
        assert seed_data.make_eik(eik[:8]) == eik


def test_synthetic_clients_have_valid_eiks_and_both_matching_cases() -> None:
    sim = Simulation(SimConfig(seed=2, months=2, until=UNTIL, clients=40))
    refs = {(e["data"]["client"]["id"], e["data"]["client"]["eik"]) for e in sim
            if e["type"] == "erp.sales.invoice.posted"}
    assert all(seed_data.make_eik(eik[:8]) == eik for _, eik in refs)
    assert any(i is None for i, _ in refs) and any(i is not None for i, _ in refs)
    assert sim.stats.clients == 43  # and the three the CRM does not have


def test_ndjson_streams_a_larger_run_in_bounded_memory(tmp_path) -> None:
    path = tmp_path / "erp.ndjson"
    sim = Simulation(SimConfig(seed=5, months=24, until=UNTIL, clients=60))
    tracemalloc.start()
    try:
        result = write_ndjson(path, sim)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = path.stat().st_size
    assert result.messages == sim.stats.messages > 20_000
    assert size > 15_000_000
    assert peak < 12_000_000, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB file"
    lines = 0
    with path.open("rb") as f:
        for raw in f:
            assert raw.endswith(b"\n")
            json.loads(raw)
            lines += 1
    assert lines == result.messages
    assert sim.stats.invoice_lines > 60 * 24 * 4 * 8 * 0.5


def test_ndjson_gz(tmp_path) -> None:
    path = tmp_path / "erp.ndjson.gz"
    result = write_ndjson(path, Simulation(SimConfig(months=1, until=UNTIL)))
    with gzip.open(path, "rt", encoding="utf-8") as f:
        assert sum(1 for _ in f) == result.messages > 0


def test_the_command_writes_a_file_and_prints_a_summary(tmp_path, capsys) -> None:
    path = tmp_path / "out.ndjson"
    code = cli.main(["erp-sim", "--out", str(path), "--months", "2", "--until", "2026-12-01",
                     "--url", "http://127.0.0.1:9/graphql"])
    assert code == 0
    out = capsys.readouterr()
    assert "products" in out.out and "invoice lines" in out.out and "payments" in out.out
    assert "the ERP knows only EIKs" in out.err
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["type"] == "erp.catalog.product.upserted"


async def test_publishes_to_a_real_exchange_with_confirms(catalogue) -> None:
    exchange_name = f"erp.events.test-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect(AMQP_URL)
    received: list[aio_pika.abc.AbstractIncomingMessage] = []
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(exchange_name, aio_pika.ExchangeType.TOPIC,
                                                  durable=True)
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, "erp.#")
        sim = Simulation(SimConfig(seed=9, months=2, until=UNTIL, crm_ids=CRM_IDS))
        result = await publish(sim, amqp_url=AMQP_URL, exchange=exchange_name, in_flight=200)
        assert result.messages == sim.stats.messages > 500
        assert result.unroutable == 0
        async with queue.iterator() as messages:
            async for message in messages:
                async with message.process():
                    received.append(message)
                if len(received) == result.messages:
                    break
        assert len(received) == result.messages
        for message in received[:300]:
            envelope = json.loads(message.body)
            catalogue.validate(envelope)
            assert message.routing_key == envelope["type"] == message.type
            assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
            assert message.content_type == "application/cloudevents+json"
            assert message.message_id == envelope["id"]
        # nothing bound: every message comes back as unroutable, none is lost silently
        await queue.unbind(exchange, "erp.#")
        alone = await publish(Simulation(SimConfig(months=1, until=UNTIL)), amqp_url=AMQP_URL,
                              exchange=exchange_name)
        assert alone.unroutable == alone.messages > 0
        await queue.delete(if_unused=False, if_empty=False)
        await exchange.delete()
    finally:
        await asyncio.wait_for(connection.close(), timeout=10)


def test_the_client_ids_query_fits_the_clients_schema() -> None:
    """``./crm seed`` reads the CRM ids back with this query (the API itself is exercised only by
    a running platform)."""
    from pathlib import Path

    from graphql import build_ast_schema, parse, validate

    from crm_dev.erp_sim.command import CLIENT_IDS

    sdl = (Path(__file__).resolve().parents[3] / "gateway" / "subgraphs" / "clients.graphql")
    schema = build_ast_schema(parse(sdl.read_text(encoding="utf-8")), assume_valid_sdl=True)
    assert validate(schema, parse(CLIENT_IDS)) == []


async def test_the_seed_step_publishes_even_without_the_crm(tmp_path, capsys) -> None:
    """``./crm seed``'s last step, with the API unreachable (the ERP then knows only EIKs)."""
    from crm_dev.erp_sim import command

    exchange_name = f"erp.events.test-{uuid.uuid4().hex[:8]}"
    try:
        code = await asyncio.to_thread(command.after_seed, tmp_path, "http://127.0.0.1:9/graphql",
                                       exchange=exchange_name, months=1)
        assert code == 0
        out = capsys.readouterr()
        assert "the ERP knows only EIKs" in out.err
        assert f"published to {exchange_name}" in out.out and "unroutable" in out.out
    finally:
        connection = await aio_pika.connect(AMQP_URL)
        try:
            channel = await connection.channel()
            await channel.exchange_delete(exchange_name)
        finally:
            await connection.close()
