"""The report generator's part of the analytics subgraph (docs/reports.md): the datasets with
their fields, ``runReport``, saved reports, their schedules and background jobs. Resolvers parse
the input into the domain's ``Definition``, call the service layer, map the result; expected
failures are ``userErrors`` naming the input field."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from crm_analytics.graphql.resolvers import context
from crm_analytics.reports import definition as d
from crm_analytics.reports.datasets import DATASETS
from crm_analytics.reports.engine import Output
from crm_analytics.service_layer import report_jobs, report_runs, report_schedules, saved_reports
from crm_common.graphql.connections import PageInfo, page_info, requested_page_size
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import UserError, bad_input
from crm_common.graphql.mutations import mutate
from crm_common.problems import problem

SERVICE = "analytics"

@strawberry.enum(description="What a report reads (docs/reports.md, \"Datasets\").")
class ReportDataset(enum.Enum):
    SALES = "sales"
    CLIENTS = "clients"
    CONTRACTS = "contracts"
    CONTACTS = "contacts"
    TASKS = "tasks"
    COMPETITOR_OBSERVATIONS = "competitor_observations"
    INVENTORY = "inventory"
    INVENTORY_AUDITS = "inventory_audits"


@strawberry.enum(description="SHARE: the group's sum in % of the sum over all groups.")
class ReportAggregate(enum.Enum):
    SUM = "sum"
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SHARE = "share"


@strawberry.enum(description="Which operators fit a field depends on its kind "
                             "(reportDatasets lists them).")
class ReportFilterOperator(enum.Enum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    NOT_IN = "not_in"
    CONTAINS = "contains"
    STARTS_WITH = "starts_with"
    IS_NULL = "is_null"
    IS_NOT_NULL = "is_not_null"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    BETWEEN = "between"


@strawberry.enum(description="How a date dimension is grouped.")
class ReportGranularity(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"


@strawberry.enum(description="What each measure is compared with (absolute change and %).")
class ReportComparison(enum.Enum):
    PREVIOUS_PERIOD = "previous_period"
    PREVIOUS_YEAR = "previous_year"


@strawberry.enum
class ReportChartKind(enum.Enum):
    BAR = "bar"
    LINE = "line"
    STACKED_BAR = "stacked_bar"
    PIE = "pie"


ReportRelativePeriod = enum.Enum(  # type: ignore[misc]
    "ReportRelativePeriod", {p.upper(): p for p in d.RELATIVE_PERIODS})
strawberry.enum(ReportRelativePeriod,
                description="A period relative to the day of the run (UTC).")


def _value(member: Any) -> str | None:
    return None if member is None else str(member.value)


@strawberry.input
class ReportGroupingInput:
    field: str
    granularity: ReportGranularity | None = None


@strawberry.input
class ReportMeasureInput:
    aggregate: ReportAggregate
    field: str | None = strawberry.field(default=None, description="None: COUNT of rows.")
    label: str | None = None


@strawberry.input
class ReportFilterInput:
    field: str
    operator: ReportFilterOperator
    values: list[str] = strawberry.field(
        default_factory=list, description="As text: dates YYYY-MM-DD, numbers with a dot, "
                                          "booleans true/false, enum values as listed.")


@strawberry.input
class ReportPeriodInput:
    field: str | None = strawberry.field(default=None, description="A date field (default: "
                                                                   "the dataset's).")
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None
    relative: ReportRelativePeriod | None = None


@strawberry.input
class ReportSortInput:
    column: str = strawberry.field(description="A column key of the report's result.")
    descending: bool = False


@strawberry.input
class ReportChartInput:
    kind: ReportChartKind
    x: str = strawberry.field(description="A grouping column key.")
    y: str = strawberry.field(description="A measure column key.")
    series: str | None = strawberry.field(default=None, description="Another grouping column "
                                                                    "(colour; stacked bars).")


@strawberry.input(description="A report: a listing (columns) or a summary (groupBy and "
                              "measures), filters, period, comparison, sort, limit, chart.")
class ReportDefinitionInput:
    dataset: ReportDataset
    title: str | None = None
    columns: list[str] | None = None
    group_by: list[ReportGroupingInput] | None = None
    measures: list[ReportMeasureInput] | None = None
    filters: list[ReportFilterInput] | None = None
    period: ReportPeriodInput | None = None
    comparison: ReportComparison | None = None
    sort: list[ReportSortInput] | None = None
    limit: int | None = None
    chart: ReportChartInput | None = None

    def domain(self) -> d.Definition:
        p = self.period
        c = self.chart
        return d.Definition(
            dataset=str(self.dataset.value), title=self.title,
            columns=tuple(self.columns or ()),
            group_by=tuple(d.Grouping(g.field, _value(g.granularity))
                           for g in self.group_by or ()),
            measures=tuple(d.Measure(str(m.aggregate.value), m.field, m.label)
                           for m in self.measures or ()),
            filters=tuple(d.Filter(f.field, str(f.operator.value), tuple(f.values))
                          for f in self.filters or ()),
            period=None if p is None else d.PeriodSpec(p.field, p.from_, p.to,
                                                       _value(p.relative)),
            comparison=_value(self.comparison),
            sort=tuple(d.Sort(s.column, s.descending) for s in self.sort or ()),
            limit=self.limit,
            chart=None if c is None else d.Chart(str(c.kind.value), c.x, c.y, c.series))


@strawberry.input(description="What a run sets beside the definition: its period.")
class ReportParametersInput:
    from_: dt.date | None = strawberry.field(default=None, name="from")
    to: dt.date | None = None
    relative: ReportRelativePeriod | None = None

    def domain(self) -> d.Parameters:
        return d.Parameters(self.from_, self.to, _value(self.relative))


@strawberry.input
class RunReportInput:
    report_id: strawberry.ID | None = strawberry.field(default=None,
                                                       description="A saved report.")
    definition: ReportDefinitionInput | None = None
    parameters: ReportParametersInput | None = None
    first: int = 100
    after: str | None = None


@strawberry.type
class ReportColumn:
    key: str
    label: str
    kind: str = strawberry.field(description="text, integer, decimal, money (EUR), percent, "
                                             "date or datetime.")


@strawberry.type
class ReportRow:
    cursor: str
    cells: list[str | None] = strawberry.field(description="In the order of the columns; "
                                                           "numbers with a dot, dates ISO.")


@strawberry.type
class ReportParameter:
    label: str
    value: str


@strawberry.type(description="One page of a report run.")
class ReportResult:
    title: str
    columns: list[ReportColumn]
    rows: list[ReportRow]
    page_info: PageInfo
    total_rows: int = strawberry.field(description="Rows of the whole run.")
    totals: list[str | None] | None = strawberry.field(
        description="Over every row of the run, in the order of the columns (a summary only).")
    chart: JSON | None = strawberry.field(description="A Vega-Lite v5 specification with the "
                                                      "first 500 rows inline.")
    data_as_of: dt.datetime
    parameters: list[ReportParameter]


@strawberry.type(description="A background run of a report.")
class ReportJob:
    id: strawberry.ID
    status: str = strawberry.field(description="queued, running, completed, failed or "
                                               "cancelled.")
    report_id: strawberry.ID | None
    schedule_id: strawberry.ID | None
    title: str
    rows_done: int
    rows_total: int | None
    error: str | None
    file: JSON | None = strawberry.field(description="The file made (format, url); null until "
                                                     "report files exist.")
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, j: report_jobs.Job) -> ReportJob:
        return cls(id=strawberry.ID(str(j.job_id)), status=j.status,
                   report_id=strawberry.ID(str(j.report_id)) if j.report_id else None,
                   schedule_id=strawberry.ID(str(j.schedule_id)) if j.schedule_id else None,
                   title=j.title, rows_done=j.rows_done, rows_total=j.rows_total,
                   error=j.error, file=cast(JSON, j.file), created_at=j.created_at,
                   started_at=j.started_at, finished_at=j.finished_at)


@strawberry.type
class RunReportPayload:
    result: ReportResult | None
    job: ReportJob | None = strawberry.field(description="Set instead of result when the run "
                                                         "has more rows than the inline "
                                                         "threshold.")
    user_errors: list[UserError]


@strawberry.type
class ReportSchedule:
    id: strawberry.ID
    cron: str = strawberry.field(description="minute hour day-of-month month day-of-week, UTC.")
    recipients: list[strawberry.ID]
    active: bool
    next_run_at: dt.datetime
    last_run_at: dt.datetime | None
    version: int


@strawberry.type
class SavedReportVersion:
    version: int
    name: str
    definition: JSON
    shared_with: list[str]
    changed_by: strawberry.ID | None
    changed_at: dt.datetime


@strawberry.type(description="A saved report: owner, sharing, versioned definition.")
class SavedReport:
    report: strawberry.Private[saved_reports.SavedReport]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.report.report_id))

    @strawberry.field
    def name(self) -> str:
        return self.report.name

    @strawberry.field
    def description(self) -> str | None:
        return self.report.description

    @strawberry.field(description="The built-in report's key; null for one a user saved.")
    def builtin(self) -> str | None:
        return self.report.builtin_key

    @strawberry.field
    def owner_id(self) -> strawberry.ID | None:
        return strawberry.ID(str(self.report.owner_id)) if self.report.owner_id else None

    @strawberry.field(description="The roles it is shared with (admin, manager, sales_rep).")
    def shared_with(self) -> list[str]:
        return self.report.shared_with

    @strawberry.field
    def version(self) -> int:
        return self.report.version

    @strawberry.field(description="The definition as stored (snake_case keys).")
    def definition(self) -> JSON:
        return cast(JSON, self.report.definition.to_json())

    @strawberry.field
    def updated_at(self) -> dt.datetime:
        return self.report.updated_at

    @strawberry.field
    async def schedule(self, info: strawberry.Info) -> ReportSchedule | None:
        async with context(info).runtime.reader.connect() as conn:
            s = await report_schedules.of_report(conn, self.report.report_id)
        return None if s is None else _schedule(s)

    @strawberry.field(description="Every version, newest first.")
    async def versions(self, info: strawberry.Info) -> list[SavedReportVersion]:
        async with context(info).runtime.reader.connect() as conn:
            rows = await saved_reports.versions(conn, self.report.report_id)
        return [SavedReportVersion(
            version=r["version"], name=r["name"], definition=r["definition"],
            shared_with=list(r["shared_with"]),
            changed_by=strawberry.ID(str(r["changed_by"])) if r["changed_by"] else None,
            changed_at=r["changed_at"]) for r in rows]


def _schedule(s: report_schedules.Schedule) -> ReportSchedule:
    return ReportSchedule(id=strawberry.ID(str(s.schedule_id)), cron=s.cron,
                          recipients=[strawberry.ID(str(r)) for r in s.recipients],
                          active=s.active, next_run_at=s.next_run_at,
                          last_run_at=s.last_run_at, version=s.version)


@strawberry.type
class SavedReportEdge:
    cursor: str
    node: SavedReport


@strawberry.type
class SavedReportConnection:
    edges: list[SavedReportEdge]
    page_info: PageInfo


@strawberry.type
class ReportField:
    name: str
    label: str
    kind: str
    description: str
    operators: list[str]
    aggregates: list[str]
    granularities: list[str]
    values: list[str] = strawberry.field(description="The values of an enum field.")


@strawberry.type
class ReportDatasetInfo:
    name: str
    label: str
    description: str
    date_field: str
    fields: list[ReportField]


def _aggregates(kind: str) -> list[str]:
    if kind in ("integer", "decimal", "money"):
        return list(d.AGGREGATES)
    if kind in ("date", "datetime"):
        return ["count", "count_distinct", "min", "max"]
    return ["count", "count_distinct"]


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _uuid(raw: str, field: tuple[str, ...]) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise problem(field, "INVALID_ID", "not a valid id") from None


def _result(run: report_runs.RunResult) -> ReportResult:
    page = run.page
    assert page is not None and run.data_as_of is not None
    cols: list[Output] = page.columns
    return ReportResult(
        title=run.plan.title,
        columns=[ReportColumn(key=c.key, label=c.label, kind=c.kind) for c in cols],
        rows=[ReportRow(cursor=cur, cells=[_cell(v) for v in row])
              for row, cur in zip(page.rows, page.cursors, strict=True)],
        page_info=PageInfo(has_next_page=page.has_next,
                           end_cursor=page.cursors[-1] if page.cursors else None),
        total_rows=page.total_rows,
        totals=None if page.totals is None else [_cell(v) for v in page.totals],
        chart=_chart(run, page), data_as_of=run.data_as_of,
        parameters=[ReportParameter(label=a, value=b) for a, b in run.parameters])


def _chart(run: report_runs.RunResult, page: Any) -> Any:
    from crm_analytics.reports.engine import chart_of

    return chart_of(run.plan, page.columns, page.rows)


@strawberry.input
class SaveReportInput:
    name: str
    description: str | None = None
    definition: ReportDefinitionInput
    shared_with: list[str] = strawberry.field(default_factory=list,
                                              description="Roles: admin, manager, sales_rep.")


@strawberry.input
class UpdateSavedReportInput:
    id: strawberry.ID
    version: int
    name: str | None = None
    description: str | None = None
    definition: ReportDefinitionInput | None = None
    shared_with: list[str] | None = None


@strawberry.input
class ArchiveSavedReportInput:
    id: strawberry.ID
    version: int


@strawberry.input
class SetReportScheduleInput:
    report_id: strawberry.ID
    cron: str
    recipients: list[strawberry.ID]
    active: bool = True


@strawberry.input
class CancelReportJobInput:
    id: strawberry.ID


@strawberry.type
class SavedReportPayload:
    saved_report: SavedReport | None
    user_errors: list[UserError]


@strawberry.type
class ReportSchedulePayload:
    schedule: ReportSchedule | None
    user_errors: list[UserError]


@strawberry.type
class ReportJobPayload:
    job: ReportJob | None
    user_errors: list[UserError]


@strawberry.type
class ReportQuery:
    @strawberry.field(description="The datasets a report can read, with their fields.")
    def report_datasets(self) -> list[ReportDatasetInfo]:
        return [ReportDatasetInfo(
            name=ds.name, label=ds.label, description=ds.description, date_field=ds.date_field,
            fields=[ReportField(name=f.name, label=f.label, kind=f.kind,
                                description=f.description,
                                operators=list(d.OPERATORS_BY_KIND[f.kind]),
                                aggregates=_aggregates(f.kind),
                                granularities=list(f.granularities), values=list(f.values))
                    for f in ds.fields.values()]) for ds in DATASETS.values()]

    @strawberry.field(description="The saved reports you may run: yours, those shared with "
                                  "your role, the built-in ones; by name.")
    async def saved_reports(self, info: strawberry.Info, first: int | None = None,
                            after: str | None = None) -> SavedReportConnection:
        ctx = context(info)
        size = requested_page_size(info, first)
        try:
            found, page = await saved_reports.page_visible(
                ctx.runtime.reader, ctx.principal, first=size, after=after)
        except InvalidCursor as exc:
            raise bad_input(f"after: {exc}") from None
        return SavedReportConnection(
            edges=[SavedReportEdge(cursor=c, node=SavedReport(report=r))
                   for r, c in zip(found, page.cursors, strict=True)],
            page_info=page_info(page))

    @strawberry.field
    async def saved_report(self, info: strawberry.Info, id: strawberry.ID
                           ) -> SavedReport | None:
        ctx = context(info)
        try:
            report_id = uuid.UUID(str(id))
        except ValueError:
            return None
        async with ctx.runtime.reader.connect() as conn:
            found = await saved_reports.get(conn, ctx.principal, report_id)
        return None if found is None else SavedReport(report=found)

    @strawberry.field(description="A background run (yours; admins: any).")
    async def report_job(self, info: strawberry.Info, id: strawberry.ID) -> ReportJob | None:
        ctx = context(info)
        try:
            job_id = uuid.UUID(str(id))
        except ValueError:
            return None
        async with ctx.runtime.reader.connect() as conn:
            job = await report_jobs.get(conn, ctx.principal, job_id)
        return None if job is None else ReportJob.of(job)


async def _saved_payload(info: strawberry.Info,
                         action: Callable[[], Awaitable[uuid.UUID]]) -> SavedReportPayload:
    report_id, errors = await mutate(info, action, service=SERVICE)
    if report_id is None:
        return SavedReportPayload(saved_report=None, user_errors=errors)
    ctx = context(info)
    async with ctx.runtime.reader.connect() as conn:
        found = await saved_reports.get(conn, ctx.principal, report_id)
    return SavedReportPayload(saved_report=None if found is None else SavedReport(report=found),
                              user_errors=errors)


@strawberry.type
class ReportMutation:
    @strawberry.mutation(description="Run a saved report (reportId) or a definition: one page "
                                      "of its table, or a background job when the run has more "
                                      "rows than the inline threshold.")
    async def run_report(self, info: strawberry.Info, input: RunReportInput) -> RunReportPayload:
        ctx = context(info)

        async def act() -> report_runs.RunResult:
            report_id = None if input.report_id is None else \
                _uuid(input.report_id, ("input", "reportId"))
            return await report_runs.run_report(
                ctx.runtime, ctx.access, report_id=report_id,
                definition=None if input.definition is None else input.definition.domain(),
                parameters=None if input.parameters is None else input.parameters.domain(),
                first=input.first, after=input.after,
                inline_rows=ctx.config.report_inline_rows)

        run, errors = await mutate(info, act, service=SERVICE)
        if run is None:
            return RunReportPayload(result=None, job=None, user_errors=errors)
        if run.job_id is not None:
            async with ctx.runtime.reader.connect() as conn:
                job = await report_jobs.get(conn, ctx.principal, run.job_id)
            return RunReportPayload(result=None, job=None if job is None else ReportJob.of(job),
                                    user_errors=[])
        return RunReportPayload(result=_result(run), job=None, user_errors=[])

    @strawberry.mutation(description="Save a report (you own it; share it with roles).")
    async def save_report(self, info: strawberry.Info, input: SaveReportInput
                          ) -> SavedReportPayload:
        ctx = context(info)

        async def act() -> uuid.UUID:
            async with ctx.runtime.session_factory.begin() as session:
                return await saved_reports.create(
                    session, ctx.principal, name=input.name, description=input.description,
                    definition=input.definition.domain(), shared_with=list(input.shared_with),
                    today=ctx.today)
        return await _saved_payload(info, act)

    @strawberry.mutation(description="Change a saved report (its owner; built-in: admins); a "
                                      "new version.")
    async def update_saved_report(self, info: strawberry.Info, input: UpdateSavedReportInput
                                  ) -> SavedReportPayload:
        ctx = context(info)

        async def act() -> uuid.UUID:
            report_id = _uuid(input.id, ("input", "id"))
            async with ctx.runtime.session_factory.begin() as session:
                return await saved_reports.update(
                    session, ctx.principal, report_id, version=input.version, name=input.name,
                    description=input.description,
                    definition=None if input.definition is None else input.definition.domain(),
                    shared_with=input.shared_with, today=ctx.today)
        return await _saved_payload(info, act)

    @strawberry.mutation(description="Archive a saved report (it stops running, schedules "
                                      "included).")
    async def archive_saved_report(self, info: strawberry.Info, input: ArchiveSavedReportInput
                                   ) -> SavedReportPayload:
        ctx = context(info)

        async def act() -> uuid.UUID:
            report_id = _uuid(input.id, ("input", "id"))
            async with ctx.runtime.session_factory.begin() as session:
                return await saved_reports.archive(session, ctx.principal, report_id,
                                                   version=input.version)
        _id, errors = await mutate(info, act, service=SERVICE)
        return SavedReportPayload(saved_report=None, user_errors=errors)

    @strawberry.mutation(description="Set (or replace) a saved report's schedule.")
    async def set_report_schedule(self, info: strawberry.Info, input: SetReportScheduleInput
                                  ) -> ReportSchedulePayload:
        ctx = context(info)

        async def act() -> uuid.UUID:
            report_id = _uuid(input.report_id, ("input", "reportId"))
            recipients = [_uuid(r, ("input", "recipients", str(i)))
                          for i, r in enumerate(input.recipients[:report_schedules
                                                                 .MAX_RECIPIENTS + 1])]
            async with ctx.runtime.session_factory.begin() as session:
                await report_schedules.set_schedule(
                    session, ctx.principal, report_id=report_id, cron=input.cron,
                    recipients=recipients, active=input.active, now=ctx.now)
            return report_id
        report_id, errors = await mutate(info, act, service=SERVICE)
        if report_id is None:
            return ReportSchedulePayload(schedule=None, user_errors=errors)
        async with ctx.runtime.reader.connect() as conn:
            s = await report_schedules.of_report(conn, report_id)
        return ReportSchedulePayload(schedule=None if s is None else _schedule(s),
                                     user_errors=[])

    @strawberry.mutation(description="Cancel a queued or running background run.")
    async def cancel_report_job(self, info: strawberry.Info, input: CancelReportJobInput
                                ) -> ReportJobPayload:
        ctx = context(info)

        async def act() -> uuid.UUID:
            job_id = _uuid(input.id, ("input", "id"))
            async with ctx.runtime.session_factory.begin() as session:
                return await report_jobs.cancel(session, ctx.principal, job_id)
        job_id, errors = await mutate(info, act, service=SERVICE)
        if job_id is None:
            return ReportJobPayload(job=None, user_errors=errors)
        async with ctx.runtime.reader.connect() as conn:
            job = await report_jobs.get(conn, ctx.principal, job_id)
        return ReportJobPayload(job=None if job is None else ReportJob.of(job), user_errors=[])
