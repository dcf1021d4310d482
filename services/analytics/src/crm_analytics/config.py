"""The analytics service's own settings, beside the kit's ``Settings``; read once at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from crm_common.settings import EnvReader, SettingsError


@dataclass(frozen=True)
class AnalyticsConfig:
    #: the ERP's topic exchange (DESIGN §9)
    erp_exchange: str = "erp.events"
    #: a client's ``client.turnover.updated`` waits this long after the first change it reports,
    #: and follows the previous one by at least this much (DESIGN §10: "at most once per client
    #: per few seconds")
    turnover_debounce_seconds: float = 5.0
    #: publish turnover events from this process (``RUN_TURNOVER_EVENTS``)
    run_turnover_events: bool = True
    #: ABC cut-offs: A up to this cumulative share of turnover (%), B up to the next
    abc_a_cutoff: Decimal = Decimal("80")
    abc_b_cutoff: Decimal = Decimal("95")
    #: a report run with more rows than this becomes a background job (``REPORT_INLINE_ROWS``)
    report_inline_rows: int = 10_000
    #: run background report jobs and schedules in this process (``RUN_REPORT_JOBS``)
    run_report_jobs: bool = True
    #: seconds between looks for queued jobs and due schedules (``REPORT_JOB_INTERVAL_SECONDS``)
    report_job_interval_seconds: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AnalyticsConfig:
        env = EnvReader(environ)
        a = Decimal(str(env.number("ABC_A_CUTOFF", 80.0, min=0.01, max=100)))
        b = Decimal(str(env.number("ABC_B_CUTOFF", 95.0, min=0.01, max=100)))
        if not a < b:
            raise SettingsError(f"ABC_A_CUTOFF ({a}) must be below ABC_B_CUTOFF ({b})")
        return cls(
            erp_exchange=env.text("ERP_EXCHANGE", "erp.events"),
            turnover_debounce_seconds=env.number("TURNOVER_DEBOUNCE_SECONDS", 5.0, min=0),
            run_turnover_events=env.boolean("RUN_TURNOVER_EVENTS", True),
            abc_a_cutoff=a, abc_b_cutoff=b,
            report_inline_rows=env.integer("REPORT_INLINE_ROWS", 10_000, min=1),
            run_report_jobs=env.boolean("RUN_REPORT_JOBS", True),
            report_job_interval_seconds=env.number("REPORT_JOB_INTERVAL_SECONDS", 1.0,
                                                   min=0.05))
