"""The reference computation of the ERP figures (tests/reference.py), proven on hand-computed
cases, one rule at a time, and on the hostile feed in any order."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import json
import pathlib
import random
import re
import sys
from decimal import Decimal
from typing import Any

import pytest

_PATH = pathlib.Path(__file__).resolve().parents[1] / "reference.py"
_SPEC = importlib.util.spec_from_file_location("analytics_reference", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
ref = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = ref
_SPEC.loader.exec_module(ref)

D = Decimal
d = dt.date

A = "00000000-0000-4000-8000-00000000000a"
B = "00000000-0000-4000-8000-00000000000b"
C = "00000000-0000-4000-8000-00000000000c"  # shares its EIK with E
E = "00000000-0000-4000-8000-00000000000e"
N = "00000000-0000-4000-8000-0000000000ff"  # no EIK
CLIENTS = {A: "111111111", B: "222222222", E: "555555555", C: "555555555", N: None}
STRANGER = "999999999"

_ids = iter(range(1, 1_000_000))


def env(type_: str, data: Any, event_id: str | None = None) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id or f"ev-{next(_ids)}", "source": "erp/test",
            "type": type_, "time": "2026-01-05T10:00:00Z", "subject": "x",
            "datacontenttype": "application/json", "data": data}


def line(product: str, quantity: Any, net: Any, group: str | None = None) -> dict[str, Any]:
    return {"lineId": "1", "productCode": product, "productGroupCode": group or product[:3],
            "quantity": quantity, "netAmount": net}


def inv(doc_id: str, day: str, lines: list[dict[str, Any]], *, version: int = 1,
        client: Any = None, currency: str = "EUR", kind: str = "invoice",
        credited: str | None = None, gross: str | None = None, cancelled: bool = False,
        net: str = "0.00") -> dict[str, Any]:
    data: dict[str, Any] = {
        "documentId": doc_id, "number": "0000000001", "kind": kind, "issueDate": day,
        "dueDate": "2026-03-31", "client": client if client is not None else {"id": A,
                                                                             "eik": None},
        "currency": currency, "lines": lines, "totalNet": net,
        "totalGross": gross if gross is not None else "0.00", "orderId": None,
        "version": version}
    if credited is not None:
        data["creditedDocumentId"] = credited
    return env(ref.TYPE_INVOICE_CANCELLED if cancelled else ref.TYPE_INVOICE, data)


def order(order_id: str, day: str, lines: list[dict[str, Any]], *, version: int = 1,
          client: Any = None, currency: str = "EUR", cancelled: bool = False) -> dict[str, Any]:
    data = {"orderId": order_id, "number": "ПР-1", "orderDate": day,
            "client": client if client is not None else {"id": A, "eik": None},
            "currency": currency, "lines": [dict(ln, unit="бр.") for ln in lines],
            "version": version}
    return env(ref.TYPE_ORDER_CANCELLED if cancelled else ref.TYPE_ORDER, data)


def pay(payment_id: str, doc_id: str, day: str, amount: Any, *, currency: str = "EUR",
        version: int = 1) -> dict[str, Any]:
    return env(ref.TYPE_PAYMENT, {"paymentId": payment_id, "documentId": doc_id, "paidOn": day,
                                  "amount": amount, "currency": currency, "version": version})


def compute(*envelopes: Any) -> Any:
    return ref.compute(envelopes, CLIENTS)


JAN, FEB = d(2026, 1, 1), d(2026, 2, 1)


# -- versions -----------------------------------------------------------------------------------

@pytest.mark.parametrize("reverse", [False, True])
def test_the_highest_version_wins_in_any_order(reverse: bool) -> None:
    v1 = inv("D1", "2026-01-10", [line("NAP001", "10", "10.00")], version=1)
    v2 = inv("D1", "2026-01-10", [line("NAP001", "7", "7.00"), line("KAF001", "1", "2.50")],
             version=2)
    v3_parked = inv("D1", "2026-01-10", [line("NAP001", "1", "1.00")], version=3,
                    currency="USD")
    feed = [v1, v2, v3_parked]
    out = compute(*(reversed(feed) if reverse else feed))
    assert out.monthly == {(A, JAN): ref.Fig(invoiced_net=D("9.50"), invoiced_quantity=D("8"),
                                             invoices=1)}
    assert out.items == {
        (A, JAN, "NAP", "NAP001"): ref.Fig(invoiced_net=D("7.00"), invoiced_quantity=D("7")),
        (A, JAN, "KAF", "KAF001"): ref.Fig(invoiced_net=D("2.50"), invoiced_quantity=D("1")),
    }
    assert out.parked == [(v3_parked["id"], "currency 'USD' is not EUR or BGN")]


def test_a_newer_version_moves_the_document_to_its_new_month() -> None:
    out = compute(order("SO1", "2026-01-31", [line("NAP001", "2", "4.00")], version=1),
                  order("SO1", "2026-02-01", [line("NAP001", "3", "6.00")], version=2))
    assert out.monthly == {(A, FEB): ref.Fig(ordered_net=D("6.00"), ordered_quantity=D("3"),
                                             orders=1)}


def test_resends_and_duplicates_count_once() -> None:
    first = inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")])
    same_id = copy.deepcopy(first)
    new_id = copy.deepcopy(first)
    new_id["id"] = "another-envelope"
    bad = inv("D2", "2026-01-10", [line("NAP001", "-1", "5.00")])
    out = compute(first, same_id, new_id, bad, copy.deepcopy(bad))
    assert out.monthly[(A, JAN)].invoices == 1
    assert out.monthly[(A, JAN)].invoiced_net == D("5.00")
    assert [event_id for event_id, _ in out.parked] == [bad["id"]]  # listed once


# -- cancellation -------------------------------------------------------------------------------

def test_a_cancelled_document_counts_for_nothing() -> None:
    unmatched = {"id": None, "eik": STRANGER}
    out = compute(
        inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], gross="6.00"),
        inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], gross="6.00", version=2,
            cancelled=True),
        order("SO1", "2026-01-09", [line("NAP001", "1", "5.00")]),
        order("SO1", "2026-01-09", [line("NAP001", "1", "5.00")], version=2, cancelled=True),
        order("SO2", "2026-01-09", [line("NAP001", "1", "5.00")], client=unmatched, version=2,
              cancelled=True),
        pay("P1", "D1", "2026-01-20", "6.00"),
    )
    assert out.monthly == {} and out.items == {} and out.invoices == {}
    assert out.unmatched == set()  # a cancelled document is not listed as unmatched
    assert out.parked == []


def test_what_comes_after_a_cancellation_with_a_higher_version_counts_again() -> None:
    out = compute(
        inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], version=3),
        inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], version=2, cancelled=True),
    )
    assert out.turnover(A, JAN, JAN) == D("5.00")


def test_at_equal_versions_a_cancellation_wins_whatever_the_order() -> None:
    posted = inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], version=2)
    cancelled = inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], version=2,
                    cancelled=True)
    assert compute(posted, cancelled).monthly == compute(cancelled, posted).monthly == {}


# -- matching -----------------------------------------------------------------------------------

@pytest.mark.parametrize("client,expected", [
    ({"id": A, "eik": "222222222"}, A),  # the id first, whatever the EIK says
    ({"id": A.upper(), "eik": None}, A),  # a UUID in another case is the same id
    ({"id": "00000000-0000-4000-8000-000000000999", "eik": "222222222"}, B),  # unknown id: EIK
    ({"id": None, "eik": "222222222"}, B),
    ({"id": "not-a-uuid", "eik": "111111111"}, A),
    ({"id": None, "eik": "555555555"}, C),  # two clients have it: the smallest id
    ({"eik": "111111111"}, A),  # no id at all
])
def test_matching_by_id_then_by_eik(client: dict[str, Any], expected: str) -> None:
    out = compute(inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], client=client))
    assert list(out.monthly) == [(expected, JAN)]
    assert out.unmatched == set()


@pytest.mark.parametrize("client", [
    {"id": None, "eik": STRANGER},
    {"id": "00000000-0000-4000-8000-000000000999", "eik": None},
    {"id": None, "eik": None},
    {"id": None, "eik": 111111111},  # an EIK is a string
    None,  # no client object: not parked, unmatched
])
def test_a_document_of_no_known_client_is_unmatched(client: Any) -> None:
    envelope = order("SO1", "2026-01-10", [line("NAP001", "1", "5.00")])
    envelope["data"]["client"] = client
    invoice = inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], client={"id": None,
                                                                             "eik": STRANGER})
    out = compute(envelope, invoice, pay("P1", "D1", "2026-01-20", "1.00"))
    assert out.unmatched == {("order", "SO1"), ("invoice", "D1")}
    assert out.monthly == {} and out.invoices == {} and out.parked == []


def test_the_winning_version_decides_the_client() -> None:
    out = compute(inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], version=2,
                      client={"id": None, "eik": STRANGER}),
                  inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], version=1))
    assert out.unmatched == {("invoice", "D1")} and out.monthly == {}


# -- BGN ----------------------------------------------------------------------------------------

def test_bgn_converts_line_by_line_rounding_half_up() -> None:
    out = compute(inv("D1", "2025-12-10", [
        line("NAP001", "1", "100.00"),  # 51.1291… → 51.13
        line("NAP002", "1", "0.01"),  # 0.00511… → 0.01
        line("NAP003", "1", "0.01"),
        line("NAP004", "1", "0.01"),  # three lines of 0.01: 0.03, not 0.03 / 1.95583 = 0.02
        line("NAP005", "1", "0.24447875"),  # exactly 0.125 EUR → 0.13 (half up, not even)
        line("NAP006", "1", "0.00977915"),  # exactly 0.005 EUR → 0.01
    ], currency="BGN", gross="120.00"))
    dec = d(2025, 12, 1)
    assert out.monthly[(A, dec)].invoiced_net == D("51.13") + D("0.03") + D("0.13") + D("0.01")
    assert out.items[(A, dec, "NAP", "NAP005")].invoiced_net == D("0.13")
    assert out.items[(A, dec, "NAP", "NAP006")].invoiced_net == D("0.01")
    assert out.invoices["D1"].amount_due_eur == D("61.36")  # 120 / 1.95583 = 61.3550…
    assert ref.to_eur(D("1.95583"), "BGN") == D("1.00")
    assert ref.to_eur(D("1.005"), "EUR") == D("1.01")


def test_eur_amounts_are_taken_as_they_are() -> None:
    out = compute(inv("D1", "2026-01-10", [line("NAP001", "2", "100.00")], gross="120.00"))
    assert out.turnover(A, JAN, JAN) == D("100.00")
    assert out.invoices["D1"].amount_due_eur == D("120.00")


# -- figures ------------------------------------------------------------------------------------

def test_a_credit_note_counts_in_the_month_of_its_issue_date() -> None:
    out = compute(
        inv("D1", "2026-01-30", [line("NAP001", "10", "100.00"), line("KAF001", "2", "50.00")]),
        inv("CN1", "2026-02-02", [line("NAP001", "3", "30.00")], kind="credit_note",
            credited="D1"),
        order("SO1", "2026-01-28", [line("NAP001", "12", "120.00")]),
    )
    assert out.monthly == {
        (A, JAN): ref.Fig(invoiced_net=D("150.00"), invoiced_quantity=D("12"), invoices=1,
                          ordered_net=D("120.00"), ordered_quantity=D("12"), orders=1),
        (A, FEB): ref.Fig(credited_net=D("30.00"), credited_quantity=D("3"), credit_notes=1),
    }
    assert out.monthly[(A, FEB)].turnover == D("-30.00")
    assert out.monthly[(A, FEB)].quantity == D("-3")
    assert out.items[(A, JAN, "NAP", "NAP001")] == ref.Fig(
        invoiced_net=D("100.00"), invoiced_quantity=D("10"), ordered_net=D("120.00"),
        ordered_quantity=D("12"))
    assert out.turnover(A, JAN, FEB) == D("120.00")
    assert out.turnover(A, d(2026, 1, 15), d(2026, 1, 31)) == D("150.00")  # any day: its month
    assert out.turnover(A, FEB, FEB) == D("-30.00")
    assert out.turnover(B, JAN, FEB) == D("0")
    assert out.by_group(A, JAN, FEB) == {"NAP": D("70.00"), "KAF": D("50.00")}
    assert out.by_product(A, FEB, FEB) == {"NAP001": D("-30.00")}


def test_unknown_products_count_under_the_group_their_line_names() -> None:
    out = compute(inv("D1", "2026-01-10", [line("ZZZ999", "1", "9.99", group="NEW"),
                                          line("ZZZ999", "1", "0.01", group="OTHER")]))
    assert out.by_group(A, JAN, JAN) == {"NEW": D("9.99"), "OTHER": D("0.01")}
    assert out.by_product(A, JAN, JAN) == {"ZZZ999": D("10.00")}


def test_an_order_counts_in_the_month_of_its_order_date_and_is_no_turnover() -> None:
    out = compute(order("SO1", "2026-01-31", [line("NAP001", "1.250", "3.10")]))
    assert out.monthly == {(A, JAN): ref.Fig(ordered_net=D("3.10"), ordered_quantity=D("1.25"),
                                             orders=1)}
    assert out.turnover(A, JAN, JAN) == 0
    assert out.by_group(A, JAN, JAN) == {"NAP": D("0")}  # listed, with no turnover


# -- payments and the amount due ----------------------------------------------------------------

def test_amount_due_and_payments() -> None:
    out = compute(
        inv("D1", "2025-12-10", [line("NAP001", "1", "100.00")], currency="BGN", gross="234.70"),
        # 234.70 BGN = 120.00 EUR; credit notes: 24.00 EUR applies, the cancelled one does not,
        # one of an unmatched client still applies to the invoice it names
        inv("CN1", "2026-01-05", [line("NAP001", "1", "20.00")], kind="credit_note",
            credited="D1", gross="24.00"),
        inv("CN2", "2026-01-06", [line("NAP001", "1", "10.00")], kind="credit_note",
            credited="D1", gross="12.00", cancelled=True),
        inv("CN3", "2026-01-07", [line("NAP001", "1", "1.00")], kind="credit_note",
            credited="D1", gross="1.20", client={"id": None, "eik": STRANGER}),
        pay("P2", "D1", "2026-01-20", "40.00", version=1),
        pay("P2", "D1", "2026-01-20", "45.50", version=2),  # the highest version wins
        pay("P1", "D1", "2025-12-20", "97.79", currency="BGN"),  # 50.00 EUR
        pay("P3", "D9", "2026-01-21", "10.00"),  # an invoice nobody sent: applies to nothing
        pay("P4", "CN1", "2026-01-21", "10.00"),  # a credit note: not an invoice
    )
    assert out.invoices == {"D1": ref.InvoiceDue(
        A, d(2025, 12, 10), d(2026, 3, 31), D("94.80"),
        [(d(2025, 12, 20), D("50.00")), (d(2026, 1, 20), D("45.50"))])}
    assert out.unmatched == {("invoice", "CN3")}


def test_a_payment_may_arrive_before_its_invoice_and_a_credit_note_may_exceed_it() -> None:
    out = compute(
        pay("P1", "D1", "2026-01-20", "12.00"),
        inv("CN1", "2026-01-15", [line("NAP001", "5", "50.00")], kind="credit_note",
            credited="D1", gross="60.00"),
        inv("D1", "2026-01-10", [line("NAP001", "1", "10.00")], gross="12.00"),
    )
    assert out.invoices["D1"].amount_due_eur == D("-48.00")
    assert out.invoices["D1"].payments == [(d(2026, 1, 20), D("12.00"))]
    assert out.turnover(A, JAN, JAN) == D("-40.00")


def test_a_payment_can_move_to_another_invoice_with_a_new_version() -> None:
    out = compute(
        inv("D1", "2026-01-10", [line("NAP001", "1", "10.00")], gross="12.00"),
        inv("D2", "2026-01-10", [line("NAP001", "1", "10.00")], gross="12.00"),
        pay("P1", "D1", "2026-01-20", "12.00", version=1),
        pay("P1", "D2", "2026-01-21", "12.00", version=2),
    )
    assert out.invoices["D1"].payments == []
    assert out.invoices["D2"].payments == [(d(2026, 1, 21), D("12.00"))]


# -- parked -------------------------------------------------------------------------------------

# valid messages at version 9, to be broken one way each: were one accepted, it would win over
# the version 1 of the same document in the test below


def _invoice() -> dict[str, Any]:
    return inv("D1", "2026-01-10", [line("NAP001", "1", "5.00")], gross="6.00", version=9)


def _order() -> dict[str, Any]:
    return order("SO1", "2026-01-10", [line("NAP001", "1", "5.00")], version=9)


def _payment() -> dict[str, Any]:
    return pay("P1", "D1", "2026-01-20", "6.00", version=9)


def _set(path: str, value: Any) -> Any:
    def mutate(envelope: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = envelope
        for name in parents:
            target = target[int(name)] if isinstance(target, list) else target[name]
        key: Any = int(last) if isinstance(target, list) else last
        if value is _DELETE:
            del target[key]
        else:
            target[key] = value
    return mutate


_DELETE = object()

PARKED = [
    (_invoice, _set("type", "erp.sales.quote.sent"), "is not an ERP type"),
    (_invoice, _set("data", [1, 2]), "data is not an object"),
    (_invoice, _set("data", None), "data is not an object"),
    (_invoice, _set("data", _DELETE), "data is not an object"),
    (_invoice, _set("data.version", "1"), "version '1' is not a positive integer"),
    (_invoice, _set("data.version", True), "version True"),
    (_invoice, _set("data.version", 0), "version 0"),
    (_invoice, _set("data.version", -1), "version -1"),
    (_invoice, _set("data.version", 1.0), "version 1.0"),
    (_invoice, _set("data.version", _DELETE), "version None"),
    (_order, _set("data.version", 0), "version 0"),
    (_payment, _set("data.version", "2"), "version '2'"),
    (_invoice, _set("data.documentId", _DELETE), "documentId is missing"),
    (_invoice, _set("data.documentId", ""), "documentId is missing"),
    (_order, _set("data.orderId", _DELETE), "orderId is missing"),
    (_order, _set("data.orderId", 7), "orderId is missing"),
    (_invoice, _set("data.number", _DELETE), "number is missing"),
    (_order, _set("data.number", None), "number is missing"),
    (_invoice, _set("data.issueDate", _DELETE), "issueDate None is not an ISO date"),
    (_invoice, _set("data.issueDate", "2026-02-30"), "is not an ISO date"),
    (_invoice, _set("data.issueDate", "20260110"), "is not an ISO date"),
    (_invoice, _set("data.issueDate", "2026-01-10T00:00:00"), "is not an ISO date"),
    (_order, _set("data.orderDate", "yesterday"), "orderDate 'yesterday' is not an ISO date"),
    (_invoice, _set("data.currency", "USD"), "currency 'USD' is not EUR or BGN"),
    (_invoice, _set("data.currency", "eur"), "currency 'eur'"),
    (_order, _set("data.currency", _DELETE), "currency None"),
    (_invoice, _set("data.lines", _DELETE), "lines is not a list"),
    (_order, _set("data.lines", {"1": {}}), "lines is not a list"),
    (_invoice, _set("data.lines.0", "NAP001"), "line 1: not an object"),
    (_invoice, _set("data.lines.0.lineId", _DELETE), "line 1: lineId is missing"),
    (_invoice, _set("data.lines.0.productCode", _DELETE), "line 1: productCode is missing"),
    (_order, _set("data.lines.0.productGroupCode", ""), "line 1: productGroupCode is missing"),
    (_invoice, _set("data.lines.0.quantity", _DELETE), "line 1: quantity is missing"),
    (_invoice, _set("data.lines.0.netAmount", _DELETE), "line 1: netAmount is missing"),
    (_invoice, _set("data.lines.0.quantity", "-1"), "line 1: quantity '-1' is negative"),
    (_order, _set("data.lines.0.quantity", -0.5), "quantity -0.5 is negative"),
    (_invoice, _set("data.lines.0.netAmount", "-0.01"), "netAmount '-0.01' is negative"),
    (_invoice, _set("data.lines.0.netAmount", "NaN"), "netAmount 'NaN' is NaN or infinite"),
    (_invoice, _set("data.lines.0.netAmount", float("nan")), "is NaN or infinite"),
    (_invoice, _set("data.lines.0.quantity", "Infinity"), "is NaN or infinite"),
    (_invoice, _set("data.lines.0.quantity", "-inf"), "is NaN or infinite"),
    (_invoice, _set("data.lines.0.netAmount", "abc"), "netAmount 'abc' is not a decimal"),
    (_invoice, _set("data.lines.0.netAmount", ""), "is not a decimal"),
    (_invoice, _set("data.lines.0.netAmount", " 5.00"), "is not a decimal"),
    (_invoice, _set("data.lines.0.netAmount", "1_000.00"), "is not a decimal"),
    (_invoice, _set("data.lines.0.netAmount", "5,00"), "is not a decimal"),
    (_invoice, _set("data.lines.0.netAmount", True), "is not a decimal"),
    (_invoice, _set("data.lines.0.netAmount", {"amount": "5.00"}), "is not a decimal"),
    (_invoice, _set("data.lines.0.netAmount", "1" * 40), "more than 16 integer digits"),
    (_invoice, _set("data.lines.0.netAmount", "1e16"), "more than 16 integer digits"),
    (_invoice, _set("data.lines.0.netAmount", "9999999999999999.995"), "does not fit"),
    (_invoice, _set("data.lines.0.quantity", "1" * 40), "more than 16 integer digits"),
    (_invoice, _set("data.totalGross", _DELETE), "totalGross is missing"),
    (_invoice, _set("data.totalNet", "-1.00"), "totalNet '-1.00' is negative"),
    (_invoice, _set("data.kind", "proforma"), "kind 'proforma' is not invoice or credit_note"),
    (_invoice, _set("data.kind", _DELETE), "kind None"),
    (_invoice, _set("data.kind", "credit_note"), "creditedDocumentId is missing"),
    (_payment, _set("data.paymentId", _DELETE), "paymentId is missing"),
    (_payment, _set("data.documentId", None), "documentId is missing"),
    (_payment, _set("data.paidOn", "2026-13-01"), "paidOn '2026-13-01' is not an ISO date"),
    (_payment, _set("data.amount", _DELETE), "amount is missing"),
    (_payment, _set("data.amount", "-6.00"), "amount '-6.00' is negative"),
    (_payment, _set("data.amount", "9" * 40), "more than 16 integer digits"),
    (_payment, _set("data.currency", "USD"), "currency 'USD'"),
    # the envelope
    (_invoice, _set("specversion", "0.3"), "not a CloudEvent: specversion '0.3'"),
    (_invoice, _set("source", _DELETE), "not a CloudEvent: source"),
    (_invoice, _set("type", _DELETE), "not a CloudEvent: type"),
    (_invoice, _set("time", "yesterday"), "not a CloudEvent: time"),
    (_invoice, _set("time", "2026-01-05T10:00:00"), "not a CloudEvent: time has no UTC offset"),
    (_invoice, _set("datacontenttype", "text/plain"), "not a CloudEvent: datacontenttype"),
    (_invoice, _set("subject", 5), "not a CloudEvent: subject is not a string"),
    (_invoice, _set("Bad-Name", "x"), "not a CloudEvent: attribute name"),
]


@pytest.mark.parametrize("make,mutate,reason", PARKED)
def test_a_message_breaking_the_contract_is_parked(make: Any, mutate: Any, reason: str) -> None:
    envelope = make()
    mutate(envelope)
    got = ref.parked_reason(envelope)
    assert got is not None and reason in got, got
    # as if never sent: the same figures as without it, and listed with its envelope id
    others = [inv("D1", "2026-01-10", [line("NAP001", "1", "1.00")], gross="1.20"),
              order("SO1", "2026-01-10", [line("NAP001", "1", "1.00")]),
              pay("P1", "D1", "2026-01-20", "1.00")]
    base = compute(*others)
    assert base.turnover(A, JAN, JAN) == D("1.00")
    out = compute(*others, envelope)
    assert (out.monthly, out.items, out.invoices, out.unmatched) == (
        base.monthly, base.items, base.invoices, base.unmatched)
    assert out.parked == [(envelope["id"], got)]


def test_the_id_of_a_parked_message_without_a_usable_id_is_none() -> None:
    envelope = _invoice()
    envelope["id"] = ""
    assert compute(envelope).parked == [(None, "not a CloudEvent: id is not a non-empty string")]


@pytest.mark.parametrize("value,expected", [
    ("1e3", D("1000.00")),
    ("1E+3", D("1000.00")),
    ("-0.00", D("0")),
    ("+5", D("5")),
    (".5", D("0.50")),
    ("12.34" + "0" * 36, D("12.34")),  # 40 digits, two integer ones
    ("9999999999999999.99", D("9999999999999999.99")),  # the largest NUMERIC(18,2)
    (12.5, D("12.50")),  # a JSON number
    (7, D("7.00")),
    ("0.004", D("0.00")),
    ("0.005", D("0.01")),
])
def test_amounts_that_parse(value: Any, expected: Decimal) -> None:
    envelope = inv("D1", "2026-01-10", [line("NAP001", "1", value)])
    assert ref.parked_reason(envelope) is None
    assert compute(envelope).turnover(A, JAN, JAN) == expected


@pytest.mark.parametrize("value,expected", [
    ("1e3", D("1000")), ("-0", D("0")), (3, D("3")), (0.25, D("0.25")), ("0", D("0")),
    ("1.2345", D("1.2345")),  # kept exactly as sent
])
def test_quantities_that_parse(value: Any, expected: Decimal) -> None:
    out = compute(inv("D1", "2026-01-10", [line("NAP001", value, "1.00")]))
    assert out.monthly[(A, JAN)].invoiced_quantity == expected


def test_a_16_digit_bgn_amount_fits_and_a_17_digit_one_does_not() -> None:
    fits = inv("D1", "2025-12-10", [line("NAP001", "1", "9999999999999999.99")], currency="BGN")
    assert ref.parked_reason(fits) is None
    eur = compute(fits).monthly[(A, d(2025, 12, 1))].invoiced_net
    assert eur == D("5112918811962184.85")
    assert abs(eur * D("1.95583") - D("9999999999999999.99")) < D("0.01")
    too_big = inv("D2", "2025-12-10", [line("NAP001", "1", "19558300000000000.00")],
                  currency="BGN")  # 10^16 EUR: neither the original nor the EUR value fits
    assert "more than 16 integer digits" in (ref.parked_reason(too_big) or "")


def test_a_product_message_is_accepted_and_changes_nothing() -> None:
    product = env(ref.TYPE_PRODUCT, {"code": "NAP001", "version": 1})
    assert ref.parked_reason(product) is None
    assert compute(product) == ref.Expected()
    product["data"]["version"] = "1"
    assert "version" in (ref.parked_reason(product) or "")


def test_raw_bodies() -> None:
    good = _invoice()
    cases = [
        (json.dumps(good).encode(), None),
        (json.dumps(good), None),  # a str body too
        (b"\x00not json", "body is not JSON"),
        (b"\xff\xfe", "body is not JSON"),
        (b"", "body is not JSON"),
        (b"[1, 2]", "not a CloudEvent: not a JSON object"),
        (b'{"hello": "world"}', "not a CloudEvent: specversion"),
        (b"null", "not a CloudEvent"),
    ]
    for body, reason in cases:
        got = ref.parked_reason(body)
        assert (got is None) if reason is None else (got is not None and reason in got), body
    out = compute(*(body for body, _ in cases))
    assert out.turnover(A, JAN, JAN) == D("5.00")
    assert [event_id for event_id, _ in out.parked] == [None] * 6


# -- the hostile feed ---------------------------------------------------------------------------

FEED_CLIENTS = [A, B, C]
FEED_EIKS = {A: "111111111", B: "222222222", C: "333333333"}
_RFC3339_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")


def _feed(seed: int, big: bool = False) -> list[Any]:
    return ref.hostile_feed(random.Random(seed), FEED_CLIENTS, FEED_EIKS, big=big)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_hostile_feed_gives_the_same_figures_in_any_order(seed: int) -> None:
    feed = _feed(seed)
    expected = ref.compute(feed, FEED_EIKS)
    for shuffle_seed in range(5):
        shuffled = list(feed)
        random.Random(shuffle_seed).shuffle(shuffled)
        assert ref.compute(shuffled, FEED_EIKS) == expected
    assert ref.compute(reversed(feed), FEED_EIKS) == expected
    # everything delivered twice: the same, but the bodies without an id are parked each time
    twice = ref.compute(feed + feed, FEED_EIKS)
    anonymous = [entry for entry in expected.parked if entry[0] is None]
    assert len(anonymous) == 4
    assert twice.parked == [entry for entry in expected.parked if entry[0] is not None] + sorted(
        anonymous + anonymous, key=lambda entry: entry[1])
    twice.parked = expected.parked
    assert twice == expected


def test_the_hostile_feed_is_deterministic_and_its_envelopes_are_cloudevents() -> None:
    feed = _feed(7)
    assert feed == _feed(7)
    ids: list[str] = []
    for item in feed:
        if isinstance(item, bytes):
            continue
        assert item["specversion"] == "1.0" and item["source"] == "erp/test"
        assert item["datacontenttype"] == "application/json"
        assert _RFC3339_Z.match(item["time"]) and item["subject"]
        ids.append(item["id"])
    assert len(ids) - len(set(ids)) == 2  # the two deliberate re-sends with the same id


def test_the_hostile_feed_exercises_every_case() -> None:
    feed = _feed(11)
    out = ref.compute(feed, FEED_EIKS)
    reasons = [reason for _, reason in out.parked]
    for fragment in ("quantity '-2' is negative", "currency 'USD'", "number is missing",
                     "productGroupCode is missing", "totalGross is missing", "'NaN' is NaN",
                     "'Infinity' is NaN", "more than 16 integer digits", "not an ISO date",
                     "lines is not a list", "kind 'proforma'", "creditedDocumentId is missing",
                     "version '2'", "version True", "version 0", "paidOn None",
                     "amount '-1.00' is negative", "is not an ERP type", "data is not an object",
                     "body is not JSON", "not a CloudEvent: not a JSON object",
                     "not a CloudEvent: specversion"):
        assert any(fragment in reason for reason in reasons), fragment
    assert len(out.parked) == 29
    suffix = {doc_id.rsplit("-", 1)[1] for _, doc_id in out.unmatched}
    (s,) = suffix
    assert out.unmatched == {("invoice", f"INV-C-{s}"), ("order", f"ORD-U-{s}")}
    inv = out.invoices
    # matched by id, by EIK only, by EIK with an unknown id
    assert inv[f"INV-A-{s}"].client == A and inv[f"INV-B-{s}"].client == B
    assert inv[f"INV-F-{s}"].client == C
    # cancelled: gone; the payment of the cancelled invoice and the orphan payment apply nowhere
    assert f"INV-D-{s}" not in inv
    assert not any(doc_id == f"ORD-C-{s}" for _, doc_id in out.unmatched)
    # out of order: v3 of ORD-B wins (7 + 1 pieces, 28.00 + 3.50)
    assert out.items[(B, JAN, "KON", "KON001")].ordered_quantity == D("7")
    assert out.monthly[(B, JAN)].ordered_net == D("31.50")
    assert out.monthly[(B, JAN)].orders == 1
    # INV-B: 57.30 net, gross 68.76; CN-B 400.00 net, gross 480.00 applies; CN-C cancelled
    assert out.monthly[(B, JAN)].turnover == D("57.30") - D("400.00")
    assert inv[f"INV-B-{s}"].amount_due_eur == D("68.76") - D("480.00")
    assert inv[f"INV-B-{s}"].payments == [(d(2026, 2, 15), D("25.00"))]
    # INV-E: v2 (30.00 + 8.40), re-sent once; its payment arrived first
    assert inv[f"INV-E-{s}"].amount_due_eur == D("46.08")
    assert inv[f"INV-E-{s}"].payments == [(d(2026, 3, 1), D("30.00"))]
    # INV-A stays v1 (the USD v7 is parked); BGN payment 100.00 → 51.13
    assert inv[f"INV-A-{s}"].payments == [(d(2025, 12, 10), D("51.13")),
                                         (d(2026, 1, 12), D("20.45"))]
    # an unknown product; MLK: the order sent as bytes, no turnover
    assert out.by_group(B, FEB, FEB) == {"NEWGRP": D("9.99"), "MLK": D("0")}
    assert out.monthly[(B, FEB)].ordered_net == D("12.50")  # the order sent as bytes
    feb = out.by_product(A, FEB, FEB)
    assert feb["OLI001"] == D("1000.00")  # "1e3"
    assert feb["OLI002"] == D("0") and feb["OLI004"] == D("12.34")  # "-0.00", 40 digits
    assert out.monthly[(A, FEB)].invoices == 4  # INV-E, INV-1E3, INV-NEG0, INV-LONG


def test_the_big_hostile_feed_has_an_invoice_of_ten_thousand_lines() -> None:
    small, big = _feed(5), _feed(5, big=True)
    assert len(big) == len(small) + 1
    (invoice,) = [item for item in big if isinstance(item, dict)
                  and isinstance(item["data"], dict) and len(item["data"].get("lines", [])) > 100]
    assert len(invoice["data"]["lines"]) == 10_000
    out = ref.compute(big, FEED_EIKS)
    lines = invoice["data"]["lines"]
    net = sum(D(ln["netAmount"]) for ln in lines)
    quantity = sum(D(ln["quantity"]) for ln in lines)
    figures = ref.compute(small, FEED_EIKS).monthly[(C, FEB)]
    assert out.monthly[(C, FEB)].invoiced_net == figures.invoiced_net + net
    assert out.monthly[(C, FEB)].invoiced_quantity == figures.invoiced_quantity + quantity
    assert len([key for key in out.items if key[0] == C]) == 50 + 1
