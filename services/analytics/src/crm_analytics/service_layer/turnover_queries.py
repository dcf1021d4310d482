"""Reads of the turnover figures: always from the monthly rollups (``turnover_monthly``,
``turnover_items_monthly``), never from the ledger's lines; the payment behaviour from the
invoice headers and payments of the client.

A *scope* is a SQL condition on a ``client_id`` column: one client, a client group, an owner's
portfolio, a list of clients, everyone — always AND the caller's access rule
(``service_layer.visibility``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from crm_analytics.adapters.tables import (
    access,
    client_profiles,
    erp_documents,
    erp_payments,
    erp_product_groups,
    erp_products,
    turnover_groups_monthly,
    turnover_items_monthly,
    turnover_monthly,
)
from crm_analytics.domain.ledger import COUNT_COLUMNS, FIGURE_COLUMNS
from crm_analytics.domain.metrics import Figures, InvoiceDue
from crm_analytics.domain.periods import add_months
from crm_analytics.domain.turnover import ItemMonth

#: a condition on a client id column
Scope = Callable[[sa.ColumnElement[Any]], sa.ColumnElement[bool]]


def one_client(client_id: uuid.UUID) -> Scope:
    return lambda column: column == client_id


def clients_in(client_ids: Sequence[uuid.UUID]) -> Scope:
    return lambda column: column.in_(list(client_ids))


def group_members(group_id: uuid.UUID) -> Scope:
    p = client_profiles.c
    return lambda column: column.in_(sa.select(p.client_id).where(p.group_id == group_id))


def portfolio(owner_id: uuid.UUID) -> Scope:
    c = access.require_clients().c
    return lambda column: column.in_(sa.select(c.client_id).where(c.owner_id == owner_id))


def everyone() -> Scope:
    return lambda _column: sa.true()


def both(*scopes: Scope) -> Scope:
    return lambda column: sa.and_(*(scope(column) for scope in scopes))


def _figures(row: Mapping[Any, Any], counts: bool = True) -> Figures:
    """Figures from a row of the rollup columns (numeric columns arrive as ``Decimal``)."""
    if counts:
        return Figures(row["invoiced_net"], row["credited_net"], row["invoiced_quantity"],
                       row["credited_quantity"], row["ordered_net"], row["ordered_quantity"],
                       int(row["invoices"]), int(row["credit_notes"]), int(row["orders"]))
    return Figures(row["invoiced_net"], row["credited_net"], row["invoiced_quantity"],
                   row["credited_quantity"], row["ordered_net"], row["ordered_quantity"])


def _sums(table: sa.Table, columns: Sequence[str]) -> list[sa.Label[Any]]:
    return [sa.func.coalesce(sa.func.sum(table.c[c]), 0).label(c) for c in columns]


async def monthly(conn: AsyncConnection, scope: Scope, start: dt.date,
                  end: dt.date) -> dict[dt.date, Figures]:
    """The figures of the scope by month (first days), for the months from ``start``'s to
    ``end``'s; months without figures are absent."""
    t = turnover_monthly
    rows = await conn.execute(
        sa.select(t.c.month, *_sums(t, (*FIGURE_COLUMNS, *COUNT_COLUMNS)))
        .where(scope(t.c.client_id), t.c.month >= start.replace(day=1), t.c.month <= end)
        .group_by(t.c.month))
    return {row.month: _figures(row._mapping) for row in rows}


async def by_client(conn: AsyncConnection, scope: Scope, start: dt.date,
                    end: dt.date) -> dict[uuid.UUID, Figures]:
    """The figures of each client of the scope over the months from ``start`` to ``end``."""
    t = turnover_monthly
    rows = await conn.execute(
        sa.select(t.c.client_id, *_sums(t, (*FIGURE_COLUMNS, *COUNT_COLUMNS)))
        .where(scope(t.c.client_id), t.c.month >= start.replace(day=1), t.c.month <= end)
        .group_by(t.c.client_id))
    return {row.client_id: _figures(row._mapping) for row in rows}


async def monthly_by_client(conn: AsyncConnection, clients: Sequence[uuid.UUID], start: dt.date,
                            end: dt.date) -> dict[uuid.UUID, dict[dt.date, Figures]]:
    """:func:`monthly` for each of several clients, in one statement."""
    t = turnover_monthly
    rows = await conn.execute(
        sa.select(t).where(t.c.client_id.in_(list(clients)), t.c.month >= start.replace(day=1),
                           t.c.month <= end))
    out: dict[uuid.UUID, dict[dt.date, Figures]] = {}
    for row in rows:
        out.setdefault(row.client_id, {})[row.month] = _figures(row._mapping)
    return out


def rollup(product: bool) -> sa.Table:
    """The rollup a read by product (group) uses: by product group it is the smaller
    ``turnover_groups_monthly`` (20 rows a client-month instead of ~70)."""
    return turnover_items_monthly if product else turnover_groups_monthly


def _item_columns(product: bool) -> list[Any]:
    """The columns of an :data:`ItemMonth`, in its order."""
    t = rollup(product)
    key = t.c.product_code if product else t.c.product_group_code
    return [key.label("code"), sa.func.min(t.c.product_group_code).label("grp"), t.c.month,
            *_sums(t, FIGURE_COLUMNS)]


def _item_select(product: bool, *conditions: sa.ColumnElement[bool],
                 per_client: bool = False) -> sa.Select[Any]:
    t = rollup(product)
    key = t.c.product_code if product else t.c.product_group_code
    columns = _item_columns(product)
    group_by: list[Any] = [key, t.c.month]
    if per_client:
        columns.insert(0, t.c.client_id)
        group_by.insert(0, t.c.client_id)
    return sa.select(*columns).where(*conditions).group_by(*group_by)


def _item_months(rows: Any) -> list[ItemMonth]:
    """Rows of :func:`_item_columns` as plain tuples (``ItemMonth``)."""
    return [tuple(row) for row in rows]


async def item_months(conn: AsyncConnection, scope: Scope, start: dt.date, end: dt.date, *,
                      product: bool) -> list[ItemMonth]:
    """The figures of the scope by product group (or product) and month."""
    t = rollup(product)
    rows = await conn.execute(_item_select(
        product, scope(t.c.client_id), t.c.month >= start.replace(day=1), t.c.month <= end))
    return _item_months(rows)


def _items_of_clients(product: bool) -> sa.Select[Any]:
    t = rollup(product)
    key = t.c.product_code if product else t.c.product_group_code
    return (sa.select(*_item_columns(product))
            .where(t.c.client_id == sa.any_(sa.bindparam("ids", type_=_UUIDS)),
                   t.c.month >= sa.bindparam("start", type_=sa.Date),
                   t.c.month <= sa.bindparam("end", type_=sa.Date))
            .group_by(key, t.c.month))


_UUIDS = ARRAY(UUID(as_uuid=True))
#: built once (by product group, by product): building a statement per call cost more than
#: its execution
_ITEMS_OF_CLIENTS = {product: _items_of_clients(product) for product in (False, True)}


async def item_months_of_clients(conn: AsyncConnection, client_ids: Sequence[uuid.UUID],
                                 start: dt.date, end: dt.date, *, product: bool
                                 ) -> list[ItemMonth]:
    """:func:`item_months` of these clients together (the caller has checked that the
    principal may see them)."""
    rows = await conn.execute(_ITEMS_OF_CLIENTS[product],
                              {"ids": list(client_ids), "start": start.replace(day=1),
                               "end": end})
    return _item_months(rows)


async def item_months_by_client(conn: AsyncConnection, clients: Sequence[uuid.UUID],
                                start: dt.date, end: dt.date, *, product: bool
                                ) -> dict[uuid.UUID, list[ItemMonth]]:
    """:func:`item_months` for each of several clients, in one statement."""
    t = rollup(product)
    rows = await conn.execute(_item_select(
        product, t.c.client_id.in_(list(clients)), t.c.month >= start.replace(day=1),
        t.c.month <= end, per_client=True))
    out: dict[uuid.UUID, list[ItemMonth]] = {}
    for client_id, *item in rows:
        out.setdefault(client_id, []).append(tuple(item))
    return out


#: what the keyed reads key by: the client's group (``client_profiles``) or its owner
#: (``access_clients``)
KEYS = ("client_group", "owner")


def _keyed(table: sa.Table, key: str) -> tuple[sa.FromClause, sa.ColumnElement[Any]]:
    """The table joined to what ``key`` names, and the key column."""
    if key == "client_group":
        p = client_profiles
        return table.join(p, p.c.client_id == table.c.client_id), p.c.group_id
    if key == "owner":
        a = access.require_clients()
        return table.join(a, a.c.client_id == table.c.client_id), a.c.owner_id
    raise ValueError(f"cannot key by {key!r}")


async def monthly_by_key(conn: AsyncConnection, key: str, ids: Sequence[uuid.UUID],
                         scope: Scope, start: dt.date, end: dt.date
                         ) -> dict[uuid.UUID, dict[dt.date, Figures]]:
    """:func:`monthly` of the clients of each of several groups (``key`` client_group) or
    owners (``owner``) within ``scope``, in one statement."""
    t = turnover_monthly
    source, column = _keyed(t, key)
    rows = await conn.execute(
        sa.select(column.label("k"), t.c.month, *_sums(t, (*FIGURE_COLUMNS, *COUNT_COLUMNS)))
        .select_from(source)
        .where(column.in_(list(ids)), scope(t.c.client_id), t.c.month >= start.replace(day=1),
               t.c.month <= end)
        .group_by(column, t.c.month))
    out: dict[uuid.UUID, dict[dt.date, Figures]] = {}
    for row in rows:
        out.setdefault(row.k, {})[row.month] = _figures(row._mapping)
    return out


async def item_months_by_key(conn: AsyncConnection, key: str, ids: Sequence[uuid.UUID],
                             scope: Scope, start: dt.date, end: dt.date, *, product: bool
                             ) -> dict[uuid.UUID, list[ItemMonth]]:
    """:func:`item_months` of the clients of each of several groups or owners within
    ``scope``, in one statement."""
    t = rollup(product)
    source, column = _keyed(t, key)
    code = t.c.product_code if product else t.c.product_group_code
    rows = await conn.execute(
        sa.select(column.label("k"), *_item_columns(product))
        .select_from(source)
        .where(column.in_(list(ids)), scope(t.c.client_id), t.c.month >= start.replace(day=1),
               t.c.month <= end)
        .group_by(column, code, t.c.month))
    out: dict[uuid.UUID, list[ItemMonth]] = {}
    for k, *item in rows:
        out.setdefault(k, []).append(tuple(item))
    return out


async def names(conn: AsyncConnection, codes: Sequence[str], *, product: bool
                ) -> dict[str, str]:
    """The catalogue's names of these product (group) codes."""
    if not codes:
        return {}
    rows = await conn.execute(_NAMES[product], {"codes": list(codes)})
    return {code: name for code, name in rows}


#: built once (product groups, products)
_NAMES = {product: sa.select(table.c.code, table.c.name)
          .where(table.c.code == sa.any_(sa.bindparam("codes", type_=ARRAY(sa.Text))))
          for product, table in ((False, erp_product_groups), (True, erp_products))}


async def groups_by_month_by_client(conn: AsyncConnection, client_ids: Sequence[uuid.UUID],
                                    start: dt.date, end: dt.date
                                    ) -> dict[uuid.UUID, dict[str, dict[dt.date, Decimal]]]:
    """Turnover by product group and month of each of several clients (for stopped groups
    and what peers buy), in one statement."""
    t = turnover_groups_monthly
    rows = await conn.execute(
        sa.select(t.c.client_id, t.c.product_group_code, t.c.month,
                  sa.func.sum(t.c.invoiced_net - t.c.credited_net).label("turnover"))
        .where(t.c.client_id.in_(list(client_ids)), t.c.month >= start.replace(day=1),
               t.c.month <= end)
        .group_by(t.c.client_id, t.c.product_group_code, t.c.month))
    out: dict[uuid.UUID, dict[str, dict[dt.date, Decimal]]] = {}
    for row in rows:
        out.setdefault(row.client_id, {}).setdefault(row.product_group_code, {})[row.month] = \
            Decimal(row.turnover)
    return out


async def group_buyers_by_group(conn: AsyncConnection, group_ids: Sequence[uuid.UUID],
                                start: dt.date, end: dt.date
                                ) -> tuple[dict[uuid.UUID, int], dict[uuid.UUID, dict[str, int]]]:
    """Per client group (all its members): how many of its clients bought anything in the
    months, and how many bought each product group (positive turnover). Two statements."""
    if not group_ids:
        return {}, {}
    t, p = turnover_groups_monthly, client_profiles
    per_client = (sa.select(p.c.group_id, t.c.client_id, t.c.product_group_code)
                  .select_from(t.join(p, p.c.client_id == t.c.client_id))
                  .where(p.c.group_id.in_(list(group_ids)), t.c.month >= start.replace(day=1),
                         t.c.month <= end)
                  .group_by(p.c.group_id, t.c.client_id, t.c.product_group_code)
                  .having(sa.func.sum(t.c.invoiced_net - t.c.credited_net) > 0).subquery())
    counts: dict[uuid.UUID, dict[str, int]] = {}
    for row in await conn.execute(
            sa.select(per_client.c.group_id, per_client.c.product_group_code,
                      sa.func.count().label("n"))
            .group_by(per_client.c.group_id, per_client.c.product_group_code)):
        counts.setdefault(row.group_id, {})[row.product_group_code] = int(row.n)
    buyers = {row.group_id: int(row.n) for row in await conn.execute(
        sa.select(per_client.c.group_id,
                  sa.func.count(sa.distinct(per_client.c.client_id)).label("n"))
        .group_by(per_client.c.group_id))}
    return buyers, counts


async def profiles(conn: AsyncConnection, client_ids: Sequence[uuid.UUID]
                   ) -> dict[uuid.UUID, tuple[uuid.UUID | None, int | None]]:
    """The client group and payment term of each client this service has a profile of."""
    p = client_profiles.c
    rows = await conn.execute(sa.select(p.client_id, p.group_id, p.payment_term_days)
                              .where(p.client_id.in_(list(client_ids))))
    return {row.client_id: (row.group_id, row.payment_term_days) for row in rows}


async def last_invoice_dates(conn: AsyncConnection, client_ids: Sequence[uuid.UUID]
                             ) -> dict[uuid.UUID, dt.date]:
    """The issue date of each client's latest posted invoice (one index probe per client)."""
    if not client_ids:
        return {}
    d = erp_documents.c
    ids = sa.func.unnest(sa.cast(sa.literal(list(client_ids)),
                                 sa.ARRAY(sa.Uuid()))).table_valued("id").render_derived()
    latest = (sa.select(d.doc_date).where(d.client_id == ids.c.id, d.kind == "invoice",
                                          d.status == "posted")
              .order_by(d.doc_date.desc()).limit(1).scalar_subquery())
    rows = await conn.execute(sa.select(ids.c.id, latest.label("last")))
    return {row.id: row.last for row in rows if row.last is not None}


async def invoices_due(conn: AsyncConnection, client_id: uuid.UUID,
                       today: dt.date, *, months: int = 36) -> list[InvoiceDue]:
    """The client's posted invoices issued in the last ``months`` months, each with the amount
    due (gross EUR less its credit notes' gross) and its payments (EUR)."""
    found = await invoices_due_by_client(conn, [client_id], today, months=months)
    return found.get(client_id, [])


async def invoices_due_by_client(conn: AsyncConnection, client_ids: Sequence[uuid.UUID],
                                 today: dt.date, *, months: int = 36
                                 ) -> dict[uuid.UUID, list[InvoiceDue]]:
    """:func:`invoices_due` of each of several clients (by due date), in two statements."""
    if not client_ids:
        return {}
    d = erp_documents
    credit = d.alias("credit")
    credited = (sa.select(sa.func.coalesce(sa.func.sum(
        sa.func.coalesce(credit.c.gross_amount_eur, credit.c.net_amount_eur)), 0))
        .where(credit.c.doc_type == "invoice", credit.c.credited_document_id == d.c.erp_id,
               credit.c.status != "cancelled")
        .scalar_subquery())
    conditions = (d.c.client_id.in_(list(client_ids)), d.c.kind == "invoice",
                  d.c.status == "posted", d.c.doc_date >= add_months(today, -months))
    rows = (await conn.execute(
        sa.select(d.c.client_id, d.c.erp_id, d.c.doc_date, d.c.due_date,
                  (sa.func.coalesce(d.c.gross_amount_eur, d.c.net_amount_eur)
                   - credited).label("due"))
        .where(*conditions).order_by(d.c.due_date, d.c.erp_id))).all()
    payments: dict[str, list[tuple[dt.date, Decimal]]] = {}
    p = erp_payments.c
    if rows:
        for pay in await conn.execute(
                sa.select(p.document_id, p.paid_on, p.amount_eur)
                .where(p.document_id.in_(sa.select(d.c.erp_id).where(*conditions)))
                .order_by(p.paid_on)):
            payments.setdefault(pay.document_id, []).append((pay.paid_on, pay.amount_eur))
    out: dict[uuid.UUID, list[InvoiceDue]] = {}
    for row in rows:
        out.setdefault(row.client_id, []).append(InvoiceDue(
            document_id=row.erp_id, issue_date=row.doc_date,
            due_date=row.due_date or row.doc_date, amount_due=Decimal(row.due),
            payments=tuple(payments.get(row.erp_id, ()))))
    return out


async def watermark(conn: AsyncConnection) -> dt.datetime | None:
    """The time of the latest ERP message applied (documents, payments, products)."""
    moment: dt.datetime | None = await conn.scalar(_WATERMARK)
    return moment


#: built once: a statement built per call costs more than its execution
_WATERMARK = sa.select(sa.func.greatest(*(
    sa.select(sa.func.max(t.c.event_time)).scalar_subquery()
    for t in (erp_documents, erp_payments, erp_products))))


#: what the grouped reads group by
GROUP_KEYS = ("client", "client_group", "owner")


async def grouped(conn: AsyncConnection, scope: Scope, start: dt.date, end: dt.date,
                  key: str) -> dict[uuid.UUID | None, Figures]:
    """The scope's figures over the months from ``start`` to ``end`` by client, client group or
    owner (``None``: clients without a group or owner)."""
    t = turnover_monthly
    sums = _sums(t, (*FIGURE_COLUMNS, *COUNT_COLUMNS))
    conditions = [scope(t.c.client_id), t.c.month >= start.replace(day=1), t.c.month <= end]
    if key == "client":
        statement = sa.select(t.c.client_id.label("k"), *sums).where(*conditions) \
            .group_by(t.c.client_id)
    elif key == "client_group":
        p = client_profiles
        statement = (sa.select(p.c.group_id.label("k"), *sums)
                     .select_from(t.outerjoin(p, p.c.client_id == t.c.client_id))
                     .where(*conditions).group_by(p.c.group_id))
    elif key == "owner":
        a = access.require_clients()
        statement = (sa.select(a.c.owner_id.label("k"), *sums)
                     .select_from(t.outerjoin(a, a.c.client_id == t.c.client_id))
                     .where(*conditions).group_by(a.c.owner_id))
    else:
        raise ValueError(f"cannot group by {key!r}")
    return {row.k: _figures(row._mapping) for row in await conn.execute(statement)}


async def client_names(conn: AsyncConnection, client_ids: Sequence[uuid.UUID]
                       ) -> dict[uuid.UUID, str]:
    """The clients' names from the access projection."""
    if not client_ids:
        return {}
    c = access.require_clients().c
    rows = await conn.execute(sa.select(c.client_id, c.name)
                              .where(c.client_id.in_(list(client_ids))))
    return {row.client_id: row.name for row in rows}
