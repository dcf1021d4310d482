"""The report files' settings, read once at start-up: where the files live and how their URLs
are signed are the kit's attachment-store settings (``crm_common.attachments.settings``:
``MONGODB_URL``, ``MONGODB_DATABASE``, ``ATTACHMENT_URL_SECRET``, ``PUBLIC_BASE_URL``,
``DOWNLOAD_URL_TTL_SECONDS``, ``SWEEPER_INTERVAL_SECONDS``, ``STALE_UPLOAD_SECONDS``), read as
every service with a store reads them; the rest is the report files' own (docs/analytics.md).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from crm_common.attachments.settings import StoreSettings
from crm_common.attachments.urls import SignedUrls
from crm_common.settings import HOUR, EnvReader, Settings
from crm_common.signing import MIN_SECRET_BYTES

#: Excel's sheet holds 1,048,576 rows; the cap stays below it with room for the title lines
MAX_ROW_CAP = 1_000_000
#: the purpose of the signed download URLs and the routes' prefix
URL_PURPOSE = "crm-analytics-report-file"
URL_PREFIX = "/report-files/"
BUCKET = "report_files"


def _dev_store() -> StoreSettings:
    return StoreSettings(mongodb_url="mongodb://127.0.0.1:27017/",
                         mongodb_database="crm_analytics",
                         url_secret=secrets.token_bytes(MIN_SECRET_BYTES),
                         public_base_url="http://127.0.0.1:8105")


@dataclass(frozen=True)
class FileSettings:
    store: StoreSettings = field(default_factory=_dev_store)
    #: how long a made file is kept before the sweeper deletes it
    retention: dt.timedelta = dt.timedelta(hours=72)
    #: most rows a CSV or XLSX file may hold
    max_rows: int = 200_000
    #: most rows a PDF may hold (WeasyPrint lays the whole document out in memory)
    pdf_max_rows: int = 1_000
    #: how long ``createReportFile`` waits for the file before answering ``WRITING``
    inline_wait: float = 3.0
    #: run the sweeper (expiry and deletion of files) in this process
    run_sweeper: bool = True

    @classmethod
    def from_env(cls, base: Settings, environ: Mapping[str, str] | None = None) -> FileSettings:
        env = EnvReader(environ)
        return cls(
            store=StoreSettings.from_env(base, environ),
            retention=env.duration("REPORT_FILE_RETENTION_HOURS", dt.timedelta(hours=72),
                                   unit=HOUR, positive=True),
            max_rows=env.integer("REPORT_FILE_MAX_ROWS", 200_000, min=1, max=MAX_ROW_CAP),
            pdf_max_rows=env.integer("REPORT_PDF_MAX_ROWS", 1_000, min=1, max=50_000),
            inline_wait=env.number("REPORT_FILE_INLINE_WAIT_SECONDS", 3.0, min=0, max=60),
            run_sweeper=env.boolean("RUN_REPORT_SWEEPER", True),
        )

    def row_cap(self, pdf: bool) -> int:
        return min(self.pdf_max_rows, self.max_rows) if pdf else self.max_rows

    def urls(self) -> SignedUrls:
        return self.store.urls(URL_PURPOSE, URL_PREFIX)
