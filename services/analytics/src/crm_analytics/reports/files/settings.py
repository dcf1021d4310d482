"""The report files' settings (beside ``Settings`` and ``AnalyticsConfig``), read once at
start-up; docs/analytics.md lists them."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from crm_common.settings import HOUR, EnvReader, Settings
from crm_common.signing import MIN_SECRET_BYTES, secret_from_env

#: Excel's sheet holds 1,048,576 rows; the cap stays below it with room for the title lines
MAX_ROW_CAP = 1_000_000


@dataclass(frozen=True)
class FileSettings:
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    mongodb_database: str = "crm_analytics"
    #: HMAC key of the signed download URLs (every replica must share it)
    url_secret: bytes = field(default_factory=lambda: secrets.token_bytes(MIN_SECRET_BYTES))
    #: scheme://host[:port] the signed URLs start with (production: the ingress, which routes
    #: ``/report-files/`` to the analytics service)
    public_base_url: str = "http://127.0.0.1:8105"
    #: how long a signed download URL works
    url_ttl: dt.timedelta = dt.timedelta(minutes=5)
    #: how long a made file is kept before the sweeper deletes it
    retention: dt.timedelta = dt.timedelta(hours=72)
    #: most rows a CSV or XLSX file may hold
    max_rows: int = 200_000
    #: most rows a PDF may hold (WeasyPrint lays the whole document out in memory)
    pdf_max_rows: int = 2_000
    #: seconds between two passes of the sweeper
    sweep_interval: float = 300.0
    #: a file still ``writing`` after this long is taken as dead (its process died)
    stale_after: dt.timedelta = dt.timedelta(hours=1)
    #: run the sweeper in this process
    run_sweeper: bool = True

    @classmethod
    def from_env(cls, base: Settings, environ: Mapping[str, str] | None = None) -> FileSettings:
        env = EnvReader(environ)
        return cls(
            mongodb_url=env.text("MONGODB_URL", "mongodb://127.0.0.1:27017/"),
            mongodb_database=env.text("MONGODB_DATABASE", "crm_analytics"),
            url_secret=secret_from_env(env, "REPORT_URL_SECRET",
                                       production=base.env == "production"),
            public_base_url=env.url("PUBLIC_BASE_URL", f"http://{base.host}:{base.port}"),
            url_ttl=env.duration("REPORT_URL_TTL_SECONDS", dt.timedelta(seconds=300),
                                 positive=True),
            retention=env.duration("REPORT_FILE_RETENTION_HOURS", dt.timedelta(hours=72),
                                   unit=HOUR, positive=True),
            max_rows=env.integer("REPORT_FILE_MAX_ROWS", 200_000, min=1, max=MAX_ROW_CAP),
            pdf_max_rows=env.integer("REPORT_PDF_MAX_ROWS", 2_000, min=1, max=50_000),
            sweep_interval=env.number("REPORT_SWEEP_INTERVAL_SECONDS", 300, positive=True),
            stale_after=env.duration("REPORT_STALE_SECONDS", dt.timedelta(hours=1),
                                     positive=True),
            run_sweeper=env.boolean("RUN_REPORT_SWEEPER", True),
        )

    def row_cap(self, pdf: bool) -> int:
        return min(self.pdf_max_rows, self.max_rows) if pdf else self.max_rows
