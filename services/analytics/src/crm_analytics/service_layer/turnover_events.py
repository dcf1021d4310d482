"""``crm.analytics.client.turnover.updated`` (DESIGN §10): published through the outbox for each
client whose figures changed, at most once per client per ``turnover_debounce_seconds``.

The ledger marks a client (``turnover_publications.dirty_since``) in the transaction that
changes its figures. :func:`publish_due` takes the clients marked for at least the debounce
period and last published at least that long ago (``FOR UPDATE SKIP LOCKED``: several replicas
share the work), writes one event per client to the outbox with the next ``version``, and clears
the mark — one transaction. A change committed while that transaction runs marks the client
again, so nothing is missed.

The payload is complete enough that pricing never calls back: the current month and the 24
before it (each with the figures and the same by product group), and the payment behaviour over
the last 12 months.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from crm_analytics.adapters.tables import turnover_groups_monthly, turnover_publications
from crm_analytics.domain.ledger import FIGURE_COLUMNS
from crm_analytics.domain.metrics import Figures, PaymentBehaviour, payment_behaviour
from crm_analytics.domain.periods import add_months, months_between
from crm_analytics.service_layer import turnover_queries as q
from crm_common.messaging.broker import sleep_unless
from crm_common.messaging.envelope import DomainEvent, to_cloudevent
from crm_common.messaging.outbox import write_to_outbox

log = logging.getLogger(__name__)

EVENT_TYPE = "crm.analytics.client.turnover.updated"
#: months of history in the payload before the current one
HISTORY_MONTHS = 24
PAYMENT_WINDOW_MONTHS = 12
#: clients per publishing transaction
BATCH = 100


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _quantity(value: Decimal) -> str:
    return f"{value:.3f}"


def _figures_json(f: Figures) -> dict[str, str]:
    return {"invoicedNet": _money(f.turnover), "creditedNet": _money(f.credited_net),
            "invoicedQuantity": _quantity(f.quantity), "orderedNet": _money(f.ordered_net),
            "orderedQuantity": _quantity(f.ordered_quantity)}


def payments_json(p: PaymentBehaviour) -> dict[str, Any]:
    return {"windowMonths": PAYMENT_WINDOW_MONTHS, "invoicesDue": p.invoices_due,
            "paidWithinTerm": p.paid_within_term, "overdueInvoices": p.overdue_invoices,
            "averageDaysLate": f"{p.average_days_late:.1f}", "maxDaysLate": p.max_days_late,
            "overdueAmount": _money(p.overdue_amount)}


async def turnover_payload(conn: AsyncConnection | AsyncSession, client_id: uuid.UUID,
                           today: dt.date, as_of: dt.datetime | None) -> dict[str, Any]:
    """The event's data for ``client_id`` as the rollups stand."""
    connection = conn if isinstance(conn, AsyncConnection) else await conn.connection()
    current = today.replace(day=1)
    start = add_months(current, -HISTORY_MONTHS)
    scope = q.one_client(client_id)
    totals = await q.monthly(connection, scope, start, current)
    t = turnover_groups_monthly
    rows = await connection.execute(
        sa.select(t.c.month, t.c.product_group_code,
                  *[sa.func.sum(t.c[c]).label(c) for c in FIGURE_COLUMNS])
        .where(t.c.client_id == client_id, t.c.month >= start, t.c.month <= current)
        .group_by(t.c.month, t.c.product_group_code)
        .order_by(t.c.month, t.c.product_group_code))
    groups: dict[dt.date, list[dict[str, str]]] = {}
    for row in rows:
        m = row._mapping
        f = Figures(invoiced_net=Decimal(m["invoiced_net"]),
                    credited_net=Decimal(m["credited_net"]),
                    invoiced_quantity=Decimal(m["invoiced_quantity"]),
                    credited_quantity=Decimal(m["credited_quantity"]),
                    ordered_net=Decimal(m["ordered_net"]),
                    ordered_quantity=Decimal(m["ordered_quantity"]))
        if all(not getattr(f, c) for c in FIGURE_COLUMNS):
            continue
        groups.setdefault(row.month, []).append(
            {"productGroupCode": row.product_group_code, **_figures_json(f)})
    months = []
    for month in months_between(start, current):
        f = totals.get(month, Figures())
        months.append({"month": month.strftime("%Y-%m"), **_figures_json(f),
                       "invoices": f.invoices, "creditNotes": f.credit_notes,
                       "orders": f.orders, "byProductGroup": groups.get(month, [])})
    behaviour = payment_behaviour(await q.invoices_due(connection, client_id, today), today,
                                  window_months=PAYMENT_WINDOW_MONTHS)
    moment = as_of or dt.datetime.now(dt.UTC)
    return {"clientId": str(client_id), "asOf": moment, "currency": "EUR", "months": months,
            "payments": payments_json(behaviour)}


async def publish_due(sessions: async_sessionmaker[AsyncSession], *, debounce: dt.timedelta,
                      source: str, today: dt.date | None = None, limit: int = BATCH) -> int:
    """Publish the events that are due (one transaction); return how many."""
    p = turnover_publications.c
    async with sessions() as session, session.begin():
        now = await session.scalar(sa.select(sa.func.now()))
        assert now is not None
        due = (await session.execute(
            sa.select(p.client_id, p.version)
            .where(p.dirty_since.isnot(None), p.dirty_since <= now - debounce,
                   sa.or_(p.published_at.is_(None), p.published_at <= now - debounce))
            .order_by(p.dirty_since).limit(limit)
            .with_for_update(skip_locked=True))).all()
        if not due:
            return 0
        connection = await session.connection()
        as_of = await q.watermark(connection)
        day = today or now.date()
        envelopes = []
        for row in due:
            data = await turnover_payload(connection, row.client_id, day, as_of)
            data["version"] = row.version + 1
            envelopes.append(to_cloudevent(
                DomainEvent(EVENT_TYPE, str(row.client_id), data), source=source,
                actor_id="system"))
        await write_to_outbox(session, envelopes)
        await session.execute(
            sa.update(turnover_publications)
            .where(p.client_id == sa.bindparam("cid"))
            .values(version=sa.bindparam("new_version"), dirty_since=None, published_at=now),
            [{"cid": row.client_id, "new_version": row.version + 1} for row in due])
        return len(due)


async def run_publisher(engine: AsyncEngine, stop: asyncio.Event, *, debounce: dt.timedelta,
                        source: str, interval: float = 1.0) -> None:
    """Publish due turnover events until ``stop``; a failure is logged and retried."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    while not stop.is_set():
        try:
            while await publish_due(sessions, debounce=debounce, source=source) == BATCH:
                if stop.is_set():
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the loop reports and goes on
            log.warning("turnover events failed (%r); next try in %.0fs", exc, interval)
        if await sleep_unless(stop, interval):
            return
