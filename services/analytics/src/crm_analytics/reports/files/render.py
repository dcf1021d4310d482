"""One entry to the renderers: a table written in a format to a local file."""

from __future__ import annotations

from crm_analytics.reports.files import FileFormat
from crm_analytics.reports.files.csv import write_csv
from crm_analytics.reports.files.pdf import write_pdf
from crm_analytics.reports.files.xlsx import write_xlsx
from crm_analytics.reports.table import ReportTable


async def render(table: ReportTable, fmt: FileFormat, path: str, *, max_rows: int) -> int:
    """Write ``table`` as ``fmt`` to ``path``; the number of data rows (``TooManyRows`` past
    ``max_rows``)."""
    if fmt is FileFormat.CSV:
        with open(path, "wb") as out:  # noqa: ASYNC230 - a local temporary file, small writes
            return await write_csv(table, out, max_rows=max_rows)
    if fmt is FileFormat.XLSX:
        return await write_xlsx(table, path, max_rows=max_rows)
    return await write_pdf(table, path, max_rows=max_rows)
