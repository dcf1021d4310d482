"""An independent reference computation of the ERP figures, for the analytics tests.

The tests compare what the analytics service computes with what :func:`compute` says the
product's rules give for the same messages. It shares no code with ``crm_analytics`` (nor with
``crm_common``): plain standard library and :class:`~decimal.Decimal`, and a different shape —
first the winning version of every document and payment, then the sums.

The test suite runs pytest with ``--import-mode=importlib``, so a test loads this file by path::

    import importlib.util, pathlib, sys
    _path = pathlib.Path(__file__).resolve().parents[1] / "reference.py"   # from tests/unit/
    _spec = importlib.util.spec_from_file_location("analytics_reference", _path)
    reference = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = reference          # before exec: dataclasses look the module up
    _spec.loader.exec_module(reference)

The rules (docs/analytics.md, DESIGN.md §9), literally:

1. A message is *parked* — ignored entirely, as if never sent — when it is not a CloudEvents 1.0
   envelope or its data break the ERP contract (:func:`parked_reason` says why).
2. Orders are keyed ``("order", orderId)``, invoices and credit notes ``("invoice",
   documentId)``; the highest version among the non-parked messages wins; a ``.cancelled`` winner
   counts for nothing.
3. The winner's client: ``client.id`` if the CRM knows it, else ``client.eik`` if a known client
   has it (the smallest id if several), else unmatched (listed, counts for nothing).
4. BGN amounts → EUR: ``Decimal(x) / Decimal("1.95583")`` rounded half up to 0.01, line by line.
5. Invoices, credit notes and orders add to the figures of (client, month) and (client, month,
   group, product) in the month of their issueDate / orderDate.
6. Payments: the highest version per paymentId; per matched, non-cancelled invoice the amount
   due (gross − gross of its non-cancelled credit notes) and its payments.

Rules decided here beyond that (see also the comments where they apply):

* The envelope is checked as the platform's envelope parser does: a JSON object with
  ``specversion`` "1.0", non-empty string ``id``, ``source`` and ``type``; ``subject``,
  ``datacontenttype``, ``time``, ``actorid``, ``correlationid`` strings when present;
  ``datacontenttype`` application/json; ``time`` RFC 3339 with an offset; attribute names
  ``[a-z0-9]{1,20}``. Raw bodies (bytes/str) are decoded as UTF-8 JSON first.
* Messages are de-duplicated by envelope id (an inbox): a parked message is listed once. Two
  different messages under one id are assumed not to happen (the figures do not depend on it:
  versions make re-sends idempotent). A parked body without a usable id is listed as
  ``(None, reason)`` each time it comes. ``parked`` is sorted: by id, then the anonymous ones by
  reason.
* Equal versions of a document with different content (which the ERP does not send) are broken
  deterministically so that the result does not depend on the order: a ``.cancelled`` wins, then
  the greatest canonical JSON of the data.
* Product messages (``erp.catalog.product.upserted``) are checked only for ``data`` an object and
  ``version``; they never change a figure.
* Invoices and credit notes also need ``totalNet`` and ``totalGross`` (amounts as the lines'
  netAmount); ``dueDate`` is not checked (``None`` when it is not an ISO date); ``client`` is not
  checked (a missing or malformed one leaves the document unmatched); ``lines`` may be empty;
  ``unit`` is not required on order lines; an invoice carrying ``creditedDocumentId`` is not
  parked (the field is ignored). A document's currency is not checked against its date.
* Ids (``orderId``, ``documentId``, ``paymentId``, a payment's ``documentId``,
  ``creditedDocumentId``), ``number`` and the line fields ``lineId``, ``productCode``,
  ``productGroupCode`` must be non-empty strings.
* A decimal is an int, a finite float (through its ``repr``) or a string of the plain decimal
  syntax ``[+-]digits[.digits][e[+-]digits]`` — so ``"1e3"`` is 1000 and ``"-0.00"`` is zero,
  while ``"NaN"``, ``"Infinity"``, ``" 1"``, ``"1_000"``, ``""`` and booleans are not decimals.
  Negative values are parked (``-0`` is not negative).
* Amounts (line netAmount, totalNet, totalGross, payment amount) are converted from the value as
  sent and rounded half up to 0.01 in both currencies (for EUR a no-op on the contract's
  two-place amounts); they are parked when the original or the EUR value, rounded to the cent,
  has more than 16 integer digits (does not fit NUMERIC(18,2)). Quantities are kept exactly as
  sent and parked beyond 16 integer digits too.
* A document's client id is looked up as given, then as a canonical UUID (case-insensitive);
  an EIK must be a string equal to a known client's EIK.
* A cancelled document is not listed as unmatched (it counts for nothing either way).
* A credit note lowers the amount due of the invoice it names whatever its own client (matched
  or not); a credit note larger than the invoice makes the amount due negative.
* ``by_group`` / ``by_product`` list every group / product with an item in the range, turnover
  0 included (an item of orders only); ``by_product`` is keyed by product code (summed over
  groups should a code appear under two).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any, NamedTuple

TYPE_PRODUCT = "erp.catalog.product.upserted"
TYPE_ORDER = "erp.sales.order.confirmed"
TYPE_ORDER_CANCELLED = "erp.sales.order.cancelled"
TYPE_INVOICE = "erp.sales.invoice.posted"
TYPE_INVOICE_CANCELLED = "erp.sales.invoice.cancelled"
TYPE_PAYMENT = "erp.sales.payment.received"
ERP_TYPES = frozenset({TYPE_PRODUCT, TYPE_ORDER, TYPE_ORDER_CANCELLED, TYPE_INVOICE,
                       TYPE_INVOICE_CANCELLED, TYPE_PAYMENT})

BGN_PER_EUR = Decimal("1.95583")
CENT = Decimal("0.01")
ZERO = Decimal("0")
#: NUMERIC(18,2) holds at most 16 integer digits
TOO_LARGE = Decimal(10) ** 16

_ATTRIBUTE_NAME = re.compile(r"[a-z0-9]{1,20}\Z")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


# --------------------------------------------------------------------------------------------------
# the result

@dataclass
class Fig:
    """The figures of one (client, month) or (client, month, group, product); amounts in EUR.

    The document counts (``invoices``, ``credit_notes``, ``orders``) stay 0 on items."""

    invoiced_net: Decimal = ZERO
    invoiced_quantity: Decimal = ZERO
    invoices: int = 0
    credited_net: Decimal = ZERO
    credited_quantity: Decimal = ZERO
    credit_notes: int = 0
    ordered_net: Decimal = ZERO
    ordered_quantity: Decimal = ZERO
    orders: int = 0

    @property
    def turnover(self) -> Decimal:
        return self.invoiced_net - self.credited_net

    @property
    def quantity(self) -> Decimal:
        return self.invoiced_quantity - self.credited_quantity


class InvoiceDue(NamedTuple):
    """A matched, non-cancelled invoice: what is due and what was paid (EUR)."""

    client: str
    issue_date: dt.date
    due_date: dt.date | None
    amount_due_eur: Decimal
    payments: list[tuple[dt.date, Decimal]]  # (paidOn, EUR amount), sorted


MonthKey = tuple[str, dt.date]
ItemKey = tuple[str, dt.date, str, str]


@dataclass
class Expected:
    monthly: dict[MonthKey, Fig] = field(default_factory=dict)
    items: dict[ItemKey, Fig] = field(default_factory=dict)
    unmatched: set[tuple[str, str]] = field(default_factory=set)  # (doc_type, id)
    parked: list[tuple[str | None, str]] = field(default_factory=list)  # (event id, reason)
    invoices: dict[str, InvoiceDue] = field(default_factory=dict)

    def turnover(self, client: str, start_month: dt.date, end_month: dt.date) -> Decimal:
        """Turnover (invoiced − credited net, EUR) of the months start..end, both included."""
        start, end = month_of(start_month), month_of(end_month)
        return sum((fig.turnover for (c, m), fig in self.monthly.items()
                    if c == client and start <= m <= end), ZERO)

    def by_group(self, client: str, start_month: dt.date,
                 end_month: dt.date) -> dict[str, Decimal]:
        """Turnover per productGroupCode over the months start..end, both included."""
        return self._by(client, start_month, end_month, lambda key: key[2])

    def by_product(self, client: str, start_month: dt.date,
                   end_month: dt.date) -> dict[str, Decimal]:
        """Turnover per productCode over the months start..end, both included."""
        return self._by(client, start_month, end_month, lambda key: key[3])

    def _by(self, client: str, start_month: dt.date, end_month: dt.date,
            pick: Any) -> dict[str, Decimal]:
        start, end = month_of(start_month), month_of(end_month)
        out: dict[str, Decimal] = {}
        for key, fig in self.items.items():
            if key[0] == client and start <= key[1] <= end:
                out[pick(key)] = out.get(pick(key), ZERO) + fig.turnover
        return out


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


# --------------------------------------------------------------------------------------------------
# reading one message

class _Parked(Exception):
    def __init__(self, reason: str, event_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event_id = event_id


@dataclass(frozen=True)
class _Line:
    group: str
    product: str
    quantity: Decimal
    net_eur: Decimal


@dataclass(frozen=True)
class _Doc:
    doc_type: str  # "order" | "invoice"
    doc_id: str
    kind: str  # "order" | "invoice" | "credit_note"
    version: int
    cancelled: bool
    day: dt.date
    due: dt.date | None
    client_id: Any
    client_eik: Any
    lines: tuple[_Line, ...]
    total_gross_eur: Decimal | None
    credited: str | None
    canon: str

    def rank(self) -> tuple[int, bool, str]:
        return (self.version, self.cancelled, self.canon)


@dataclass(frozen=True)
class _Payment:
    payment_id: str
    version: int
    invoice_id: str
    paid_on: dt.date
    amount_eur: Decimal
    canon: str

    def rank(self) -> tuple[int, str]:
        return (self.version, self.canon)


def parked_reason(envelope: Any) -> str | None:
    """Why ``envelope`` (a dict, or a raw body as bytes / str) is parked; None if it is not."""
    try:
        _read(envelope)
    except _Parked as parked:
        return parked.reason
    return None


def _read(item: Any) -> tuple[str, _Doc | _Payment | None]:
    """(event id, the document or payment; None for a product) — or raises :class:`_Parked`."""
    envelope = item
    if isinstance(item, (bytes, bytearray, str)):
        try:
            text = item.decode("utf-8") if isinstance(item, (bytes, bytearray)) else item
            envelope = json.loads(text)
        except (UnicodeDecodeError, ValueError) as exc:
            raise _Parked(f"body is not JSON ({type(exc).__name__})") from None
    event_id = _check_envelope(envelope)
    try:
        return event_id, _read_data(envelope["type"], envelope.get("data"))
    except _Parked as parked:
        parked.event_id = event_id
        raise


def _check_envelope(envelope: Any) -> str:
    raw_id = envelope.get("id") if isinstance(envelope, dict) else None
    event_id = raw_id if isinstance(raw_id, str) and raw_id else None

    def bad(why: str) -> _Parked:
        return _Parked(f"not a CloudEvent: {why}", event_id)

    if not isinstance(envelope, dict):
        raise bad("not a JSON object")
    for name in ("specversion", "id", "source", "type"):
        value = envelope.get(name)
        if not isinstance(value, str) or not value:
            raise bad(f"{name} is not a non-empty string")
    if envelope["specversion"] != "1.0":
        raise bad(f"specversion {envelope['specversion']!r}")
    for name in ("subject", "datacontenttype", "time", "actorid", "correlationid"):
        if name in envelope and not isinstance(envelope[name], str):
            raise bad(f"{name} is not a string")
    if envelope.get("datacontenttype", "application/json") != "application/json":
        raise bad("datacontenttype is not application/json")
    if "time" in envelope:
        try:
            moment = dt.datetime.fromisoformat(envelope["time"].replace("Z", "+00:00"))
        except ValueError:
            raise bad(f"time {envelope['time']!r} is not RFC 3339") from None
        if moment.tzinfo is None:
            raise bad("time has no UTC offset")
    for name in envelope:
        if name not in ("data", "data_base64") and not _ATTRIBUTE_NAME.match(name):
            raise bad(f"attribute name {name!r}")
    assert event_id is not None
    return event_id


def _read_data(type_: str, data: Any) -> _Doc | _Payment | None:
    if type_ not in ERP_TYPES:
        raise _Parked(f"type {type_!r} is not an ERP type")
    if not isinstance(data, dict):
        raise _Parked("data is not an object")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Parked(f"version {version!r} is not a positive integer")
    canon = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    if type_ == TYPE_PRODUCT:
        return None  # not a figure
    if type_ == TYPE_PAYMENT:
        currency = _currency(data)
        amount = _money(data, "amount", currency)
        return _Payment(_text(data, "paymentId"), version, _text(data, "documentId"),
                        _date(data, "paidOn"), amount, canon)
    is_order = type_ in (TYPE_ORDER, TYPE_ORDER_CANCELLED)
    id_field, date_field = ("orderId", "orderDate") if is_order else ("documentId", "issueDate")
    doc_id = _text(data, id_field)
    _text(data, "number")
    day = _date(data, date_field)
    currency = _currency(data)
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list):
        raise _Parked("lines is not a list")
    lines = tuple(_line(i, raw, currency) for i, raw in enumerate(raw_lines, 1))
    if is_order:
        return _Doc("order", doc_id, "order", version, type_ == TYPE_ORDER_CANCELLED, day, None,
                    *_client(data), lines, None, None, canon)
    kind = data.get("kind")
    if kind not in ("invoice", "credit_note"):
        raise _Parked(f"kind {kind!r} is not invoice or credit_note")
    credited = _text(data, "creditedDocumentId") if kind == "credit_note" else None
    _money(data, "totalNet", currency)
    gross = _money(data, "totalGross", currency)
    due = data.get("dueDate")
    due_day = _iso_date(due) if isinstance(due, str) else None
    return _Doc("invoice", doc_id, kind, version, type_ == TYPE_INVOICE_CANCELLED, day, due_day,
                *_client(data), lines, gross, credited, canon)


def _client(data: dict[str, Any]) -> tuple[Any, Any]:
    client = data.get("client")
    if not isinstance(client, dict):
        return None, None
    return client.get("id"), client.get("eik")


def _text(data: dict[str, Any], name: str, where: str = "") -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise _Parked(f"{where}{name} is missing or not a non-empty string")
    return value


def _iso_date(value: str) -> dt.date | None:
    if not _DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _date(data: dict[str, Any], name: str) -> dt.date:
    value = data.get(name)
    day = _iso_date(value) if isinstance(value, str) else None
    if day is None:
        raise _Parked(f"{name} {value!r} is not an ISO date")
    return day


def _currency(data: dict[str, Any]) -> str:
    currency = data.get("currency")
    if currency not in ("EUR", "BGN"):
        raise _Parked(f"currency {currency!r} is not EUR or BGN")
    return str(currency)


def _decimal(value: Any, what: str) -> Decimal:
    """A non-negative finite decimal of at most 16 integer digits, or :class:`_Parked`."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _Parked(f"{what} {value!r} is not a decimal")
    shown = value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise _Parked(f"{what} {value!r} is NaN or infinite")
        value = repr(value)
    if isinstance(value, str):
        if value.strip().lstrip("+-").lower() in ("nan", "snan", "inf", "infinity"):
            raise _Parked(f"{what} {value!r} is NaN or infinite")
        if not _DECIMAL.match(value):
            raise _Parked(f"{what} {value!r} is not a decimal")
    number = Decimal(value)
    if number < 0:
        raise _Parked(f"{what} {shown!r} is negative")
    if number == 0:
        number = abs(number)  # "-0.00" is zero
    if number != 0 and number.adjusted() >= 16:
        raise _Parked(f"{what} {shown!r} has more than 16 integer digits")
    return number


def _round(amount: Decimal, what: str, raw: Any) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        try:
            rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            raise _Parked(f"{what} {raw!r} cannot be rounded to cents") from None
    if rounded >= TOO_LARGE:
        raise _Parked(f"{what} {raw!r} does not fit NUMERIC(18,2)")
    return rounded


def to_eur(amount: Decimal, currency: str) -> Decimal:
    """``amount`` in EUR, rounded half up to the cent (BGN at the fixed 1.95583)."""
    with localcontext() as ctx:
        ctx.prec = 60
        value = amount / BGN_PER_EUR if currency == "BGN" else amount
        return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _money(data: dict[str, Any], name: str, currency: str, where: str = "") -> Decimal:
    """The EUR value of the amount ``data[name]``; the original and the EUR value must fit."""
    if name not in data or data[name] is None:
        raise _Parked(f"{where}{name} is missing")
    raw = data[name]
    number = _decimal(raw, where + name)
    _round(number, where + name, raw)  # the original is kept too: it must fit
    return _round(to_eur(number, currency), where + name + " in EUR", raw)


def _line(index: int, raw: Any, currency: str) -> _Line:
    where = f"line {index}: "
    if not isinstance(raw, dict):
        raise _Parked(f"{where}not an object")
    _text(raw, "lineId", where)
    product = _text(raw, "productCode", where)
    group = _text(raw, "productGroupCode", where)
    if raw.get("quantity") is None:
        raise _Parked(f"{where}quantity is missing")
    quantity = _decimal(raw["quantity"], where + "quantity")
    return _Line(group, product, quantity, _money(raw, "netAmount", currency, where))


# --------------------------------------------------------------------------------------------------
# the computation

def winners(envelopes: Iterable[Any]) -> tuple[dict[tuple[str, str], _Doc],
                                               dict[str, _Payment],
                                               list[tuple[str | None, str]]]:
    """The winning version of every document and payment, and the parked messages."""
    docs: dict[tuple[str, str], _Doc] = {}
    payments: dict[str, _Payment] = {}
    parked_by_id: dict[str, str] = {}
    parked_anonymous: list[tuple[str | None, str]] = []
    for item in envelopes:
        try:
            _, message = _read(item)
        except _Parked as parked:
            if parked.event_id is None:
                parked_anonymous.append((None, parked.reason))
            else:
                parked_by_id.setdefault(parked.event_id, parked.reason)
            continue
        if isinstance(message, _Doc):
            key = (message.doc_type, message.doc_id)
            if key not in docs or message.rank() > docs[key].rank():
                docs[key] = message
        elif isinstance(message, _Payment):
            old = payments.get(message.payment_id)
            if old is None or message.rank() > old.rank():
                payments[message.payment_id] = message
    parked: list[tuple[str | None, str]] = sorted(parked_by_id.items())
    parked += sorted(parked_anonymous, key=lambda entry: entry[1])
    return docs, payments, parked


def _canonical_uuid(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def compute(envelopes: Iterable[Any], clients: Mapping[str, str | None]) -> Expected:
    """The figures the product's rules give for ``envelopes`` (any order, duplicates allowed;
    dicts or raw bodies) and the CRM's clients (client id → EIK or None)."""
    docs, payments, parked = winners(envelopes)
    by_uuid = {c: key for key in clients if (c := _canonical_uuid(key)) is not None}
    by_eik: dict[str, str] = {}
    for key, eik in clients.items():
        if isinstance(eik, str) and (eik not in by_eik or key < by_eik[eik]):
            by_eik[eik] = key

    def match(doc: _Doc) -> str | None:
        if isinstance(doc.client_id, str):
            if doc.client_id in clients:
                return doc.client_id
            canonical = _canonical_uuid(doc.client_id)
            if canonical in by_uuid:
                return by_uuid[canonical]
        if isinstance(doc.client_eik, str) and doc.client_eik in by_eik:
            return by_eik[doc.client_eik]
        return None

    out = Expected(parked=parked)
    live = {key: doc for key, doc in docs.items() if not doc.cancelled}
    credited: dict[str, Decimal] = {}  # invoice id → gross EUR of its live credit notes
    for doc in live.values():
        if doc.kind == "credit_note" and doc.credited is not None:
            assert doc.total_gross_eur is not None
            credited[doc.credited] = credited.get(doc.credited, ZERO) + doc.total_gross_eur
    paid: dict[str, list[tuple[dt.date, Decimal]]] = {}  # invoice id → its payments
    for pay in payments.values():
        paid.setdefault(pay.invoice_id, []).append((pay.paid_on, pay.amount_eur))
    for key, doc in sorted(live.items()):
        client = match(doc)
        if client is None:
            out.unmatched.add(key)
            continue
        month = month_of(doc.day)
        total = out.monthly.setdefault((client, month), Fig())
        prefix, counter = _FIELDS[doc.kind]
        setattr(total, counter, getattr(total, counter) + 1)
        for line in doc.lines:
            item = out.items.setdefault((client, month, line.group, line.product), Fig())
            for fig in (total, item):
                _add(fig, prefix + "_net", line.net_eur)
                _add(fig, prefix + "_quantity", line.quantity)
        if doc.kind == "invoice":
            assert doc.total_gross_eur is not None
            due = doc.total_gross_eur - credited.get(doc.doc_id, ZERO)
            out.invoices[doc.doc_id] = InvoiceDue(client, doc.day, doc.due, due,
                                                  sorted(paid.get(doc.doc_id, [])))
    return out


#: kind → (prefix of its amount and quantity fields, its document counter)
_FIELDS = {"invoice": ("invoiced", "invoices"), "credit_note": ("credited", "credit_notes"),
           "order": ("ordered", "orders")}


def _add(fig: Fig, name: str, value: Decimal) -> None:
    with localcontext() as ctx:
        ctx.prec = 60
        setattr(fig, name, getattr(fig, name) + value)


# --------------------------------------------------------------------------------------------------
# a hostile feed

def hostile_feed(rng: random.Random, client_ids: list[str], eik_of: dict[str, str], *,
                 big: bool = False) -> list[dict[str, Any] | bytes]:
    """Envelopes (dicts) and raw bodies (bytes) exercising every bad input of the ERP feed.

    Needs at least two clients (``client_ids``, ``eik_of`` their EIKs). Every dict is a valid
    CloudEvents 1.0 envelope unless a comment says it is malformed; envelope ids are unique except
    where a message is deliberately re-sent. ``big``: also an invoice with 10,000 lines.
    Deterministic for a given ``rng`` state. Document and payment ids end in a per-feed tag
    (drawn from ``rng``) so that two feeds in one database do not collide.
    """
    if len(client_ids) < 2:
        raise ValueError("hostile_feed needs at least two clients")
    feed: list[dict[str, Any] | bytes] = []
    tag = f"{rng.getrandbits(32):08x}"
    c0, c1 = client_ids[0], client_ids[1]
    c2 = client_ids[2] if len(client_ids) > 2 else c0
    known_eiks = set(eik_of.values())
    stranger = f"{rng.randrange(10**8, 10**9)}"
    while stranger in known_eiks:
        stranger = f"{rng.randrange(10**8, 10**9)}"

    def new_id() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    def envelope(type_: str, subject: str, data: Any, day: str,
                 event_id: str | None = None) -> dict[str, Any]:
        seconds = rng.randrange(6 * 3600, 18 * 3600)
        env = {
            "specversion": "1.0", "id": event_id or new_id(), "source": "erp/test",
            "type": type_,
            "time": f"{day}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z",
            "subject": subject, "datacontenttype": "application/json", "data": data,
        }
        feed.append(env)
        return env

    def by_id(client: str) -> dict[str, Any]:
        return {"id": client, "eik": eik_of.get(client)}

    def by_eik(eik: str) -> dict[str, Any]:
        return {"id": None, "eik": eik}

    def line(n: int, product: str, quantity: Any, net: Any, unit: str | None = None,
             group: str | None = None) -> dict[str, Any]:
        out = {"lineId": str(n), "productCode": product,
               "productGroupCode": group or product[:3], "quantity": quantity,
               "netAmount": net}
        if unit is not None:
            out["unit"] = unit
        return out

    def money() -> str:
        return f"{rng.randrange(100, 500_000) / 100:.2f}"

    def totals(lines: list[dict[str, Any]]) -> tuple[str, str]:
        net = ZERO
        for ln in lines:
            try:
                value = Decimal(str(ln["netAmount"]))
                if value.is_finite() and value.adjusted() < 20:
                    net += value
            except (InvalidOperation, KeyError):
                pass
        net = net.quantize(CENT)
        return f"{net}", f"{(net * Decimal('1.2')).quantize(CENT, ROUND_HALF_UP)}"

    def order(order_id: str, day: str, client: dict[str, Any], currency: str,
              lines: list[dict[str, Any]], version: int, cancelled: bool = False,
              **extra: Any) -> dict[str, Any]:
        for ln in lines:
            ln.setdefault("unit", "бр.")
        data = {"orderId": order_id, "number": f"ПР-{order_id}", "orderDate": day,
                "client": client, "currency": currency, "lines": lines, "version": version}
        data.update(extra)
        return envelope(TYPE_ORDER_CANCELLED if cancelled else TYPE_ORDER, order_id, data, day)

    def invoice(doc_id: str, day: str, client: dict[str, Any], currency: str,
                lines: list[dict[str, Any]], version: int, kind: str = "invoice",
                credited: str | None = None, cancelled: bool = False,
                **extra: Any) -> dict[str, Any]:
        net, gross = totals(lines)
        data: dict[str, Any] = {
            "documentId": doc_id, "number": f"{rng.randrange(10**9, 10**10):010d}", "kind": kind,
            "issueDate": day,
            "dueDate": (dt.date.fromisoformat(day) + dt.timedelta(days=30)).isoformat(),
            "client": client, "currency": currency, "lines": lines, "totalNet": net,
            "totalGross": gross, "orderId": None, "version": version,
        }
        if credited is not None:
            data["creditedDocumentId"] = credited
        data.update(extra)
        return envelope(TYPE_INVOICE_CANCELLED if cancelled else TYPE_INVOICE, doc_id, data, day)

    def payment(payment_id: str, doc_id: str, day: str, amount: Any, currency: str,
                version: int = 1, **extra: Any) -> dict[str, Any]:
        data = {"paymentId": payment_id, "documentId": doc_id, "paidOn": day, "amount": amount,
                "currency": currency, "version": version}
        data.update(extra)
        return envelope(TYPE_PAYMENT, payment_id, data, day)

    def ident(name: str) -> str:
        return f"{name}-{tag}"

    # -- well-formed documents --------------------------------------------------------------
    # a product of the catalogue: valid, changes no figure
    envelope(TYPE_PRODUCT, "NAP001", {
        "code": "NAP001", "name": "Газирана вода 0,5 л",
        "productGroup": {"code": "NAP", "name": "Безалкохолни напитки"}, "unit": "бр.",
        "vatRate": "20", "active": True, "basePrice": {"amount": "1.20", "currency": "BGN"},
        "version": 1}, "2025-11-01")
    # a BGN invoice for c0, matched by CRM id
    inv_a = ident("INV-A")
    first = invoice(inv_a, "2025-11-14", by_id(c0), "BGN",
                    [line(1, "NAP001", "24", money()), line(2, "BIR003", "12.5", money())], 1)
    # the same message again (same envelope id): the inbox drops it
    feed.append(json.loads(json.dumps(first)))
    # an EUR invoice for c1, by EIK only (the ERP does not know the CRM id)
    inv_b = ident("INV-B")
    invoice(inv_b, "2026-01-20", by_eik(eik_of[c1]), "EUR",
            [line(1, "KAF010", "3", "45.00"), line(2, "SLD002", "10", "12.30")], 1)
    # an invoice with a CRM id the CRM does not have but a known EIK: matched by EIK
    invoice(ident("INV-F"), "2026-02-03", {"id": new_id(), "eik": eik_of[c2]}, "EUR",
            [line(1, "VOD005", "60", money())], 1)
    # an invoice for an EIK nobody has: unmatched
    invoice(ident("INV-C"), "2026-02-10", by_eik(stranger), "EUR",
            [line(1, "NAP001", "6", money())], 1)
    # an order for an EIK nobody has: unmatched too
    order(ident("ORD-U"), "2026-02-09", by_eik(stranger), "EUR", [line(1, "NAP001", "6", "9.00")],
          1)
    # an order for c0, BGN
    order(ident("ORD-A"), "2025-11-12", by_id(c0), "BGN",
          [line(1, "NAP001", "24", money()), line(2, "BIR003", "12.5", money(), "кг")], 1)
    # ORD-B v1 for c1 by EIK, then re-sent at the same version with a new envelope id (once)
    ord_b = ident("ORD-B")
    ord_b_v1 = order(ord_b, "2026-01-15", by_eik(eik_of[c1]), "EUR",
                     [line(1, "KON001", "5", "20.00")], 1)
    resent = json.loads(json.dumps(ord_b_v1))
    resent["id"] = new_id()
    feed.append(resent)
    # out of order: v3 arrives before v2 (v3 wins: 2 lines; v2 would have been 1 line)
    order(ord_b, "2026-01-15", by_eik(eik_of[c1]), "EUR",
          [line(1, "KON001", "7", "28.00"), line(2, "KON002", "1", "3.50")], 3)
    order(ord_b, "2026-01-15", by_eik(eik_of[c1]), "EUR", [line(1, "KON001", "6", "24.00")], 2)
    # an order confirmed, then cancelled (the next version): counts for nothing
    ord_c = ident("ORD-C")
    order(ord_c, "2026-01-16", by_id(c0), "EUR", [line(1, "ZRN001", "10", "15.00")], 1)
    order(ord_c, "2026-01-16", by_id(c0), "EUR", [line(1, "ZRN001", "10", "15.00")], 2,
          cancelled=True)
    inv_e = ident("INV-E")
    # a payment that arrives before its invoice INV-E (kept; applies when the invoice comes)
    payment(ident("PAY-E"), inv_e, "2026-03-01", "30.00", "EUR")
    # INV-E v1 ...
    invoice(inv_e, "2026-02-02", by_id(c0), "EUR", [line(1, "PER001", "4", "40.00")], 1)
    # ... and a newer version with different lines (v2 wins)
    inv_e_v2 = invoice(inv_e, "2026-02-02", by_id(c0), "EUR",
                       [line(1, "PER001", "3", "30.00"), line(2, "POC004", "2", "8.40")], 2)
    # INV-E v2 re-sent unchanged with a new envelope id (counts once)
    resent = json.loads(json.dumps(inv_e_v2))
    resent["id"] = new_id()
    feed.append(resent)
    # an invoice posted, then cancelled (v2): no figures, no amount due, its payment is moot
    inv_d = ident("INV-D")
    invoice(inv_d, "2025-12-05", by_id(c0), "BGN", [line(1, "HAR001", "20", "50.00")], 1)
    invoice(inv_d, "2025-12-05", by_id(c0), "BGN", [line(1, "HAR001", "20", "50.00")], 2,
            cancelled=True)
    payment(ident("PAY-D"), inv_d, "2025-12-20", "60.00", "BGN")
    # a BGN credit note for INV-A (November) issued in December: credited in December
    invoice(ident("CN-A"), "2025-12-02", by_id(c0), "BGN", [line(1, "NAP001", "4", "5.00")], 1,
            kind="credit_note", credited=inv_a)
    # a credit note larger than its invoice (valid by the contract: it applies)
    invoice(ident("CN-B"), "2026-01-28", by_eik(eik_of[c1]), "EUR",
            [line(1, "KAF010", "9", "400.00")], 1, kind="credit_note", credited=inv_b)
    # a credit note posted, then cancelled: does not lower turnover nor the amount due
    cn_c = ident("CN-C")
    invoice(cn_c, "2026-01-29", by_eik(eik_of[c1]), "EUR", [line(1, "SLD002", "1", "1.23")], 1,
            kind="credit_note", credited=inv_b)
    invoice(cn_c, "2026-01-29", by_eik(eik_of[c1]), "EUR", [line(1, "SLD002", "1", "1.23")], 2,
            kind="credit_note", credited=inv_b, cancelled=True)
    # payments of INV-A: a BGN part in 2025 and an EUR rest in 2026 (late)
    payment(ident("PAY-A1"), inv_a, "2025-12-10", "100.00", "BGN")
    payment(ident("PAY-A2"), inv_a, "2026-01-12", "20.45", "EUR")
    # a payment corrected (v2 changes the amount; v1 arrives after it)
    pay_b = ident("PAY-B")
    payment(pay_b, inv_b, "2026-02-15", "25.00", "EUR", version=2)
    payment(pay_b, inv_b, "2026-02-15", "20.00", "EUR", version=1)
    # a payment for an invoice nobody has sent (valid: kept, would apply if it came)
    payment(ident("PAY-X"), ident("INV-NOPE"), "2026-02-20", "10.00", "EUR")
    # unknown product codes and group (valid: lines name their group)
    invoice(ident("INV-G"), "2026-02-11", by_id(c1), "EUR",
            [line(1, "ZZZ999", "1", "9.99", group="NEWGRP")], 1)
    # a valid order sent as a raw body (bytes), numbers as JSON numbers (int and float)
    feed.append(json.dumps({
        "specversion": "1.0", "id": new_id(), "source": "erp/test", "type": TYPE_ORDER,
        "time": "2026-02-12T09:00:00Z", "subject": ident("ORD-N"),
        "datacontenttype": "application/json",
        "data": {"orderId": ident("ORD-N"), "number": "ПР-N", "orderDate": "2026-02-12",
                 "client": by_id(c1), "currency": "EUR",
                 "lines": [{"lineId": "1", "productCode": "MLK002", "productGroupCode": "MLK",
                            "quantity": 3, "unit": "бр.", "netAmount": 12.5}],
                 "version": 1}}, ensure_ascii=False).encode())

    # -- amounts at the edge: which parse and which park -------------------------------------
    # "1e3" parses as a decimal: 1000 (accepted)
    invoice(ident("INV-1E3"), "2026-02-13", by_id(c0), "EUR", [line(1, "OLI001", "1", "1e3")], 1)
    # "-0.00" is zero, not negative (accepted, a line of nothing)
    invoice(ident("INV-NEG0"), "2026-02-13", by_id(c0), "EUR",
            [line(1, "OLI002", "1", "-0.00"), line(2, "OLI003", "2", "4.00")], 1)
    # 40 digits, but only two integer ones: 12.34 (accepted)
    invoice(ident("INV-LONG"), "2026-02-14", by_id(c0), "EUR",
            [line(1, "OLI004", "1", "12.34" + "0" * 36)], 1)
    # "NaN" as netAmount (parked)
    invoice(ident("INV-NAN"), "2026-02-16", by_id(c0), "EUR", [line(1, "OLI001", "1", "NaN")], 1)
    # "Infinity" as quantity (parked)
    invoice(ident("INV-INF"), "2026-02-16", by_id(c0), "EUR",
            [line(1, "OLI001", "Infinity", "1.00")], 1)
    # a 40-digit netAmount: does not fit NUMERIC(18,2) (parked)
    invoice(ident("INV-HUGE"), "2026-02-17", by_id(c0), "EUR",
            [line(1, "OLI001", "1", "1234567890" * 4)], 1)
    # a 17-digit BGN amount whose EUR value has 16 digits: the original does not fit (parked)
    invoice(ident("INV-HUGE-BGN"), "2025-10-17", by_id(c0), "BGN",
            [line(1, "OLI001", "1", "12000000000000000.00")], 1)
    # a 40-digit payment amount (parked)
    payment(ident("PAY-HUGE"), inv_a, "2026-01-13", "9" * 40, "EUR")

    # -- contract breaches (parked) ----------------------------------------------------------
    # a negative quantity
    invoice(ident("INV-NEGQ"), "2026-02-18", by_id(c0), "EUR", [line(1, "NAP001", "-2", "3.00")],
            1)
    # a negative netAmount on an order
    order(ident("ORD-NEGN"), "2026-02-18", by_id(c0), "EUR", [line(1, "NAP001", "2", "-3.00")], 1)
    # an unknown currency
    invoice(ident("INV-USD"), "2026-02-18", by_id(c0), "USD", [line(1, "NAP001", "2", "3.00")], 1)
    # a newer version of INV-A in USD: parked, so INV-A v1 stays (as if never sent)
    invoice(inv_a, "2025-11-14", by_id(c0), "USD", [line(1, "NAP001", "1", "1.00")], 7)
    # a missing field: an invoice without its number
    bad = invoice(ident("INV-NONUM"), "2026-02-19", by_id(c0), "EUR",
                  [line(1, "NAP001", "1", "1.00")], 1)
    del bad["data"]["number"]
    # a missing field: a line without productGroupCode
    bad = order(ident("ORD-NOGRP"), "2026-02-19", by_id(c0), "EUR",
                [line(1, "NAP001", "1", "1.00")], 1)
    del bad["data"]["lines"][0]["productGroupCode"]
    # a missing field: an invoice without totalGross
    bad = invoice(ident("INV-NOGROSS"), "2026-02-19", by_id(c0), "EUR",
                  [line(1, "NAP001", "1", "1.00")], 1)
    del bad["data"]["totalGross"]
    # not a date: 30 February
    invoice(ident("INV-BADDATE"), "2026-02-28", by_id(c0), "EUR",
            [line(1, "NAP001", "1", "1.00")], 1, issueDate="2026-02-30")
    # lines not a list
    bad = invoice(ident("INV-NOLINES"), "2026-02-19", by_id(c0), "EUR", [], 1)
    bad["data"]["lines"] = {"1": "NAP001"}
    # an unknown kind
    invoice(ident("INV-KIND"), "2026-02-19", by_id(c0), "EUR", [line(1, "NAP001", "1", "1.00")],
            1, kind="proforma")
    # a credit note that does not name the invoice it corrects
    invoice(ident("CN-ORPHAN"), "2026-02-19", by_id(c0), "EUR",
            [line(1, "NAP001", "1", "1.00")], 1, kind="credit_note")
    # versions that are not positive integers: a string, a boolean, zero
    invoice(ident("INV-V-STR"), "2026-02-19", by_id(c0), "EUR",
            [line(1, "NAP001", "1", "1.00")], "2")
    invoice(ident("INV-V-BOOL"), "2026-02-19", by_id(c0), "EUR",
            [line(1, "NAP001", "1", "1.00")], True)
    order(ident("ORD-V-0"), "2026-02-19", by_id(c0), "EUR", [line(1, "NAP001", "1", "1.00")], 0)
    # a payment without paidOn, one with a negative amount, one in USD
    bad = payment(ident("PAY-NODATE"), inv_a, "2026-01-14", "1.00", "EUR")
    del bad["data"]["paidOn"]
    payment(ident("PAY-NEG"), inv_a, "2026-01-14", "-1.00", "EUR")
    payment(ident("PAY-USD"), inv_a, "2026-01-14", "1.00", "USD")
    # a type that is not one of the six ERP types
    envelope("erp.sales.quote.sent", ident("Q-1"), {"quoteId": ident("Q-1"), "version": 1},
             "2026-02-19")
    # data that is not an object
    envelope(TYPE_INVOICE, ident("INV-LIST"), [1, 2, 3], "2026-02-19")
    # a parked message re-sent with the same envelope id (listed once)
    feed.append(json.loads(json.dumps(feed[-1])))

    # -- raw bodies that are not messages (parked) -------------------------------------------
    # not JSON at all
    feed.append(b"\x00\x01 this is not JSON {")
    # not UTF-8
    feed.append(b"\xff\xfe\xfa")
    # JSON, but not a CloudEvent (an object without specversion / id / source / type)
    feed.append(json.dumps({"hello": "world", "data": {"version": 1}}).encode())
    # JSON, but not an object
    feed.append(b"[1, 2, 3]")
    # a CloudEvent of another spec version (malformed for us)
    feed.append(json.dumps({"specversion": "0.3", "id": new_id(), "source": "erp/test",
                            "type": TYPE_PAYMENT, "data": {}}).encode())

    # -- volume ---------------------------------------------------------------------------------
    if big:
        # one invoice with 10,000 lines over 50 products of 5 groups
        groups = ("NAP", "BIR", "SNK", "SLD", "KAF")
        lines = [line(n, f"{groups[n % 5]}{n % 50:03d}", f"{1 + n % 7}",
                      f"{1 + n % 97}.{n % 100:02d}") for n in range(1, 10_001)]
        invoice(ident("INV-BIG"), "2026-02-20", by_id(c2), "EUR", lines, 1)
    return feed
