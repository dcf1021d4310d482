"""Calendar periods of the analytics service: months, quarters, half-years and years.

Turnover is kept by whole months (a month is named by its first day), and every period the
service reports on is a run of calendar days, usually of whole months:

- a **month** is labelled ``2026-03``, a **quarter** ``2026-Q1`` (January–March), a **half-year**
  ``2026-H1`` (January–June) and a **year** ``2026``;
- a period split by one of these granularities gives the calendar buckets that overlap it, each
  clipped to the period (``2026-02-15 .. 2026-05-10`` by quarter: ``2026-Q1`` from 15 February to
  31 March and ``2026-Q2`` from 1 April to 10 May);
- the **same period one year earlier** moves both ends back a year; 29 February becomes
  28 February, and a period ending on the last day of a month ends on the last day of that
  month a year earlier (February 2025 compares with the whole of February 2024);
- the **rolling 12 months** of a day are its month and the eleven before it.

Pure functions of ``datetime.date``: no I/O, no clock (the caller passes ``today``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from dataclasses import dataclass

__all__ = [
    "Bucket",
    "Granularity",
    "add_months",
    "bucket_of",
    "buckets",
    "end_of_month",
    "first_of_month",
    "months_between",
    "parse_month",
    "previous_year",
    "rolling_12_months",
    "shift_months",
]

_ONE_DAY = dt.timedelta(days=1)
_MONTH_TEXT = re.compile(r"([0-9]{4})-([0-9]{2})")


class Granularity(enum.Enum):
    """How a period is split: by month, quarter, half-year or year."""

    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"

    @property
    def months(self) -> int:
        """How many months one bucket spans: 1, 3, 6 or 12."""
        return _MONTHS[self]


_MONTHS = {Granularity.MONTH: 1, Granularity.QUARTER: 3, Granularity.HALF_YEAR: 6,
           Granularity.YEAR: 12}


def first_of_month(day: dt.date) -> dt.date:
    """The first day of ``day``'s month."""
    return day.replace(day=1)


def end_of_month(day: dt.date) -> dt.date:
    """The last day of ``day``'s month (28, 29, 30 or 31)."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` months after ``day``'s month (before it when
    negative): ``add_months(2026-03-31, -1)`` is 2026-02-01."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month0 + 1, 1)


def shift_months(day: dt.date, months: int) -> dt.date:
    """The same day of the month ``months`` months later (earlier when negative), clamped at the
    end of a shorter month: 2026-03-31 minus one month is 2026-02-28, 2024-02-29 minus twelve
    months is 2023-02-28."""
    first = add_months(day, months)
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))


def months_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first days of every month from ``start``'s month to ``end``'s month, both included,
    oldest first; empty when ``end`` is before ``start``."""
    if end < start:
        return []
    months: list[dt.date] = []
    month, last = first_of_month(start), first_of_month(end)
    while True:
        months.append(month)
        if month >= last:
            return months
        month = add_months(month, 1)


@dataclass(frozen=True)
class Bucket:
    """One calendar bucket of a period: ``label`` (``2026-03``, ``2026-Q1``, ``2026-H1``,
    ``2026``), ``start`` its first day and ``end`` its last day (both included)."""

    label: str
    start: dt.date
    end: dt.date


def bucket_of(day: dt.date, granularity: Granularity) -> Bucket:
    """The whole calendar bucket of ``granularity`` that contains ``day``."""
    span = granularity.months
    first_month = (day.month - 1) // span * span + 1
    start = dt.date(day.year, first_month, 1)
    end = end_of_month(dt.date(day.year, first_month + span - 1, 1))
    index = (day.month - 1) // span + 1
    if granularity is Granularity.MONTH:
        label = f"{day.year:04d}-{day.month:02d}"
    elif granularity is Granularity.QUARTER:
        label = f"{day.year:04d}-Q{index}"
    elif granularity is Granularity.HALF_YEAR:
        label = f"{day.year:04d}-H{index}"
    else:
        label = f"{day.year:04d}"
    return Bucket(label, start, end)


def buckets(start: dt.date, end: dt.date, granularity: Granularity) -> list[Bucket]:
    """The calendar buckets of ``granularity`` that overlap ``start .. end``, oldest first, each
    clipped to the period (its label stays the calendar bucket's); empty when ``end`` is before
    ``start``."""
    if end < start:
        return []
    result: list[Bucket] = []
    bucket = bucket_of(start, granularity)
    while True:
        result.append(Bucket(bucket.label, max(bucket.start, start), min(bucket.end, end)))
        if bucket.end >= end:
            return result
        bucket = bucket_of(bucket.end + _ONE_DAY, granularity)


def previous_year(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The same period one year earlier.

    Each end moves back twelve months on the same day of the month, 29 February becoming
    28 February; an ``end`` that is the last day of its month becomes the last day of that month
    a year earlier, so a run of whole months stays a run of whole months (2025-02-01 ..
    2025-02-28 gives 2024-02-01 .. 2024-02-29).
    """
    earlier_end = shift_months(end, -12)
    if end == end_of_month(end):
        earlier_end = end_of_month(earlier_end)
    return shift_months(start, -12), earlier_end


def rolling_12_months(today: dt.date) -> tuple[dt.date, dt.date]:
    """The rolling 12 months of ``today``: from the first day of the month eleven months before
    today's month to the last day of today's month (2026-03-15 gives 2025-04-01 .. 2026-03-31)."""
    return add_months(today, -11), end_of_month(today)


def parse_month(text: str) -> dt.date:
    """The first day of the month written ``YYYY-MM`` (``"2026-03"`` gives 2026-03-01).

    Raises ``ValueError`` naming the text for anything else (``2026-3``, ``2026-13``,
    ``2026-03-01``, ``March``).
    """
    match = _MONTH_TEXT.fullmatch(text)
    if match is not None:
        year, month = int(match.group(1)), int(match.group(2))
        if year >= 1 and 1 <= month <= 12:
            return dt.date(year, month, 1)
    raise ValueError(f"a month must be written YYYY-MM with the month 01-12 (for example "
                     f"2026-03), not {text!r}")
