"""Running a report on request (``runReport``, docs/reports.md "Running"): a saved report or a
definition given inline, with the run's parameters, checked; then one page of its table — or,
when the whole run has more rows than the inline threshold, a background job instead (the page
is not returned: such a result is read as a file)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

from crm_analytics.reports.definition import Definition, Parameters, PeriodSpec, Plan, check
from crm_analytics.reports.engine import Page, data_as_of, parameters_shown, run_page
from crm_analytics.service_layer import report_jobs, saved_reports
from crm_analytics.service_layer.visibility import Access
from crm_common.graphql.cursors import InvalidCursor
from crm_common.problems import problem
from crm_common.service import Runtime

#: largest page of a run
MAX_PAGE = 500


@dataclass(frozen=True)
class RunResult:
    plan: Plan
    page: Page | None = None
    job_id: uuid.UUID | None = None
    data_as_of: dt.datetime | None = None
    parameters: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def with_parameters(definition: Definition, plan: Plan) -> Definition:
    """The definition with the run's concrete period written in (what a job runs later)."""
    if plan.period is None:
        return definition
    return dataclasses.replace(definition, period=PeriodSpec(
        field=plan.period.field.name, start=plan.period.start, end=plan.period.end))


async def run_report(runtime: Runtime, access: Access, *, report_id: uuid.UUID | None,
                     definition: Definition | None, parameters: Parameters | None, first: int,
                     after: str | None, inline_rows: int) -> RunResult:
    if (report_id is None) == (definition is None):
        raise problem(("input", "reportId"), "REQUIRED", "give a reportId or a definition")
    if not 1 <= first <= MAX_PAGE:
        raise problem(("input", "first"), "OUT_OF_RANGE", f"give 1 to {MAX_PAGE}")
    if after is not None and len(after) > 1024:
        raise problem(("input", "after"), "INVALID_CURSOR", "not a cursor of this report")
    version = None
    root: tuple[str, ...] = ("input", "definition")
    if report_id is not None:
        async with runtime.reader.connect() as conn:
            saved = saved_reports.require_visible(
                await saved_reports.get(conn, access.principal, report_id))
        definition, version = saved.definition, saved.version
        root = ("input", "report")
    assert definition is not None
    plan = check(definition, access.now.date(), parameters, root=root)
    async with runtime.reader.connect() as conn:
        try:
            page = await run_page(conn, plan, access, first=first, after=after)
        except InvalidCursor:
            raise problem(("input", "after"), "INVALID_CURSOR",
                          "not a cursor of this report") from None
        as_of = await data_as_of(conn, plan)
    if page.total_rows > inline_rows and after is None:
        async with runtime.session_factory.begin() as session:
            job_id = await report_jobs.enqueue(
                session, definition=with_parameters(definition, plan).to_json(),
                requested_by=access.principal.subject, roles=sorted(access.principal.roles),
                report_id=report_id, report_version=version, rows_total=page.total_rows)
        return RunResult(plan=plan, job_id=job_id)
    return RunResult(plan=plan, page=page, data_as_of=as_of,
                     parameters=parameters_shown(plan, access))
