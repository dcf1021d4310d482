"""The report engine: a checked :class:`~crm_analytics.reports.definition.Plan` as one
SQLAlchemy Core statement over the dataset's whitelisted expressions, with the requester's
access rule (DESIGN §6) in its WHERE clause; run as a keyset-paged table for the API
(:func:`run_page`), or streamed in full as a :class:`ReportTable` for files and background jobs
(:func:`report_table`).

The statement:

* a listing: the columns' values, the filters, the period, the access rule;
* a summary: the same rows grouped by up to three dimensions (a date dimension truncated to its
  granularity), each measure aggregated (``share`` is the group's sum in % of the sum over all
  groups, a window over the grouped rows);
* with a comparison: the summary of the compared period (its dates shifted onto the current
  period's, so that March of last year meets March) joined in full (a group present in only one
  period shows zero on the other side), with the change and the change in %;
* ordered by the sort asked for, then by the grouping keys (or the dataset's row key), limited.

Totals are the measures over every row of the filtered data (no grouping): a count distinct is
the distinct count over the whole, not a sum of the groups'.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_analytics.adapters.tables import rm_watermarks
from crm_analytics.reports.chart import vega_lite
from crm_analytics.reports.datasets import Bound, Field
from crm_analytics.reports.definition import Dimension, Plan, PlannedMeasure
from crm_analytics.reports.table import Cell, Column, ColumnKind, ReportTable
from crm_analytics.service_layer import turnover_queries as q
from crm_analytics.service_layer.visibility import Access
from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor

Expr = sa.ColumnElement[Any]

#: rows a chart's data carries at most (the first rows of the result, in its order)
CHART_ROWS = 500
#: rows fetched per round trip while streaming a table
STREAM_BATCH = 2000


def _bucket(value: Expr, granularity: str | None) -> Expr:
    if granularity is None or granularity == "day":
        return value
    if granularity == "half_year":
        year = sa.func.date_trunc("year", value)
        return sa.cast(sa.case((sa.extract("month", value) <= 6, year),
                               else_=year + sa.text("interval '6 months'")), sa.Date)
    return sa.cast(sa.func.date_trunc(granularity, value), sa.Date)


def _bucket_label(bucket: Expr, granularity: str | None) -> Expr:
    if granularity in (None, "day"):
        return sa.func.to_char(bucket, "YYYY-MM-DD")
    formats = {"week": 'IYYY-"W"IW', "month": "YYYY-MM", "quarter": 'YYYY-"Q"Q',
               "year": "YYYY"}
    if granularity == "half_year":
        return sa.func.to_char(bucket, "YYYY") + sa.case(
            (sa.extract("month", bucket) <= 6, "-H1"), else_="-H2")
    return sa.func.to_char(bucket, formats[granularity])


def _column_kind(kind: str) -> ColumnKind:
    if kind in ("text", "enum", "id", "boolean"):
        return "text"
    return kind  # type: ignore[return-value]


def _shown(f: Field) -> Expr:
    """A listing's cell: booleans read yes/no, ids as text."""
    if f.kind == "boolean":
        return sa.case((f.value.is_(True), "yes"), (f.value.is_(False), "no"), else_=None)
    return f.value


_COMPARE: dict[str, Any] = {
    "eq": lambda v, x: v == x, "ne": lambda v, x: v.is_distinct_from(x),
    "lt": lambda v, x: v < x, "le": lambda v, x: v <= x,
    "gt": lambda v, x: v > x, "ge": lambda v, x: v >= x,
}


def _filter(f: Field, operator: str, values: Sequence[Any]) -> Expr:
    v = f.value
    if operator == "is_null":
        return v.is_(None)
    if operator == "is_not_null":
        return v.is_not(None)
    if operator in _COMPARE:
        compared: Expr = _COMPARE[operator](v, values[0])
        return compared
    if operator == "between":
        return v.between(values[0], values[1])
    if operator == "in":
        return v.in_(list(values))
    if operator == "not_in":
        return sa.or_(v.is_(None), v.not_in(list(values)))
    if operator == "contains":
        return v.icontains(values[0], autoescape=True)
    if operator == "starts_with":
        return v.istartswith(values[0], autoescape=True)
    raise ValueError(operator)  # the plan admits no other


@dataclass(frozen=True)
class Output:
    key: str
    label: str
    kind: ColumnKind


@dataclass
class Statement:
    """A plan as SQL: ``ordered`` yields the output columns (then the hidden tie-break keys
    ``_k0``...) in the report's order, limited; ``totals`` the totals row (or None)."""

    outputs: list[Output]
    ordered: sa.Select[Any]
    order: list[tuple[str, bool, str]]
    """(column name, descending, kind of value) of the ordering, tie-breaks included."""
    totals: sa.Select[Any] | None
    window_totals: bool = False
    """The ordered rows carry the totals (``_t0``..., ``_p0``...) as window columns."""


class _Builder:
    def __init__(self, plan: Plan, access: Access) -> None:
        self.plan = plan
        self.access = access
        self.bound: Bound = plan.dataset.bind(plan.used_fields)

    def field(self, f: Field) -> Field:
        """The plan's field as bound to this run's FROM (sales chooses its rollup)."""
        return self.bound.fields[f.name]

    def where(self, period: Any) -> list[Expr]:
        b, plan = self.bound, self.plan
        conditions = [plan.dataset.visible(b, self.access)]
        if b.base is not None:
            conditions.append(b.base)
        conditions += [_filter(self.field(f.field), f.operator, f.values) for f in plan.filters]
        if period is not None:
            conditions.append(self.field(period.field).value.between(period.start, period.end))
        return conditions

    def dims(self, shift: str | None) -> list[tuple[str, Expr, Expr]]:
        """(key, group key, shown value) of each dimension; a date dimension's value moved by
        ``shift`` (an interval, for the compared period)."""
        out = []
        for d in self.plan.dimensions:
            f = self.field(d.field)
            if d.granularity is not None:
                value = f.value
                if shift is not None:
                    value = sa.cast(value + sa.text(f"interval '{shift}'"), sa.Date)
                bucket = _bucket(value, d.granularity)
                out.append((d.key, bucket, _bucket_label(bucket, d.granularity)))
            else:
                out.append((d.key, f.group_key, f.value))
        return out

    def aggregate(self, m: PlannedMeasure, only: Expr | None = None) -> Expr:
        """The measure's aggregate (over the rows meeting ``only``, when given)."""
        f = self.field(m.field) if m.field is not None else None

        def of(agg: Any) -> Expr:
            result: Expr = agg if only is None else agg.filter(only)
            return result

        if m.aggregate == "count":
            return of(sa.func.count() if f is None else sa.func.count(f.value))
        assert f is not None
        if m.aggregate == "count_distinct":
            return of(sa.func.count(sa.distinct(f.group_key)))
        if m.aggregate == "sum":
            return sa.func.coalesce(of(sa.func.sum(f.value)), 0)
        if m.aggregate == "share":
            total = sa.func.sum(of(sa.func.sum(f.value))).over()
            return sa.func.round(of(sa.func.sum(f.value)) * 100 / sa.func.nullif(total, 0), 2)
        if m.aggregate == "avg":
            return sa.func.round(of(sa.func.avg(f.value)), 2)
        if m.aggregate == "min":
            return of(sa.func.min(f.value))
        return of(sa.func.max(f.value))

    def in_period(self, period: Any) -> Expr:
        return self.field(period.field).value.between(period.start, period.end)

    def side_by_side(self, shift: str) -> sa.Subquery:
        """Both periods' groups in one pass over the data (the periods do not overlap): a
        previous period's row is grouped with its date moved by ``shift``, each measure
        aggregated over the rows of its period (``FILTER``)."""
        plan = self.plan
        assert plan.period is not None and plan.previous is not None
        now, before = self.in_period(plan.period), self.in_period(plan.previous)
        cols: list[Expr] = []
        groups: list[Expr] = []
        for i, d in enumerate(plan.dimensions):
            f = self.field(d.field)
            if d.granularity is not None:
                moved = sa.cast(f.value + sa.text(f"interval '{shift}'"), sa.Date)
                bucket = _bucket(sa.case((now, f.value), else_=moved), d.granularity)
                group, shown = bucket, _bucket_label(bucket, d.granularity)
            else:
                group, shown = f.group_key, f.value
            groups.append(group)
            cols += [group.label(f"_k{i}"), sa.func.min(shown).label(f"_v{i}")]
        for j, m in enumerate(plan.measures):
            cols += [self.aggregate(m, now).label(f"_c{j}"),
                     self.aggregate(m, before).label(f"_p{j}")]
        where = self.where(None) + [sa.or_(now, before)]
        statement = sa.select(*cols).select_from(self.bound.source).where(*where)
        if groups:
            statement = statement.group_by(*groups)
        return statement.subquery("m")

    def summary(self, period: Any, shift: str | None, name: str) -> sa.Subquery:
        dims = self.dims(shift)
        cols: list[Expr] = []
        for i, (_key, group, shown) in enumerate(dims):
            cols += [group.label(f"_k{i}"), sa.func.min(shown).label(f"_v{i}")]
        cols += [self.aggregate(m).label(f"_m{j}") for j, m in enumerate(self.plan.measures)]
        statement = sa.select(*cols).select_from(self.bound.source).where(*self.where(period))
        if dims:
            statement = statement.group_by(*(group for _k, group, _s in dims))
        return statement.subquery(name)

    def overlapping(self, shift: str) -> sa.Subquery:
        """Both periods' groups when the periods overlap (a row may count in both, under two
        keys): each period summarised, UNION ALL, grouped again by the keys (a FULL JOIN cannot
        match NULL keys; GROUP BY treats them as equal)."""
        plan = self.plan
        n = len(plan.dimensions)
        cur = self.summary(plan.period, None, "cur")
        prev = self.summary(plan.previous, shift, "prev")
        width = len(plan.measures)

        def side(sub: sa.Subquery, current: bool) -> sa.Select[Any]:
            cols: list[Expr] = []
            for i in range(n):
                cols += [sub.c[f"_k{i}"], sub.c[f"_v{i}"]]
            for j in range(width):
                null = sa.null().label(f"_{'p' if current else 'c'}{j}")
                value = sub.c[f"_m{j}"].label(f"_{'c' if current else 'p'}{j}")
                cols += [value, null] if current else [null, value]
            return sa.select(*cols)

        both = sa.union_all(side(cur, True), side(prev, False)).subquery("both")
        merged_cols: list[Expr] = []
        for i in range(n):
            merged_cols += [both.c[f"_k{i}"], sa.func.min(both.c[f"_v{i}"]).label(f"_v{i}")]
        for j in range(width):
            merged_cols += [sa.func.max(both.c[f"_c{j}"]).label(f"_c{j}"),
                            sa.func.max(both.c[f"_p{j}"]).label(f"_p{j}")]
        merged = sa.select(*merged_cols)
        if n:
            merged = merged.group_by(*(both.c[f"_k{i}"] for i in range(n)))
        return merged.subquery("m")

    def build(self) -> Statement:
        plan = self.plan
        if not plan.aggregated:
            return self.listing()
        n = len(plan.dimensions)
        outputs = [Output(d.key, d.label, _dim_kind(d)) for d in plan.dimensions]
        select: list[Expr] = []
        keys: list[Expr] = []
        # totals as windows over the grouped rows, read with the page (no second pass over
        # the data) when every measure's total is an aggregate of the groups' values
        window = all(m.aggregate in _OVER_GROUPS for m in plan.measures)
        totals: list[Expr] = []
        if plan.previous is None:
            cur = self.summary(plan.period, None, "cur")
            select += [cur.c[f"_v{i}"].label(d.key) for i, d in enumerate(plan.dimensions)]
            for j, m in enumerate(plan.measures):
                select.append(cur.c[f"_m{j}"].label(m.key))
                outputs.append(Output(m.key, m.label, _column_kind(m.kind)))
                if window:
                    totals.append(_over_groups(m.aggregate, cur.c[f"_m{j}"]).label(f"_t{j}"))
            keys = [cur.c[f"_k{i}"] for i in range(n)]
            source: sa.FromClause = cur
        else:
            shift = _interval(plan)
            assert plan.period is not None
            if plan.previous.end < plan.period.start:
                source = self.side_by_side(shift)
            else:
                source = self.overlapping(shift)
            for i, d in enumerate(plan.dimensions):
                select.append(source.c[f"_v{i}"].label(d.key))
                keys.append(source.c[f"_k{i}"])
            for j, m in enumerate(plan.measures):
                now: Expr = source.c[f"_c{j}"]
                before: Expr = source.c[f"_p{j}"]
                if m.aggregate in ("sum", "count", "count_distinct"):
                    now, before = sa.func.coalesce(now, 0), sa.func.coalesce(before, 0)
                change = now - before
                kind = _column_kind(m.kind)
                if window:
                    totals += [_over_groups(m.aggregate, now).label(f"_t{j}"),
                               _over_groups(m.aggregate, before).label(f"_p{j}")]
                select += [now.label(m.key), before.label(f"{m.key}_previous"),
                           change.label(f"{m.key}_change"),
                           sa.func.round(change * 100 / sa.func.nullif(sa.func.abs(before), 0),
                                         1).label(f"{m.key}_change_percent")]
                outputs += [Output(m.key, m.label, kind),
                            Output(f"{m.key}_previous", f"{m.label}, {_compared(plan)}", kind),
                            Output(f"{m.key}_change", f"{m.label}, change", kind),
                            Output(f"{m.key}_change_percent", f"{m.label}, change %",
                                   "percent")]
        select += [k.label(f"_k{i}") for i, k in enumerate(keys)]
        inner = sa.select(*select, *totals).select_from(source).subquery("r")
        kinds: dict[str, str] = {o.key: o.kind for o in outputs}
        order = [(s.column, s.descending, kinds[s.column]) for s in plan.sort]
        if not order and plan.measures:
            first = plan.measures[0].key
            order = [(first, True, kinds[first])]
        order += [(f"_k{i}", False, _key_kind(d)) for i, d in enumerate(plan.dimensions)]
        extra = [t.name for t in totals]
        return Statement(outputs, _ordered(inner, outputs, order, plan.limit, extra), order,
                         self.totals(), bool(totals))

    def totals(self) -> sa.Select[Any] | None:
        plan = self.plan
        cols = []
        for j, m in enumerate(plan.measures):
            agg = sa.literal(Decimal(100)) if m.aggregate == "share" else self.aggregate(m)
            cols.append(agg.label(f"_t{j}"))
        current = sa.select(*cols).select_from(self.bound.source).where(
            *self.where(plan.period)).subquery("tc")
        if plan.previous is None:
            return sa.select(current)
        before = sa.select(*cols).select_from(self.bound.source).where(
            *self.where(plan.previous)).subquery("tp")
        return sa.select(current, *(c.label(f"_p{j}") for j, c in enumerate(before.c))) \
            .select_from(current.join(before, sa.true()))

    def listing(self) -> Statement:
        plan = self.plan
        cols = [_shown(self.field(f)).label(f.name) for f in plan.columns]
        keys = [k.label(f"_k{i}") for i, k in enumerate(self.bound.row_key)]
        inner = sa.select(*cols, *keys).select_from(self.bound.source) \
            .where(*self.where(plan.period)).subquery("r")
        outputs = [Output(f.name, f.label, _column_kind(f.kind)) for f in plan.columns]
        kinds: dict[str, str] = {o.key: o.kind for o in outputs}
        order = [(s.column, s.descending, kinds[s.column]) for s in plan.sort]
        order += [(f"_k{i}", False, _sql_kind(k)) for i, k in enumerate(self.bound.row_key)]
        return Statement(outputs, _ordered(inner, outputs, order, plan.limit), order, None)


#: aggregates whose total is an aggregate of the groups' values (the rest need their own pass)
_OVER_GROUPS = {"sum": "sum", "count": "sum", "min": "min", "max": "max", "share": "share"}


def _over_groups(aggregate: str, value: Expr) -> Expr:
    """The total of a measure over the grouped rows, as a window over all of them."""
    if aggregate == "share":
        return sa.literal(Decimal(100))
    kind = _OVER_GROUPS[aggregate]
    func = sa.func.sum if kind == "sum" else sa.func.min if kind == "min" else sa.func.max
    return func(value).over()


def _dim_kind(d: Dimension) -> ColumnKind:
    return "text" if d.granularity is not None else _column_kind(d.field.kind)


def _key_kind(d: Dimension) -> str:
    if d.granularity is not None:
        return "date"
    return _sql_kind(d.field.group_key)


def _sql_kind(column: Expr) -> str:
    python: type = str
    try:
        python = column.type.python_type
    except NotImplementedError:
        python = str
    return {uuid.UUID: "id", dt.date: "date", dt.datetime: "datetime", int: "integer",
            Decimal: "decimal", bool: "boolean"}.get(python, "text")


def _interval(plan: Plan) -> str:
    """How far the compared period's dates move to meet the current period's."""
    assert plan.period is not None and plan.previous is not None
    if plan.comparison == "previous_year":
        return "1 year"
    start, prev = plan.period.start, plan.previous.start
    months = (start.year - prev.year) * 12 + start.month - prev.month
    if start.day == 1 and prev.day == 1:
        return f"{months} months"
    return f"{(start - prev).days} days"


def _compared(plan: Plan) -> str:
    return "previous year" if plan.comparison == "previous_year" else "previous period"


def _ordered(inner: sa.Subquery, outputs: list[Output], order: list[tuple[str, bool, str]],
             limit: int, extra: Sequence[str] = ()) -> sa.Select[Any]:
    """The rows in the report's order (nulls last), limited; every ordering column selected so
    that a page's last row makes the next page's cursor."""
    clauses = []
    for name, descending, _kind in order:
        col = inner.c[name]
        clauses += [col.is_(None), col.desc() if descending else col.asc()]
    shown = [inner.c[o.key] for o in outputs]
    hidden = [inner.c[name] for name, _d, _k in order if name not in {o.key for o in outputs}]
    return sa.select(*shown, *hidden, *(inner.c[name] for name in extra)) \
        .order_by(*clauses).limit(limit)


def _cursor_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    return str(value)


def _parse_cursor_value(raw: Any, kind: str) -> Any:
    if raw is None:
        return None
    if kind == "boolean" and isinstance(raw, bool):
        return raw
    if kind in ("integer",) and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if not isinstance(raw, str) or len(raw) > 300:
        raise InvalidCursor("cursor does not belong to this report")
    try:
        if kind == "id":
            return uuid.UUID(raw)
        if kind == "date":
            return dt.date.fromisoformat(raw)
        if kind == "datetime":
            return dt.datetime.fromisoformat(raw)
        if kind in ("decimal", "money", "percent", "integer"):
            return Decimal(raw)
    except ValueError:
        raise InvalidCursor("cursor does not belong to this report") from None
    return raw


def _after(page: sa.Subquery, order: list[tuple[str, bool, str]],
           values: list[Any]) -> Expr:
    """Rows after the cursor's in the ordering (each key compared as (is null, value), nulls
    last)."""
    terms: list[Expr] = []
    equal: list[Expr] = []
    for (name, descending, _kind), value in zip(order, values, strict=True):
        col = page.c[name]
        if value is None:
            # the cursor's row is in the nulls of this key: only equal rows can follow here
            equal.append(col.is_(None))
            continue
        beyond = col < value if descending else col > value
        terms.append(sa.and_(*equal, sa.or_(col.is_(None), beyond)))
        equal.append(col == value)
    return sa.or_(*terms) if terms else sa.false()


@dataclass
class Page:
    columns: list[Output]
    rows: list[tuple[Any, ...]]
    cursors: list[str]
    has_next: bool
    total_rows: int
    totals: list[Cell] | None


def _totals_row(outputs: list[Output], plan: Plan, row: Any) -> list[Cell]:
    """The totals row in the order of the columns (None under the grouping columns)."""
    if row is None:
        return [None] * len(outputs)
    by_key: dict[str, Cell] = {}
    for j, m in enumerate(plan.measures):
        now = row[f"_t{j}"]
        by_key[m.key] = now
        if plan.previous is not None:
            before = row[f"_p{j}"]
            by_key[f"{m.key}_previous"] = before
            if m.aggregate == "share":
                continue
            if now is not None and before is not None:
                change = now - before
                by_key[f"{m.key}_change"] = change
                by_key[f"{m.key}_change_percent"] = (
                    round(Decimal(change) * 100 / abs(Decimal(before)), 1) if before else None)
    return [by_key.get(o.key) for o in outputs]


async def run_page(conn: AsyncConnection, plan: Plan, access: Access, *, first: int,
                   after: str | None) -> Page:
    """One page of the report (``first`` rows after the cursor ``after``) with the number of
    rows of the whole run and its totals. A bad cursor is ``InvalidCursor``."""
    st = _Builder(plan, access).build()
    page_source = st.ordered.subquery("p")
    statement = sa.select(page_source, sa.func.count().over().label("_total"))
    # the total is of the whole run: counted before the cursor's condition
    counted = statement.subquery("c")
    outer = sa.select(counted)
    if after is not None:
        values = decode_cursor(after, len(st.order))
        parsed = [_parse_cursor_value(v, k) for v, (_n, _d, k) in zip(values, st.order,
                                                                       strict=True)]
        outer = outer.where(_after(counted, st.order, parsed))
    for name, descending, _kind in st.order:
        col = counted.c[name]
        outer = outer.order_by(col.is_(None), col.desc() if descending else col.asc())
    rows = (await conn.execute(outer.limit(first + 1))).mappings().all()
    total = int(rows[0]["_total"]) if rows else 0
    if not rows and after is None:
        total = 0
    elif not rows:
        total = int(await conn.scalar(sa.select(sa.func.count()).select_from(page_source)) or 0)
    totals = None
    if st.window_totals and rows:
        totals = _totals_row(st.outputs, plan, rows[0])
    elif st.totals is not None:
        totals = _totals_row(st.outputs, plan, (await conn.execute(st.totals)).mappings().first())
    keys = [o.key for o in st.outputs]
    shown = rows[:first]
    return Page(columns=st.outputs,
                rows=[tuple(r[k] for k in keys) for r in shown],
                cursors=[encode_cursor([_cursor_value(r[n]) for n, _d, _k in st.order])
                         for r in shown],
                has_next=len(rows) > first, total_rows=total, totals=totals)


async def data_as_of(conn: AsyncConnection, plan: Plan) -> dt.datetime:
    """The time of the latest event (ERP message, for sales) applied to the dataset's parts;
    now when none has been."""
    moments: list[dt.datetime] = []
    parts = [p for p in plan.dataset.watermarks if p != "sales"]
    if "sales" in plan.dataset.watermarks:
        mark = await q.watermark(conn)
        if mark is not None:
            moments.append(mark)
    if parts:
        found = await conn.scalar(sa.select(sa.func.max(rm_watermarks.c.as_of))
                                  .where(rm_watermarks.c.part.in_(parts)))
        if found is not None:
            moments.append(found)
    return max(moments) if moments else dt.datetime.now(dt.UTC)


def parameters_shown(plan: Plan, access: Access) -> list[tuple[str, str]]:
    """What a file prints under its title: the period, the comparison, the filters, who ran
    it."""
    shown: list[tuple[str, str]] = []
    if plan.period is not None:
        shown.append((f"Period ({plan.period.field.label})", plan.period.label()))
    if plan.previous is not None:
        shown.append(("Compared with", f"{_compared(plan)}: {plan.previous.label()}"))
    for f in plan.filters:
        values = ", ".join(str(v) for v in f.values[:20]) + (" …" if len(f.values) > 20 else "")
        shown.append((f.field.label, f"{f.operator.replace('_', ' ')} {values}".strip()))
    shown.append(("Requested by", access.principal.name or str(access.principal.subject)))
    return shown


def chart_of(plan: Plan, outputs: list[Output], rows: list[tuple[Any, ...]]
             ) -> dict[str, Any] | None:
    if plan.chart is None:
        return None
    return vega_lite(plan.chart, plan.title, [(o.key, o.label, o.kind) for o in outputs], rows)


@contextlib.asynccontextmanager
async def report_table(engine: AsyncEngine, plan: Plan, access: Access
                       ) -> AsyncIterator[ReportTable]:
    """The whole run as a :class:`ReportTable`: rows streamed from the database (a server-side
    cursor, ``STREAM_BATCH`` rows a round trip) while the caller writes them; the chart's data
    (the first ``CHART_ROWS`` rows) and the totals read before. The access rule of ``access``
    applies to every row."""
    st = _Builder(plan, access).build()
    async with engine.connect() as conn:
        as_of = await data_as_of(conn, plan)
        totals = None
        if st.totals is not None:
            totals = _totals_row(st.outputs, plan,
                                 (await conn.execute(st.totals)).mappings().first())
        chart = None
        if plan.chart is not None:
            keys = [o.key for o in st.outputs]
            first = (await conn.execute(st.ordered.limit(CHART_ROWS))).mappings().all()
            chart = chart_of(plan, st.outputs, [tuple(r[k] for k in keys) for r in first])
    conn = await engine.connect()
    try:
        result = await conn.stream(st.ordered.execution_options(yield_per=STREAM_BATCH))
        width = len(st.outputs)

        async def rows() -> AsyncIterator[Sequence[Cell]]:
            async for row in result:
                yield tuple(row[:width])

        yield ReportTable(
            title=plan.title, columns=[Column(o.key, o.label, o.kind) for o in st.outputs],
            rows=rows(), data_as_of=as_of, parameters=parameters_shown(plan, access),
            totals=totals, chart=chart)
    finally:
        await conn.close()
