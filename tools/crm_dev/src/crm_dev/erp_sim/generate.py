"""The simulated ERP's history: clients, then a day-by-day stream of ``erp.*`` CloudEvents.

:class:`Simulation` is an iterable of envelopes (plain dicts, ready for
:func:`crm_common.messaging.envelope.dumps`) in the order of their ``time``; it keeps only the
next few days of documents and the pending payments in memory, so millions of messages stream in
constant memory. Same :class:`SimConfig` (seed included) → the same envelopes, byte for byte
(envelope ids come from their own seeded generator).

What happens, per client and business day, with the client's order probability (orders per
month, its trend — growing, declining or stable —, its own season and the season of the product
groups it buys):

* ``erp.sales.order.confirmed`` (v1); sometimes re-sent as v2 with changed lines, or cancelled
  (``erp.sales.order.cancelled``, the next version, and then no invoice);
* 0–2 days later ``erp.sales.invoice.posted`` (kind ``invoice``) with the delivered lines;
  sometimes corrected (v2, changed lines), sometimes cancelled and replaced by a new invoice,
  rarely re-sent unchanged (same version, new envelope id);
* sometimes, 3–20 days later, a credit note (kind ``credit_note``, ``creditedDocumentId`` = the
  invoice) for part of the goods, never more than the invoice, per line and in total;
* ``erp.sales.payment.received`` according to the client's habit: on time, late, partly (two
  payments, the second late or never), or badly (very late or never). A payment is in the
  currency of its day: a BGN invoice paid in 2026 is paid in EUR at 1.95583.
* ``erp.catalog.product.upserted`` for the whole catalogue on the first day, then on the first
  of each month for price changes, launches and withdrawals, and for every product on
  2026-01-01 when its base price changes from BGN to EUR.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from crm_dev import seed_data
from crm_dev.erp_sim.products import GROUPS, Product, build_products, season_factor

SOURCE: Final = "erp/simulator"
EURO_DAY: Final = dt.date(2026, 1, 1)
BGN_PER_EUR_MILLIONTHS: Final = 1_955_830  # 1.95583 BGN = 1 EUR, fixed
_UTC = dt.UTC
# Bulgarian public holidays without a fixed weekday that close warehouses (month, day)
_HOLIDAYS: Final = {(1, 1), (3, 3), (5, 1), (5, 6), (5, 24), (9, 6), (9, 22), (12, 24),
                    (12, 25), (12, 26)}

TYPE_PRODUCT: Final = "erp.catalog.product.upserted"
TYPE_ORDER: Final = "erp.sales.order.confirmed"
TYPE_ORDER_CANCELLED: Final = "erp.sales.order.cancelled"
TYPE_INVOICE: Final = "erp.sales.invoice.posted"
TYPE_INVOICE_CANCELLED: Final = "erp.sales.invoice.cancelled"
TYPE_PAYMENT: Final = "erp.sales.payment.received"
EVENT_TYPES: Final = (TYPE_PRODUCT, TYPE_ORDER, TYPE_ORDER_CANCELLED, TYPE_INVOICE,
                      TYPE_INVOICE_CANCELLED, TYPE_PAYMENT)


def currency_on(day: dt.date) -> str:
    """The currency of Bulgaria on ``day``: the lev until 2025-12-31, the euro from 2026."""
    return "EUR" if day >= EURO_DAY else "BGN"


def bgn_to_eur(cents: int) -> int:
    """BGN stotinki → euro cents at the fixed 1.95583, rounded half up."""
    return (cents * 2_000_000 + BGN_PER_EUR_MILLIONTHS) // (2 * BGN_PER_EUR_MILLIONTHS)


def money(cents: int) -> str:
    """Cents as a decimal string with two places (``1234`` → ``"12.34"``)."""
    units, rest = divmod(cents, 100)
    return f"{units}.{rest:02d}"


def months_back(until: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` months before the month of ``until``."""
    index = until.year * 12 + until.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class SimConfig:
    seed: int = 1
    months: int = 24
    #: the end (exclusive): the simulated history stops the day before; default today
    until: dt.date = field(default_factory=lambda: dt.datetime.now(_UTC).date())
    #: None: the seeded clients of :mod:`crm_dev.seed_data`; N: N synthetic clients instead
    clients: int | None = None
    #: EIK → CRM client id, for the seeded clients that exist in the CRM (from ``./crm seed``)
    crm_ids: Mapping[str, str] = field(default_factory=dict)
    orders_per_month: float = 4.0  # mean per client
    lines_per_order: float = 8.0  # mean
    source: str = SOURCE

    @property
    def start(self) -> dt.date:
        return months_back(self.until, self.months)


@dataclass(slots=True)
class ErpClient:
    eik: str
    name: str
    crm_id: str | None  # the CRM's id when the ERP knows it
    in_crm: bool  # False: an EIK the CRM does not have (its documents stay unmatched)
    trend: str  # growing / declining / stable
    growth: float  # volume factor per month
    payer: str  # on_time / late / partial / bad
    term_days: int
    orders_per_month: float
    line_value: int  # typical net of one order line, BGN stotinki
    lines_per_order: float
    discount: float
    prefs: list[tuple[int, float]]  # (index into GROUPS, weight)
    summer_only: bool = False
    stop: dt.date | None = None  # stops ordering from this day on
    pref_total: float = 0.0
    mix_max: float = 0.0  # an upper bound of the client's seasonal mix factor

    def __post_init__(self) -> None:
        self.pref_total = sum(w for _, w in self.prefs)
        self.mix_max = sum(w * GROUPS[g].peak for g, w in self.prefs) / self.pref_total


@dataclass
class Stats:
    products: int = 0
    product_groups: int = 0
    clients: int = 0
    orders: int = 0
    invoices: int = 0
    credit_notes: int = 0
    invoice_lines: int = 0  # lines of invoices and credit notes (their final version)
    payments: int = 0
    cancelled_orders: int = 0
    cancelled_invoices: int = 0
    messages: int = 0

    @property
    def documents(self) -> int:
        return self.orders + self.invoices + self.credit_notes

    def line(self) -> str:
        return (f"{self.products} products in {self.product_groups} groups, {self.clients} "
                f"clients, {self.documents} documents ({self.orders} orders, {self.invoices} "
                f"invoices, {self.credit_notes} credit notes), {self.invoice_lines} invoice "
                f"lines, {self.payments} payments, {self.messages} messages")


# --------------------------------------------------------------------------------------------------
# clients

_NAME_A: Final = ("Търговска къща", "Магазин", "Супермаркет", "Минимаркет", "Кафе-бар",
                  "Ресторант", "Хотел", "Верига", "Дистрибуция", "Бакалия")
_NAME_B: Final = ("Слънце", "Изгрев", "Родина", "Балкан", "Дунав", "Витоша", "Странджа",
                  "Пирин", "Добруджа", "Марица", "Тунджа", "Искър", "Янтра", "Струма", "Камчия")
_FORMS: Final = ("ЕООД", "ООД", "АД", "ЕАД")


#: habits dealt in turn (not drawn), so that even the 20-odd seeded clients show each of them
_TRENDS: Final = ("stable", "growing", "declining", "stable", "growing", "stable", "declining",
                  "growing", "stable", "stable")
_PAYERS: Final = ("on_time", "late", "on_time", "partial", "on_time", "bad", "late", "on_time",
                  "on_time", "late", "on_time", "partial", "on_time", "late", "bad", "on_time",
                  "on_time", "late", "on_time", "on_time")


def _profile(rng: random.Random, eik: str, name: str, crm_id: str | None, in_crm: bool,
             cfg: SimConfig, k: int) -> ErpClient:
    trend = _TRENDS[k % len(_TRENDS)]
    if trend == "growing":
        growth = 1 + rng.uniform(0.02, 0.05)
    elif trend == "declining":
        growth = 1 - rng.uniform(0.03, 0.07)
    else:
        growth = 1 + rng.uniform(-0.004, 0.004)
    payer = _PAYERS[(k * 7) % len(_PAYERS)]
    n_groups = rng.randint(3, 9)
    prefs = [(i, rng.uniform(0.3, 3.0)) for i in sorted(rng.sample(range(len(GROUPS)), n_groups))]
    return ErpClient(
        eik=eik, name=name, crm_id=crm_id, in_crm=in_crm, trend=trend, growth=growth,
        payer=payer, term_days=rng.choice((14, 30, 30, 30, 45, 60)),
        orders_per_month=cfg.orders_per_month * rng.uniform(0.4, 1.6),
        line_value=round(rng.lognormvariate(math.log(6000), 0.5)),
        lines_per_order=max(1.0, cfg.lines_per_order * rng.uniform(0.6, 1.4)),
        discount=rng.choice((0.0, 0.0, 0.02, 0.03, 0.05, 0.08)), prefs=prefs,
    )


def build_clients(cfg: SimConfig, rng: random.Random) -> list[ErpClient]:
    """The ERP's customers: the seeded clients (or ``cfg.clients`` synthetic ones) plus a few
    with an EIK the CRM does not have."""
    clients: list[ErpClient] = []
    if cfg.clients is None:
        for i, seeded in enumerate(seed_data.CLIENTS):
            if seeded["status"] == "PROSPECT":
                continue  # not a customer yet: the ERP has nothing for it
            eik = seeded["eik"]
            known = cfg.crm_ids.get(eik) if i % 3 != 2 else None  # two in three: the ERP has it
            client = _profile(rng, eik, seeded["legalName"], known, True, cfg, i)
            if seeded["status"] == "INACTIVE":
                client.trend, client.growth = "declining", 0.9
                client.stop = months_back(cfg.until, max(1, min(14, cfg.months * 2 // 3)))
            if "HoReCa" in seeded.get("tags", []):
                client.summer_only = "Хотел" in seeded["legalName"] or "Hotel" in str(
                    seeded.get("tradeName"))
            clients.append(client)
        unmatched = 3
    else:
        for i in range(cfg.clients):
            eik = seed_data.make_eik(f"{40_000_000 + i:08d}")
            crm_id = (str(uuid.uuid5(seed_data.SEED_NAMESPACE, f"client:{eik}"))
                      if i % 5 < 3 else None)
            name = (f"{_NAME_A[i % len(_NAME_A)]} {_NAME_B[(i // 10) % len(_NAME_B)]} {i + 1} "
                    f"{_FORMS[i % len(_FORMS)]}")
            client = _profile(rng, eik, name, crm_id, True, cfg, i)
            client.summer_only = i % 10 == 6
            clients.append(client)
        unmatched = max(3, cfg.clients // 100)
    for k in range(unmatched):
        eik = seed_data.make_eik(f"{50_000_000 + k * 37:08d}")
        name = f"{_NAME_A[k % len(_NAME_A)]} {_NAME_B[k % len(_NAME_B)]} {_FORMS[k % 4]}"
        clients.append(_profile(rng, eik, name, None, False, cfg, k + 1))
    return clients


# --------------------------------------------------------------------------------------------------
# the stream

@dataclass(slots=True)
class _ProductState:
    product: Product
    price: int  # in the currency of the day
    currency: str
    version: int = 0
    active: bool = False
    launch: int = 0  # month index of the first upsert
    retire: int | None = None


#: (line number, product, quantity in pieces or thousandths, net in cents)
Line = tuple[int, Product, int, int]


class Simulation:
    """Iterate over it for the envelopes; :attr:`stats` counts what has been produced so far."""

    def __init__(self, cfg: SimConfig) -> None:
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.id_rng = random.Random(cfg.seed * 1_000_003 + 7)
        self.stats = Stats()
        self.clients = build_clients(cfg, self.rng)
        self.products = build_products()
        self.stats.clients = len(self.clients)
        self.stats.products = len(self.products)
        self.stats.product_groups = len({p.group.code for p in self.products})
        self._heap: list[tuple[int, int, str, str, Any]] = []
        self._seq = 0
        self._n_order = self._n_doc = self._n_pay = 0
        self._n_number = 1_000_000_000
        self._until_ts = self._ts(cfg.until, 0)
        self._states = self._product_states()
        self._by_group: list[list[Product]] = [[] for _ in GROUPS]
        self._day_prefix: dict[int, str] = {}

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _ts(day: dt.date, seconds: int) -> int:
        return (day.toordinal() - 719_163) * 86_400 + seconds

    def _push(self, ts: int, type_: str, subject: str, data: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (ts, self._seq, type_, subject, data))

    def _envelope(self, ts: int, type_: str, subject: str, data: dict[str, Any]) -> dict[str, Any]:
        self.stats.messages += 1
        return {
            "specversion": "1.0",
            "id": str(uuid.UUID(int=self.id_rng.getrandbits(128), version=4)),
            "source": self.cfg.source,
            "type": type_,
            "time": self._time(ts),
            "subject": subject,
            "datacontenttype": "application/json",
            "data": data,
            "actorid": "system",
            "correlationid": f"erp-{subject}",
        }

    def _time(self, ts: int) -> str:
        days, seconds = divmod(ts, 86_400)
        prefix = self._day_prefix.get(days)
        if prefix is None:
            prefix = self._day_prefix[days] = f"{dt.date.fromordinal(days + 719_163)}T"
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{prefix}{hours:02d}:{minutes:02d}:{seconds:02d}Z"

    def _product_states(self) -> dict[str, _ProductState]:
        states: dict[str, _ProductState] = {}
        months = self.cfg.months
        for product in self.products:
            state = _ProductState(product, product.price, currency_on(self.cfg.start))
            if self.cfg.start >= EURO_DAY:
                state.price = bgn_to_eur(product.price)
            if months >= 6 and self.rng.random() < 0.05:
                state.launch = self.rng.randint(2, months - 2)
            if months >= 6 and self.rng.random() < 0.04:
                state.retire = self.rng.randint(state.launch + 2, months)
            states[product.code] = state
        return states

    def _product_data(self, state: _ProductState) -> dict[str, Any]:
        state.version += 1
        p = state.product
        data: dict[str, Any] = {
            "code": p.code, "name": p.name,
            "productGroup": {"code": p.group.code, "name": p.group.name},
            "unit": p.unit, "vatRate": p.group.vat, "active": state.active,
        }
        if p.has_base_price:
            data["basePrice"] = {"amount": money(state.price), "currency": state.currency}
        data["version"] = state.version
        return data

    # -- the catalogue ------------------------------------------------------------------------

    def _month_start(self, day: dt.date, index: int) -> None:
        euro = day == EURO_DAY and index > 0
        ts = self._ts(day, 0 if euro else 4 * 3600)
        for state in self._states.values():
            changed = False
            if index == state.launch and not state.active:
                state.active = changed = True
            elif state.retire == index and state.active:
                state.active, changed = False, True
            if euro:
                state.price, state.currency = bgn_to_eur(state.price), "EUR"
                changed = changed or state.version > 0
            elif not changed and index and state.active and self.rng.random() < 0.03:
                state.price = round(state.price * self.rng.uniform(1.02, 1.08))
                changed = True
            if changed:
                self._push(ts, TYPE_PRODUCT, state.product.code, self._product_data(state))
        for g in self._by_group:
            g.clear()
        group_index = {g.code: i for i, g in enumerate(GROUPS)}
        for state in self._states.values():
            if state.active:
                self._by_group[group_index[state.product.group.code]].append(state.product)

    # -- documents ----------------------------------------------------------------------------

    def _lines(self, client: ErpClient, season: Sequence[float], volume: float) -> list[Line]:
        rng = self.rng
        n = max(1, min(round(rng.gauss(client.lines_per_order, client.lines_per_order / 3)),
                       round(client.lines_per_order * 3)))
        weights = [w * season[g] if self._by_group[g] else 0.0 for g, w in client.prefs]
        if not any(weights):
            return []
        groups = rng.choices([g for g, _ in client.prefs], weights=weights, k=n)
        seen: set[str] = set()
        lines: list[Line] = []
        for g in groups:
            product = rng.choice(self._by_group[g])
            if product.code in seen:
                continue
            seen.add(product.code)
            lines.append(self._line(len(lines) + 1, client, product,
                                    client.line_value * volume * rng.uniform(0.4, 1.6)))
        return lines

    def _line(self, number: int, client: ErpClient, product: Product, value: float) -> Line:
        state = self._states[product.code]
        price = state.price if state.currency == "BGN" else state.price * 1.95583
        if product.weighed:
            qty = max(250, round(value / price * 1000 / 50) * 50)  # thousandths of kg
            net = round(state.price * qty / 1000 * (1 - client.discount))
        else:
            qty = max(1, round(value / price))
            net = round(state.price * qty * (1 - client.discount))
        return (number, product, qty, net)

    @staticmethod
    def _reprice(line: Line, qty: int) -> Line:
        number, product, old_qty, old_net = line
        return (number, product, qty, old_net * qty // old_qty if old_qty else 0)

    @staticmethod
    def _qty(product: Product, qty: int) -> str:
        return f"{qty // 1000}.{qty % 1000:03d}" if product.weighed else str(qty)

    @staticmethod
    def _client_ref(client: ErpClient) -> dict[str, Any]:
        return {"id": client.crm_id, "eik": client.eik}

    def _order_data(self, order_id: str, number: str, day: dt.date, client: ErpClient,
                    currency: str, lines: list[Line], version: int) -> dict[str, Any]:
        return {
            "orderId": order_id, "number": number, "orderDate": day.isoformat(),
            "client": self._client_ref(client), "currency": currency,
            "lines": [{"lineId": str(n), "productCode": p.code, "productGroupCode": p.group.code,
                       "quantity": self._qty(p, q), "unit": p.unit, "netAmount": money(net)}
                      for n, p, q, net in lines],
            "version": version,
        }

    @staticmethod
    def _gross(lines: list[Line]) -> int:
        return sum(net + (net * p.group.vat_percent + 50) // 100 for _, p, _, net in lines)

    def _invoice_data(self, doc_id: str, number: str, kind: str, day: dt.date, due: dt.date,
                      client: ErpClient, currency: str, lines: list[Line], version: int,
                      order_id: str | None, credited: str | None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "documentId": doc_id, "number": number, "kind": kind, "issueDate": day.isoformat(),
            "dueDate": due.isoformat(), "client": self._client_ref(client), "currency": currency,
            "lines": [{"lineId": str(n), "productCode": p.code, "productGroupCode": p.group.code,
                       "quantity": self._qty(p, q), "netAmount": money(net)}
                      for n, p, q, net in lines],
            "totalNet": money(sum(line[3] for line in lines)),
            "totalGross": money(self._gross(lines)),
            "orderId": order_id,
        }
        if credited is not None:
            data["creditedDocumentId"] = credited
        data["version"] = version
        return data

    def _new_number(self) -> str:
        self._n_number += 1
        return f"{self._n_number:010d}"

    def _business_day_after(self, day: dt.date, days: int) -> dt.date:
        day += dt.timedelta(days=days)
        while day.weekday() == 6 or (day.month, day.day) in _HOLIDAYS:
            day += dt.timedelta(days=1)
        return day

    def _order(self, client: ErpClient, day: dt.date, season: Sequence[float],
               volume: float) -> None:
        rng = self.rng
        lines = self._lines(client, season, volume)
        if not lines:
            return
        self._n_order += 1
        order_id = f"SO{self._n_order:09d}"
        number = f"ПР-{day.year}-{self._n_order:07d}"
        currency = currency_on(day)
        t = self._ts(day, rng.randint(5 * 3600, 15 * 3600))
        version = 1
        self.stats.orders += 1
        self._push(t, TYPE_ORDER, order_id,
                   self._order_data(order_id, number, day, client, currency, lines, version))
        roll = rng.random()
        if roll < 0.03:  # cancelled by the client before delivery
            version += 1
            self.stats.cancelled_orders += 1
            self._push(t + rng.randint(2, 30) * 3600, TYPE_ORDER_CANCELLED, order_id,
                       self._order_data(order_id, number, day, client, currency, lines, version))
            return
        if roll < 0.11:  # changed: a quantity, one line fewer or one more
            lines = self._changed(client, lines, season, volume)
            version += 1
            t += rng.randint(1, 20) * 3600
            self._push(t, TYPE_ORDER, order_id,
                       self._order_data(order_id, number, day, client, currency, lines, version))
        if rng.random() < 0.05:  # delivered short: one line with less
            i = rng.randrange(len(lines))
            if lines[i][2] > 1:
                lines[i] = self._reprice(lines[i], max(1, lines[i][2] * 3 // 4))
        self._invoice(client, day, lines, order_id, t)

    def _changed(self, client: ErpClient, lines: list[Line], season: Sequence[float],
                 volume: float) -> list[Line]:
        rng = self.rng
        lines = list(lines)
        roll = rng.random()
        if roll < 0.4 and len(lines) > 1:
            lines.pop(rng.randrange(len(lines)))
            lines = [(k + 1, p, q, net) for k, (_, p, q, net) in enumerate(lines)]
        elif roll < 0.7:
            extra = self._lines(client, season, volume)[:1]
            if extra and extra[0][1].code not in {p.code for _, p, _, _ in lines}:
                _, p, q, net = extra[0]
                lines.append((len(lines) + 1, p, q, net))
        else:
            i = rng.randrange(len(lines))
            n, p, q, net = lines[i]
            new_q = max(1, round(q * rng.uniform(0.5, 2.0)))
            lines[i] = (n, p, new_q, net * new_q // q if q else net)
        return lines

    def _invoice(self, client: ErpClient, order_day: dt.date, lines: list[Line],
                 order_id: str, after: int) -> None:
        rng = self.rng
        day = self._business_day_after(order_day, rng.choice((0, 0, 1, 1, 2)))
        t = max(after + 3600, self._ts(day, rng.randint(6 * 3600, 16 * 3600)))
        day = dt.datetime.fromtimestamp(t, _UTC).date()
        if t >= self._until_ts:
            return  # not invoiced yet
        currency = currency_on(day)
        if currency != currency_on(order_day):  # ordered in 2025, invoiced in 2026
            lines = [(n, p, q, bgn_to_eur(net)) for n, p, q, net in lines]
        due = day + dt.timedelta(days=client.term_days)
        self._n_doc += 1
        doc_id = f"D{self._n_doc:010d}"
        number = self._new_number()
        version = 1

        def post(ts: int, type_: str = TYPE_INVOICE) -> None:
            self._push(ts, type_, doc_id, self._invoice_data(
                doc_id, number, "invoice", day, due, client, currency, lines, version, order_id,
                None))

        post(t)
        roll = rng.random()
        if roll < 0.03:  # cancelled (wrong data) and replaced by a new invoice
            version += 1
            t += rng.randint(1, 6) * 3600
            post(t, TYPE_INVOICE_CANCELLED)
            self.stats.cancelled_invoices += 1
            self.stats.invoices += 1
            self._n_doc += 1
            doc_id, number, version = f"D{self._n_doc:010d}", self._new_number(), 1
            t += 1800
            post(t)
        elif roll < 0.07:  # corrected: new version with changed lines
            version += 1
            i = rng.randrange(len(lines))
            n, p, q, net = lines[i]
            if q > 1:
                lines = list(lines)
                lines[i] = (n, p, q - max(1, q // 5), net - net * max(1, q // 5) // q)
            t += rng.randint(2, 30) * 3600
            post(t)
        if rng.random() < 0.005:  # the ERP re-sends the same version (a consumer ignores it)
            post(t + rng.randint(1, 600))
        self.stats.invoices += 1
        self.stats.invoice_lines += len(lines)
        gross = self._gross(lines)
        credited = 0
        if rng.random() < 0.06:
            credited = self._credit_note(client, doc_id, lines, day, t, order_id)
        self._payments(client, doc_id, day, due, currency, gross - credited)

    def _credit_note(self, client: ErpClient, invoice_id: str, lines: list[Line],
                     invoice_day: dt.date, after: int, order_id: str) -> int:
        rng = self.rng
        day = self._business_day_after(invoice_day, rng.randint(3, 20))
        t = max(after + 3600, self._ts(day, rng.randint(6 * 3600, 16 * 3600)))
        if t >= self._until_ts:
            return 0
        day = dt.datetime.fromtimestamp(t, _UTC).date()
        chosen = sorted(rng.sample(range(len(lines)), rng.randint(1, min(3, len(lines)))))
        credit: list[Line] = []
        for k, i in enumerate(chosen):
            _, p, q, net = lines[i]
            back = rng.randint(1, q) if not p.weighed else rng.randint(1, max(1, q // 50)) * 50
            back = min(back, q)
            credit.append((k + 1, p, back, net * back // q if q else 0))
        gross = self._gross(credit)  # in the invoice's currency: what is no longer due
        if currency_on(day) != currency_on(invoice_day):  # a 2026 credit note for a 2025 invoice
            credit = [(n, p, q, bgn_to_eur(net)) for n, p, q, net in credit]
        self._n_doc += 1
        doc_id = f"D{self._n_doc:010d}"
        self._push(t, TYPE_INVOICE, doc_id, self._invoice_data(
            doc_id, self._new_number(), "credit_note", day, day, client, currency_on(day),
            credit, 1, order_id, invoice_id))
        self.stats.credit_notes += 1
        self.stats.invoice_lines += len(credit)
        return gross

    def _payments(self, client: ErpClient, doc_id: str, day: dt.date, due: dt.date,
                  currency: str, amount: int) -> None:
        if amount <= 0:
            return
        rng = self.rng
        term = (due - day).days
        plan: list[tuple[int, int]] = []  # (days after the due date, share in thousandths)
        payer = client.payer
        if payer == "on_time" and rng.random() < 0.05:
            payer = "late"
        if payer == "on_time":
            plan.append((-rng.randint(0, min(10, max(0, term - 1))), 1000))
        elif payer == "late":
            plan.append((rng.randint(3, 45), 1000))
        elif payer == "partial":
            first = rng.randint(300, 800)
            plan.append((rng.randint(-5, 5), first))
            if rng.random() < 0.8:
                plan.append((rng.randint(15, 60), 1000 - first))
        else:  # bad: very late, or never
            if rng.random() < 0.7:
                plan.append((rng.randint(30, 120), 1000))
        parts = [amount * share // 1000 for _, share in plan]
        if parts and sum(share for _, share in plan) == 1000:
            parts[-1] = amount - sum(parts[:-1])
        for (offset, _), part in zip(plan, parts, strict=True):
            on = max(day + dt.timedelta(days=1), due + dt.timedelta(days=offset))
            t = self._ts(on, rng.randint(7 * 3600, 15 * 3600))
            if t >= self._until_ts or part <= 0:
                continue
            self._n_pay += 1
            pay_currency = currency_on(on)
            value = bgn_to_eur(part) if pay_currency != currency else part
            self._push(t, TYPE_PAYMENT, f"P{self._n_pay:010d}",
                       (f"P{self._n_pay:010d}", doc_id, on.isoformat(), value, pay_currency))

    # -- the day loop -------------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict[str, Any]]:
        cfg, rng = self.cfg, self.rng
        day, index = cfg.start, -1
        while day < cfg.until:
            if day.day == 1 or index < 0:
                index += 1
                self._month_start(day, index)
            season = [season_factor(g, day) for g in GROUPS]
            holiday = day.weekday() == 6 or (day.month, day.day) in _HOLIDAYS
            weekday_factor = 0.0 if holiday else 0.3 if day.weekday() == 5 else 1.0
            summer = 4 <= day.month <= 10
            if weekday_factor:
                for client in self.clients:
                    if client.stop is not None and day >= client.stop:
                        continue
                    own = (1.6 if summer else 0.0) if client.summer_only else 1.0
                    if not own:
                        continue
                    volume = math.sqrt(client.growth ** index)
                    base = client.orders_per_month / 21.0 * volume * own * weekday_factor
                    u = rng.random()
                    if u >= base * client.mix_max:  # the same decision, without the sum
                        continue
                    mix = sum(w * season[g] for g, w in client.prefs) / client.pref_total
                    if u < base * mix:
                        self._order(client, day, season, volume)
            day += dt.timedelta(days=1)
            yield from self._drain(self._ts(day, 0))
        yield from self._drain(self._until_ts)
        self._heap.clear()  # after the end: not happened yet

    def _drain(self, before: int) -> Iterator[dict[str, Any]]:
        heap = self._heap
        while heap and heap[0][0] < before:
            ts, _, type_, subject, data = heapq.heappop(heap)
            if type_ == TYPE_PAYMENT:
                payment_id, doc_id, on, value, currency = data
                data = {"paymentId": payment_id, "documentId": doc_id, "paidOn": on,
                        "amount": money(value), "currency": currency, "version": 1}
                self.stats.payments += 1
            yield self._envelope(ts, type_, subject, data)


def simulate(cfg: SimConfig) -> Simulation:
    return Simulation(cfg)
