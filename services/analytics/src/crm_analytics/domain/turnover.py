"""A turnover report from the monthly figures: a period of whole months, its figures by month,
quarter, half-year or year, the same period of the previous year beside every figure, the
rolling 12 months, and the figures by product group or product with their share and trend.
Pure: the caller loads the months (``service_layer.turnover_queries``) and passes them in.

Periods are whole months: ``from`` is taken back to the first of its month and ``to`` forward to
the end of its month (the rollups are monthly). The previous year of a period is the same months
one year earlier. The trend of a product group is that of its last 12 closed months before the
end of the period (``metrics.trend``); the period's own last month counts as closed when it ended
before today.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from crm_analytics.domain.metrics import ZERO, Change, Figures, Trend, change, share, trend
from crm_analytics.domain.periods import (
    Bucket,
    Granularity,
    add_months,
    buckets,
    end_of_month,
    first_of_month,
    months_between,
)

#: the longest period a report spans
MAX_MONTHS = 120
#: months of history a trend reads
TREND_MONTHS = 12
#: the years a report may cover
FIRST_YEAR, LAST_YEAR = 2000, 2100
_YEARS = f"the period must lie between the years {FIRST_YEAR} and {LAST_YEAR}"


class InvalidPeriod(ValueError):
    """A period the report cannot be made for; the text says why."""


@dataclass(frozen=True)
class Period:
    """A run of whole months, ``start`` (a first day) to ``end`` (a last day)."""

    start: dt.date
    end: dt.date

    @classmethod
    def of(cls, start: dt.date | None, end: dt.date | None, today: dt.date) -> Period:
        """The whole months from ``start`` to ``end``; by default the 12 months ending with
        today's."""
        end_month = first_of_month(end or today)
        # the years first: the arithmetic below cannot reach before year 1 or after 9999
        if not (FIRST_YEAR <= end_month.year <= LAST_YEAR
                and (start is None or FIRST_YEAR <= start.year <= LAST_YEAR)):
            raise InvalidPeriod(_YEARS)
        start_month = first_of_month(start) if start else add_months(end_month, -11)
        if start_month > end_month:
            raise InvalidPeriod("from must not be after to")
        if len(months_between(start_month, end_month)) > MAX_MONTHS:
            raise InvalidPeriod(f"a period spans at most {MAX_MONTHS} months")
        if start_month.year < FIRST_YEAR:  # the default from of an early to
            raise InvalidPeriod(_YEARS)
        return cls(start_month, end_of_month(end_month))

    @property
    def months(self) -> list[dt.date]:
        return months_between(self.start, self.end)

    def previous_year(self) -> Period:
        return Period(add_months(self.start, -12), end_of_month(add_months(self.end, -12)))

    def rolling_12(self) -> Period:
        """The 12 months ending with the period's last month."""
        return Period(add_months(first_of_month(self.end), -11), self.end)

    def span(self) -> Period:
        """Every month a report of this period reads: the previous year, the rolling 12 months
        and the trend window included."""
        start = min(self.previous_year().start,
                    add_months(first_of_month(self.end), -(TREND_MONTHS + 12)))
        return Period(start, self.end)


def total(months: Mapping[dt.date, Figures], period: Period) -> Figures:
    return Figures.sum_of(months[m] for m in period.months if m in months)


@dataclass(frozen=True)
class Compared:
    """Figures beside those of the same period a year earlier."""

    figures: Figures
    previous_year: Figures

    @property
    def change(self) -> Change:
        return change(self.figures.turnover, self.previous_year.turnover)

    @property
    def quantity_change(self) -> Change:
        return change(self.figures.quantity, self.previous_year.quantity)


def compared(months: Mapping[dt.date, Figures], period: Period) -> Compared:
    return Compared(total(months, period), total(months, period.previous_year()))


@dataclass(frozen=True)
class PeriodFigures:
    bucket: Bucket
    compared: Compared


def by_bucket(months: Mapping[dt.date, Figures], period: Period,
              granularity: Granularity) -> list[PeriodFigures]:
    """The period by month, quarter, half-year or year (calendar buckets clipped to it)."""
    return [PeriodFigures(b, compared(months, Period(b.start, b.end)))
            for b in buckets(period.start, period.end, granularity)]


#: One product group's (or product's) figures in one month, as the rollup read gives them:
#: (code, group code, month, invoiced net, credited net, invoiced quantity, credited quantity,
#: ordered net, ordered quantity). A plain tuple: a read makes hundreds of them per request, and
#: a frozen dataclass (with its ``Figures``) cost ~10 % of a by-product-group request.
ItemMonth = tuple[str, str, dt.date, Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]


@dataclass(frozen=True)
class ItemRow:
    code: str
    group_code: str
    compared: Compared
    #: % of the turnover of all items in the period (None when that is not positive)
    share: Decimal | None
    trend: Trend


def closed_months(period: Period, today: dt.date) -> list[dt.date]:
    """The :data:`TREND_MONTHS` closed months ending with the period's last month (or with the
    month before today's, when the period reaches into the current month)."""
    last = first_of_month(period.end)
    if last >= first_of_month(today):
        last = add_months(first_of_month(today), -1)
    return [add_months(last, -i) for i in range(TREND_MONTHS - 1, -1, -1)]


def by_item(rows: Iterable[ItemMonth], period: Period, today: dt.date) -> list[ItemRow]:
    """The figures of each item in the period and the previous year, its share and trend, by
    turnover, biggest first (ties by code).

    One pass over the rows adds each month's figures to the item's period and previous year
    (which overlap when the period is longer than a year) and its turnover to the item's trend
    window; no ``Figures`` is made per month. (A row per item and month, as the reads give them.)
    """
    now, before = set(period.months), set(period.previous_year().months)
    trend_months = closed_months(period, today)
    slot = {m: i for i, m in enumerate(trend_months)}
    window = len(trend_months)
    #: code -> [group code, the period's six sums, the previous year's, turnover by trend month]
    acc: dict[str, tuple[list[str], list[Decimal], list[Decimal], list[Decimal]]] = {}
    for code, group_code, month, *figures in rows:
        item = acc.get(code)
        if item is None:
            item = acc[code] = ([group_code], [ZERO] * 6, [ZERO] * 6, [ZERO] * window)
        else:
            item[0][0] = group_code
        if month in now:
            sums = item[1]
            for i, value in enumerate(figures):
                sums[i] += value
        if month in before:
            sums = item[2]
            for i, value in enumerate(figures):
                sums[i] += value
        at = slot.get(month)
        if at is not None:
            item[3][at] = figures[0] - figures[1]
    items = []
    for code, (group, current, previous, series) in acc.items():
        c = Compared(_figures(current), _figures(previous))
        first = next((i for i, v in enumerate(series) if v), window)
        items.append((code, group[0], c, trend(series[first:])))
    grand = sum((c.figures.turnover for _, _, c, _ in items if c.figures.turnover > 0), ZERO)
    zero = Figures()
    out = [ItemRow(code, group, c, share(c.figures.turnover, grand), t)
           for code, group, c, t in items
           if c.figures != zero or c.previous_year != zero]
    out.sort(key=lambda r: (-r.compared.figures.turnover, r.code))
    return out


def _figures(sums: list[Decimal]) -> Figures:
    """Figures of the six sums of :data:`ItemMonth` (no document counts)."""
    return Figures(sums[0], sums[1], sums[2], sums[3], sums[4], sums[5])


def monthly_trend(months: Mapping[dt.date, Figures], period: Period,
                  today: dt.date) -> Trend:
    """The trend of the total over the closed months ending with the period (see the module)."""
    return trend(trend_series(months, closed_months(period, today)))


def trend_series(months: Mapping[dt.date, Figures], window: Sequence[dt.date]) -> list[Decimal]:
    """The turnover of each month of ``window`` (0 where there are no figures), from the first
    month with any turnover on: a trend starts when the client (or the item) started."""
    values = [months[m].turnover if m in months else Decimal(0) for m in window]
    first = next((i for i, v in enumerate(values) if v), len(values))
    return values[first:]
