"""The client brief (a one-page PDF before a visit, ``reports.files.brief``): what it shows is
read here, for one client the requester may see (DESIGN §6; any other client reads as not
found), from the analytics service's own data — the reporting read model (``rm_clients``,
``rm_tasks``, ``rm_contacts``), the client profiles, the turnover rollups, the sales metrics'
stopped product groups and the pricing tiers projected from pricing's events."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_analytics.adapters.tables import (
    access,
    client_profiles,
    client_tiers,
    rm_client_groups,
    rm_clients,
    rm_contacts,
    rm_tasks,
)
from crm_analytics.domain.periods import add_months, first_of_month
from crm_analytics.reports.files.brief import (
    LIMITS,
    Brief,
    Contact,
    MonthTurnover,
    OpenTask,
    TierStanding,
)
from crm_analytics.service_layer import turnover_queries as q
from crm_analytics.service_layer.client_metrics import Ranking, sales_metrics_of
from crm_analytics.service_layer.visibility import Access

#: the statuses of a task still to be done (the tasks service's workflow)
OPEN_TASK_STATUSES = ("assigned", "in_progress", "in_production", "on_hold")
#: rows read beyond what the page shows, to say "and N more" (capped: "and 50+ more" is
#: not needed before a visit)
READ_AHEAD = 50


async def load_brief(conn: AsyncConnection, access_rule: Access, client_id: uuid.UUID,
                     ranking: Ranking) -> Brief | None:
    """The brief of ``client_id``, or None when the requester may not see it."""
    if client_id not in await access_rule.visible_among(conn, [client_id]):
        return None
    today = access_rule.now.date()
    employees = access.require_employees()
    owner = employees.alias("owner")
    c, g, p = rm_clients, rm_client_groups, client_profiles
    found = (await conn.execute(
        sa.select(c.c.name, c.c.code, c.c.status, c.c.city, g.c.name.label("group_name"),
                  owner.c.full_name.label("owner_name"), p.c.eik, p.c.payment_term_days)
        .select_from(c.outerjoin(g, g.c.group_id == c.c.group_id)
                     .outerjoin(owner, owner.c.employee_id == c.c.owner_id)
                     .outerjoin(p, p.c.client_id == c.c.client_id))
        .where(c.c.client_id == client_id))).first()
    if found is None:  # known to the access rule but not yet to the read model
        clients = access.require_clients()
        name = await conn.scalar(sa.select(clients.c.name)
                                 .where(clients.c.client_id == client_id))
        found_name = name or str(client_id)
    else:
        found_name = found.name

    # turnover: the current month and the 11 before, each against the same month a year before
    current = first_of_month(today)
    first = add_months(current, -11)
    months = await q.monthly(conn, q.one_client(client_id), add_months(first, -12), today)

    def turnover(month: dt.date) -> Decimal:
        figures = months.get(month)
        return figures.turnover if figures is not None else Decimal(0)

    shown = [MonthTurnover(add_months(first, i), turnover(add_months(first, i)),
                           turnover(add_months(first, i - 12))) for i in range(12)]
    january = current.replace(month=1)
    this_year = [add_months(january, i) for i in range(current.month)]
    ytd = sum((turnover(m) for m in this_year), Decimal(0))
    ytd_before = sum((turnover(add_months(m, -12)) for m in this_year), Decimal(0))

    metrics = (await sales_metrics_of(conn, [client_id], today, ranking)).get(client_id)
    stopped_codes = metrics.stopped_groups if metrics is not None else []
    names = await q.names(conn, stopped_codes, product=False)

    t = client_tiers
    tiers = [TierStanding(r.rule_code, r.window, r.metric, r.reached, r.tier, r.tier_effect,
                          r.next_threshold, r.next_tier_effect)
             for r in await conn.execute(
                 sa.select(t).where(t.c.client_id == client_id)
                 .order_by(t.c.next_threshold.is_(None), t.c.rule_code).limit(READ_AHEAD))]

    assignee = employees.alias("assignee")
    k = rm_tasks
    tasks = [OpenTask(r.due_date, r.commitment_type or r.kind, r.title, r.status,
                      r.assignee_name)
             for r in await conn.execute(
                 sa.select(k.c.due_date, k.c.kind, k.c.commitment_type, k.c.title, k.c.status,
                           assignee.c.full_name.label("assignee_name"))
                 .select_from(k.outerjoin(assignee,
                                          assignee.c.employee_id == k.c.assignee_id))
                 .where(k.c.client_id == client_id, k.c.status.in_(OPEN_TASK_STATUSES))
                 .order_by(k.c.due_date, k.c.number).limit(READ_AHEAD))]

    by = employees.alias("by")
    x = rm_contacts
    contacts = [Contact(r.occurred_at, r.kind, r.employee_name, r.duration_minutes, r.status)
                for r in await conn.execute(
                    sa.select(x.c.occurred_at, x.c.kind, x.c.duration_minutes, x.c.status,
                              by.c.full_name.label("employee_name"))
                    .select_from(x.outerjoin(by, by.c.employee_id == x.c.employee_id))
                    .where(x.c.client_id == client_id,
                           x.c.occurred_at <= access_rule.now)
                    .order_by(x.c.occurred_at.desc()).limit(READ_AHEAD))]
    as_of = await q.watermark(conn) or access_rule.now
    return Brief(
        client_name=found_name, today=today, data_as_of=as_of,
        code=found.code if found is not None else None,
        eik=found.eik if found is not None else None,
        status=found.status if found is not None else None,
        city=found.city if found is not None else None,
        group=found.group_name if found is not None else None,
        owner=found.owner_name if found is not None else None,
        payment_term_days=found.payment_term_days if found is not None else None,
        months=shown, year_to_date=ytd, year_to_date_before=ytd_before,
        stopped_groups=[names.get(code) or code for code in stopped_codes],
        tiers=tiers, open_tasks=tasks, last_contacts=contacts,
        requested_by=access_rule.principal.name)


__all__ = ["LIMITS", "OPEN_TASK_STATUSES", "load_brief"]
