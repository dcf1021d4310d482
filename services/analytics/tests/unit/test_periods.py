"""Calendar periods: months, buckets, the previous year, rolling 12 months, parsing."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_analytics.domain.periods import (
    Bucket,
    Granularity,
    add_months,
    bucket_of,
    buckets,
    end_of_month,
    first_of_month,
    months_between,
    parse_month,
    previous_year,
    rolling_12_months,
    shift_months,
)

d = dt.date


@pytest.mark.parametrize("granularity,value,months", [
    (Granularity.MONTH, "month", 1),
    (Granularity.QUARTER, "quarter", 3),
    (Granularity.HALF_YEAR, "half_year", 6),
    (Granularity.YEAR, "year", 12),
])
def test_granularity_values_and_months(granularity: Granularity, value: str,
                                       months: int) -> None:
    assert granularity.value == value
    assert Granularity(value) is granularity
    assert granularity.months == months


@pytest.mark.parametrize("day,first,last", [
    (d(2026, 3, 15), d(2026, 3, 1), d(2026, 3, 31)),
    (d(2026, 3, 1), d(2026, 3, 1), d(2026, 3, 31)),
    (d(2026, 2, 10), d(2026, 2, 1), d(2026, 2, 28)),
    (d(2024, 2, 10), d(2024, 2, 1), d(2024, 2, 29)),
    (d(2000, 2, 1), d(2000, 2, 1), d(2000, 2, 29)),
    (d(1900, 2, 1), d(1900, 2, 1), d(1900, 2, 28)),
    (d(2026, 4, 30), d(2026, 4, 1), d(2026, 4, 30)),
    (d(2026, 12, 31), d(2026, 12, 1), d(2026, 12, 31)),
])
def test_first_and_end_of_month(day: dt.date, first: dt.date, last: dt.date) -> None:
    assert first_of_month(day) == first
    assert end_of_month(day) == last


@pytest.mark.parametrize("day,n,expected", [
    (d(2026, 3, 15), 0, d(2026, 3, 1)),
    (d(2026, 3, 15), 1, d(2026, 4, 1)),
    (d(2026, 3, 31), -1, d(2026, 2, 1)),
    (d(2026, 1, 31), 1, d(2026, 2, 1)),
    (d(2026, 11, 5), 2, d(2027, 1, 1)),
    (d(2026, 1, 5), -1, d(2025, 12, 1)),
    (d(2026, 1, 5), -12, d(2025, 1, 1)),
    (d(2026, 1, 5), -13, d(2024, 12, 1)),
    (d(2026, 6, 5), 24, d(2028, 6, 1)),
    (d(2026, 6, 5), -25, d(2024, 5, 1)),
])
def test_add_months_gives_first_day(day: dt.date, n: int, expected: dt.date) -> None:
    assert add_months(day, n) == expected


@pytest.mark.parametrize("day,n,expected", [
    (d(2026, 3, 31), -1, d(2026, 2, 28)),
    (d(2024, 3, 31), -1, d(2024, 2, 29)),
    (d(2024, 2, 29), -12, d(2023, 2, 28)),
    (d(2024, 2, 29), 12, d(2025, 2, 28)),
    (d(2024, 2, 29), 48, d(2028, 2, 29)),
    (d(2026, 5, 31), -1, d(2026, 4, 30)),
    (d(2026, 5, 15), -12, d(2025, 5, 15)),
    (d(2026, 1, 31), 1, d(2026, 2, 28)),
    (d(2026, 1, 1), 0, d(2026, 1, 1)),
])
def test_shift_months_keeps_the_day_clamped(day: dt.date, n: int, expected: dt.date) -> None:
    assert shift_months(day, n) == expected


def test_months_between_inclusive() -> None:
    assert months_between(d(2025, 11, 20), d(2026, 2, 3)) == [
        d(2025, 11, 1), d(2025, 12, 1), d(2026, 1, 1), d(2026, 2, 1)]


@pytest.mark.parametrize("start,end,expected", [
    (d(2026, 3, 1), d(2026, 3, 31), [d(2026, 3, 1)]),
    (d(2026, 3, 31), d(2026, 3, 1), []),  # end before start, even in the same month
    (d(2026, 3, 5), d(2026, 3, 5), [d(2026, 3, 1)]),
    (d(2026, 4, 1), d(2026, 3, 31), []),
    (d(9999, 11, 1), d(9999, 12, 31), [d(9999, 11, 1), d(9999, 12, 1)]),
])
def test_months_between_edges(start: dt.date, end: dt.date, expected: list[dt.date]) -> None:
    assert months_between(start, end) == expected


def test_months_between_two_years() -> None:
    months = months_between(d(2024, 1, 1), d(2025, 12, 31))
    assert len(months) == 24
    assert months[0] == d(2024, 1, 1) and months[-1] == d(2025, 12, 1)
    assert all(m.day == 1 for m in months)


@pytest.mark.parametrize("day,granularity,label,start,end", [
    (d(2026, 3, 15), Granularity.MONTH, "2026-03", d(2026, 3, 1), d(2026, 3, 31)),
    (d(2026, 2, 1), Granularity.MONTH, "2026-02", d(2026, 2, 1), d(2026, 2, 28)),
    (d(2026, 1, 1), Granularity.QUARTER, "2026-Q1", d(2026, 1, 1), d(2026, 3, 31)),
    (d(2026, 3, 31), Granularity.QUARTER, "2026-Q1", d(2026, 1, 1), d(2026, 3, 31)),
    (d(2026, 4, 1), Granularity.QUARTER, "2026-Q2", d(2026, 4, 1), d(2026, 6, 30)),
    (d(2026, 8, 9), Granularity.QUARTER, "2026-Q3", d(2026, 7, 1), d(2026, 9, 30)),
    (d(2026, 12, 31), Granularity.QUARTER, "2026-Q4", d(2026, 10, 1), d(2026, 12, 31)),
    (d(2026, 6, 30), Granularity.HALF_YEAR, "2026-H1", d(2026, 1, 1), d(2026, 6, 30)),
    (d(2026, 7, 1), Granularity.HALF_YEAR, "2026-H2", d(2026, 7, 1), d(2026, 12, 31)),
    (d(2026, 7, 1), Granularity.YEAR, "2026", d(2026, 1, 1), d(2026, 12, 31)),
    (d(999, 7, 1), Granularity.YEAR, "0999", d(999, 1, 1), d(999, 12, 31)),
])
def test_bucket_of(day: dt.date, granularity: Granularity, label: str, start: dt.date,
                   end: dt.date) -> None:
    assert bucket_of(day, granularity) == Bucket(label, start, end)


def test_buckets_by_quarter_are_clipped() -> None:
    assert buckets(d(2026, 2, 15), d(2026, 5, 10), Granularity.QUARTER) == [
        Bucket("2026-Q1", d(2026, 2, 15), d(2026, 3, 31)),
        Bucket("2026-Q2", d(2026, 4, 1), d(2026, 5, 10)),
    ]


def test_buckets_by_month_of_whole_months() -> None:
    assert buckets(d(2025, 12, 1), d(2026, 2, 28), Granularity.MONTH) == [
        Bucket("2025-12", d(2025, 12, 1), d(2025, 12, 31)),
        Bucket("2026-01", d(2026, 1, 1), d(2026, 1, 31)),
        Bucket("2026-02", d(2026, 2, 1), d(2026, 2, 28)),
    ]


def test_buckets_by_half_year_and_year() -> None:
    assert buckets(d(2025, 4, 1), d(2026, 9, 30), Granularity.HALF_YEAR) == [
        Bucket("2025-H1", d(2025, 4, 1), d(2025, 6, 30)),
        Bucket("2025-H2", d(2025, 7, 1), d(2025, 12, 31)),
        Bucket("2026-H1", d(2026, 1, 1), d(2026, 6, 30)),
        Bucket("2026-H2", d(2026, 7, 1), d(2026, 9, 30)),
    ]
    assert buckets(d(2024, 1, 1), d(2026, 3, 31), Granularity.YEAR) == [
        Bucket("2024", d(2024, 1, 1), d(2024, 12, 31)),
        Bucket("2025", d(2025, 1, 1), d(2025, 12, 31)),
        Bucket("2026", d(2026, 1, 1), d(2026, 3, 31)),
    ]


@pytest.mark.parametrize("granularity", list(Granularity))
def test_buckets_edges(granularity: Granularity) -> None:
    assert buckets(d(2026, 3, 2), d(2026, 3, 1), granularity) == []
    one_day = buckets(d(2026, 3, 2), d(2026, 3, 2), granularity)
    assert len(one_day) == 1 and one_day[0].start == one_day[0].end == d(2026, 3, 2)
    # the very last bucket the calendar has
    last = buckets(d(9999, 12, 31), d(9999, 12, 31), granularity)
    assert [b.end for b in last] == [d(9999, 12, 31)]


@pytest.mark.parametrize("granularity", list(Granularity))
def test_buckets_cover_the_period_without_gaps(granularity: Granularity) -> None:
    start, end = d(2023, 5, 17), d(2026, 8, 3)
    result = buckets(start, end, granularity)
    assert result[0].start == start and result[-1].end == end
    for before, after in zip(result, result[1:], strict=False):
        assert after.start == before.end + dt.timedelta(days=1)
    assert len({b.label for b in result}) == len(result)


@pytest.mark.parametrize("start,end,expected", [
    (d(2026, 1, 1), d(2026, 3, 31), (d(2025, 1, 1), d(2025, 3, 31))),
    (d(2024, 2, 29), d(2024, 2, 29), (d(2023, 2, 28), d(2023, 2, 28))),
    (d(2024, 2, 1), d(2024, 2, 29), (d(2023, 2, 1), d(2023, 2, 28))),
    # a run of whole months stays whole: February 2025 against the whole of February 2024
    (d(2025, 2, 1), d(2025, 2, 28), (d(2024, 2, 1), d(2024, 2, 29))),
    (d(2025, 3, 1), d(2026, 2, 28), (d(2024, 3, 1), d(2025, 2, 28))),
    (d(2026, 2, 15), d(2026, 5, 10), (d(2025, 2, 15), d(2025, 5, 10))),
    (d(2026, 1, 1), d(2026, 1, 1), (d(2025, 1, 1), d(2025, 1, 1))),
])
def test_previous_year(start: dt.date, end: dt.date,
                       expected: tuple[dt.date, dt.date]) -> None:
    assert previous_year(start, end) == expected


@pytest.mark.parametrize("today,expected", [
    (d(2026, 3, 15), (d(2025, 4, 1), d(2026, 3, 31))),
    (d(2026, 12, 31), (d(2026, 1, 1), d(2026, 12, 31))),
    (d(2026, 1, 1), (d(2025, 2, 1), d(2026, 1, 31))),
    (d(2024, 2, 29), (d(2023, 3, 1), d(2024, 2, 29))),
])
def test_rolling_12_months(today: dt.date, expected: tuple[dt.date, dt.date]) -> None:
    assert rolling_12_months(today) == expected
    assert len(months_between(*rolling_12_months(today))) == 12


@pytest.mark.parametrize("text,expected", [
    ("2026-03", d(2026, 3, 1)),
    ("2026-12", d(2026, 12, 1)),
    ("0001-01", d(1, 1, 1)),
    ("9999-12", d(9999, 12, 1)),
])
def test_parse_month(text: str, expected: dt.date) -> None:
    assert parse_month(text) == expected


@pytest.mark.parametrize("text", [
    "", "2026", "2026-3", "2026-13", "2026-00", "0000-01", "2026-03-01", "26-03", "2026/03",
    " 2026-03", "2026-03\n", "March 2026", "２０２６-０３", "2026-3a", "-2026-03",
])
def test_parse_month_refuses_anything_else(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-MM") as caught:
        parse_month(text)
    assert repr(text) in str(caught.value)
