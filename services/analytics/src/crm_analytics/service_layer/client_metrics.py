"""A client's sales metrics: ABC class and RFM scores (ranked among all clients), trend, payment
behaviour, product groups stopped, product groups the client's peers buy.

ABC and RFM rank every client with turnover or invoices in the rolling 12 months (the current
month and the 11 before it). Ranking reads one row per client and month of the monthly rollup
plus one index probe per client for its latest invoice; the result is kept per process for
``RANKING_SECONDS`` (a client's class moves with everybody's figures, not with one request), so
a screen of 50 clients costs one ranking. The rest is per client, from the rollups and the
client's invoice headers and payments.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_analytics.adapters.tables import client_profiles
from crm_analytics.domain import metrics as m
from crm_analytics.domain.periods import add_months, end_of_month, first_of_month
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
    as_of: dt.datetime | None
    abc: m.AbcResult | None
    ranked_clients: int
    rfm: m.Rfm | None
    trend: m.Trend
    trend_strength: Decimal | None
    payment: m.PaymentBehaviour
    payment_term_days: int | None
    stopped_groups: list[str]
    peer_groups: list[tuple[str, Decimal]]


async def sales_metrics(conn: AsyncConnection, client_id: uuid.UUID, today: dt.date,
                        ranking: Ranking) -> SalesMetrics:
    current = first_of_month(today)
    scope = q.one_client(client_id)
    # trend: the 12 closed months before the current one
    closed = [add_months(current, -i) for i in range(12, 0, -1)]
    months = await q.monthly(conn, scope, closed[0], end_of_month(closed[-1]))
    series = [months[c].turnover if c in months else Decimal(0) for c in closed]
    first = next((i for i, v in enumerate(series) if v), None)
    series = series[first:] if first is not None else []
    # product groups: the last 9 months for stopped groups, the rolling 12 for peers
    by_group = await q.groups_by_month(conn, scope, add_months(current, -8),
                                       end_of_month(current))
    stopped = m.stopped_groups(by_group, current)
    profile = (await conn.execute(
        sa.select(client_profiles.c.group_id, client_profiles.c.payment_term_days)
        .where(client_profiles.c.client_id == client_id))).first()
    peers: list[tuple[str, Decimal]] = []
    if profile is not None and profile.group_id is not None:
        rolling = add_months(current, -11)
        peer_scope = q.both(q.group_members(profile.group_id),
                            lambda column: column != client_id)
        peer_count, bought = await q.group_buyers(conn, peer_scope, rolling,
                                                  end_of_month(current))
        own_rows = await q.groups_by_month(conn, scope, rolling, end_of_month(current))
        own = {g for g, per_month in own_rows.items() if sum(per_month.values()) > 0}
        peers = m.groups_peers_buy(own, bought, peer_count)
    invoices = await q.invoices_due(conn, client_id, today)
    return SalesMetrics(
        as_of=await q.watermark(conn), abc=ranking.abc.get(client_id),
        ranked_clients=len(ranking.abc), rfm=ranking.rfm.get(client_id),
        trend=m.trend(series), trend_strength=m.trend_strength(series),
        payment=m.payment_behaviour(invoices, today),
        payment_term_days=profile.payment_term_days if profile is not None else None,
        stopped_groups=stopped, peer_groups=peers)
