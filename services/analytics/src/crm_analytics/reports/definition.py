"""A report definition (docs/reports.md, "Definitions"): typed, never free-form SQL, checked
before anything runs.

:func:`check` turns a :class:`Definition` into a :class:`Plan` (every name resolved to a dataset
field, every filter value parsed to the field's type, the period made concrete) or raises
``Problems`` naming each field at fault, as the API spells the input path. Saved reports keep the
definition as JSON (:meth:`Definition.to_json` / :func:`from_json`); a stored definition is
checked again on every run, so a dataset that changed shape refuses the run instead of failing in
SQL.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from crm_analytics.reports.datasets import DATASETS, NUMERIC_KINDS, Dataset, Field
from crm_common.problems import FieldProblem, Problems

MAX_COLUMNS = 50
MAX_GROUPING = 3
MAX_MEASURES = 20
MAX_FILTERS = 20
MAX_FILTER_VALUES = 500
MAX_TEXT = 200
MAX_SORT = 5
#: the most rows one run covers
MAX_LIMIT = 1_000_000
#: the longest period (years)
MAX_PERIOD_YEARS = 10
MIN_YEAR, MAX_YEAR = 1990, 2200

AGGREGATES = ("sum", "count", "count_distinct", "avg", "min", "max", "share")
COMPARISONS = ("previous_period", "previous_year")
CHART_KINDS = ("bar", "line", "stacked_bar", "pie")
RELATIVE_PERIODS = ("today", "current_week", "current_month", "previous_month",
                    "current_quarter", "previous_quarter", "current_half_year",
                    "previous_half_year", "current_year", "previous_year", "year_to_date",
                    "last_7_days", "last_30_days", "last_90_days", "last_12_months",
                    "next_30_days", "next_60_days", "next_90_days")

OPERATORS_BY_KIND: dict[str, tuple[str, ...]] = {
    "text": ("eq", "ne", "in", "not_in", "contains", "starts_with", "is_null", "is_not_null"),
    "enum": ("eq", "ne", "in", "not_in", "is_null", "is_not_null"),
    "id": ("eq", "ne", "in", "not_in", "is_null", "is_not_null"),
    "boolean": ("eq", "is_null", "is_not_null"),
    "date": ("eq", "ne", "lt", "le", "gt", "ge", "between", "is_null", "is_not_null"),
    "datetime": ("lt", "le", "gt", "ge", "between", "is_null", "is_not_null"),
    "integer": ("eq", "ne", "lt", "le", "gt", "ge", "between", "in", "not_in", "is_null",
                "is_not_null"),
    "decimal": ("eq", "ne", "lt", "le", "gt", "ge", "between", "is_null", "is_not_null"),
    "money": ("eq", "ne", "lt", "le", "gt", "ge", "between", "is_null", "is_not_null"),
}
OPERATORS = tuple(dict.fromkeys(op for ops in OPERATORS_BY_KIND.values() for op in ops))
#: how many values each operator takes (None: 1 to MAX_FILTER_VALUES)
ARITY = {"is_null": 0, "is_not_null": 0, "between": 2, "in": None, "not_in": None}

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\ufffe\uffff]")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

Path = tuple[str, ...]


def quoted(names: Any) -> str:
    """Names the user writes as text (fields, column keys, enum values), quoted: the API's
    wording (``api_message``) leaves quoted text as it is."""
    return ", ".join(f"'{n}'" for n in names)


def upper(names: Any) -> str:
    """Values the API takes as GraphQL enums (operators, aggregates, ...), as it spells them."""
    return ", ".join(str(n).upper() for n in names)


# -- the definition as given ---------------------------------------------------------------------

@dataclass(frozen=True)
class Grouping:
    field: str
    granularity: str | None = None


@dataclass(frozen=True)
class Measure:
    aggregate: str
    field: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeriodSpec:
    field: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    relative: str | None = None


@dataclass(frozen=True)
class Sort:
    column: str
    descending: bool = False


@dataclass(frozen=True)
class Chart:
    kind: str
    x: str
    y: str
    series: str | None = None


@dataclass(frozen=True)
class Definition:
    dataset: str
    title: str | None = None
    columns: tuple[str, ...] = ()
    group_by: tuple[Grouping, ...] = ()
    measures: tuple[Measure, ...] = ()
    filters: tuple[Filter, ...] = ()
    period: PeriodSpec | None = None
    comparison: str | None = None
    sort: tuple[Sort, ...] = ()
    limit: int | None = None
    chart: Chart | None = None

    def to_json(self) -> dict[str, Any]:
        raw = asdict(self)
        if self.period is not None:
            raw["period"] = {k: (v.isoformat() if isinstance(v, dt.date) else v)
                             for k, v in raw["period"].items()}
        return raw


def from_json(raw: dict[str, Any]) -> Definition:
    """A stored definition (``to_json``'s output) back as a :class:`Definition`."""
    period = raw.get("period")
    chart = raw.get("chart")
    return Definition(
        dataset=raw["dataset"], title=raw.get("title"), columns=tuple(raw.get("columns") or ()),
        group_by=tuple(Grouping(**g) for g in raw.get("group_by") or ()),
        measures=tuple(Measure(**m) for m in raw.get("measures") or ()),
        filters=tuple(Filter(f["field"], f["operator"], tuple(f.get("values") or ()))
                      for f in raw.get("filters") or ()),
        period=None if period is None else PeriodSpec(
            field=period.get("field"), relative=period.get("relative"),
            start=dt.date.fromisoformat(period["start"]) if period.get("start") else None,
            end=dt.date.fromisoformat(period["end"]) if period.get("end") else None),
        comparison=raw.get("comparison"),
        sort=tuple(Sort(s["column"], bool(s.get("descending"))) for s in raw.get("sort") or ()),
        limit=raw.get("limit"), chart=None if chart is None else Chart(**chart))


@dataclass(frozen=True)
class Parameters:
    """What a run may set beside the definition: the period (dates, or a relative one)."""

    start: dt.date | None = None
    end: dt.date | None = None
    relative: str | None = None

    def is_empty(self) -> bool:
        return self.start is None and self.end is None and self.relative is None


# -- the checked plan ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Dimension:
    key: str
    label: str
    field: Field
    granularity: str | None


@dataclass(frozen=True)
class PlannedMeasure:
    key: str
    label: str
    aggregate: str
    field: Field | None

    @property
    def kind(self) -> str:
        if self.aggregate in ("count", "count_distinct"):
            return "integer"
        if self.aggregate == "share":
            return "percent"
        assert self.field is not None
        if self.aggregate == "avg":
            return "money" if self.field.kind == "money" else "decimal"
        return self.field.kind


@dataclass(frozen=True)
class PlannedFilter:
    field: Field
    operator: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Period:
    field: Field
    start: dt.date
    end: dt.date

    def label(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


@dataclass(frozen=True)
class Plan:
    dataset: Dataset
    title: str
    columns: tuple[Field, ...]
    dimensions: tuple[Dimension, ...]
    measures: tuple[PlannedMeasure, ...]
    filters: tuple[PlannedFilter, ...]
    period: Period | None
    previous: Period | None
    comparison: str | None
    sort: tuple[Sort, ...]
    limit: int
    chart: Chart | None
    used_fields: frozenset[str] = field(default_factory=frozenset)

    @property
    def aggregated(self) -> bool:
        return bool(self.measures)


class _Checker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[FieldProblem] = []

    def fail(self, path: Path, message: str, code: str = "INVALID_VALUE") -> None:
        self.problems.append(FieldProblem(self.root + path, code, message))

    def text(self, path: Path, value: str | None, *, limit: int = MAX_TEXT) -> str | None:
        if value is None:
            return None
        if len(value) > limit:
            self.fail(path, f"at most {limit} characters", "TOO_LONG")
            return None
        if _CONTROL.search(value):
            self.fail(path, "control characters are not allowed")
            return None
        return value


def _parse_value(f: Field, raw: str) -> Any:
    """A filter value of ``f``'s kind, from its text; ``ValueError`` with a message else."""
    kind = f.kind
    if kind in ("text",):
        return raw
    if kind == "enum":
        if raw not in f.values:
            raise ValueError(f"must be one of {quoted(f.values)}")
        return raw
    if kind == "id":
        return uuid.UUID(raw)
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError("must be true or false")
        return raw == "true"
    if kind == "date":
        try:
            day = dt.date.fromisoformat(raw)
        except ValueError:
            raise ValueError("must be a date (YYYY-MM-DD)") from None
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise ValueError(f"must be a date in {MIN_YEAR}–{MAX_YEAR}")
        return day
    if kind == "datetime":
        try:
            moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be a date and time with a zone (ISO 8601)") from None
        if moment.tzinfo is None:
            raise ValueError("must name a time zone")
        return moment
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,12}", raw):
            raise ValueError("must be a whole number of at most 12 digits")
        return int(raw)
    # decimal, money
    if not re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]{1,6})?", raw):
        raise ValueError("must be a decimal number (up to 15 digits, a dot, up to 6 places)")
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError("must be a decimal number") from None


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month0 + 1, 1)


def relative_period(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The dates of a relative period on ``today``."""
    day = dt.timedelta(days=1)
    month = today.replace(day=1)
    quarter = _quarter_start(today)
    half = dt.date(today.year, 1 if today.month <= 6 else 7, 1)
    year = dt.date(today.year, 1, 1)
    spans: dict[str, tuple[dt.date, dt.date]] = {
        "today": (today, today),
        "current_week": (today - dt.timedelta(days=today.weekday()),
                         today + dt.timedelta(days=6 - today.weekday())),
        "current_month": (month, _add_months(month, 1) - day),
        "previous_month": (_add_months(month, -1), month - day),
        "current_quarter": (quarter, _add_months(quarter, 3) - day),
        "previous_quarter": (_add_months(quarter, -3), quarter - day),
        "current_half_year": (half, _add_months(half, 6) - day),
        "previous_half_year": (_add_months(half, -6), half - day),
        "current_year": (year, dt.date(today.year, 12, 31)),
        "previous_year": (dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)),
        "year_to_date": (year, today),
        "last_7_days": (today - 6 * day, today),
        "last_30_days": (today - 29 * day, today),
        "last_90_days": (today - 89 * day, today),
        "last_12_months": (_add_months(month, -11), _add_months(month, 1) - day),
        "next_30_days": (today, today + 30 * day),
        "next_60_days": (today, today + 60 * day),
        "next_90_days": (today, today + 90 * day),
    }
    return spans[name]


def _shift(start: dt.date, end: dt.date, comparison: str) -> tuple[dt.date, dt.date]:
    """The period a comparison compares with."""
    if comparison == "previous_year":
        return _minus_years(start, 1), _minus_years(end, 1)
    from crm_analytics.reports.datasets import period_shift_months

    months = period_shift_months(start, end)
    if months is not None:
        new_start = _add_months(start, -months)
        return new_start, start - dt.timedelta(days=1)
    days = (end - start).days + 1
    return start - dt.timedelta(days=days), end - dt.timedelta(days=days)


def _minus_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def measure_key(m: Measure) -> str:
    return m.aggregate if m.field is None else f"{m.aggregate}_{m.field}"


def check(definition: Definition, today: dt.date, parameters: Parameters | None = None,
          *, root: Path = ("input", "definition")) -> Plan:
    """The plan of ``definition`` run on ``today`` with ``parameters``; ``Problems`` naming
    every field at fault (as the API spells the input path under ``root``) else."""
    c = _Checker(root)
    dataset = DATASETS.get(definition.dataset)
    if dataset is None:
        c.fail(("dataset",), f"unknown dataset; one of {upper(DATASETS)}", "UNKNOWN_FIELD")
        raise Problems(c.problems)
    fields = dataset.fields
    used: set[str] = set()
    title = c.text(("title",), definition.title) or dataset.label

    def resolve(path: Path, name: str) -> Field | None:
        if not _KEY.match(name) or name not in fields:
            shown = name[:60] if not _CONTROL.search(name) else "?"
            c.fail(path, f"unknown field {shown!r} of dataset {dataset.name.upper()}",
                   "UNKNOWN_FIELD")
            return None
        used.add(name)
        return fields[name]

    # columns (a listing) or grouping and measures (a summary): one or the other
    if len(definition.columns) > MAX_COLUMNS:
        c.fail(("columns",), f"at most {MAX_COLUMNS} columns", "TOO_MANY")
    columns = tuple(f for i, name in enumerate(definition.columns[:MAX_COLUMNS])
                    if (f := resolve(("columns", str(i)), name)) is not None)
    if definition.columns and (definition.measures or definition.group_by):
        c.fail(("columns",), "give either columns (a listing) or groupBy and measures "
                             "(a summary), not both")
    if not definition.columns and not definition.measures:
        c.fail(("measures",), "give columns (a listing) or at least one measure (a summary)",
               "REQUIRED")
    if len(definition.group_by) > MAX_GROUPING:
        c.fail(("groupBy",), f"at most {MAX_GROUPING} grouping dimensions", "TOO_MANY")
    dimensions: list[Dimension] = []
    for i, g in enumerate(definition.group_by[:MAX_GROUPING]):
        path = ("groupBy", str(i))
        f = resolve(path + ("field",), g.field)
        if f is None:
            continue
        granularity = g.granularity
        if f.kind == "date":
            granularity = granularity or f.granularities[0]
            if granularity not in f.granularities:
                c.fail(path + ("granularity",), f"'{f.name}' groups by "
                       f"{upper(f.granularities)}")
        elif granularity is not None:
            c.fail(path + ("granularity",), "only a date field takes a granularity")
        key = f.name if granularity is None else f"{f.name}_{granularity}"
        if any(d.key == key for d in dimensions):
            c.fail(path + ("field",), f"'{f.name}' is grouped by twice")
            continue
        label = f.label if granularity is None else \
            f"{f.label} ({granularity.replace('_', '-')})"
        dimensions.append(Dimension(key, label, f, granularity))

    if len(definition.measures) > MAX_MEASURES:
        c.fail(("measures",), f"at most {MAX_MEASURES} measures", "TOO_MANY")
    measures: list[PlannedMeasure] = []
    for i, given in enumerate(definition.measures[:MAX_MEASURES]):
        path = ("measures", str(i))
        m = given
        if m.aggregate not in AGGREGATES:
            c.fail(path + ("aggregate",), f"one of {upper(AGGREGATES)}")
            continue
        f = None
        if m.field is not None:
            f = resolve(path + ("field",), m.field)
            if f is None:
                continue
        elif m.aggregate != "count":
            c.fail(path + ("field",), f"{m.aggregate.upper()} needs a field", "REQUIRED")
            continue
        if f is not None and m.aggregate in ("sum", "avg", "share") and not f.numeric:
            c.fail(path + ("aggregate",), f"{m.aggregate.upper()} needs a number field; "
                                          f"'{f.name}' is {f.kind}")
            continue
        if f is not None and m.aggregate in ("min", "max") and \
                f.kind not in NUMERIC_KINDS | {"date", "datetime"}:
            c.fail(path + ("aggregate",), f"{m.aggregate.upper()} needs a number or date field; "
                                          f"{f.name} is {f.kind}")
            continue
        measure_label = c.text(path + ("label",), m.label, limit=100)
        key = measure_key(m)
        if any(x.key == key for x in measures):
            c.fail(path, f"the measure '{key}' is given twice")
            continue
        default = (f"{m.aggregate.replace('_', ' ').capitalize()} of {f.label.lower()}"
                   if f is not None else "Count")
        measures.append(PlannedMeasure(key, measure_label or default, m.aggregate, f))

    # filters
    if len(definition.filters) > MAX_FILTERS:
        c.fail(("filters",), f"at most {MAX_FILTERS} filters", "TOO_MANY")
    filters: list[PlannedFilter] = []
    for i, flt in enumerate(definition.filters[:MAX_FILTERS]):
        path = ("filters", str(i))
        f = resolve(path + ("field",), flt.field)
        if f is None:
            continue
        allowed = OPERATORS_BY_KIND[f.kind]
        if flt.operator not in allowed:
            c.fail(path + ("operator",), f"{flt.operator.upper()} does not fit '{f.name}' "
                                         f"({f.kind}); use {upper(allowed)}"[:300])
            continue
        arity = ARITY.get(flt.operator, 1)
        n = len(flt.values)
        if arity is None and not 1 <= n <= MAX_FILTER_VALUES:
            c.fail(path + ("values",), f"give 1 to {MAX_FILTER_VALUES} values", "TOO_MANY"
                   if n else "REQUIRED")
            continue
        if arity is not None and n != arity:
            c.fail(path + ("values",), f"{flt.operator.upper()} takes {arity} value(s), not {n}")
            continue
        parsed = []
        ok = True
        for j, raw in enumerate(flt.values):
            text = c.text(path + ("values", str(j)), raw)
            if text is None:
                ok = False
                continue
            try:
                parsed.append(_parse_value(f, text))
            except ValueError as exc:
                c.fail(path + ("values", str(j)), str(exc))
                ok = False
        if ok and flt.operator == "between" and parsed[0] > parsed[1]:
            c.fail(path + ("values",), "the first value must not be above the second")
            ok = False
        if ok:
            filters.append(PlannedFilter(f, flt.operator, tuple(parsed)))

    # the period: the definition's, the run's parameters over it
    period = previous = None
    spec = definition.period or PeriodSpec()
    params = parameters or Parameters()
    ppath: Path = ("period",)
    start, end = spec.start, spec.end
    relative: str | None = spec.relative
    if not params.is_empty():
        start, end, relative = params.start, params.end, params.relative
        ppath = ("parameters",)
        root_saved = c.root
        c.root = root[:-1] if root and root[-1] == "definition" else root
        _check_period_bounds(c, ppath, start, end, relative)
        c.root = root_saved
    elif definition.period is not None:
        _check_period_bounds(c, ppath, start, end, relative)
    if start is not None or end is not None or relative is not None:
        pf = resolve(("period", "field"), spec.field or dataset.date_field)
        if pf is not None and pf.kind != "date":
            c.fail(("period", "field"), f"'{pf.name}' is not a date field")
        elif pf is not None and not c.problems:
            if relative is not None:
                start, end = relative_period(relative, today)
            assert start is not None and end is not None
            if pf.month_grain:
                start = start.replace(day=1)
            period = Period(pf, start, end)
    if definition.comparison is not None:
        if definition.comparison not in COMPARISONS:
            c.fail(("comparison",), f"one of {upper(COMPARISONS)}")
        elif not definition.measures:
            c.fail(("comparison",), "a comparison needs measures (a summary)")
        elif period is None and not c.problems:
            c.fail(("period",), "a comparison needs a period", "REQUIRED")
        elif period is not None:
            p_start, p_end = _shift(period.start, period.end, definition.comparison)
            previous = Period(period.field, p_start, p_end)

    # output keys: what sort and chart may name
    keys = [f.name for f in columns] + [d.key for d in dimensions]
    for pm in measures:
        keys.append(pm.key)
        if definition.comparison is not None:
            keys += [f"{pm.key}_previous", f"{pm.key}_change", f"{pm.key}_change_percent"]
    if len(definition.sort) > MAX_SORT:
        c.fail(("sort",), f"at most {MAX_SORT} sort keys", "TOO_MANY")
    for i, s in enumerate(definition.sort[:MAX_SORT]):
        if s.column not in keys:
            shown = s.column[:60] if not _CONTROL.search(s.column) else "?"
            c.fail(("sort", str(i), "column"), f"{shown!r} is not a column of this report; "
                   f"one of {quoted(keys)}"[:400], "UNKNOWN_FIELD")
    limit = definition.limit
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        c.fail(("limit",), f"give 1 to {MAX_LIMIT:,}".replace(",", " "), "OUT_OF_RANGE")
    chart = definition.chart
    if chart is not None:
        dim_keys = [d.key for d in dimensions]
        if chart.kind not in CHART_KINDS:
            c.fail(("chart", "kind"), f"one of {upper(CHART_KINDS)}")
        if not measures:
            c.fail(("chart",), "a chart needs measures (a summary)")
        if chart.x not in dim_keys:
            c.fail(("chart", "x"), f"name a grouping column: {quoted(dim_keys) or 'none'}",
                   "UNKNOWN_FIELD")
        if chart.y not in [k for k in keys if k not in dim_keys and k not in
                           {f.name for f in columns}]:
            c.fail(("chart", "y"), "name a measure column", "UNKNOWN_FIELD")
        if chart.series is not None and (chart.series not in dim_keys or chart.series == chart.x):
            c.fail(("chart", "series"), "name another grouping column", "UNKNOWN_FIELD")
        if chart.kind == "stacked_bar" and chart.series is None:
            c.fail(("chart", "series"), "a stacked bar chart needs a series", "REQUIRED")
    if c.problems:
        raise Problems(c.problems)
    return Plan(dataset=dataset, title=title, columns=columns, dimensions=tuple(dimensions),
                measures=tuple(measures), filters=tuple(filters), period=period,
                previous=previous, comparison=definition.comparison, sort=definition.sort,
                limit=limit or MAX_LIMIT, chart=chart, used_fields=frozenset(used))


def _check_period_bounds(c: _Checker, path: Path, start: dt.date | None, end: dt.date | None,
                         relative: str | None) -> None:
    if relative is not None:
        if start is not None or end is not None:
            c.fail(path + ("relative",), "give a relative period or dates, not both")
        elif relative not in RELATIVE_PERIODS:
            c.fail(path + ("relative",), f"one of {upper(RELATIVE_PERIODS)}")
        return
    if start is None or end is None:
        c.fail(path + ("from" if start is None else "to",), "give both from and to",
               "REQUIRED")
        return
    for name, day in (("from", start), ("to", end)):
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            c.fail(path + (name,), f"must be in {MIN_YEAR}–{MAX_YEAR}", "OUT_OF_RANGE")
            return
    if start > end:
        c.fail(path + ("to",), "must not be before from")
    elif end > _minus_years(start, -MAX_PERIOD_YEARS):
        c.fail(path + ("to",), f"a period covers at most {MAX_PERIOD_YEARS} years",
               "OUT_OF_RANGE")
