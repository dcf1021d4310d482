"""The analytics service's metrics, each as the product documentation states it.

Pure functions of ``Decimal`` amounts (EUR) and ``datetime.date`` days: no I/O, no clock (the
caller passes ``today``), no database. Amounts are never floats; every rounding is half-up to the
places named.

- **Turnover** is the invoiced net amount minus the net amount of credit notes; quantity likewise
  (``Figures``).
- **Change** against a comparison period: the difference, and the percentage of the comparison
  value (``change``); a **share** of a total (``share``).
- **Trend** of a client's monthly turnover over the last 12 closed months (``trend``).
- **ABC classes** of clients by turnover (``abc_classes``).
- **RFM scores and segments** (``rfm_scores``).
- **Payment behaviour** over the last 12 months (``payment_behaviour``).
- **Product groups** a client has stopped buying, and those its peers buy but it does not
  (``stopped_groups``, ``groups_peers_buy``).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from crm_analytics.domain.periods import add_months, first_of_month, shift_months

__all__ = [
    "SEGMENTS",
    "AbcClass",
    "AbcResult",
    "Change",
    "Figures",
    "InvoiceDue",
    "PaymentBehaviour",
    "Rfm",
    "RfmInput",
    "Trend",
    "abc_classes",
    "change",
    "fm_score",
    "groups_peers_buy",
    "payment_behaviour",
    "rfm_scores",
    "rfm_segment",
    "share",
    "stopped_groups",
    "trend",
    "trend_strength",
]

K = TypeVar("K", bound=Hashable)

ZERO = Decimal(0)
_HUNDRED = Decimal(100)
_ONE_PLACE = Decimal("0.1")
_TWO_PLACES = Decimal("0.01")
_THREE_PLACES = Decimal("0.001")


def _round(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------
# Figures, change, share


@dataclass(frozen=True)
class Figures:
    """The sales figures of one client (or product group) in one month, or summed over months.

    Amounts are net of VAT in EUR; credit notes are kept apart as positive amounts:

    - ``invoiced_net`` / ``invoiced_quantity``: invoices; ``credited_net`` /
      ``credited_quantity``: credit notes; ``ordered_net`` / ``ordered_quantity``: confirmed
      orders;
    - ``invoices``, ``credit_notes``, ``orders``: how many documents;
    - **turnover** = invoiced net − credited net (negative when credit notes exceed the
      invoices of the period); **quantity** = invoiced quantity − credited quantity.
    """

    invoiced_net: Decimal = ZERO
    credited_net: Decimal = ZERO
    invoiced_quantity: Decimal = ZERO
    credited_quantity: Decimal = ZERO
    ordered_net: Decimal = ZERO
    ordered_quantity: Decimal = ZERO
    invoices: int = 0
    credit_notes: int = 0
    orders: int = 0

    @property
    def turnover(self) -> Decimal:
        """Invoiced net amount minus the net amount of credit notes."""
        return self.invoiced_net - self.credited_net

    @property
    def quantity(self) -> Decimal:
        """Invoiced quantity minus credited quantity."""
        return self.invoiced_quantity - self.credited_quantity

    def __add__(self, other: object) -> Figures:
        if not isinstance(other, Figures):
            return NotImplemented
        return Figures(self.invoiced_net + other.invoiced_net,
                       self.credited_net + other.credited_net,
                       self.invoiced_quantity + other.invoiced_quantity,
                       self.credited_quantity + other.credited_quantity,
                       self.ordered_net + other.ordered_net,
                       self.ordered_quantity + other.ordered_quantity,
                       self.invoices + other.invoices, self.credit_notes + other.credit_notes,
                       self.orders + other.orders)

    @classmethod
    def zero(cls) -> Figures:
        """All amounts 0, no documents."""
        return cls()

    @classmethod
    def sum_of(cls, figures: Iterable[Figures]) -> Figures:
        """The field-by-field sum (``Figures.zero()`` for none)."""
        sums: list[Any] = [ZERO] * 6 + [0, 0, 0]
        for f in figures:
            sums[0] += f.invoiced_net
            sums[1] += f.credited_net
            sums[2] += f.invoiced_quantity
            sums[3] += f.credited_quantity
            sums[4] += f.ordered_net
            sums[5] += f.ordered_quantity
            sums[6] += f.invoices
            sums[7] += f.credit_notes
            sums[8] += f.orders
        return cls(*sums)


@dataclass(frozen=True)
class Change:
    """A value against its comparison value: ``absolute`` = current − previous; ``percent`` the
    change in % of the comparison value (1 decimal place), ``None`` when that is 0."""

    absolute: Decimal
    percent: Decimal | None


def change(current: Decimal, previous: Decimal) -> Change:
    """**Change** = current − previous; **change %** = (current − previous) / |previous| × 100,
    rounded half-up to 0.1, and none when the previous value is 0.

    Dividing by the absolute value keeps the sign meaningful when the previous value is negative
    (a period of net credit notes): from −100 to −50 is +50 %.
    """
    absolute = current - previous
    if previous == 0:
        return Change(absolute, None)
    return Change(absolute, _round(absolute / abs(previous) * _HUNDRED, _ONE_PLACE))


def share(part: Decimal, total: Decimal) -> Decimal | None:
    """**Share** = part / total × 100, rounded half-up to 0.01; none when the total is 0 or
    negative."""
    if total <= 0:
        return None
    return _round(part / total * _HUNDRED, _TWO_PLACES)


# --------------------------------------------------------------------------------------------
# Trend


class Trend(enum.Enum):
    GROWING = "growing"
    STABLE = "stable"
    DECLINING = "declining"
    NOT_ENOUGH_DATA = "not_enough_data"


_DEFAULT_THRESHOLD = Decimal("0.10")
_DEFAULT_MIN_MONTHS = 6


def trend_strength(monthly: Sequence[Decimal], *,
                   min_months: int = _DEFAULT_MIN_MONTHS) -> Decimal | None:
    """The **trend strength**: the change over a year that the least-squares line through the
    monthly turnover predicts, relative to the average month, rounded half-up to 0.001.

    ``monthly`` is the turnover of the last 12 closed months, oldest first (fewer when the client
    is younger). With month *i* = 0, 1, … and its turnover *yᵢ*, the line *y = a + b·i* is fitted
    by least squares and the strength is *b* × 12 / mean(*y*): +0.250 means the line rises by a
    quarter of an average month's turnover over a year. None with fewer than ``min_months``
    months or when the mean is 0 or negative.
    """
    if min_months < 2:
        raise ValueError(f"a trend needs at least 2 months (min_months), not {min_months}")
    n = len(monthly)
    total = sum(monthly, ZERO)
    if n < min_months or total <= 0:
        return None
    centre = Decimal(n - 1) / 2
    sxy = sum(((i - centre) * y for i, y in enumerate(monthly)), ZERO)
    sxx = Decimal((n - 1) * n * (n + 1)) / 12
    # slope = sxy / sxx, mean = total / n
    return _round(sxy * 12 * n / (sxx * total), _THREE_PLACES)


def trend(monthly: Sequence[Decimal], *, threshold: Decimal = _DEFAULT_THRESHOLD,
          min_months: int = _DEFAULT_MIN_MONTHS) -> Trend:
    """The **trend** of a client's turnover: *growing* when the trend strength (see
    ``trend_strength``) is above +``threshold`` (0.10: the line gains more than 10 % of an
    average month over a year), *declining* when it is below −``threshold``, *stable* otherwise
    (exactly ±0.10 is stable); *not enough data* with fewer than ``min_months`` (6) months or
    when the mean monthly turnover is 0 or negative. The strength is compared as shown, rounded
    to 0.001.
    """
    if threshold < 0:
        raise ValueError(f"the trend threshold must be 0 or more, not {threshold}")
    strength = trend_strength(monthly, min_months=min_months)
    if strength is None:
        return Trend.NOT_ENOUGH_DATA
    if strength > threshold:
        return Trend.GROWING
    if strength < -threshold:
        return Trend.DECLINING
    return Trend.STABLE


# --------------------------------------------------------------------------------------------
# ABC


class AbcClass(enum.Enum):
    A = "A"
    B = "B"
    C = "C"


@dataclass(frozen=True)
class AbcResult:
    """A client's ABC class; ``share`` its % of the positive total (2 dp), ``cumulative_share``
    the % of the clients up to and including it (2 dp), ``rank`` its place (1 = biggest)."""

    abc_class: AbcClass
    share: Decimal
    cumulative_share: Decimal
    rank: int


def abc_classes(turnover: Mapping[K, Decimal], *, a_cutoff: Decimal = Decimal("80"),
                b_cutoff: Decimal = Decimal("95")) -> dict[K, AbcResult]:
    """**ABC classes** of clients by turnover.

    Clients are ranked by turnover, biggest first (equal turnovers in the order of the client's
    key as text, so the result never depends on input order); rank 1 is the biggest. The total
    is the sum of the positive turnovers. A client's share is its turnover in % of that total;
    its cumulative share the sum of the shares up to and including it. A client is:

    - **A** while the cumulative share *before* it is below 80 % (``a_cutoff``), so the client
      that crosses 80 % is still A;
    - **B** while the cumulative share before it is below 95 % (``b_cutoff``);
    - **C** otherwise, and always when its turnover is 0 or negative (share 0; its cumulative
      share is that of all positive clients: 100 %, or 0 when there are none).

    Shares are rounded half-up to 0.01; the classes are decided on the exact amounts. The
    cutoffs must satisfy 0 < a_cutoff < b_cutoff ≤ 100.
    """
    if not ZERO < a_cutoff < b_cutoff <= _HUNDRED:
        raise ValueError(f"ABC cutoffs must satisfy 0 < a_cutoff < b_cutoff <= 100, not "
                         f"a_cutoff={a_cutoff}, b_cutoff={b_cutoff}")
    ranked = sorted(turnover.items(), key=lambda item: (-item[1], str(item[0])))
    total = sum((value for _, value in ranked if value > 0), ZERO)
    results: dict[K, AbcResult] = {}
    cumulative = ZERO
    for rank, (key, value) in enumerate(ranked, start=1):
        if value <= 0:
            end_share = _HUNDRED if total > 0 else ZERO
            results[key] = AbcResult(AbcClass.C, _round(ZERO, _TWO_PLACES),
                                     _round(end_share, _TWO_PLACES), rank)
            continue
        before = cumulative * _HUNDRED  # compared with cutoff × total: no division
        if before < a_cutoff * total:
            abc_class = AbcClass.A
        elif before < b_cutoff * total:
            abc_class = AbcClass.B
        else:
            abc_class = AbcClass.C
        cumulative += value
        results[key] = AbcResult(abc_class, _round(value / total * _HUNDRED, _TWO_PLACES),
                                 _round(cumulative / total * _HUNDRED, _TWO_PLACES), rank)
    return results


# --------------------------------------------------------------------------------------------
# RFM


@dataclass(frozen=True)
class RfmInput:
    """What RFM needs of a client over the analysis window (normally the last 12 months): the
    date of its last invoice (ever; None if it has none), its number of invoices and its
    turnover in the window."""

    last_invoice: dt.date | None
    invoices: int
    turnover: Decimal


@dataclass(frozen=True)
class Rfm:
    """A client's RFM: ``recency``, ``frequency``, ``monetary`` each 1–5 (5 best), ``score``
    the three digits (``"545"``), its ``segment`` and the days since its last invoice."""

    recency: int
    frequency: int
    monetary: int
    score: str
    segment: str
    days_since_last_invoice: int


SEGMENTS: tuple[str, ...] = (
    "Champions", "Loyal customers", "Potential loyalists", "New customers", "Promising",
    "Needs attention", "About to sleep", "At risk", "Can't lose them", "Hibernating", "Lost",
)


def fm_score(frequency: int, monetary: int) -> int:
    """FM = (F + M) / 2 rounded half-up: F 4 and M 5 give 5."""
    return (frequency + monetary + 1) // 2


def rfm_segment(recency: int, fm: int) -> str:
    """The segment of an R score and an FM score (both 1–5), by the grid of ``rfm_scores``."""
    if not (1 <= recency <= 5 and 1 <= fm <= 5):
        raise ValueError(f"R and FM scores must be 1-5, not R={recency}, FM={fm}")
    if recency == 5:
        return "Champions" if fm >= 4 else "Potential loyalists" if fm >= 2 else "New customers"
    if recency == 4:
        if fm == 5:
            return "Champions"
        return "Loyal customers" if fm == 4 else "Potential loyalists" if fm >= 2 else "Promising"
    if recency == 3:
        return "Loyal customers" if fm >= 4 else "Needs attention" if fm >= 2 else "About to sleep"
    if fm == 5:
        return "Can't lose them"
    if fm >= 3:
        return "At risk"
    return "Hibernating" if recency == 2 else "Lost"


def _quintiles(values: Mapping[K, int | Decimal], *, higher_is_better: bool) -> dict[K, int]:
    """Score 1–5 by rank among ``values``: rank 1 is the best; equal values share the rank of the
    first of them; score = 5 − ⌊5 × (rank − 1) / N⌋."""
    ordered = sorted(values.items(), key=lambda item: item[1], reverse=higher_is_better)
    count = len(ordered)
    scores: dict[K, int] = {}
    rank = 0
    previous: int | Decimal | None = None
    for position, (key, value) in enumerate(ordered, start=1):
        if position == 1 or value != previous:
            rank, previous = position, value
        scores[key] = 5 - 5 * (rank - 1) // count
    return scores


def rfm_scores(inputs: Mapping[K, RfmInput], today: dt.date) -> dict[K, Rfm | None]:
    """**RFM scores** of clients: recency, frequency and monetary value, each 1–5, 5 best.

    - **Recency**: days from the last invoice to today (fewer is better; a last invoice after
      today counts as 0 days). **Frequency**: invoices in the window. **Monetary**: turnover in
      the window.
    - A client with no invoice at all, or with no invoice in the window and no positive
      turnover, is not scored (None).
    - Each score is the client's quintile among the scored clients by rank: rank 1 is the best,
      equal values share the rank of the first (best) of them, and with N scored clients the
      score is 5 − ⌊5 × (rank − 1) / N⌋ — the best fifth scores 5, the next fifth 4, … With
      fewer than 5 clients the ranks still map onto 1–5 in the same proportion (one client
      scores 5, 5, 5; two different clients 5 and 3).
    - **FM** = (F + M) / 2 rounded half-up. The **segment** follows from R and FM:

    ======================  ======  ========
    segment                 R       FM
    ======================  ======  ========
    Champions               5       4–5
    Champions               4       5
    Loyal customers         4       4
    Loyal customers         3       4–5
    Potential loyalists     4–5     2–3
    New customers           5       1
    Promising               4       1
    Needs attention         3       2–3
    About to sleep          3       1
    At risk                 1–2     3–4
    Can't lose them         1–2     5
    Hibernating             2       1–2
    Lost                    1       1–2
    ======================  ======  ========

    Every pair of R 1–5 and FM 1–5 is in exactly one row.
    """
    days: dict[K, int] = {}
    for key, item in inputs.items():
        if item.last_invoice is None or (item.turnover <= 0 and item.invoices == 0):
            continue
        days[key] = max(0, (today - item.last_invoice).days)
    recency = _quintiles(days, higher_is_better=False)
    frequency = _quintiles({key: inputs[key].invoices for key in days}, higher_is_better=True)
    monetary = _quintiles({key: inputs[key].turnover for key in days}, higher_is_better=True)
    results: dict[K, Rfm | None] = {}
    for key in inputs:
        if key not in days:
            results[key] = None
            continue
        r, f, m = recency[key], frequency[key], monetary[key]
        results[key] = Rfm(r, f, m, f"{r}{f}{m}", rfm_segment(r, fm_score(f, m)), days[key])
    return results


# --------------------------------------------------------------------------------------------
# Payment behaviour


@dataclass(frozen=True)
class InvoiceDue:
    """An invoice as payment behaviour sees it: ``amount_due`` in EUR (gross, less its credit
    notes) and its ``payments`` (day, EUR amount), in any order."""

    document_id: str
    issue_date: dt.date
    due_date: dt.date
    amount_due: Decimal
    payments: Sequence[tuple[dt.date, Decimal]]


@dataclass(frozen=True)
class PaymentBehaviour:
    """A client's payment behaviour (see ``payment_behaviour`` for the definitions)."""

    invoices_due: int
    paid_within_term: int
    average_days_late: Decimal
    max_days_late: int
    overdue_amount: Decimal
    overdue_invoices: int


def payment_behaviour(invoices: Iterable[InvoiceDue], today: dt.date, *,
                      window_months: int = 12,
                      tolerance: Decimal = Decimal("0.05")) -> PaymentBehaviour:
    """A client's **payment behaviour** over the last 12 months (``window_months``), as of today.

    Payments dated after today are ignored. The tolerance (0.05 EUR) absorbs rounding
    differences.

    - An invoice is **due in the window** when its due date is after the same day 12 months
      before today (clamped at the end of a shorter month) and not after today, and its amount
      due (gross less credit notes) is more than the tolerance. **invoices_due** counts them.
    - An invoice is **settled** on the day its payments, added up in date order, first reach the
      amount due less the tolerance.
    - **paid_within_term**: invoices due in the window settled on or before their due date.
    - **Days late** of an invoice due in the window: from its due date to the day it was settled,
      or to today if it is not settled; never less than 0. **average_days_late** is their mean
      (1 decimal place, half-up; 0 when no invoice is due in the window) and **max_days_late**
      the largest (0 when none).
    - **overdue_amount**: over all invoices whose due date is before today, whenever that was,
      the amount due less what has been paid so far, where that is positive (2 decimal places);
      **overdue_invoices**: how many of them have more than the tolerance outstanding.
    """
    if window_months < 1:
        raise ValueError(f"the payment window must be at least 1 month, not {window_months}")
    if tolerance < 0:
        raise ValueError(f"the payment tolerance must be 0 or more, not {tolerance}")
    window_start = shift_months(today, -window_months)  # excluded
    due = within_term = overdue_invoices = total_late = max_late = 0
    overdue = ZERO
    for invoice in invoices:
        payments = sorted((p for p in invoice.payments if p[0] <= today), key=lambda p: p[0])
        settled: dt.date | None = None
        paid = ZERO
        for day, amount in payments:
            paid += amount
            if settled is None and paid >= invoice.amount_due - tolerance:
                settled = day
        if window_start < invoice.due_date <= today and invoice.amount_due > tolerance:
            due += 1
            if settled is not None and settled <= invoice.due_date:
                within_term += 1
            late = max(0, ((settled or today) - invoice.due_date).days)
            total_late += late
            max_late = max(max_late, late)
        if invoice.due_date < today:
            outstanding = invoice.amount_due - paid
            if outstanding > 0:
                overdue += outstanding
            if outstanding > tolerance:
                overdue_invoices += 1
    average = Decimal(total_late) / due if due else ZERO
    return PaymentBehaviour(
        invoices_due=due,
        paid_within_term=within_term,
        average_days_late=_round(average, _ONE_PLACE),
        max_days_late=max_late,
        overdue_amount=_round(overdue, _TWO_PLACES),
        overdue_invoices=overdue_invoices,
    )


# --------------------------------------------------------------------------------------------
# Product groups


def stopped_groups(by_group: Mapping[str, Mapping[dt.date, Decimal]],
                   current_month: dt.date) -> list[str]:
    """**Product groups the client stopped buying**: groups with positive turnover in at least
    one of the 6 months before the last 3, and none (0 or negative) in each of the last 3 — the
    current month and the two before it. Sorted by code.

    ``by_group`` maps a group's code to its turnover by month (any day of a month names that
    month; amounts of the same month add up). A month that is absent counts as 0.
    """
    current = first_of_month(current_month)
    recent = {add_months(current, -n) for n in range(3)}
    earlier = {add_months(current, -n) for n in range(3, 9)}
    stopped: list[str] = []
    for group, months in by_group.items():
        monthly: dict[dt.date, Decimal] = {}
        for day, amount in months.items():
            month = first_of_month(day)
            monthly[month] = monthly.get(month, ZERO) + amount
        bought_before = any(monthly.get(month, ZERO) > 0 for month in earlier)
        bought_lately = any(monthly.get(month, ZERO) > 0 for month in recent)
        if bought_before and not bought_lately:
            stopped.append(group)
    return sorted(stopped)


def groups_peers_buy(own: Collection[str], peers: Mapping[str, int], peer_count: int, *,
                     min_share: Decimal = Decimal("0.5")) -> list[tuple[str, Decimal]]:
    """**Product groups its peers buy**: the groups the client does not buy (not in ``own``)
    that at least half (``min_share``) of its peer clients buy, each with that share (0–1,
    2 decimal places, half-up), the largest share first, then by code. ``peers[g]`` is how many
    of the ``peer_count`` peers bought group g; none when there are no peers.
    """
    if peer_count < 0:
        raise ValueError(f"the number of peers must be 0 or more, not {peer_count}")
    if not ZERO < min_share <= 1:
        raise ValueError(f"min_share must be more than 0 and at most 1, not {min_share}")
    if peer_count == 0:
        return []
    chosen: list[tuple[str, int]] = []
    for group, count in peers.items():
        if not 0 <= count <= peer_count:
            raise ValueError(f"{count} peers cannot have bought product group {group!r} "
                             f"out of {peer_count}")
        if group not in own and count >= min_share * peer_count:
            chosen.append((group, count))
    chosen.sort(key=lambda item: (-item[1], item[0]))
    return [(group, _round(Decimal(count) / peer_count, _TWO_PLACES)) for group, count in chosen]
