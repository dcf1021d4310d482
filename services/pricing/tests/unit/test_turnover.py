"""The windows of DESIGN §10 derived from monthly figures, and the money helpers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from crm_common.erp.money import to_eur
from crm_pricing.domain.money import format_eur, round_cents
from crm_pricing.domain.turnover import (
    Basis,
    Figures,
    Metric,
    Month,
    Period,
    Turnover,
    Window,
    basis_period,
    deadline,
    next_period_start,
    turnover_from_event,
)

D = Decimal
d = dt.date


@pytest.mark.parametrize("window,basis,day,start,end", [
    (Window.MONTH, Basis.PREVIOUS_CLOSED, d(2026, 12, 1), d(2026, 11, 1), d(2026, 11, 30)),
    (Window.MONTH, Basis.TO_DATE, d(2026, 12, 1), d(2026, 12, 1), d(2026, 12, 31)),
    (Window.MONTH, Basis.PREVIOUS_CLOSED, d(2026, 3, 31), d(2026, 2, 1), d(2026, 2, 28)),
    (Window.QUARTER, Basis.PREVIOUS_CLOSED, d(2026, 12, 1), d(2026, 7, 1), d(2026, 9, 30)),
    (Window.QUARTER, Basis.TO_DATE, d(2026, 12, 1), d(2026, 10, 1), d(2026, 12, 31)),
    (Window.QUARTER, Basis.TO_DATE, d(2026, 11, 15), d(2026, 10, 1), d(2026, 11, 30)),
    (Window.QUARTER, Basis.PREVIOUS_CLOSED, d(2026, 1, 1), d(2025, 10, 1), d(2025, 12, 31)),
    (Window.QUARTER, Basis.PREVIOUS_CLOSED, d(2026, 3, 31), d(2025, 10, 1), d(2025, 12, 31)),
    (Window.QUARTER, Basis.PREVIOUS_CLOSED, d(2026, 4, 1), d(2026, 1, 1), d(2026, 3, 31)),
    (Window.HALF_YEAR, Basis.PREVIOUS_CLOSED, d(2026, 12, 1), d(2026, 1, 1), d(2026, 6, 30)),
    (Window.HALF_YEAR, Basis.PREVIOUS_CLOSED, d(2026, 6, 30), d(2025, 7, 1), d(2025, 12, 31)),
    (Window.HALF_YEAR, Basis.TO_DATE, d(2026, 8, 10), d(2026, 7, 1), d(2026, 8, 31)),
    (Window.YEAR, Basis.PREVIOUS_CLOSED, d(2026, 12, 1), d(2025, 1, 1), d(2025, 12, 31)),
    (Window.YEAR, Basis.TO_DATE, d(2026, 12, 1), d(2026, 1, 1), d(2026, 12, 31)),
    (Window.ROLLING_12_MONTHS, Basis.PREVIOUS_CLOSED, d(2026, 12, 1), d(2025, 12, 1),
     d(2026, 11, 30)),
    (Window.ROLLING_12_MONTHS, Basis.TO_DATE, d(2026, 12, 1), d(2026, 1, 1), d(2026, 12, 31)),
    (Window.ROLLING_12_MONTHS, Basis.PREVIOUS_CLOSED, d(2026, 1, 20), d(2025, 1, 1),
     d(2025, 12, 31)),
], ids=lambda v: v.value if hasattr(v, "value") else str(v))
def test_basis_period(window: Window, basis: Basis, day: dt.date, start: dt.date,
                      end: dt.date) -> None:
    period = basis_period(window, basis, day)
    assert (period.start, period.end) == (start, end)
    assert len(period.months) == (window.months if basis is Basis.PREVIOUS_CLOSED
                                  else len(period.months))


@pytest.mark.parametrize("window,day,last,starts", [
    (Window.MONTH, d(2026, 2, 10), d(2026, 2, 28), d(2026, 3, 1)),
    (Window.QUARTER, d(2027, 2, 15), d(2027, 3, 31), d(2027, 4, 1)),
    (Window.HALF_YEAR, d(2026, 12, 1), d(2026, 12, 31), d(2027, 1, 1)),
    (Window.YEAR, d(2026, 1, 1), d(2026, 12, 31), d(2027, 1, 1)),
    (Window.ROLLING_12_MONTHS, d(2026, 12, 1), d(2026, 12, 31), d(2027, 1, 1)),
], ids=lambda v: v.value if hasattr(v, "value") else str(v))
def test_deadline_and_next_period(window: Window, day: dt.date, last: dt.date,
                                  starts: dt.date) -> None:
    assert deadline(window, day) == last
    assert next_period_start(window, day) == starts


def _month(ym: str, net: str, qty: str = "0", currency: str = "EUR",
           groups: dict[str, Figures] | None = None) -> Month:
    return Month(dt.date.fromisoformat(ym + "-01"),
                 Figures(invoiced_net=D(net), invoiced_quantity=D(qty)), groups or {}, currency)


def test_values_by_metric_group_and_currency() -> None:
    t = Turnover(d(2026, 2, 1), (
        _month("2025-12", "1955.83", "10", "BGN",
               {"BEV": Figures(invoiced_net=D("391.166"), invoiced_quantity=D(4))}),
        _month("2026-01", "500", "5", groups={"bev": Figures(invoiced_net=D(100))}),
        _month("2026-02", "7", "1"),
    ))
    both = Period(d(2025, 12, 1), d(2026, 1, 31)).months
    assert t.value(both, Metric.NET_AMOUNT) == D(1500)
    assert t.value(both, Metric.QUANTITY) == D(15)
    assert t.value(both, Metric.NET_AMOUNT, "BEV") == D(300)  # group codes in any case
    assert t.value(both, Metric.QUANTITY, "BEV") == D(4)
    assert t.value(both, Metric.NET_AMOUNT, "SNACK") == D(0)
    assert t.value(Period(d(2024, 1, 1), d(2024, 12, 31)).months, Metric.NET_AMOUNT) == 0


@pytest.mark.parametrize("amount,shown", [
    ("38200", "€38,200"), ("38200.5", "€38,200.50"), ("0.005", "€0.01"), ("1800", "€1,800"),
    ("1234567.891", "€1,234,567.89"), ("0", "€0"),
])
def test_format_eur(amount: str, shown: str) -> None:
    assert format_eur(D(amount)) == shown


@pytest.mark.parametrize("amount,rounded", [
    ("0.125", "0.13"), ("0.135", "0.14"), ("2.674999", "2.67"), ("-0.01", "0.00"),
    ("1.005", "1.01"), ("7", "7.00"),
])
def test_round_cents_half_up_never_negative(amount: str, rounded: str) -> None:
    assert round_cents(D(amount)) == D(rounded)


def test_bgn_converts_at_the_fixed_rate() -> None:
    assert to_eur(D("1.95583"), "BGN") == 1
    assert to_eur(D(10), "eur") == 10
    with pytest.raises(ValueError):
        to_eur(D(1), "USD")


def test_turnover_from_the_analytics_event() -> None:
    t = turnover_from_event({
        "clientId": "c-1", "version": 7, "asOf": "2026-12-01T06:00:00Z", "currency": "EUR",
        "months": [
            {"month": "2025-12", "currency": "BGN", "invoicedNet": "19558.30",
             "invoicedQuantity": 10, "orderedNet": 0, "orderedQuantity": 0,
             "byProductGroup": [{"productGroupCode": "bev", "invoicedNet": "1955.83",
                                 "invoicedQuantity": 1}]},
            {"month": "2026-11-01", "invoicedNet": 500.5, "invoicedQuantity": "3"},
        ],
        "payments": {"invoicesDue": 10, "paidWithinTerm": 9, "averageDaysLate": "1.5",
                     "maxDaysLate": 12, "overdueAmount": "0"},
    })
    assert t.as_of == d(2026, 12, 1)
    months = Period(d(2025, 12, 1), d(2026, 11, 30)).months
    assert t.value(months, Metric.NET_AMOUNT) == D("10500.5")
    assert t.value(months, Metric.NET_AMOUNT, "BEV") == D(1000)
    assert t.payments is not None and t.payments.share_paid_within_term == D("0.9")
