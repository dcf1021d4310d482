"""The report definition's checks (``reports.definition.check``), the relative periods and
comparisons, the stored form, and the schedules' cron expressions — pure, no server."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_analytics.reports.builtins import BUILTINS
from crm_analytics.reports.cron import Cron, CronError
from crm_analytics.reports.definition import (
    Chart,
    Definition,
    Filter,
    Grouping,
    Measure,
    Parameters,
    PeriodSpec,
    Sort,
    check,
    from_json,
    relative_period,
)
from crm_common.problems import Problems

TODAY = dt.date(2026, 5, 14)


def problems(definition: Definition, parameters: Parameters | None = None
             ) -> list[tuple[tuple[str, ...], str]]:
    with pytest.raises(Problems) as caught:
        check(definition, TODAY, parameters)
    return [(p.field, p.code) for p in caught.value.problems]


def test_a_summary_with_comparison_plans_keys_and_periods() -> None:
    plan = check(Definition(dataset="sales", group_by=(Grouping("month", "quarter"),),
                            measures=(Measure("sum", "turnover"),),
                            period=PeriodSpec(relative="current_quarter"),
                            comparison="previous_year"), TODAY)
    assert [d.key for d in plan.dimensions] == ["month_quarter"]
    assert [m.key for m in plan.measures] == ["sum_turnover"]
    assert plan.period is not None and plan.previous is not None
    assert (plan.period.start, plan.period.end) == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))
    assert (plan.previous.start, plan.previous.end) == (dt.date(2025, 4, 1),
                                                        dt.date(2025, 6, 30))


def test_the_previous_period_of_whole_months_and_of_days() -> None:
    months = check(Definition(dataset="sales", measures=(Measure("count"),),
                              period=PeriodSpec(start=dt.date(2026, 1, 1),
                                                end=dt.date(2026, 3, 31)),
                              comparison="previous_period"), TODAY)
    assert months.previous is not None
    assert (months.previous.start, months.previous.end) == (dt.date(2025, 10, 1),
                                                            dt.date(2025, 12, 31))
    days = check(Definition(dataset="contacts", measures=(Measure("count"),),
                            period=PeriodSpec(start=dt.date(2026, 5, 4),
                                              end=dt.date(2026, 5, 10)),
                            comparison="previous_period"), TODAY)
    assert days.previous is not None
    assert (days.previous.start, days.previous.end) == (dt.date(2026, 4, 27),
                                                        dt.date(2026, 5, 3))


def test_sales_periods_cover_whole_months() -> None:
    plan = check(Definition(dataset="sales", measures=(Measure("count"),),
                            period=PeriodSpec(start=dt.date(2026, 2, 15),
                                              end=dt.date(2026, 3, 10))), TODAY)
    assert plan.period is not None and plan.period.start == dt.date(2026, 2, 1)


@pytest.mark.parametrize(("name", "expected"), [
    ("current_month", (dt.date(2026, 5, 1), dt.date(2026, 5, 31))),
    ("previous_quarter", (dt.date(2026, 1, 1), dt.date(2026, 3, 31))),
    ("current_half_year", (dt.date(2026, 1, 1), dt.date(2026, 6, 30))),
    ("previous_half_year", (dt.date(2025, 7, 1), dt.date(2025, 12, 31))),
    ("year_to_date", (dt.date(2026, 1, 1), TODAY)),
    ("last_12_months", (dt.date(2025, 6, 1), dt.date(2026, 5, 31))),
    ("next_60_days", (TODAY, dt.date(2026, 7, 13))),
    ("current_week", (dt.date(2026, 5, 11), dt.date(2026, 5, 17))),
])
def test_relative_periods(name: str, expected: tuple[dt.date, dt.date]) -> None:
    assert relative_period(name, TODAY) == expected


def test_parameters_replace_the_period() -> None:
    plan = check(Definition(dataset="contracts", columns=("number",),
                            period=PeriodSpec(field="valid_until", relative="next_60_days")),
                 TODAY, Parameters(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31)))
    assert plan.period is not None
    assert (plan.period.field.name, plan.period.start) == ("valid_until", dt.date(2026, 1, 1))
    assert problems(Definition(dataset="contracts", columns=("number",)),
                    Parameters(start=dt.date(2026, 2, 1), end=dt.date(2026, 1, 1))) == \
        [(("input", "parameters", "to"), "INVALID_VALUE")]


BAD = [
    (Definition(dataset="nope", columns=("x",)), ("dataset",)),
    (Definition(dataset="clients", columns=("client", "salary")), ("columns", "1")),
    (Definition(dataset="clients"), ("measures",)),
    (Definition(dataset="clients", columns=("client",), measures=(Measure("count"),)),
     ("columns",)),
    (Definition(dataset="clients", group_by=tuple(Grouping(f) for f in
                                                  ("client", "city", "owner", "kind")),
                measures=(Measure("count"),)), ("groupBy",)),
    (Definition(dataset="sales", group_by=(Grouping("month", "week"),),
                measures=(Measure("count"),)), ("groupBy", "0", "granularity")),
    (Definition(dataset="clients", group_by=(Grouping("city", "month"),),
                measures=(Measure("count"),)), ("groupBy", "0", "granularity")),
    (Definition(dataset="clients", group_by=(Grouping("city"), Grouping("city")),
                measures=(Measure("count"),)), ("groupBy", "1", "field")),
    (Definition(dataset="clients", measures=(Measure("avg", "city"),)),
     ("measures", "0", "aggregate")),
    (Definition(dataset="clients", measures=(Measure("median", "city"),)),
     ("measures", "0", "aggregate")),
    (Definition(dataset="clients", measures=(Measure("sum"),)), ("measures", "0", "field")),
    (Definition(dataset="clients", columns=("client",),
                filters=(Filter("city", "gt", ("a",)),)), ("filters", "0", "operator")),
    (Definition(dataset="tasks", columns=("number",),
                filters=(Filter("due_date", "eq", ("2026-13-01",)),)),
     ("filters", "0", "values", "0")),
    (Definition(dataset="tasks", columns=("number",),
                filters=(Filter("due_date", "between", ("2026-02-01", "2026-01-01")),)),
     ("filters", "0", "values")),
    (Definition(dataset="tasks", columns=("number",),
                filters=(Filter("days_overdue", "gt", ("1e9",)),)),
     ("filters", "0", "values", "0")),
    (Definition(dataset="tasks", columns=("number",),
                filters=(Filter("overdue", "eq", ("yes",)),)), ("filters", "0", "values", "0")),
    (Definition(dataset="tasks", columns=("number",),
                filters=(Filter("status", "in", tuple(str(i) for i in range(10_000))),)),
     ("filters", "0", "values")),
    (Definition(dataset="tasks", columns=("number",), filters=(Filter("status", "eq", ()),)),
     ("filters", "0", "values")),
    (Definition(dataset="tasks", columns=("number",), limit=10_000_000), ("limit",)),
    (Definition(dataset="tasks", columns=("number",), limit=0), ("limit",)),
    (Definition(dataset="tasks", columns=("number",),
                period=PeriodSpec(start=dt.date(1526, 1, 1), end=dt.date(2026, 1, 1))),
     ("period", "from")),
    (Definition(dataset="tasks", columns=("number",),
                period=PeriodSpec(start=dt.date(2000, 1, 1), end=dt.date(2026, 1, 1))),
     ("period", "to")),
    (Definition(dataset="tasks", columns=("number",),
                period=PeriodSpec(field="title", relative="current_year")),
     ("period", "field")),
    (Definition(dataset="tasks", columns=("number",),
                period=PeriodSpec(relative="current_year", start=dt.date(2026, 1, 1))),
     ("period", "relative")),
    (Definition(dataset="tasks", columns=("number",), title="\x00"), ("title",)),
    (Definition(dataset="tasks", columns=("number",), sort=(Sort("count"),)),
     ("sort", "0", "column")),
    (Definition(dataset="tasks", columns=("number",), comparison="previous_year"),
     ("comparison",)),
    (Definition(dataset="tasks", measures=(Measure("count"),), comparison="previous_year"),
     ("period",)),
    (Definition(dataset="tasks", group_by=(Grouping("status"),), measures=(Measure("count"),),
                chart=Chart("pie", "count", "status")), ("chart", "x")),
    (Definition(dataset="tasks", group_by=(Grouping("status"),), measures=(Measure("count"),),
                chart=Chart("radar", "status", "count")), ("chart", "kind")),
]


@pytest.mark.parametrize(("definition", "field"), BAD)
def test_bad_definitions_name_the_field(definition: Definition, field: tuple[str, ...]) -> None:
    assert ("input", "definition", *field) in [p for p, _code in problems(definition)]


def test_every_problem_is_reported_at_once() -> None:
    found = problems(Definition(dataset="clients", columns=("nope",), limit=0,
                                title="x" * 201))
    assert {p for p, _c in found} == {("input", "definition", "columns", "0"),
                                      ("input", "definition", "limit"),
                                      ("input", "definition", "title")}


def test_the_stored_form_round_trips_and_every_built_in_checks() -> None:
    for b in BUILTINS:
        again = from_json(b.definition.to_json())
        assert again == b.definition
        check(again, TODAY)
    assert len({b.key for b in BUILTINS}) == len(BUILTINS) == 11


def test_cron_next_times() -> None:
    at = dt.datetime(2026, 5, 14, 10, 30, tzinfo=dt.UTC)  # a Thursday
    assert Cron.parse("0 6 * * 1").next_after(at) == dt.datetime(2026, 5, 18, 6, 0,
                                                                  tzinfo=dt.UTC)
    assert Cron.parse("*/15 * * * *").next_after(at) == dt.datetime(2026, 5, 14, 10, 45,
                                                                     tzinfo=dt.UTC)
    assert Cron.parse("0 8 1 * *").next_after(at) == dt.datetime(2026, 6, 1, 8, 0,
                                                                  tzinfo=dt.UTC)
    # both day fields restricted: either matches (cron's rule); Sunday as 7
    assert Cron.parse("0 0 20 * 7").next_after(at) == dt.datetime(2026, 5, 17, 0, 0,
                                                                   tzinfo=dt.UTC)
    assert Cron.parse("30 10 14 5 *").next_after(at) == dt.datetime(2027, 5, 14, 10, 30,
                                                                     tzinfo=dt.UTC)


@pytest.mark.parametrize("text", ["", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                                  "* * * 13 *", "* * * * 8", "*/0 * * * *", "a * * * *",
                                  "5-1 * * * *", "* " * 60])
def test_bad_cron_expressions(text: str) -> None:
    with pytest.raises(CronError):
        Cron.parse(text)


def test_a_cron_that_never_runs() -> None:
    with pytest.raises(CronError):
        Cron.parse("0 0 30 2 *").next_after(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
