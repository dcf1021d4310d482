"""``domain.turnover.by_item`` (the figures by product group or product) against the plain
definition: each item's figures are the field-by-field sums of its months in the period and in
the same months a year earlier, its trend that of its turnover over the closed months, its share
of the positive turnover of all items."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest

from crm_analytics.domain.metrics import Figures, share, trend
from crm_analytics.domain.periods import add_months
from crm_analytics.domain.turnover import (
    ItemMonth,
    ItemRow,
    Period,
    by_item,
    closed_months,
    trend_series,
)

D = Decimal
TODAY = dt.date(2026, 12, 7)


def plain(rows: list[ItemMonth], period: Period, today: dt.date) -> list[ItemRow]:
    from crm_analytics.domain.turnover import Compared
    months: dict[str, dict[dt.date, Figures]] = {}
    groups: dict[str, str] = {}
    for code, group, month, *sums in rows:
        months.setdefault(code, {})[month] = Figures(*sums)  # type: ignore[arg-type]
        groups[code] = group
    window = closed_months(period, today)
    items = []
    for code, by_month in months.items():
        c = Compared(Figures.sum_of(f for m, f in by_month.items() if m in period.months),
                     Figures.sum_of(f for m, f in by_month.items()
                                    if m in period.previous_year().months))
        items.append((code, c, trend(trend_series(by_month, window))))
    grand = sum((c.figures.turnover for _, c, _ in items if c.figures.turnover > 0), D(0))
    out = [ItemRow(code, groups[code], c, share(c.figures.turnover, grand), t)
           for code, c, t in items if c.figures != Figures() or c.previous_year != Figures()]
    return sorted(out, key=lambda r: (-r.compared.figures.turnover, r.code))


def row(code: str, group: str, month: dt.date, invoiced: str, credited: str = "0",
        quantity: str = "1.000") -> ItemMonth:
    return (code, group, month, D(invoiced), D(credited), D(quantity), D("0.000"), D("0.00"),
            D("0.000"))


def test_a_period_longer_than_a_year_overlaps_its_previous_year() -> None:
    period = Period(dt.date(2025, 1, 1), dt.date(2026, 12, 31))  # 24 months
    rows = [row("G1", "G1", dt.date(2024, 6, 1), "100.00"),   # previous year only
            row("G1", "G1", dt.date(2025, 6, 1), "10.00"),    # both
            row("G1", "G1", dt.date(2026, 6, 1), "1.00")]     # period only
    [item] = by_item(rows, period, TODAY)
    assert item.compared.figures.turnover == D("11.00")
    assert item.compared.previous_year.turnover == D("110.00")
    assert str(item.compared.figures.quantity) == "2.000"
    assert item.share == D("100.00")


def test_ranked_by_turnover_then_code_with_shares_of_the_positive_total() -> None:
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    rows = [row("B", "G1", dt.date(2026, 3, 1), "50.00"),
            row("A", "G1", dt.date(2026, 3, 1), "50.00"),
            row("C", "G2", dt.date(2026, 4, 1), "10.00", credited="40.00"),
            row("Z", "G2", dt.date(2020, 4, 1), "10.00")]  # outside both: left out
    ranked = by_item(rows, period, TODAY)
    assert [(r.code, r.share) for r in ranked] == [("A", D("50.00")), ("B", D("50.00")),
                                                    ("C", D("-30.00"))]
    assert ranked == plain(rows, period, TODAY)


def test_nothing_but_negative_turnover_has_no_shares() -> None:
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
    rows = [row("A", "G1", dt.date(2026, 3, 1), "0.00", credited="5.00")]
    assert [r.share for r in by_item(rows, period, TODAY)] == [None]


@pytest.mark.parametrize("seed", range(25))
def test_random_rollups_give_what_the_definition_gives(seed: int) -> None:
    rng = random.Random(seed)
    end = add_months(TODAY, -rng.randrange(0, 4))
    months = rng.randrange(1, 30)
    period = Period.of(add_months(end, -(months - 1)), end, TODAY)
    span = period.span()
    rows: list[ItemMonth] = []
    for code in (f"P{i}" for i in range(rng.randrange(0, 12))):
        group = rng.choice(["G1", "G2", "G3"])
        for month in span.months:
            if rng.random() < 0.6:
                group = rng.choice([group, group, "G4"])  # a product may move groups
                rows.append((code, group, month,
                             D(rng.randrange(0, 100_000)) / 100, D(rng.choice([0, 0, 1250])) / 100,
                             D(rng.randrange(0, 5000)) / 1000, D(rng.choice([0, 500])) / 1000,
                             D(rng.randrange(0, 9000)) / 100, D(rng.randrange(0, 70)) / 10))
    rng.shuffle(rows)
    got, want = by_item(rows, period, TODAY), plain(rows, period, TODAY)
    assert got == want
    # the same digits too (the API shows quantities as they are summed)
    assert [str(r.compared.figures.quantity) for r in got] == \
        [str(r.compared.figures.quantity) for r in want]
