"""Report files: a :class:`~crm_analytics.reports.table.ReportTable` written as CSV, XLSX or PDF
(``csv``, ``xlsx``, ``pdf``; the chart through ``charts``), the one-page client brief
(``brief``), and their keeping in GridFS behind signed URLs (``store``, ``service``).

Every renderer reads the table's rows once, as they come, and writes them to a local file; no
renderer holds the rows (a PDF's layout is the exception: WeasyPrint lays the whole document out
in memory, so a PDF has its own, lower row cap). A table with more rows than the cap given to the
renderer stops it with :class:`TooManyRows` (the caller deletes the partial file).
"""

from __future__ import annotations

import enum

__all__ = ["FileFormat", "TooManyRows"]


class FileFormat(enum.Enum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]

    @property
    def extension(self) -> str:
        return self.value


_MEDIA_TYPES = {
    FileFormat.CSV: "text/csv; charset=utf-8",
    FileFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    FileFormat.PDF: "application/pdf",
}


class TooManyRows(Exception):
    """The table has more rows than a file of its format may hold (``limit``)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} rows")
        self.limit = limit
