"""Turnover windows derived from the monthly figures analytics publishes (DESIGN §10).

The payload of ``client.turnover.updated`` carries the current month and the 24 before it, each
with ``invoicedNet``, ``invoicedQuantity``, ``orderedNet``, ``orderedQuantity`` and the same by
product group, and the client's payment behaviour over the last 12 months. Every window a rule
can name is a run of whole months of that series:

- month, quarter, half-year, year: calendar periods; rolling 12 months: the twelve months ending
  with the current month (period to date) or with the month before it (previous closed period);
- basis: the previous closed period (the default: stable and explainable) or the period to date
  (from the first month of the current period up to the month of the quote's date).

Turnover is the invoiced net amount (credit notes already deducted by analytics) or the invoiced
quantity, in EUR; months recorded in BGN convert at 1.95583. A month absent from the series
counts as zero.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crm_common.erp.money import EUR, to_eur
from crm_pricing.domain.money import ZERO


class Window(enum.Enum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"
    ROLLING_12_MONTHS = "rolling_12_months"

    @property
    def months(self) -> int:
        return {"month": 1, "quarter": 3, "half_year": 6, "year": 12,
                "rolling_12_months": 12}[self.value]

    @property
    def adjective(self) -> str:
        """``quarterly turnover …``"""
        return {"month": "monthly", "quarter": "quarterly", "half_year": "half-yearly",
                "year": "yearly", "rolling_12_months": "rolling 12-month"}[self.value]

    @property
    def noun(self) -> str:
        return {"month": "month", "quarter": "quarter", "half_year": "half-year", "year": "year",
                "rolling_12_months": "12 months"}[self.value]


class Basis(enum.Enum):
    PREVIOUS_CLOSED = "previous_closed"
    TO_DATE = "to_date"


class Metric(enum.Enum):
    NET_AMOUNT = "net_amount"
    QUANTITY = "quantity"


@dataclass(frozen=True, slots=True)
class Figures:
    """One month's (or one product group's in a month) figures."""

    invoiced_net: Decimal = ZERO
    invoiced_quantity: Decimal = ZERO
    ordered_net: Decimal = ZERO
    ordered_quantity: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Month:
    """One month of the series: ``month`` is its first day; ``currency`` EUR, or BGN for history
    recorded before the changeover."""

    month: dt.date
    total: Figures
    by_group: Mapping[str, Figures] = field(default_factory=dict)
    currency: str = EUR


@dataclass(frozen=True)
class PaymentBehaviour:
    """The last 12 months: invoices due, how many were paid within term, days late, overdue."""

    invoices_due: int
    paid_within_term: int
    average_days_late: Decimal
    max_days_late: int = 0
    overdue_amount: Decimal = ZERO

    @property
    def share_paid_within_term(self) -> Decimal:
        """0…1; a client with no invoice due has paid everything within term."""
        if self.invoices_due <= 0:
            return Decimal(1)
        return Decimal(self.paid_within_term) / Decimal(self.invoices_due)


@dataclass(frozen=True)
class Turnover:
    """The latest turnover figures pricing keeps for a client."""

    as_of: dt.date
    months: tuple[Month, ...]
    payments: PaymentBehaviour | None = None

    def value(self, months: tuple[dt.date, ...], metric: Metric,
              product_group: str | None = None) -> Decimal:
        """The sum of ``metric`` over the given months (first days), in EUR for amounts."""
        wanted = set(months)
        total = ZERO
        for m in self.months:
            if m.month not in wanted:
                continue
            if product_group is None:
                figures: Figures | None = m.total
            else:
                figures = _group(m.by_group, product_group)
            if figures is None:
                continue
            if metric is Metric.NET_AMOUNT:
                total += to_eur(figures.invoiced_net, m.currency)
            else:
                total += figures.invoiced_quantity
        return total


def _group(by_group: Mapping[str, Figures], code: str) -> Figures | None:
    found = by_group.get(code)
    if found is not None:
        return found
    wanted = code.upper()
    return next((f for c, f in by_group.items() if c.upper() == wanted), None)


@dataclass(frozen=True)
class Period:
    """A run of whole months, first day ``start`` to last day ``end``."""

    start: dt.date
    end: dt.date

    @property
    def months(self) -> tuple[dt.date, ...]:
        out: list[dt.date] = []
        day = self.start
        while day <= self.end:
            out.append(day)
            day = add_months(day, 1)
        return tuple(out)


def first_of_month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def end_of_month(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def current_period(window: Window, day: dt.date) -> Period:
    """The whole period of ``window`` that contains ``day`` (rolling 12: the twelve months ending
    with ``day``'s month)."""
    if window is Window.ROLLING_12_MONTHS:
        start = add_months(first_of_month(day), -11)
    else:
        size = window.months
        start = dt.date(day.year, (day.month - 1) // size * size + 1, 1)
    return Period(start, end_of_month(add_months(start, window.months - 1)))


def basis_period(window: Window, basis: Basis, day: dt.date) -> Period:
    """The months a condition reads on ``day``: the previous closed period, or the current one up
    to ``day``'s month."""
    current = current_period(window, day)
    if basis is Basis.PREVIOUS_CLOSED:
        if window is Window.ROLLING_12_MONTHS:
            start = add_months(current.start, -1)
        else:
            start = add_months(current.start, -window.months)
        return Period(start, end_of_month(add_months(start, window.months - 1)))
    return Period(current.start, end_of_month(day))


def period_label(window: Window, basis: Basis) -> str:
    """``previous quarter``, ``quarter to date``, ``previous 12 months``, ``last 12 months``."""
    if window is Window.ROLLING_12_MONTHS:
        return "previous 12 closed months" if basis is Basis.PREVIOUS_CLOSED \
            else "last 12 months to date"
    if basis is Basis.PREVIOUS_CLOSED:
        return f"previous {window.noun}"
    return f"{window.noun} to date"


def next_period_start(window: Window, day: dt.date) -> dt.date:
    """When what the current period reaches becomes the previous closed period's figure."""
    if window is Window.ROLLING_12_MONTHS:
        return add_months(first_of_month(day), 1)
    return current_period(window, day).end + dt.timedelta(days=1)


def deadline(window: Window, day: dt.date) -> dt.date:
    """The last day on which purchases still count toward the current period: the end of the
    current calendar period (for rolling 12 months, the end of the current month)."""
    return next_period_start(window, day) - dt.timedelta(days=1)


# --- from the analytics event ------------------------------------------------------------------

_FIGURES = (("invoiced_net", "invoicedNet"), ("invoiced_quantity", "invoicedQuantity"),
            ("ordered_net", "orderedNet"), ("ordered_quantity", "orderedQuantity"))


def _amount(raw: Any) -> Decimal:
    return Decimal(str(raw)) if raw and raw != "0" else ZERO  # one zero shared by every figure


def _figures(data: Mapping[str, Any]) -> Figures:
    return Figures(**{ours: _amount(data.get(theirs)) for ours, theirs in _FIGURES})


def turnover_from_event(data: Mapping[str, Any]) -> Turnover:
    """The ``data`` of a turnover-updated event (DESIGN §10) as ``Turnover``.

    The shape read (as analytics publishes it, events/asyncapi.yaml; a test in the analytics
    service feeds its real events through this function):
    ``asOf`` (date), ``currency``, ``months`` [{``month`` ("2026-11" or its first day), the four
    figures, optional ``currency``, ``byProductGroup`` [{``productGroupCode``, the four
    figures}]}], ``payments`` {``invoicesDue``, ``paidWithinTerm`` (a count of invoices),
    ``averageDaysLate``, ``maxDaysLate``, ``overdueAmount``}. Amounts as JSON numbers or
    decimal strings."""
    currency = str(data.get("currency") or EUR)
    months: list[Month] = []
    for m in data.get("months") or ():
        raw_month = str(m["month"])
        first = dt.date.fromisoformat(raw_month if len(raw_month) > 7 else raw_month + "-01")
        groups = {str(g["productGroupCode"]).upper(): _figures(g)
                  for g in m.get("byProductGroup") or ()}
        months.append(Month(first.replace(day=1), _figures(m), groups,
                            str(m.get("currency") or currency)))
    p = data.get("payments")
    payments = None if not p else PaymentBehaviour(
        invoices_due=int(p.get("invoicesDue") or 0),
        paid_within_term=int(p.get("paidWithinTerm") or 0),
        average_days_late=Decimal(str(p.get("averageDaysLate") or 0)),
        max_days_late=int(p.get("maxDaysLate") or 0),
        overdue_amount=Decimal(str(p.get("overdueAmount") or 0)))
    return Turnover(as_of=dt.date.fromisoformat(str(data["asOf"])[:10]), months=tuple(months),
                    payments=payments)
