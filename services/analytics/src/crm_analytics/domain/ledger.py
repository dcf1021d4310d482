"""The ERP's messages (DESIGN §9) as values, checked against the contract, and what a document
adds to the monthly figures. Pure: no I/O.

:func:`read_message` turns a CloudEvent into an :class:`~crm_common.erp.catalogue.ErpProduct`,
a :class:`Document` or a :class:`Payment`, or raises
:class:`~crm_common.erp.contract.ContractError` with the reason when the message breaks the
contract in a way no retry can mend (a currency with no fixed rate to the euro, a negative
quantity, a missing field). Such a message is *parked* by the service: kept with its reason for
an operator, never applied, never retried. Products are read by the kit
(:func:`crm_common.erp.catalogue.parse_product`, shared with pricing); so are the version, the
currency and the conversion to euros (:mod:`crm_common.erp`).

:func:`contribution` is what a document, as it stands, adds to the figures of its client: by
month (orders by order date, invoices and credit notes by issue date) and by product group and
product. Applying a new version subtracts the old version's contribution and adds the new one's;
a cancelled or unmatched document contributes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from crm_common.erp.catalogue import PRODUCT_UPSERTED, ErpProduct, parse_product
from crm_common.erp.contract import ContractError, read_version
from crm_common.erp.money import EUR, read_currency, to_eur_cents

#: what NUMERIC(18, 2) and NUMERIC(18, 3) hold
MAX_AMOUNT = Decimal("9999999999999999.99")
MAX_QUANTITY = Decimal("999999999999999.999")
#: lines one document may carry (the ERP's own limit is far below this)
MAX_LINES = 100_000
#: the ledger's ``version`` columns are INTEGER
MAX_STORED_VERSION = 2**31 - 1

ORDER_CONFIRMED = "erp.sales.order.confirmed"
ORDER_CANCELLED = "erp.sales.order.cancelled"
INVOICE_POSTED = "erp.sales.invoice.posted"
INVOICE_CANCELLED = "erp.sales.invoice.cancelled"
PAYMENT_RECEIVED = "erp.sales.payment.received"
TYPES = (PRODUCT_UPSERTED, ORDER_CONFIRMED, ORDER_CANCELLED, INVOICE_POSTED, INVOICE_CANCELLED,
         PAYMENT_RECEIVED)

ORDER = "order"
INVOICE = "invoice"
CREDIT_NOTE = "credit_note"


@dataclass(slots=True)
class Line:
    line_id: str
    product_code: str
    product_group_code: str
    quantity: Decimal
    net_amount: Decimal
    net_amount_eur: Decimal

    def as_json(self) -> dict[str, str]:
        return {"lineId": self.line_id, "productCode": self.product_code,
                "productGroupCode": self.product_group_code, "quantity": str(self.quantity),
                "netAmount": str(self.net_amount), "netAmountEur": str(self.net_amount_eur)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Line:
        return cls(str(raw["lineId"]), str(raw["productCode"]), str(raw["productGroupCode"]),
                   Decimal(raw["quantity"]), Decimal(raw["netAmount"]),
                   Decimal(raw["netAmountEur"]))


@dataclass(frozen=True)
class Document:
    """An order, invoice or credit note at one version. ``doc_type`` is its id space (``order``
    or ``invoice``: credit notes share the invoices' ids), ``kind`` what it is."""

    doc_type: str
    erp_id: str
    kind: str
    number: str
    cancelled: bool
    doc_date: dt.date
    due_date: dt.date | None
    erp_client_id: str | None
    client_eik: str | None
    currency: str
    lines: tuple[Line, ...]
    gross_amount: Decimal | None
    credited_document_id: str | None
    order_id: str | None
    version: int
    notes: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.doc_type, self.erp_id)

    @property
    def status(self) -> str:
        if self.cancelled:
            return "cancelled"
        return "confirmed" if self.doc_type == ORDER else "posted"

    # the totals and the client's UUID are asked for several times per document
    @cached_property
    def net_amount(self) -> Decimal:
        return sum((line.net_amount for line in self.lines), Decimal(0))

    @cached_property
    def net_amount_eur(self) -> Decimal:
        return sum((line.net_amount_eur for line in self.lines), Decimal(0))

    @cached_property
    def quantity(self) -> Decimal:
        return sum((line.quantity for line in self.lines), Decimal(0))

    @property
    def gross_amount_eur(self) -> Decimal | None:
        return None if self.gross_amount is None else to_eur_cents(self.gross_amount, self.currency)

    def crm_client_uuid(self) -> uuid.UUID | None:
        """The CRM client id the ERP sent, when it is one (a UUID)."""
        return self._crm_client_uuid

    @cached_property
    def _crm_client_uuid(self) -> uuid.UUID | None:
        if self.erp_client_id is None:
            return None
        try:
            return uuid.UUID(self.erp_client_id)
        except ValueError:
            return None


@dataclass(frozen=True)
class Payment:
    payment_id: str
    document_id: str
    paid_on: dt.date
    amount: Decimal
    currency: str
    amount_eur: Decimal
    version: int


Message = ErpProduct | Document | Payment


# -- reading a message -------------------------------------------------------------------------


def read_message(envelope: Mapping[str, Any]) -> Message:
    """The ERP message ``envelope`` (a parsed CloudEvent) as a value; :class:`ContractError` when it
    breaks the contract."""
    type_ = envelope.get("type")
    data = envelope.get("data")
    if type_ not in TYPES:
        raise ContractError(f"type {type_!r} is not an ERP message this service reads")
    if not isinstance(data, dict):
        raise ContractError("data is not a JSON object")
    if type_ == PRODUCT_UPSERTED:
        return parse_product(data, max_version=MAX_STORED_VERSION)
    if type_ == PAYMENT_RECEIVED:
        return _payment(data)
    return _document(data, str(type_))


def _text(data: Mapping[str, Any], key: str, *, optional: bool = False,
          limit: int = 200) -> str | None:
    raw = data.get(key)
    if raw is None and optional:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise ContractError(f"{key} is missing or not a non-empty string")
    if len(raw) > limit:
        raise ContractError(f"{key} is longer than {limit} characters")
    if "\x00" in raw:
        raise ContractError(f"{key} contains a NUL character")
    return raw


def _code(value: Any) -> bool:
    """A product or group code as the ERP sends them (the common case, checked fast)."""
    return type(value) is str and 0 < len(value) <= 64 and value.strip() == value \
        and "\x00" not in value and value != ""


def _required(data: Mapping[str, Any], key: str, limit: int = 200) -> str:
    value = _text(data, key, limit=limit)
    assert value is not None
    return value


#: integer digits that fit NUMERIC(18, places), by places
_INTEGER_DIGITS = {2: 16, 3: 15}


def _plain(raw: str, places: int) -> bool:
    """Whether ``raw`` is a decimal string as the ERP sends them, read without further checks:
    digits (Unicode category Nd, as ``\\d`` and ``Decimal`` take them), at most 16 (15) before
    the point and ``places`` after it (the regex ``\\d{1,16}(?:\\.\\d{1,2})?\\Z``, faster)."""
    whole, point, fraction = raw.partition(".")
    return 0 < len(whole) <= _INTEGER_DIGITS[places] and whole.isdecimal() and (
        not point or (0 < len(fraction) <= places and fraction.isdecimal()))


def _decimal(raw: Any, what: str, *, maximum: Decimal, places: int) -> Decimal:
    if type(raw) is str and _plain(raw, places):
        return Decimal(raw)
    if isinstance(raw, str) and 0 < len(raw) <= 100:
        text = raw
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        text = str(raw)
    elif isinstance(raw, str):
        raise ContractError(f"{what} is not a decimal number of a sensible size")
    else:
        raise ContractError(f"{what} is not a decimal number: {raw!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ContractError(f"{what} is not a decimal number: {text.strip()[:40]!r}") from None
    if not value.is_finite():
        raise ContractError(f"{what} is not a finite number: {text!r}")
    if value < 0:
        raise ContractError(f"{what} is negative ({text}); the contract sends positive amounts and "
                       "quantities (a credit note reduces turnover)")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -places and value != round(value, places):
        raise ContractError(f"{what} has more than {places} decimal places: {text}")
    if value > maximum:
        raise ContractError(f"{what} is too large: {text}")
    return value + _ZERO  # normalises -0 to 0


_ZERO = Decimal(0)


def _amount(raw: Any, what: str) -> Decimal:
    return _decimal(raw, what, maximum=MAX_AMOUNT, places=2)


def _date(data: Mapping[str, Any], key: str, *, optional: bool = False) -> dt.date | None:
    raw = data.get(key)
    if raw is None and optional:
        return None
    if not isinstance(raw, str):
        raise ContractError(f"{key} is missing or not an ISO date")
    if not _ISO_DATE.match(raw):
        raise ContractError(f"{key} is not an ISO date (YYYY-MM-DD): {raw[:40]!r}")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ContractError(f"{key} is not a date of the calendar: {raw!r}") from None


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


def _version(data: Mapping[str, Any]) -> int:
    return read_version(data.get("version"), maximum=MAX_STORED_VERSION)


def _currency(data: Mapping[str, Any]) -> str:
    return read_currency(data.get("currency"))


def _client(data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    client = data.get("client")
    if not isinstance(client, dict):
        raise ContractError("client is missing or not an object")
    crm_id = _text(client, "id", optional=True, limit=64)
    eik = _text(client, "eik", optional=True, limit=32)
    if crm_id is None and eik is None:
        raise ContractError("client names neither a CRM id nor an EIK")
    return crm_id, eik


def _document(data: Mapping[str, Any], type_: str) -> Document:
    is_order = type_ in (ORDER_CONFIRMED, ORDER_CANCELLED)
    doc_type = ORDER if is_order else INVOICE
    erp_id = _required(data, "orderId" if is_order else "documentId", 64)
    kind = ORDER
    credited: str | None = None
    if not is_order:
        raw_kind = data.get("kind")
        if raw_kind not in (INVOICE, CREDIT_NOTE):
            raise ContractError(f"kind {raw_kind!r} is neither invoice nor credit_note")
        kind = str(raw_kind)
        if kind == CREDIT_NOTE:
            credited = _required(data, "creditedDocumentId", 64)
    currency = _currency(data)
    raw_lines = data.get("lines")
    if not isinstance(raw_lines, list):
        raise ContractError("lines is missing or not a list")
    if len(raw_lines) > MAX_LINES:
        raise ContractError(f"a document of {len(raw_lines)} lines is more than the {MAX_LINES} "
                            "read")
    lines: list[Line] = []
    seen: set[str] = set()
    net_sum = quantity_sum = _ZERO
    for index, raw in enumerate(raw_lines):
        if type(raw) is not dict:
            raise ContractError(f"lines[{index}] is not an object")
        line_id = raw.get("lineId")
        if type(line_id) is not str or not line_id or len(line_id) > 64:
            raise ContractError(f"lines[{index}].lineId is missing or not a string of at most 64 "
                           "characters")
        if line_id in seen:
            raise ContractError(f"lines[{index}].lineId {line_id!r} appears twice")
        seen.add(line_id)
        product = raw.get("productCode")
        if not _code(product):
            product = _required(raw, "productCode", 64)  # raises with the reason
        group = raw.get("productGroupCode")
        if not _code(group):
            group = _required(raw, "productGroupCode", 64)
        assert isinstance(product, str) and isinstance(group, str)
        raw_net = raw.get("netAmount")
        if type(raw_net) is str and _plain(raw_net, 2):  # at most 2 places: EUR as it is
            net = Decimal(raw_net)
            net_eur = net if currency == EUR else to_eur_cents(net, currency)
        else:
            net = _amount(raw_net, f"lines[{index}].netAmount")
            net_eur = to_eur_cents(net, currency)
        quantity = _decimal(raw.get("quantity"), f"lines[{index}].quantity",
                            maximum=MAX_QUANTITY, places=3)
        lines.append(Line(line_id, product, group, quantity, net, net_eur))
        net_sum += net
        quantity_sum += quantity
    if net_sum > MAX_AMOUNT or quantity_sum > MAX_QUANTITY:
        raise ContractError("the lines add up to more than an amount or quantity can hold "
                       "(16 integer digits)")
    gross = None if is_order else _amount(data.get("totalGross"), "totalGross")
    notes: list[str] = []
    if not is_order:
        total_net = _amount(data.get("totalNet"), "totalNet")
        if total_net != net_sum:
            notes.append(f"totalNet {total_net} differs from the sum of the lines")
    client_id, eik = _client(data)
    doc_date = _date(data, "orderDate" if is_order else "issueDate")
    assert doc_date is not None
    return Document(
        doc_type=doc_type, erp_id=erp_id, kind=kind, number=_required(data, "number", 64),
        cancelled=type_ in (ORDER_CANCELLED, INVOICE_CANCELLED), doc_date=doc_date,
        due_date=None if is_order else _date(data, "dueDate", optional=True),
        erp_client_id=client_id, client_eik=eik, currency=currency, lines=tuple(lines),
        gross_amount=gross, credited_document_id=credited,
        order_id=_text(data, "orderId", optional=True, limit=64) if not is_order else None,
        version=_version(data), notes=tuple(notes))


def _payment(data: Mapping[str, Any]) -> Payment:
    currency = _currency(data)
    amount = _amount(data.get("amount"), "amount")
    paid_on = _date(data, "paidOn")
    assert paid_on is not None
    return Payment(payment_id=_required(data, "paymentId", 64),
                   document_id=_required(data, "documentId", 64), paid_on=paid_on,
                   amount=amount, currency=currency, amount_eur=to_eur_cents(amount, currency),
                   version=_version(data))


# -- what a document adds to the figures ----------------------------------------------------------

#: the rollup columns, in the tables' order
FIGURE_COLUMNS = ("invoiced_net", "credited_net", "invoiced_quantity", "credited_quantity",
                  "ordered_net", "ordered_quantity")
COUNT_COLUMNS = ("invoices", "credit_notes", "orders")


#: every rollup column of ``turnover_monthly``; the items rollup has the first six
ALL_COLUMNS = (*FIGURE_COLUMNS, *COUNT_COLUMNS)
#: per kind: the indexes (in ALL_COLUMNS) of its net amount, quantity and count
_SLOTS = {INVOICE: (0, 2, 6), CREDIT_NOTE: (1, 3, 7), ORDER: (4, 5, 8)}

#: the deltas of one rollup row, in the order of ALL_COLUMNS (amounts EUR)
Delta = list


def _delta() -> list[Any]:
    return [Decimal(0)] * 6 + [0, 0, 0]


@dataclass
class Contribution:
    """Rollup deltas keyed by (client, month) and by (client, month, group, product); each a
    list in the order of :data:`ALL_COLUMNS`."""

    monthly: dict[tuple[uuid.UUID, dt.date], list[Any]] = field(default_factory=dict)
    items: dict[tuple[uuid.UUID, dt.date, str, str], list[Any]] = field(default_factory=dict)
    groups: dict[tuple[uuid.UUID, dt.date, str], list[Any]] = field(default_factory=dict)

    def add(self, client_id: uuid.UUID, document: Document | None, sign: int) -> None:
        """Add (``sign`` 1) or take away (−1) what ``document`` counts for ``client_id``."""
        if document is None or document.cancelled:
            return
        month = document.doc_date.replace(day=1)
        total = self.monthly.get((client_id, month))
        if total is None:
            total = self.monthly[(client_id, month)] = _delta()
        net_i, qty_i, count_i = _SLOTS[document.kind]
        total[count_i] += sign
        items, groups = self.items, self.groups
        net_sum = qty_sum = Decimal(0)
        for line in document.lines:
            key = (client_id, month, line.product_group_code, line.product_code)
            item = items.get(key)
            if item is None:
                item = items[key] = _delta()
            net, qty = line.net_amount_eur, line.quantity
            if sign < 0:
                net, qty = -net, -qty
            item[net_i] += net
            item[qty_i] += qty
            group_key = (client_id, month, line.product_group_code)
            group = groups.get(group_key)
            if group is None:
                group = groups[group_key] = _delta()
            group[net_i] += net
            group[qty_i] += qty
            net_sum += net
            qty_sum += qty
        total[net_i] += net_sum
        total[qty_i] += qty_sum

    def nonzero(self) -> tuple[list[tuple[tuple[uuid.UUID, dt.date], list[Any]]],
                               list[tuple[tuple[uuid.UUID, dt.date, str, str], list[Any]]],
                               list[tuple[tuple[uuid.UUID, dt.date, str], list[Any]]]]:
        """The deltas that change something, by month, item and group (the writer,
        ``crm_common.bulk``, locks their rows in key order)."""
        return ([(k, d) for k, d in self.monthly.items() if any(d)],
                [(k, d) for k, d in self.items.items() if any(d)],
                [(k, d) for k, d in self.groups.items() if any(d)])

    def clients(self) -> set[uuid.UUID]:
        return {client for client, _ in self.monthly}


def newest(messages: Iterable[Message]) -> list[Message]:
    """Of several messages about the same record, keep the highest version (first seen wins a
    tie: an equal version is a re-send)."""
    best: dict[tuple[str, str], Message] = {}
    for message in messages:
        key = _key(message)
        held = best.get(key)
        if held is None or message.version > held.version:
            best[key] = message
    return list(best.values())


def _key(message: Message) -> tuple[str, str]:
    if isinstance(message, ErpProduct):
        return ("product", message.code)
    if isinstance(message, Payment):
        return ("payment", message.payment_id)
    return message.key
