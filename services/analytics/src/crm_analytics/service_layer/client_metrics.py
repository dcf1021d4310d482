"""A client's sales metrics: ABC class and RFM scores (ranked among all clients), trend, payment
behaviour, product groups stopped, product groups the client's peers buy.

ABC and RFM rank every client with turnover or invoices in the rolling 12 months (the current
month and the 11 before it). Ranking reads one row per client and month of the monthly rollup
plus one index probe per client for its latest invoice; the result is kept per process for
``RANKING_SECONDS`` (a client's class moves with everybody's figures, not with one request), so
a screen of 50 clients costs one ranking. The rest comes from the rollups and the clients'
invoice headers and payments, for many clients at once (``sales_metrics_of``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from crm_analytics.domain import metrics as m
from crm_analytics.domain.periods import add_months, end_of_month, first_of_month
from crm_analytics.domain.turnover import trend_series
from crm_analytics.service_layer import turnover_queries as q

#: how long a ranking of all clients is reused
RANKING_SECONDS = 60.0


@dataclass(frozen=True)
class Ranking:
    """ABC classes and RFM scores of every client, as of ``today``."""

    today: dt.date
    abc: dict[uuid.UUID, m.AbcResult]
    rfm: dict[uuid.UUID, m.Rfm | None]
    made_at: float


async def rank_clients(conn: AsyncConnection, today: dt.date, *, a_cutoff: Decimal,
                       b_cutoff: Decimal) -> Ranking:
    start = add_months(first_of_month(today), -11)
    figures = await q.by_client(conn, q.everyone(), start, end_of_month(today))
    last = await q.last_invoice_dates(conn, list(figures))
    abc = m.abc_classes({c: f.turnover for c, f in figures.items()},
                        a_cutoff=a_cutoff, b_cutoff=b_cutoff)
    rfm = m.rfm_scores({c: m.RfmInput(last_invoice=last.get(c), invoices=f.invoices,
                                      turnover=f.turnover)
                        for c, f in figures.items()}, today)
    return Ranking(today, abc, rfm, time.monotonic())


@dataclass
class RankingCache:
    """The latest ranking, per process (handed down through the lifespan state)."""

    seconds: float = RANKING_SECONDS
    _ranking: Ranking | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, conn: AsyncConnection, today: dt.date, *, a_cutoff: Decimal,
                  b_cutoff: Decimal) -> Ranking:
        async with self._lock:
            r = self._ranking
            if r is None or r.today != today or time.monotonic() - r.made_at > self.seconds:
                r = self._ranking = await rank_clients(conn, today, a_cutoff=a_cutoff,
                                                       b_cutoff=b_cutoff)
            return r


@dataclass(frozen=True)
class SalesMetrics:
    abc: m.AbcResult | None
    ranked_clients: int
    rfm: m.Rfm | None
    trend: m.Trend
    trend_strength: Decimal | None
    payment: m.PaymentBehaviour
    payment_term_days: int | None
    stopped_groups: list[str]
    peer_groups: list[tuple[str, Decimal]]


async def sales_metrics_of(conn: AsyncConnection, client_ids: Sequence[uuid.UUID],
                           today: dt.date, ranking: Ranking) -> dict[uuid.UUID, SalesMetrics]:
    """The sales metrics of each of several clients, in a fixed number of statements however
    many they are (a screen of clients costs what one costs)."""
    ids = list(dict.fromkeys(client_ids))
    current = first_of_month(today)
    # trend: the 12 closed months before the current one
    closed = [add_months(current, -i) for i in range(12, 0, -1)]
    months = await q.monthly_by_client(conn, ids, closed[0], end_of_month(closed[-1]))
    # product groups by month over the rolling 12 months: the last 9 of them for stopped
    # groups, all 12 for what the client and its peers buy
    rolling = add_months(current, -11)
    by_group = await q.groups_by_month_by_client(conn, ids, rolling, end_of_month(current))
    profiles = await q.profiles(conn, ids)
    client_groups = sorted({g for g, _ in profiles.values() if g is not None}, key=str)
    buyers, bought = await q.group_buyers_by_group(conn, client_groups, rolling,
                                                   end_of_month(current))
    invoices = await q.invoices_due_by_client(conn, ids, today)
    out: dict[uuid.UUID, SalesMetrics] = {}
    for client_id in ids:
        series = trend_series(months.get(client_id, {}), closed)
        groups = by_group.get(client_id, {})
        group_id, term = profiles.get(client_id, (None, None))
        peers: list[tuple[str, Decimal]] = []
        if group_id is not None:
            own = {g for g, amounts in groups.items() if sum(amounts.values()) > 0}
            # the group's buyers and counts less the client itself (a buyer when it bought
            # any product group)
            peer_count = buyers.get(group_id, 0) - (1 if own else 0)
            counts = {g: n - (1 if g in own else 0)
                      for g, n in bought.get(group_id, {}).items()}
            peers = m.groups_peers_buy(own, counts, peer_count)
        out[client_id] = SalesMetrics(
            abc=ranking.abc.get(client_id), ranked_clients=len(ranking.abc),
            rfm=ranking.rfm.get(client_id), trend=m.trend(series),
            trend_strength=m.trend_strength(series),
            payment=m.payment_behaviour(invoices.get(client_id, []), today),
            payment_term_days=term, stopped_groups=m.stopped_groups(groups, current),
            peer_groups=peers)
    return out
