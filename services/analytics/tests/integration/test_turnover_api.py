"""The analytics GraphQL API as its users call it: ``Client.turnover`` and ``Client.salesMetrics``
through ``_entities``, ``ClientGroup.turnover``, ``Employee.portfolioTurnover``, the ``turnover``
report, ``topClients`` and ``salesDataAsOf``; the access rule of DESIGN §6 (owners, meeting
grants, managers); bad input; and the number of SQL statements a many-client request costs.

Every world is hand-made: ERP envelopes built here (``Feed``), client snapshots and meeting
events as the clients and activities services publish them, all dated relative to today (the
service reads the clock), with ids and product codes of their own so that worlds do not mix.
Expected figures are worked out by hand in the comments, or by ``tests/reference.py`` (the
independent computation), or — for ABC and RFM, which rank every client of the database — from
the raw ERP documents the ledger keeps, by the documented rules written out again here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from crm_common.testing import event_message

from .conftest import Publisher, Service, wait_until

pytestmark = pytest.mark.integration

D = Decimal
ZERO = Decimal(0)
CENT = Decimal("0.01")

# --------------------------------------------------------------------------------------------
# dates: everything is relative to the service's today (UTC)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def month(offset: int, day: int = 1) -> dt.date:
    """A day of the month ``offset`` months from the current one (0: this month)."""
    t = today()
    year, month0 = divmod(t.year * 12 + t.month - 1 + offset, 12)
    return dt.date(year, month0 + 1, day)


def month_end(offset: int) -> dt.date:
    return month(offset + 1) - dt.timedelta(days=1)


def days(n: int) -> dt.date:
    """``n`` days from today (negative: ago)."""
    return today() + dt.timedelta(days=n)


def label(day: dt.date) -> str:
    return f"{day:%Y-%m}"


# --------------------------------------------------------------------------------------------
# hand-made ERP feeds

Line = tuple[str, str, str, str]  # productCode, productGroupCode, quantity, netAmount

INVOICE, INVOICE_CANCELLED = "erp.sales.invoice.posted", "erp.sales.invoice.cancelled"
ORDER, ORDER_CANCELLED = "erp.sales.order.confirmed", "erp.sales.order.cancelled"
PAYMENT, PRODUCT = "erp.sales.payment.received", "erp.catalog.product.upserted"


@dataclass
class Feed:
    """ERP envelopes of one world; document ids and product codes end in the world's tag."""

    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:6].upper())
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    #: the envelopes' ``time`` (the watermark test uses a later one)
    time: dt.datetime = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0)
        - dt.timedelta(hours=1))
    count: int = 0

    def code(self, name: str) -> str:
        return f"{name}{self.tag}"

    def _id(self, kind: str) -> str:
        self.count += 1
        return f"{kind}-{self.tag}-{self.count}"

    def envelope(self, type_: str, subject: str, data: Any,
                 time: dt.datetime | None = None) -> dict[str, Any]:
        env = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "erp/test",
               "type": type_, "time": (time or self.time).isoformat().replace("+00:00", "Z"),
               "subject": subject, "datacontenttype": "application/json", "data": data}
        self.envelopes.append(env)
        return env

    def product(self, code: str, name: str, group: str, group_name: str,
                version: int = 1) -> None:
        self.envelope(PRODUCT, code, {
            "code": code, "name": name, "productGroup": {"code": group, "name": group_name},
            "unit": "бр.", "vatRate": "20", "active": True,
            "basePrice": {"amount": "1.00", "currency": "EUR"}, "version": version})

    def invoice(self, client: uuid.UUID | None, day: dt.date, lines: list[Line], *,
                kind: str = "invoice", credited: str | None = None, due: dt.date | None = None,
                currency: str = "EUR", version: int = 1, cancelled: bool = False,
                doc_id: str | None = None, eik: str | None = None,
                gross: str | None = None, time: dt.datetime | None = None) -> str:
        doc_id = doc_id or self._id("CN" if kind == "credit_note" else "INV")
        net = sum((D(line[3]) for line in lines), ZERO)
        data: dict[str, Any] = {
            "documentId": doc_id, "number": f"{uuid.uuid4().int % 10**10:010d}", "kind": kind,
            "issueDate": day.isoformat(),
            "dueDate": (due or day + dt.timedelta(days=30)).isoformat(),
            "client": {"id": str(client) if client else None, "eik": eik},
            "currency": currency, "lines": self._lines(lines),
            "totalNet": f"{net:.2f}",
            "totalGross": gross or f"{(net * D('1.2')).quantize(CENT, ROUND_HALF_UP):.2f}",
            "version": version}
        if credited is not None:
            data["creditedDocumentId"] = credited
        self.envelope(INVOICE_CANCELLED if cancelled else INVOICE, doc_id, data, time)
        return doc_id

    def credit_note(self, client: uuid.UUID, day: dt.date, lines: list[Line], credited: str,
                    **kw: Any) -> str:
        return self.invoice(client, day, lines, kind="credit_note", credited=credited, **kw)

    def order(self, client: uuid.UUID, day: dt.date, lines: list[Line], *, version: int = 1,
              cancelled: bool = False, doc_id: str | None = None) -> str:
        doc_id = doc_id or self._id("ORD")
        self.envelope(ORDER_CANCELLED if cancelled else ORDER, doc_id, {
            "orderId": doc_id, "number": f"ПР-{doc_id}", "orderDate": day.isoformat(),
            "client": {"id": str(client), "eik": None}, "currency": "EUR",
            "lines": [{**line, "unit": "бр."} for line in self._lines(lines)],
            "version": version})
        return doc_id

    def payment(self, doc_id: str, day: dt.date, amount: str, *, currency: str = "EUR",
                version: int = 1) -> str:
        pay_id = self._id("PAY")
        self.envelope(PAYMENT, pay_id, {"paymentId": pay_id, "documentId": doc_id,
                                        "paidOn": day.isoformat(), "amount": amount,
                                        "currency": currency, "version": version})
        return pay_id

    def sale(self, client: uuid.UUID, day: dt.date, group: str, net: str,
             quantity: str = "1") -> str:
        """An invoice of one line: product ``<group>-P`` of ``group``."""
        return self.invoice(client, day, [(f"{group}-P", group, quantity, net)])

    @staticmethod
    def _lines(lines: list[Line]) -> list[dict[str, Any]]:
        return [{"lineId": str(n), "productCode": p, "productGroupCode": g, "quantity": q,
                 "netAmount": a} for n, (p, g, q, a) in enumerate(lines, 1)]


async def ship(service: Service, publisher: Publisher, feed: Feed) -> None:
    """Publish the feed and wait until the service has handled every message of it."""
    for envelope in feed.envelopes:
        await publisher.erp_envelope(envelope)
    ids = sorted({e["id"] for e in feed.envelopes})

    async def handled() -> bool:
        rows = await service.sql("SELECT count(DISTINCT event_id) AS n FROM inbox "
                                 "WHERE event_id = ANY(:ids)", ids=ids)
        return bool(rows[0]["n"] == len(ids))
    await wait_until(handled, within=90)


@dataclass(frozen=True)
class ClientSpec:
    id: uuid.UUID
    owner: uuid.UUID | None = None
    group: uuid.UUID | None = None
    eik: str | None = None
    name: str = "Тракия Дистрибуция АД"
    term: int | None = 30


async def register(service: Service, publisher: Publisher, *specs: ClientSpec) -> None:
    """Publish the clients' snapshots as the clients service would; wait until kept."""
    for s in specs:
        await publisher.client(s.id, owner=s.owner, group=s.group, eik=s.eik, name=s.name,
                               term=s.term)
    ids = [s.id for s in specs]

    async def kept() -> bool:
        rows = await service.sql(
            "SELECT count(*) AS n FROM client_profiles p JOIN access_clients a "
            "USING (client_id) WHERE client_id = ANY(:ids)", ids=ids)
        return bool(rows[0]["n"] == len(ids))
    await wait_until(kept)


def new_eik() -> str:
    return f"{uuid.uuid4().int % 9 * 10**8 + 10**8 + uuid.uuid4().int % 10**8}"


async def meeting(service: Service, publisher: Publisher, *, meeting_id: uuid.UUID,
                  client: uuid.UUID, employee: uuid.UUID, starts: dt.datetime,
                  ends: dt.datetime, status: str = "scheduled", version: int = 1) -> None:
    """A meeting event as the activities service publishes it; wait until the grant is kept."""
    type_ = f"crm.activities.meeting.{status}"
    data: dict[str, Any] = {
        "meetingId": str(meeting_id), "clientId": str(client), "employeeId": str(employee),
        "startsAt": starts.isoformat(), "endsAt": ends.isoformat(), "status": status,
        "version": version, "purpose": "Представяне на новата гама", "place": None,
        "contactPersonIds": []}
    if status == "cancelled":
        data["reason"] = "Клиентът отложи"
    _, message = event_message(type_, str(meeting_id), data, source="crm/activities")
    await publisher.platform.publish(message, routing_key=type_)

    async def kept() -> bool:
        rows = await service.sql("SELECT version FROM access_meeting_grants "
                                 "WHERE meeting_id = :m", m=meeting_id)
        return bool(rows and rows[0]["version"] == version)
    await wait_until(kept)


# --------------------------------------------------------------------------------------------
# GraphQL helpers

FIG = ("turnover { amount currency } invoiced { amount currency } credited { amount } quantity "
       "invoices creditNotes ordered { amount } orderedQuantity orders")
YOY = f"previousYear {{ {FIG} }} change {{ amount currency }} changePercent quantityChange"
PERIOD = f"label from to figures {{ {FIG} }} yearOnYear {{ {YOY} }}"
ITEM = ("code name productGroupCode turnover { amount currency } quantity share trend "
        "yearOnYear { change { amount currency } changePercent "
        "previousYear { turnover { amount currency } } }")
TURNOVER = (f"from to currency granularity asOf total {{ {FIG} }} yearOnYear {{ {YOY} }} "
            f"periods {{ {PERIOD} }} rolling12Months {{ {PERIOD} }} trend "
            f"byProductGroup {{ {ITEM} }} byProduct {{ {ITEM} }}")
METRICS = ("asOf abc { class share cumulativeShare rank clients } "
           "rfm { recency frequency monetary score segment daysSinceLastInvoice } "
           "trend trendStrength payment { windowMonths invoicesDue paidWithinTerm "
           "paidWithinTermShare averageDaysLate maxDaysLate overdueAmount { amount currency } "
           "overdueInvoices paymentTermDays } stoppedProductGroups { code name } "
           "productGroupsPeersBuy { code name peerShare }")


def arguments(**values: Any) -> str:
    """GraphQL arguments: dates quoted, enums bare (``granularity="QUARTER"``)."""
    parts = []
    for name, value in values.items():
        if value is None:
            continue
        key = "from" if name == "from_" else name
        if isinstance(value, dt.date):
            parts.append(f'{key}: "{value.isoformat()}"')
        elif isinstance(value, str) and not value.isupper():
            parts.append(f'{key}: "{value}"')
        else:
            parts.append(f"{key}: {value}")
    return f"({', '.join(parts)})" if parts else ""


def entities_query(typename: str, fields: str) -> str:
    return (f"query($reps: [_Any!]!) {{ _entities(representations: $reps) {{ "
            f"... on {typename} {{ id {fields} }} }} }}")


async def entities(service: Service, token: str, typename: str, ids: list[Any],
                   fields: str) -> list[dict[str, Any]]:
    reps = [{"__typename": typename, "id": str(i) if isinstance(i, uuid.UUID) else i}
            for i in ids]
    data = await service.data(token, entities_query(typename, fields), {"reps": reps})
    return list(data["_entities"])


async def client_turnover(service: Service, token: str, client: Any, fields: str = TURNOVER,
                          **args: Any) -> dict[str, Any] | None:
    got = await entities(service, token, "Client", [client],
                         f"turnover{arguments(**args)} {{ {fields} }}")
    return got[0]["turnover"]


async def sales_metrics(service: Service, token: str, client: Any) -> dict[str, Any] | None:
    got = await entities(service, token, "Client", [client], f"salesMetrics {{ {METRICS} }}")
    return got[0]["salesMetrics"]


def money(value: dict[str, Any]) -> Decimal:
    assert value["currency"] == "EUR", value
    return D(value["amount"])


def figures(f: dict[str, Any]) -> dict[str, Any]:
    """A TurnoverFigures answer as Decimals and ints."""
    return {"turnover": D(f["turnover"]["amount"]), "invoiced": D(f["invoiced"]["amount"]),
            "credited": D(f["credited"]["amount"]), "quantity": D(f["quantity"]),
            "invoices": f["invoices"], "creditNotes": f["creditNotes"],
            "ordered": D(f["ordered"]["amount"]), "orderedQuantity": D(f["orderedQuantity"]),
            "orders": f["orders"]}


def want(**values: Any) -> dict[str, Any]:
    """Expected TurnoverFigures: zeros but for ``values``; turnover = invoiced − credited."""
    out: dict[str, Any] = {"invoiced": ZERO, "credited": ZERO, "quantity": ZERO, "invoices": 0,
                           "creditNotes": 0, "ordered": ZERO, "orderedQuantity": ZERO,
                           "orders": 0}
    out.update({k: D(v) if isinstance(v, (str, int)) and k not in (
        "invoices", "creditNotes", "orders") else v for k, v in values.items()})
    out["turnover"] = out["invoiced"] - out["credited"]
    return out


def from_reference(expected: Any, client: uuid.UUID, start: dt.date,
                   end: dt.date) -> dict[str, Any]:
    """Figures of the months start..end (both included) as the reference computes them."""
    total = {"invoiced": ZERO, "credited": ZERO, "quantity": ZERO, "invoices": 0,
             "creditNotes": 0, "ordered": ZERO, "orderedQuantity": ZERO, "orders": 0}
    first, last = start.replace(day=1), end.replace(day=1)
    for (c, m), f in expected.monthly.items():
        if c == str(client) and first <= m <= last:
            total["invoiced"] += f.invoiced_net
            total["credited"] += f.credited_net
            total["quantity"] += f.quantity
            total["invoices"] += f.invoices
            total["creditNotes"] += f.credit_notes
            total["ordered"] += f.ordered_net
            total["orderedQuantity"] += f.ordered_quantity
            total["orders"] += f.orders
    total["turnover"] = total["invoiced"] - total["credited"]
    return total


def shift_year(day: dt.date) -> dt.date:
    return day.replace(year=day.year - 1, day=1)


def calendar_buckets(start: dt.date, end: dt.date, span: int) -> list[tuple[str, dt.date,
                                                                           dt.date]]:
    """(label, first day, last day) of the calendar buckets of ``span`` months (1, 3, 6, 12)
    over the whole months start..end, clipped to them — written out independently."""
    out: list[tuple[str, dt.date, dt.date]] = []
    day = start.replace(day=1)
    while day <= end:
        index = (day.month - 1) // span
        name = {1: f"{day:%Y-%m}", 3: f"{day.year}-Q{index + 1}", 6: f"{day.year}-H{index + 1}",
                12: f"{day.year}"}[span]
        following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        last = following - dt.timedelta(days=1)
        if out and out[-1][0] == name:
            out[-1] = (name, out[-1][1], last)
        else:
            out.append((name, day, last))
        day = following
    return out


def bad_input(errors: list[dict[str, Any]], *words: str) -> None:
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT", errors
    for word in words:
        assert word in errors[0]["message"], errors


@contextlib.contextmanager
def counting_statements(service: Service) -> Iterator[list[str]]:
    """The SQL statements the service's GraphQL reads send (its reader: autocommit
    connections of its database) while the block runs. The service runs in this process, so a
    listener on the sync Engine class sees them."""
    database = sa.engine.make_url(service.database_url).database
    seen: list[str] = []

    def listen(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if (conn.engine.url.database == database
                and conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"):
            seen.append(statement)
    sa.event.listen(Engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        sa.event.remove(Engine, "before_cursor_execute", listen)


def forget_ranking(service: Service) -> None:
    """Drop the service's cached ABC/RFM ranking (kept 60 s per process) so that the next
    salesMetrics ranks the database as it is now."""
    assert service.server is not None
    service.server.lifespan.state["rankings"]._ranking = None


# --------------------------------------------------------------------------------------------
# the worlds


@dataclass
class History:
    """``main``: a rich history (see ``history``); ``fresh``: figures this year only, one
    invoice matched by EIK; ``empty``: a client with no figures. All three are ``owner``'s and
    in ``group``."""

    feed: Feed
    owner: uuid.UUID
    group: uuid.UUID
    main: uuid.UUID
    fresh: uuid.UUID
    empty: uuid.UUID
    eiks: dict[str, str | None]
    g1: str
    g2: str
    g3: str
    p1: str
    p2: str
    p3: str
    p4: str


@pytest.fixture(scope="module")
async def history(service: Service, publisher: Publisher) -> History:
    feed = Feed()
    owner, group = uuid.uuid4(), uuid.uuid4()
    main, fresh, empty = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    eiks: dict[str, str | None] = {str(main): new_eik(), str(fresh): new_eik(), str(empty): None}
    await register(service, publisher,
                   ClientSpec(main, owner, group, eiks[str(main)], "Главен Клиент ООД", 45),
                   ClientSpec(fresh, owner, group, eiks[str(fresh)], "Нов Клиент ЕООД"),
                   ClientSpec(empty, owner, group, None, "Празен Клиент АД"))
    g1, g2, g3 = feed.code("G1"), feed.code("G2"), feed.code("G3")
    p1, p2, p3, p4 = feed.code("P1"), feed.code("P2"), feed.code("P3"), feed.code("P4")
    # the catalogue names G1, G2 and P1-P3; G3 and P4 are never described
    feed.product(p1, "Газирана вода 0,5 л", g1, "Безалкохолни напитки")
    feed.product(p2, "Лимонада 1 л", g1, "Безалкохолни напитки")
    feed.product(p3, "Бисквити 200 г", g2, "Бисквити и вафли")
    # main, by month (0 = the current one): orders in the first month of last year's
    # period (−23) and just before it (−24)
    feed.order(main, month(-23, 15), [(p1, g1, "2", "10.00")])
    feed.order(main, month(-24, 15), [(p1, g1, "4", "40.00")])
    feed.invoice(main, month(-13, 10), [(p1, g1, "10", "100.00")])              # last year
    feed.invoice(main, month(-12, 10), [(p3, g2, "5", "50.00")])                # last year
    feed.invoice(main, month(-11, 5), [(p1, g1, "3", "150.00"), (p3, g2, "1", "50.00")])
    d = feed.invoice(main, month(-5, 7), [(p2, g1, "6", "300.00")])
    feed.credit_note(main, month(-4, 3), [(p2, g1, "1", "30.00")], credited=d)
    # BGN 391.17 = EUR 200.00 (391.17 / 1.95583 = 200.0020…)
    feed.invoice(main, month(-5, 20), [(p4, g3, "2", "391.17")], currency="BGN")
    # posted, then cancelled: counts for nothing
    g = feed.invoice(main, month(-2, 9), [(p1, g1, "9", "999.00")])
    feed.invoice(main, month(-2, 9), [(p1, g1, "9", "999.00")], doc_id=g, version=2,
                 cancelled=True)
    feed.order(main, month(-1, 4), [(p1, g1, "5", "500.00")])
    o = feed.order(main, month(-1, 6), [(p1, g1, "7", "77.00")])
    feed.order(main, month(-1, 6), [(p1, g1, "7", "77.00")], doc_id=o, version=2, cancelled=True)
    # v2 replaces v1's lines
    j = feed.invoice(main, month(0, 1), [(p3, g2, "3", "120.00")])
    feed.invoice(main, month(0, 1), [(p3, g2, "2", "80.00")], doc_id=j, version=2)
    # fresh: nothing a year ago; one invoice names it by EIK only
    feed.invoice(None, month(-3, 2), [(p1, g1, "1", "100.00")], eik=eiks[str(fresh)])
    feed.invoice(fresh, month(0, 1), [(p3, g2, "1", "50.00")])
    await ship(service, publisher, feed)
    return History(feed, owner, group, main, fresh, empty, eiks, g1, g2, g3, p1, p2, p3, p4)


@dataclass
class Trends:
    owner: uuid.UUID
    growing: uuid.UUID
    declining: uuid.UUID
    stable: uuid.UUID
    one_month: uuid.UUID
    group_code: str


@pytest.fixture(scope="module")
async def trends(service: Service, publisher: Publisher) -> Trends:
    """Over the 12 closed months (−12 … −1): ``growing`` 100, 200 … 1200; ``declining``
    1200 … 100 after a year of 2000 a month (−24 … −13), and 5000 in the current month (which
    is not closed, so the trend ignores it); ``stable`` 500 a month; ``one_month`` 300 in
    month −1 only."""
    feed = Feed()
    owner = uuid.uuid4()
    t = Trends(owner, uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), feed.code("T"))
    await register(service, publisher, *(ClientSpec(c, owner, name=n) for c, n in (
        (t.growing, "Растящ ООД"), (t.declining, "Падащ ООД"), (t.stable, "Стабилен ООД"),
        (t.one_month, "Еднократен ООД"))))
    code = t.group_code
    for i in range(12):  # i = 0 is month −12
        feed.sale(t.growing, month(i - 12, 10), code, f"{100 * (i + 1)}.00")
        feed.sale(t.declining, month(i - 12, 10), code, f"{1200 - 100 * i}.00")
        feed.sale(t.declining, month(i - 24, 10), code, "2000.00")
        feed.sale(t.stable, month(i - 12, 10), code, "500.00")
    feed.sale(t.declining, month(0, 1), code, "5000.00")
    feed.sale(t.one_month, month(-1, 10), code, "300.00")
    await ship(service, publisher, feed)
    return t


# --------------------------------------------------------------------------------------------
# 1. Client.turnover


async def test_client_turnover_totals_and_year_on_year(
        service: Service, history: History, reference: ModuleType) -> None:
    h = history
    manager = service.token("manager")
    got = await client_turnover(service, manager, h.main)
    assert got is not None
    # the default period: the 12 months ending with the current one
    assert got["from"] == month(-11).isoformat() and got["to"] == month_end(0).isoformat()
    assert got["currency"] == "EUR" and got["granularity"] == "MONTH"
    # by hand: invoiced 150 + 50 (−11) + 300 (−5) + 200 (BGN, −5) + 80 (v2, 0) = 780;
    # credited 30 (−4); quantity 3 + 1 + 6 + 2 + 2 − 1 = 13; the cancelled invoice and order
    # count for nothing, the confirmed order does
    expected = want(invoiced="780.00", credited="30.00", quantity="13", invoices=4,
                    creditNotes=1, ordered="500.00", orderedQuantity="5", orders=1)
    assert figures(got["total"]) == expected
    ref = reference.compute(h.feed.envelopes, h.eiks)
    assert from_reference(ref, h.main, month(-11), month(0)) == expected
    # a year earlier (−23 … −12): 100 + 50, and the order of −23
    yoy = got["yearOnYear"]
    assert figures(yoy["previousYear"]) == want(invoiced="150.00", quantity="15", invoices=2,
                                                ordered="10.00", orderedQuantity="2", orders=1)
    assert money(yoy["change"]) == D("600.00")
    assert D(yoy["changePercent"]) == D("400.0")
    assert D(yoy["quantityChange"]) == D("-2")
    assert got["total"]["turnover"]["currency"] == "EUR"

    # fresh has nothing a year earlier: the change is its turnover, the percentage null
    fresh = await client_turnover(service, manager, h.fresh)
    assert fresh is not None
    assert figures(fresh["total"]) == want(invoiced="150.00", quantity="2", invoices=2)
    assert figures(fresh["yearOnYear"]["previousYear"]) == want()
    assert money(fresh["yearOnYear"]["change"]) == D("150.00")
    assert fresh["yearOnYear"]["changePercent"] is None

    # any day of a month names the whole month
    part = await client_turnover(service, manager, h.main, f"from to total {{ {FIG} }} "
                                 "yearOnYear { changePercent }",
                                 from_=month(-5, 20), to=month(-4, 3))
    assert part is not None
    assert part["from"] == month(-5).isoformat() and part["to"] == month_end(-4).isoformat()
    assert figures(part["total"]) == want(invoiced="500.00", credited="30.00", quantity="7",
                                          invoices=2, creditNotes=1)
    assert part["yearOnYear"]["changePercent"] is None


async def test_client_turnover_periods_by_each_granularity(
        service: Service, history: History, reference: ModuleType) -> None:
    h = history
    manager = service.token("manager")
    ref = reference.compute(h.feed.envelopes, h.eiks)
    start, end = month(-13), month_end(0)  # 14 months: the buckets at both ends are clipped
    for granularity, span in (("MONTH", 1), ("QUARTER", 3), ("HALF_YEAR", 6), ("YEAR", 12)):
        got = await client_turnover(service, manager, h.main,
                                    f"granularity total {{ {FIG} }} periods {{ {PERIOD} }}",
                                    from_=month(-13, 28), to=today(), granularity=granularity)
        assert got is not None and got["granularity"] == granularity
        buckets = calendar_buckets(start, end, span)
        assert [(p["label"], p["from"], p["to"]) for p in got["periods"]] == [
            (name, first.isoformat(), last.isoformat()) for name, first, last in buckets], \
            granularity
        for p, (_name, first, last) in zip(got["periods"], buckets, strict=True):
            assert figures(p["figures"]) == from_reference(ref, h.main, first, last), p["label"]
            before = from_reference(ref, h.main, shift_year(first), shift_year(last))
            assert figures(p["yearOnYear"]["previousYear"]) == before, p["label"]
            assert money(p["yearOnYear"]["change"]) == \
                figures(p["figures"])["turnover"] - before["turnover"]
            if before["turnover"]:
                assert D(p["yearOnYear"]["changePercent"]) == (
                    (figures(p["figures"])["turnover"] - before["turnover"])
                    / abs(before["turnover"]) * 100).quantize(D("0.1"), ROUND_HALF_UP)
            else:
                assert p["yearOnYear"]["changePercent"] is None
        # the buckets add up to the total
        assert sum((figures(p["figures"])["turnover"] for p in got["periods"]), ZERO) == \
            figures(got["total"])["turnover"] == D("900.00")
    # a single month, by year: one bucket, clipped to that month
    one = await client_turnover(service, manager, h.main, "periods { label from to }",
                                from_=month(-5), to=month(-5, 28), granularity="YEAR")
    assert one is not None
    assert one["periods"] == [{"label": f"{month(-5).year}", "from": month(-5).isoformat(),
                               "to": month_end(-5).isoformat()}]


async def test_rolling_12_months_end_with_the_period(
        service: Service, history: History, reference: ModuleType) -> None:
    h = history
    ref = reference.compute(h.feed.envelopes, h.eiks)
    got = await client_turnover(service, service.token("manager"), h.main,
                                f"rolling12Months {{ {PERIOD} }}", from_=month(-4), to=month(-2))
    assert got is not None
    rolling = got["rolling12Months"]
    assert rolling["label"] == f"{label(month(-13))}..{label(month(-2))}"
    assert rolling["from"] == month(-13).isoformat()
    assert rolling["to"] == month_end(-2).isoformat()
    # 100 (−13) + 50 (−12) + 200 (−11) + 300 + 200 (−5) − 30 (−4)
    assert figures(rolling["figures"]) == from_reference(ref, h.main, month(-13), month(-2))
    assert figures(rolling["figures"])["turnover"] == D("820.00")
    # a year earlier (−25 … −14): the two orders
    assert figures(rolling["yearOnYear"]["previousYear"]) == want(
        ordered="50.00", orderedQuantity="6", orders=2)


async def test_by_product_group_and_by_product(service: Service, history: History) -> None:
    h = history
    got = await client_turnover(service, service.token("manager"), h.main,
                                f"byProductGroup {{ {ITEM} }} byProduct {{ {ITEM} }} "
                                f"g1: byProduct(productGroupCode: \"{h.g1}\") {{ {ITEM} }} "
                                f"top: byProduct(productGroupCode: \"{h.g1}\", first: 1) "
                                f"{{ code share }} one: byProductGroup(first: 1) {{ code }}")
    assert got is not None
    groups = got["byProductGroup"]
    # G1: 150 + 300 − 30 = 420 (a year earlier 100); G3: 200 (BGN; nothing a year earlier);
    # G2: 50 + 80 = 130 (a year earlier 50); of 750
    assert [(g["code"], money(g["turnover"]), D(g["share"])) for g in groups] == [
        (h.g1, D("420.00"), D("56.00")), (h.g3, D("200.00"), D("26.67")),
        (h.g2, D("130.00"), D("17.33"))]
    assert abs(sum((D(g["share"]) for g in groups), ZERO) - 100) <= D("0.05")
    # names from the catalogue's erp.catalog.product.upserted; G3 was never described
    assert [g["name"] for g in groups] == ["Безалкохолни напитки", None, "Бисквити и вафли"]
    assert [g["productGroupCode"] for g in groups] == [h.g1, h.g3, h.g2]
    assert [D(g["quantity"]) for g in groups] == [D("8"), D("2"), D("3")]
    yoy = {g["code"]: g["yearOnYear"] for g in groups}
    assert money(yoy[h.g1]["change"]) == D("320.00") and D(yoy[h.g1]["changePercent"]) == 320
    assert yoy[h.g3]["changePercent"] is None
    assert money(yoy[h.g2]["previousYear"]["turnover"]) == D("50.00")
    assert [g["code"] for g in got["one"]] == [h.g1]
    # by product: P2 270, P4 200, P1 150, P3 130; shares of the client's total (750)
    products = got["byProduct"]
    assert [(p["code"], money(p["turnover"]), D(p["share"])) for p in products] == [
        (h.p2, D("270.00"), D("36.00")), (h.p4, D("200.00"), D("26.67")),
        (h.p1, D("150.00"), D("20.00")), (h.p3, D("130.00"), D("17.33"))]
    assert [p["name"] for p in products] == ["Лимонада 1 л", None, "Газирана вода 0,5 л",
                                             "Бисквити 200 г"]
    assert [p["productGroupCode"] for p in products] == [h.g1, h.g3, h.g1, h.g2]
    # of one group: its products only, their share still of the client's total
    assert [(p["code"], D(p["share"])) for p in got["g1"]] == [(h.p2, D("36.00")),
                                                                (h.p1, D("20.00"))]
    assert got["top"] == [{"code": h.p2, "share": "36.00"}]
    # a group nobody bought: nothing
    none = await client_turnover(service, service.token("manager"), h.main,
                                 'byProduct(productGroupCode: "NO-SUCH-GROUP") { code }')
    assert none == {"byProduct": []}


async def test_trend_growing_declining_stable_and_not_enough_data(
        service: Service, trends: Trends) -> None:
    t = trends
    manager = service.token("manager")
    expected = {t.growing: ("GROWING", D("1.846")), t.declining: ("DECLINING", D("-1.846")),
                t.stable: ("STABLE", D("0.000")), t.one_month: ("NOT_ENOUGH_DATA", None)}
    got = await entities(service, manager, "Client", list(expected),
                         "turnover { trend byProductGroup { code trend } } "
                         "salesMetrics { trend trendStrength }")
    for entity, (client, (trend, strength)) in zip(got, expected.items(), strict=True):
        assert entity["id"] == str(client)
        assert entity["turnover"]["trend"] == trend, entity
        # a product group's trend is its own series; here each client has one group
        assert entity["turnover"]["byProductGroup"] == [{"code": t.group_code, "trend": trend}]
        assert entity["salesMetrics"]["trend"] == trend, entity
        if strength is None:
            assert entity["salesMetrics"]["trendStrength"] is None
        else:
            # 100 … 1200: slope 100 a month, mean 650: 100 × 12 / 650 = 1.846
            assert D(entity["salesMetrics"]["trendStrength"]) == strength
    # the trend of a period is that of the 12 closed months ending with it: up to −7 growing
    # has 6 months (enough), up to −8 only 5
    six = await client_turnover(service, manager, t.growing, "trend", to=month(-7))
    five = await client_turnover(service, manager, t.growing, "trend", to=month(-8))
    assert six == {"trend": "GROWING"} and five == {"trend": "NOT_ENOUGH_DATA"}
    # declining's previous year was bigger: its year on year is down by half
    dec = await client_turnover(service, manager, t.declining,
                                f"total {{ {FIG} }} yearOnYear {{ {YOY} }}")
    assert dec is not None
    assert figures(dec["total"])["turnover"] == D("11600.00")  # 1100 … 100, and 5000
    assert money(dec["yearOnYear"]["previousYear"]["turnover"]) == D("23200.00")
    assert D(dec["yearOnYear"]["changePercent"]) == D("-50.0")


# --------------------------------------------------------------------------------------------
# 2. Client.salesMetrics


@dataclass
class Ranked:
    clients: list[uuid.UUID]  # biggest first
    orders_only: uuid.UUID
    old_only: uuid.UUID


@pytest.fixture(scope="module")
async def ranked(service: Service, publisher: Publisher) -> Ranked:
    """Ten clients with 40,000 … 1,000 of turnover in the rolling 12 months, 1–4 invoices each,
    the last k × 10 days ago; one with only an order in the window (and an invoice 14 months
    ago); one with only an invoice 13 months ago."""
    feed = Feed()
    owner = uuid.uuid4()
    clients = [uuid.uuid4() for _ in range(10)]
    orders_only, old_only = uuid.uuid4(), uuid.uuid4()
    await register(service, publisher, *(ClientSpec(c, owner) for c in
                                         [*clients, orders_only, old_only]))
    code = feed.code("R")
    turnovers = [40000, 20000, 10000, 8000, 6000, 5000, 4000, 3000, 2000, 1000]
    for k, (client, total) in enumerate(zip(clients, turnovers, strict=True)):
        n = k % 4 + 1
        part = (D(total) / n).quantize(CENT)
        for j in range(n):
            amount = part if j < n - 1 else D(total) - part * (n - 1)
            feed.sale(client, days(-10 * k - 7 * j - 1), code, f"{amount:.2f}")
    feed.order(orders_only, month(-2, 3), [(f"{code}-P", code, "1", "10.00")])
    feed.sale(orders_only, month(-14, 3), code, "70.00")
    feed.sale(old_only, month(-13, 3), code, "90.00")
    await ship(service, publisher, feed)
    return Ranked(clients, orders_only, old_only)


def rfm_segment(r: int, fm: int) -> str:
    """The grid of docs/analytics.md (metrics.rfm_scores), written out as a table."""
    grid = {
        "Champions": [(5, 4), (5, 5), (4, 5)], "Loyal customers": [(4, 4), (3, 4), (3, 5)],
        "Potential loyalists": [(4, 2), (4, 3), (5, 2), (5, 3)], "New customers": [(5, 1)],
        "Promising": [(4, 1)], "Needs attention": [(3, 2), (3, 3)], "About to sleep": [(3, 1)],
        "At risk": [(1, 3), (1, 4), (2, 3), (2, 4)], "Can't lose them": [(1, 5), (2, 5)],
        "Hibernating": [(2, 1), (2, 2)], "Lost": [(1, 1), (1, 2)]}
    return next(name for name, cells in grid.items() if (r, fm) in cells)


def quintiles(values: dict[str, Any], best_high: bool) -> dict[str, int]:
    """Score 5 − ⌊5 × (rank − 1) / N⌋, rank 1 the best, equal values sharing the first rank."""
    ordered = sorted(values, key=lambda k: values[k], reverse=best_high)
    out: dict[str, int] = {}
    for key in ordered:
        first = next(i for i, k in enumerate(ordered) if values[k] == values[key])
        out[key] = 5 - (5 * first) // len(ordered)
    return out


async def expected_ranking(service: Service) -> tuple[dict[str, Any], dict[str, Any]]:
    """ABC and RFM of every client of the database by the documented rules, written out again:
    from each client's monthly figures of the rolling 12 months (every client with figures
    there is ranked) and the date of its latest posted invoice."""
    start, end = month(-11), month_end(0)
    rows = await service.sql(
        "SELECT client_id::text AS c, sum(invoiced_net - credited_net) AS turnover, "
        "sum(invoices) AS invoices FROM turnover_monthly WHERE month BETWEEN :s AND :e "
        "GROUP BY client_id", s=start, e=end)
    members = {r["c"] for r in rows}
    turnover = {r["c"]: D(r["turnover"]) for r in rows}
    invoices = {r["c"]: int(r["invoices"]) for r in rows}
    last = {r["c"]: r["last"] for r in await service.sql(
        "SELECT client_id::text AS c, max(doc_date) AS last FROM erp_documents "
        "WHERE kind = 'invoice' AND status = 'posted' AND client_id IS NOT NULL GROUP BY 1")}
    # ABC: biggest first (ties by id); A while the share before the client is below 80 %,
    # B below 95 %; 0 or less is C
    total = sum((v for v in turnover.values() if v > 0), ZERO)
    abc: dict[str, Any] = {}
    running = ZERO
    for rank, c in enumerate(sorted(turnover, key=lambda k: (-turnover[k], k)), 1):
        value = turnover[c]
        if value <= 0:
            abc[c] = ("C", ZERO, D(100) if total else ZERO, rank)
            continue
        klass = "A" if running * 100 < 80 * total else "B" if running * 100 < 95 * total \
            else "C"
        running += value
        abc[c] = (klass, (value / total * 100).quantize(CENT, ROUND_HALF_UP),
                  (running / total * 100).quantize(CENT, ROUND_HALF_UP), rank)
    # RFM among the clients with an invoice ever and an invoice or turnover in the window
    scored = [c for c in members if c in last and not (turnover[c] <= 0 and invoices[c] == 0)]
    recency_days = {c: max(0, (today() - last[c]).days) for c in scored}
    r = quintiles(recency_days, best_high=False)
    f = quintiles({c: invoices[c] for c in scored}, best_high=True)
    m = quintiles({c: turnover[c] for c in scored}, best_high=True)
    rfm = {c: (r[c], f[c], m[c], rfm_segment(r[c], (f[c] + m[c] + 1) // 2), recency_days[c])
           for c in scored}
    return abc, {"ranked": len(members), **rfm}


async def test_abc_and_rfm_rank_every_client_of_the_database(
        service: Service, ranked: Ranked, history: History, trends: Trends) -> None:
    forget_ranking(service)
    manager = service.token("manager")
    got = await entities(service, manager, "Client",
                         [*ranked.clients, ranked.orders_only, ranked.old_only],
                         f"salesMetrics {{ {METRICS} }}")
    abc, rfm = await expected_ranking(service)
    for entity in got[:10]:
        metrics = entity["salesMetrics"]
        klass, share, cumulative, rank = abc[entity["id"]]
        assert metrics["abc"] == {"class": klass, "share": f"{share:.2f}",
                                  "cumulativeShare": f"{cumulative:.2f}", "rank": rank,
                                  "clients": rfm["ranked"]}, entity["id"]
        r, f, m, segment, since = rfm[entity["id"]]
        assert metrics["rfm"] == {"recency": r, "frequency": f, "monetary": m,
                                  "score": f"{r}{f}{m}", "segment": segment,
                                  "daysSinceLastInvoice": since}, entity["id"]
    # the ten in turnover order, ranks strictly rising
    ranks = [e["salesMetrics"]["abc"]["rank"] for e in got[:10]]
    assert ranks == sorted(ranks) and len(set(ranks)) == 10
    assert got[0]["salesMetrics"]["abc"]["class"] == "A"
    assert got[0]["salesMetrics"]["rfm"]["daysSinceLastInvoice"] == 1
    # orders only in the window: ranked last-ish as C with no share, not RFM-scored
    orders_only = got[10]["salesMetrics"]
    assert orders_only["abc"]["class"] == "C" and D(orders_only["abc"]["share"]) == 0
    assert orders_only["rfm"] is None
    # nothing in the window: neither
    assert got[11]["salesMetrics"]["abc"] is None and got[11]["salesMetrics"]["rfm"] is None


async def test_the_ranking_is_reused_for_a_minute(
        service: Service, publisher: Publisher, ranked: Ranked) -> None:
    manager = service.token("manager")
    forget_ranking(service)
    before = await sales_metrics(service, manager, ranked.clients[0])
    assert before is not None and before["abc"]["rank"] >= 1
    # a new biggest client appears; the cached ranking does not know it yet …
    feed = Feed()
    newcomer = uuid.uuid4()
    await register(service, publisher, ClientSpec(newcomer))
    feed.sale(newcomer, days(-1), feed.code("N"), "10000000.00")
    await ship(service, publisher, feed)
    cached = await sales_metrics(service, manager, newcomer)
    assert cached is not None and cached["abc"] is None
    again = await sales_metrics(service, manager, ranked.clients[0])
    assert again is not None and again["abc"] == before["abc"]
    # … a fresh ranking does
    forget_ranking(service)
    fresh = await sales_metrics(service, manager, newcomer)
    assert fresh is not None and fresh["abc"]["rank"] == 1 and fresh["abc"]["class"] == "A"
    assert fresh["abc"]["clients"] == before["abc"]["clients"] + 1


async def test_payment_behaviour(service: Service, publisher: Publisher) -> None:
    feed = Feed()
    payer = uuid.uuid4()
    await register(service, publisher, ClientSpec(payer, term=45))
    code = feed.code("PB")

    def invoice(issued: int, due: int, net: str, gross: str) -> str:
        return feed.invoice(payer, days(issued), [(f"{code}-P", code, "1", net)],
                            due=days(due), gross=gross)
    a = invoice(-70, -40, "100.00", "120.00")      # paid 5 days before it was due
    feed.payment(a, days(-45), "120.00")
    b = invoice(-50, -20, "200.00", "240.00")      # paid in two parts, the last 5 days late
    feed.payment(b, days(-25), "100.00")
    feed.payment(b, days(-15), "140.00")
    c = invoice(-40, -10, "300.00", "360.00")      # 60 paid; 300 outstanding, 10 days late
    feed.payment(c, days(-12), "60.00")
    feed.payment(c, days(3), "300.00")             # dated after today: not yet
    invoice(-5, 25, "50.00", "60.00")              # not due yet
    e = invoice(-430, -400, "500.00", "600.00")    # due over a year ago: 500 still overdue
    feed.payment(e, days(-390), "100.00")
    f = invoice(-60, -30, "400.00", "480.00")      # credited in full: nothing due
    feed.credit_note(payer, days(-55), [(f"{code}-P", code, "1", "400.00")], credited=f,
                     gross="480.00")
    h = invoice(-35, -5, "100.00", "120.00")       # 3 cents short: within the tolerance
    feed.payment(h, days(-6), "119.97")
    await ship(service, publisher, feed)
    metrics = await sales_metrics(service, service.token("manager"), payer)
    assert metrics is not None
    # due in the last 12 months: a, b, c, h; within term a and h; days late 0, 5, 10, 0
    assert metrics["payment"] == {
        "windowMonths": 12, "invoicesDue": 4, "paidWithinTerm": 2,
        "paidWithinTermShare": "50.00", "averageDaysLate": "3.8", "maxDaysLate": 10,
        # c 300 + e 500 + h 0.03 (outstanding, but within the tolerance: not counted as an
        # overdue invoice)
        "overdueAmount": {"amount": "800.03", "currency": "EUR"}, "overdueInvoices": 2,
        "paymentTermDays": 45}


async def test_stopped_product_groups(service: Service, publisher: Publisher) -> None:
    """Bought in months −3 … −8, not in 0 … −2."""
    feed = Feed()
    client = uuid.uuid4()
    await register(service, publisher, ClientSpec(client))
    s1, s2, s3, s4, s5, s6 = (feed.code(f"S{i}") for i in range(1, 7))
    feed.product(f"{s1}-P", "Кафе на зърна 1 кг", s1, "Кафе и чай")
    feed.sale(client, month(-3, 5), s1, "100.00")   # the last month of the earlier six
    feed.sale(client, month(-8, 5), s2, "100.00")   # the first of them
    feed.sale(client, month(-9, 5), s3, "100.00")   # before them: not "stopped"
    feed.sale(client, month(-4, 5), s4, "100.00")   # still bought in −2
    feed.sale(client, month(-2, 5), s4, "100.00")
    x = feed.sale(client, month(-5, 5), s5, "100.00")  # credited in full: never bought
    feed.credit_note(client, month(-5, 9), [(f"{s5}-P", s5, "1", "100.00")], credited=x)
    feed.sale(client, month(-6, 5), s6, "100.00")   # bought again this month
    feed.sale(client, month(0, 1), s6, "100.00")
    await ship(service, publisher, feed)
    metrics = await sales_metrics(service, service.token("manager"), client)
    assert metrics is not None
    assert metrics["stoppedProductGroups"] == [{"code": s1, "name": "Кафе и чай"},
                                               {"code": s2, "name": None}]


async def test_product_groups_peers_buy(service: Service, publisher: Publisher) -> None:
    feed = Feed()
    group, other_group = uuid.uuid4(), uuid.uuid4()
    me, p1, p2, p3, idle, outsider = (uuid.uuid4() for _ in range(6))
    await register(service, publisher, *(ClientSpec(c, group=group)
                                         for c in (me, p1, p2, p3, idle)),
                   ClientSpec(outsider, group=other_group))
    q1, q2, q3, q4, q5 = (feed.code(f"Q{i}") for i in range(1, 6))
    feed.product(f"{q2}-P", "Паста за зъби", q2, "Козметика")
    feed.sale(me, month(-2, 3), q1, "10.00")
    for group_code in (q1, q2, q3):
        feed.sale(p1, month(-3, 3), group_code, "10.00")
    feed.sale(p2, month(-1, 3), q2, "10.00")
    feed.sale(p2, month(-1, 3), q3, "10.00")
    feed.sale(p3, month(-11, 3), q2, "10.00")       # the first month of the rolling 12
    feed.sale(idle, month(-12, 3), q4, "10.00")     # before them: not a buyer
    feed.sale(outsider, month(-1, 3), q5, "10.00")  # another group
    await ship(service, publisher, feed)
    metrics = await sales_metrics(service, service.token("manager"), me)
    assert metrics is not None
    # of the 3 peers who bought anything: q2 all three, q3 two; q1 is mine already
    assert metrics["productGroupsPeersBuy"] == [
        {"code": q2, "name": "Козметика", "peerShare": "1.00"},
        {"code": q3, "name": None, "peerShare": "0.67"}]
    assert metrics["stoppedProductGroups"] == []


# --------------------------------------------------------------------------------------------
# 3. groups, portfolios, the turnover report, top lists, the watermark


async def test_client_group_and_portfolio_turnover(service: Service, history: History) -> None:
    h = history
    manager = service.token("manager")
    fields = (f"turnover {{ from to total {{ {FIG} }} "
              "byProductGroup { code turnover { amount } } }")
    group = await entities(service, manager, "ClientGroup", [h.group], fields)
    assert group[0]["id"] == str(h.group)
    # main 750 + fresh 150 + empty 0
    assert figures(group[0]["turnover"]["total"]) == want(
        invoiced="930.00", credited="30.00", quantity="15", invoices=6, creditNotes=1,
        ordered="500.00", orderedQuantity="5", orders=1)
    assert [(g["code"], g["turnover"]["amount"]) for g in group[0]["turnover"]["byProductGroup"]
            ] == [(h.g1, "520.00"), (h.g3, "200.00"), (h.g2, "180.00")]
    portfolio = await entities(service, manager, "Employee", [h.owner],
                               f"portfolioTurnover {{ total {{ {FIG} }} }}")
    assert portfolio[0]["portfolioTurnover"]["total"] == group[0]["turnover"]["total"]
    # a group or employee with nothing: zeros; a malformed id: null
    nobody = await entities(service, manager, "Employee", [uuid.uuid4(), "not-an-id"],
                            "portfolioTurnover { total { turnover { amount } invoices } }")
    assert nobody[0]["portfolioTurnover"]["total"] == {"turnover": {"amount": "0.00"},
                                                       "invoices": 0}
    assert nobody[1]["portfolioTurnover"] is None
    bad_group = await entities(service, manager, "ClientGroup", ["42"], "turnover { from }")
    assert bad_group[0]["turnover"] is None


REPORT = (f"asOf from to groupBy totalRows summary {{ total {{ {FIG} }} }} rows {{ key name "
          f"client {{ id }} clientGroup {{ id }} owner {{ id }} figures {{ {FIG} }} "
          f"yearOnYear {{ change {{ amount }} changePercent }} share }}")


async def report(service: Service, token: str, **args: Any) -> dict[str, Any]:
    filter_ = args.pop("filter", None)
    text = arguments(**args)
    if filter_ is not None:
        inner = ", ".join(f"{k}: [{', '.join(chr(34) + str(i) + chr(34) for i in v)}]"
                          for k, v in filter_.items())
        text = f"(filter: {{ {inner} }}{', ' + text[1:-1] if text else ''})"
    data = await service.data(token, f"{{ turnover{text} {{ {REPORT} }} }}")
    return dict(data["turnover"])


async def test_turnover_report_by_each_grouping(
        service: Service, history: History, trends: Trends) -> None:
    h, t = history, trends
    manager = service.token("manager")
    pair = {"clientIds": [h.main, h.fresh]}
    by_client = await report(service, manager, filter=pair)
    assert by_client["groupBy"] == "CLIENT" and by_client["totalRows"] == 2
    assert by_client["from"] == month(-11).isoformat() and by_client["to"] == \
        month_end(0).isoformat()
    assert [(r["key"], r["name"], r["client"], money(r["figures"]["turnover"]), r["share"])
            for r in by_client["rows"]] == [
        (str(h.main), "Главен Клиент ООД", {"id": str(h.main)}, D("750.00"), "83.33"),
        (str(h.fresh), "Нов Клиент ЕООД", {"id": str(h.fresh)}, D("150.00"), "16.67")]
    assert by_client["rows"][0]["yearOnYear"] == {"change": {"amount": "600.00"},
                                                  "changePercent": "400.0"}
    assert figures(by_client["summary"]["total"])["turnover"] == D("900.00")
    # first: the rows cut, totalRows and the summary not
    first = await report(service, manager, filter=pair, first=1)
    assert [r["key"] for r in first["rows"]] == [str(h.main)] and first["totalRows"] == 2
    assert first["summary"] == by_client["summary"]

    by_group = await report(service, manager, filter={"clientGroupIds": [h.group]},
                            groupBy="CLIENT_GROUP")
    assert [(r["key"], r["clientGroup"], r["client"], r["figures"]["turnover"]["amount"])
            for r in by_group["rows"]] == [(str(h.group), {"id": str(h.group)}, None, "900.00")]
    # clients without a group make one row of their own
    mixed = await report(service, manager, filter={"clientIds": [h.main, t.growing]},
                         groupBy="CLIENT_GROUP")
    assert [(r["key"], r["clientGroup"], r["figures"]["turnover"]["amount"], r["share"])
            for r in mixed["rows"]] == [("none", None, "7700.00", "91.12"),
                                        (str(h.group), {"id": str(h.group)}, "750.00", "8.88")]
    by_owner = await report(service, manager, filter={"ownerIds": [h.owner, t.owner]},
                            groupBy="OWNER")
    # trends' owner: growing 7700 + declining 11600 + stable 5500 + one month 300
    assert [(r["key"], r["owner"], r["figures"]["turnover"]["amount"])
            for r in by_owner["rows"]] == [(str(t.owner), {"id": str(t.owner)}, "25100.00"),
                                           (str(h.owner), {"id": str(h.owner)}, "900.00")]
    assert by_owner["summary"]["total"]["turnover"]["amount"] == "26000.00"
    # the lists of a filter must all match: main is in both, growing only in one
    both = await report(service, manager,
                        filter={"clientIds": [h.main, t.growing], "ownerIds": [h.owner]})
    assert [r["key"] for r in both["rows"]] == [str(h.main)]

    by_product_group = await report(service, manager, filter={"clientIds": [h.main]},
                                    groupBy="PRODUCT_GROUP")
    assert [(r["key"], r["name"], r["figures"]["turnover"]["amount"], r["share"])
            for r in by_product_group["rows"]] == [
        (h.g1, "Безалкохолни напитки", "420.00", "56.00"), (h.g3, None, "200.00", "26.67"),
        (h.g2, "Бисквити и вафли", "130.00", "17.33")]
    by_product = await report(service, manager, filter={"clientIds": [h.main]},
                              groupBy="PRODUCT", first=2)
    assert [(r["key"], r["name"]) for r in by_product["rows"]] == [(h.p2, "Лимонада 1 л"),
                                                                   (h.p4, None)]
    assert by_product["totalRows"] == 4

    by_month = await report(service, manager, filter={"clientIds": [h.main]}, groupBy="MONTH")
    assert [r["key"] for r in by_month["rows"]] == [label(month(i)) for i in range(-11, 1)]
    amounts = {r["key"]: r["figures"]["turnover"]["amount"] for r in by_month["rows"]}
    assert amounts[label(month(-11))] == "200.00" and amounts[label(month(-5))] == "500.00"
    assert amounts[label(month(-4))] == "-30.00" and amounts[label(month(0))] == "80.00"
    assert amounts[label(month(-2))] == "0.00"
    assert by_month["totalRows"] == 12


async def test_top_clients_by_turnover_growth_and_decline(
        service: Service, history: History, trends: Trends) -> None:
    h, t = history, trends
    manager = service.token("manager")
    ids = ", ".join(f'"{c}"' for c in (t.growing, t.declining, t.stable, h.main, h.fresh))
    query = ("query($by: ClientRankingBy!, $first: Int!) { topClients(by: $by, first: $first, "
             f"filter: {{ clientIds: [{ids}] }}) {{ rank client {{ id }} turnover {{ amount }} "
             "previousYearTurnover { amount } change { amount } changePercent } }")

    async def top(by: str, first: int = 10) -> list[tuple[Any, ...]]:
        data = await service.data(manager, query, {"by": by, "first": first})
        return [(r["rank"], r["client"]["id"], r["turnover"]["amount"],
                 r["previousYearTurnover"]["amount"], r["change"]["amount"], r["changePercent"])
                for r in data["topClients"]]
    # this year against last: declining 11600 / 23200, growing 7700 / 100, stable 5500 / 500,
    # main 750 / 150, fresh 150 / 0
    assert await top("TURNOVER") == [
        (1, str(t.declining), "11600.00", "23200.00", "-11600.00", "-50.0"),
        (2, str(t.growing), "7700.00", "100.00", "7600.00", "7600.0"),
        (3, str(t.stable), "5500.00", "500.00", "5000.00", "1000.0"),
        (4, str(h.main), "750.00", "150.00", "600.00", "400.0"),
        (5, str(h.fresh), "150.00", "0.00", "150.00", None)]
    assert [r[1] for r in await top("TURNOVER", 2)] == [str(t.declining), str(t.growing)]
    # growth lists the clients that grew, decline those that declined
    assert [r[1] for r in await top("GROWTH")] == [str(t.growing), str(t.stable), str(h.main),
                                                    str(h.fresh)]
    assert [(r[0], r[1]) for r in await top("DECLINE")] == [(1, str(t.declining))]


async def test_sales_data_as_of_is_the_latest_envelope_applied(
        service: Service, publisher: Publisher) -> None:
    feed = Feed()
    client = uuid.uuid4()
    await register(service, publisher, ClientSpec(client))
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=10)
    feed.sale(client, days(-1), feed.code("W"), "1.00")
    feed.envelopes[-1]["time"] = moment.isoformat().replace("+00:00", "Z")
    # a later message that is parked (a currency nobody uses) is not "applied"
    feed.invoice(client, days(-1), [("X", "X", "1", "1.00")], currency="USD",
                 time=moment + dt.timedelta(minutes=5))
    await ship(service, publisher, feed)
    token = service.token("manager")
    data = await service.data(token, "{ salesDataAsOf }")
    assert dt.datetime.fromisoformat(data["salesDataAsOf"]) == moment
    # the same watermark on every answer
    got = await entities(service, token, "Client", [client],
                         "turnover { asOf } salesMetrics { asOf }")
    assert dt.datetime.fromisoformat(got[0]["turnover"]["asOf"]) == moment
    assert dt.datetime.fromisoformat(got[0]["salesMetrics"]["asOf"]) == moment
    rep = await report(service, token, filter={"clientIds": [client]})
    assert dt.datetime.fromisoformat(rep["asOf"]) == moment


# --------------------------------------------------------------------------------------------
# 4. who may see what (DESIGN §6)


async def test_a_rep_sees_own_and_met_clients_only(
        service: Service, publisher: Publisher) -> None:
    feed = Feed()
    rep, colleague, group = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    mine1, mine2, theirs1, theirs2 = (uuid.uuid4() for _ in range(4))
    await register(service, publisher, ClientSpec(mine1, rep, group, name="Мой Първи ООД"),
                   ClientSpec(mine2, rep, name="Мой Втори ООД"),
                   ClientSpec(theirs1, colleague, group, name="Чужд Първи ООД"),
                   ClientSpec(theirs2, colleague, name="Чужд Втори ООД"))
    code = feed.code("A")
    for client, amount in ((mine1, "100.00"), (mine2, "200.00"), (theirs1, "400.00"),
                           (theirs2, "800.00")):
        feed.sale(client, month(-1, 5), code, amount)
    await ship(service, publisher, feed)
    as_rep, manager = service.token("sales_rep", rep), service.token("manager")
    everyone = [mine1, mine2, theirs1, theirs2]
    fields = "turnover { total { turnover { amount } } } salesMetrics { trend }"

    async def visible(token: str) -> list[str | None]:
        got = await entities(service, token, "Client", everyone, fields)
        return [e["turnover"]["total"]["turnover"]["amount"] if e["turnover"] else None
                for e in got]

    async def seen_in_reports(token: str) -> tuple[list[str], str, list[str]]:
        rows = await report(service, token, filter={"clientIds": everyone})
        tops = await service.data(token, "{ topClients(first: 100) { client { id } } }")
        return ([r["key"] for r in rows["rows"]],
                rows["summary"]["total"]["turnover"]["amount"],
                [t["client"]["id"] for t in tops["topClients"]])

    assert await visible(as_rep) == ["100.00", "200.00", None, None]
    got = await entities(service, as_rep, "Client", [theirs1], "salesMetrics { trend }")
    assert got[0]["salesMetrics"] is None
    assert await visible(manager) == ["100.00", "200.00", "400.00", "800.00"]
    keys, total, tops = await seen_in_reports(as_rep)
    assert keys == [str(mine2), str(mine1)] and total == "300.00"
    assert tops == [str(mine2), str(mine1)]  # a fresh rep: no other client anywhere
    # without a filter: the rep's own, nobody else's
    unfiltered = await report(service, as_rep)
    assert {r["key"] for r in unfiltered["rows"]} == {str(mine1), str(mine2)}
    # a group and a colleague's portfolio: only what the rep may see
    group_fields = "turnover { total { turnover { amount } } }"
    assert (await entities(service, as_rep, "ClientGroup", [group], group_fields))[0][
        "turnover"]["total"]["turnover"]["amount"] == "100.00"
    assert (await entities(service, manager, "ClientGroup", [group], group_fields))[0][
        "turnover"]["total"]["turnover"]["amount"] == "500.00"
    portfolio = "portfolioTurnover { total { turnover { amount } } }"
    assert (await entities(service, as_rep, "Employee", [colleague], portfolio))[0][
        "portfolioTurnover"]["total"]["turnover"]["amount"] == "0.00"
    assert (await entities(service, manager, "Employee", [colleague], portfolio))[0][
        "portfolioTurnover"]["total"]["turnover"]["amount"] == "1200.00"
    by_owner = await report(service, as_rep, filter={"ownerIds": [colleague]}, groupBy="OWNER")
    assert by_owner["rows"] == [] and by_owner["totalRows"] == 0

    # a meeting with theirs2, scheduled for tomorrow: the rep sees it until it ends + grace
    meeting_id = uuid.uuid4()
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await meeting(service, publisher, meeting_id=meeting_id, client=theirs2, employee=rep,
                  starts=tomorrow, ends=tomorrow + dt.timedelta(hours=1))
    assert await visible(as_rep) == ["100.00", "200.00", None, "800.00"]
    keys, total, tops = await seen_in_reports(as_rep)
    assert keys == [str(theirs2), str(mine2), str(mine1)] and total == "1100.00"
    assert tops == [str(theirs2), str(mine2), str(mine1)]
    assert (await entities(service, as_rep, "Employee", [colleague], portfolio))[0][
        "portfolioTurnover"]["total"]["turnover"]["amount"] == "800.00"
    # a meeting that ended two days ago (beyond the 24 h grace) gives nothing
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    await meeting(service, publisher, meeting_id=uuid.uuid4(), client=theirs1, employee=rep,
                  starts=past - dt.timedelta(hours=1), ends=past)
    assert (await visible(as_rep))[2] is None
    # cancelling revokes at once
    await meeting(service, publisher, meeting_id=meeting_id, client=theirs2, employee=rep,
                  starts=tomorrow, ends=tomorrow + dt.timedelta(hours=1), status="cancelled",
                  version=2)
    assert await visible(as_rep) == ["100.00", "200.00", None, None]
    # another rep's meeting is no grant of ours; admins see everything
    assert await visible(service.token("admin")) == ["100.00", "200.00", "400.00", "800.00"]


# --------------------------------------------------------------------------------------------
# 5. bad input, unknown and empty clients


async def test_bad_periods_are_bad_user_input(service: Service, history: History) -> None:
    manager = service.token("manager")
    cases = [
        ({"from_": month(-1), "to": month(-3)}, "from must not be after to"),
        ({"from_": dt.date(2010, 1, 1), "to": dt.date(2020, 12, 31)}, "120 months"),
        ({"from_": dt.date(1999, 6, 1), "to": dt.date(2000, 3, 1)}, "2000"),
        ({"from_": dt.date(2100, 6, 1), "to": dt.date(2101, 1, 1)}, "2100"),
        ({"to": dt.date(1, 3, 1)}, "2000"),
        ({"from_": dt.date(9999, 1, 1), "to": dt.date(9999, 12, 31)}, "2100"),
    ]
    for args, words in cases:
        text = arguments(**args)
        query = entities_query("Client", f"turnover{text} {{ total {{ invoices }} }}")
        errors = await service.errors(manager, query, {"reps": [
            {"__typename": "Client", "id": str(history.main)}]})
        bad_input(errors, words)
        for top in (f"{{ turnover{text} {{ totalRows }} }}",
                    f"{{ topClients{text} {{ rank }} }}"):
            bad_input(await service.errors(manager, top), words)
        for typename, key, fields in (("ClientGroup", history.group, "turnover"),
                                      ("Employee", history.owner, "portfolioTurnover")):
            errors = await service.errors(manager, entities_query(
                typename, f"{fields}{text} {{ total {{ invoices }} }}"),
                {"reps": [{"__typename": typename, "id": str(key)}]})
            bad_input(errors, words)
    # the longest allowed period is fine
    ok = await client_turnover(service, manager, history.main, "from to",
                               from_=dt.date(2016, 1, 1), to=dt.date(2025, 12, 31))
    assert ok == {"from": "2016-01-01", "to": "2025-12-31"}


async def test_bad_first_and_bad_filters_are_bad_user_input(
        service: Service, history: History) -> None:
    manager = service.token("manager")
    for first in (0, -1, 100000):
        bad_input(await service.errors(manager, f"{{ turnover(first: {first}) {{ totalRows }} }}"),
                  "first")
        bad_input(await service.errors(manager, f"{{ topClients(first: {first}) {{ rank }} }}"),
                  "first")
        for field_ in ("byProductGroup", "byProduct"):
            errors = await service.errors(manager, entities_query(
                "Client", f"turnover {{ {field_}(first: {first}) {{ code }} }}"),
                {"reps": [{"__typename": "Client", "id": str(history.main)}]})
            bad_input(errors, "first")
    for name in ("clientIds", "clientGroupIds", "ownerIds"):
        for root in ("turnover", "topClients"):
            selection = "totalRows" if root == "turnover" else "rank"
            query = f"query($f: TurnoverFilter) {{ {root}(filter: $f) {{ {selection} }} }}"
            errors = await service.errors(manager, query, {
                "f": {name: [str(history.main), "not-a-uuid"]}})
            bad_input(errors, f"filter.{name}[1]")
            errors = await service.errors(manager, query, {
                "f": {name: [str(uuid.uuid4()) for _ in range(501)]}})
            bad_input(errors, f"filter.{name}", "500")
    # 500 ids are fine
    data = await service.data(manager, "query($f: TurnoverFilter) { turnover(filter: $f) { "
                              "totalRows } }",
                              {"f": {"clientIds": [str(history.main)] +
                                     [str(uuid.uuid4()) for _ in range(499)]}})
    assert data["turnover"]["totalRows"] == 1


async def test_unknown_malformed_and_empty_clients(service: Service, history: History) -> None:
    manager = service.token("manager")
    got = await entities(service, manager, "Client",
                         ["not-a-uuid", "", uuid.uuid4(), history.empty],
                         f"turnover {{ {TURNOVER} }} salesMetrics {{ {METRICS} }}")
    # a malformed id is no client: null, not an error
    assert got[0]["turnover"] is None and got[0]["salesMetrics"] is None
    assert got[1]["turnover"] is None and got[1]["salesMetrics"] is None
    # an unknown client and a client with no figures: zeros, empty lists, no trend
    for entity in got[2:]:
        turnover = entity["turnover"]
        assert figures(turnover["total"]) == want()
        assert figures(turnover["yearOnYear"]["previousYear"]) == want()
        assert turnover["yearOnYear"]["changePercent"] is None
        assert [p["label"] for p in turnover["periods"]] == [label(month(i))
                                                             for i in range(-11, 1)]
        assert all(figures(p["figures"]) == want() for p in turnover["periods"])
        assert figures(turnover["rolling12Months"]["figures"]) == want()
        assert turnover["trend"] == "NOT_ENOUGH_DATA"
        assert turnover["byProductGroup"] == [] and turnover["byProduct"] == []
        metrics = entity["salesMetrics"]
        assert metrics["abc"] is None and metrics["rfm"] is None
        assert metrics["trend"] == "NOT_ENOUGH_DATA" and metrics["trendStrength"] is None
        assert metrics["payment"]["invoicesDue"] == 0
        assert metrics["payment"]["paidWithinTermShare"] is None
        assert metrics["payment"]["overdueAmount"] == {"amount": "0.00", "currency": "EUR"}
        assert metrics["payment"]["averageDaysLate"] == "0.0"
        assert metrics["stoppedProductGroups"] == []
    assert got[2]["salesMetrics"]["payment"]["paymentTermDays"] is None
    assert got[3]["salesMetrics"]["payment"]["paymentTermDays"] == 30
    # the empty client's group buys things: those are the peers' groups it does not buy (of its
    # two peers, main bought G1, G2 and G3, fresh G1 and G2)
    peers = got[3]["salesMetrics"]["productGroupsPeersBuy"]
    assert [(p["code"], p["peerShare"]) for p in peers] == sorted(
        [(history.g1, "1.00"), (history.g2, "1.00")]) + [(history.g3, "0.50")]
    # a rep sees neither the unknown nor somebody else's client
    rep = await entities(service, service.token("sales_rep"), "Client",
                         [uuid.uuid4(), history.main], "turnover { from } salesMetrics { trend }")
    assert all(e["turnover"] is None and e["salesMetrics"] is None for e in rep)


# --------------------------------------------------------------------------------------------
# 6. statements per request


async def test_statements_do_not_grow_with_the_clients_asked_for(
        service: Service, history: History, trends: Trends, ranked: Ranked) -> None:
    clients = [history.main, history.fresh, history.empty, trends.growing, trends.declining,
               trends.stable, trends.one_month, *ranked.clients, ranked.orders_only,
               ranked.old_only, uuid.uuid4()]
    assert len(clients) == 20
    fields = ("turnover { total { turnover { amount } } byProductGroup { code name share } "
              "byProduct(first: 3) { code name } }")

    async def statements(token: str, asked: list[uuid.UUID]) -> list[str]:
        with counting_statements(service) as seen:
            got = await entities(service, token, "Client", asked, fields)
        assert len(got) == len(asked)
        return list(seen)
    for token in (service.token("manager"), service.token("sales_rep", history.owner)):
        one = await statements(token, clients[:1])
        many = await statements(token, clients)
        assert one, "the counter sees the service's statements"
        assert len(many) == len(one), (len(one), len(many), many)
    # the figures are right when batched: the first client's as when asked alone
    manager = service.token("manager")
    batched = await entities(service, manager, "Client", clients, fields)
    alone = await entities(service, manager, "Client", [trends.growing], fields)
    assert batched[3] == alone[0]


async def test_group_and_portfolio_statements_do_not_grow(
        service: Service, history: History, trends: Trends) -> None:
    manager = service.token("manager")
    fields = ("turnover { total { turnover { amount } } yearOnYear { change { amount } } "
              "periods { label } rolling12Months { label } trend byProductGroup { code } }")
    groups = [history.group, *(uuid.uuid4() for _ in range(9))]
    with counting_statements(service) as one:
        await entities(service, manager, "ClientGroup", groups[:1], fields)
    with counting_statements(service) as many:
        got = await entities(service, manager, "ClientGroup", groups, fields)
    assert len(many) == len(one), (len(one), len(many))
    assert got[0]["turnover"]["total"]["turnover"]["amount"] == "900.00"
    owners = [history.owner, trends.owner, *(uuid.uuid4() for _ in range(8))]
    portfolio = fields.replace("turnover {", "portfolioTurnover {", 1)
    with counting_statements(service) as one:
        await entities(service, manager, "Employee", owners[:1], portfolio)
    with counting_statements(service) as many:
        got = await entities(service, manager, "Employee", owners, portfolio)
    assert len(many) == len(one), (len(one), len(many))
    assert got[1]["portfolioTurnover"]["total"]["turnover"]["amount"] == "25100.00"


async def test_sales_metrics_statements_do_not_grow(
        service: Service, history: History, ranked: Ranked) -> None:
    manager = service.token("manager")
    clients = [history.main, history.fresh, history.empty, *ranked.clients]
    with counting_statements(service) as one:
        alone = await entities(service, manager, "Client", clients[:1],
                               f"salesMetrics {{ {METRICS} }}")
    with counting_statements(service) as many:
        got = await entities(service, manager, "Client", clients, f"salesMetrics {{ {METRICS} }}")
    assert len(many) <= len(one) + 1, (len(one), len(many))  # + a ranking, if it expired
    assert got[0]["salesMetrics"] == alone[0]["salesMetrics"]
