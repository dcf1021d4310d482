"""A report as CSV: UTF-8 with a byte-order mark (without it Excel reads the file as the
machine's ANSI code page and shows Cyrillic as mojibake; LibreOffice and every CSV library skip
the mark), comma-separated RFC 4180 with CRLF line ends, as the pricing service's exports.

One header row of the columns' labels, then the rows, then the totals row (its first empty cell
says ``Total``). Values are machine-readable (``cells.csv_text``): ISO dates, UTC timestamps
with ``Z``, a dot for decimals, money with two places, no grouping. The title, parameters and
"data as of" are not in a CSV (a second header would break every program reading it); the file
name and the XLSX/PDF carry them. A text cell that would start a formula gets a ``'`` first.
"""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

from crm_analytics.reports.files import TooManyRows
from crm_analytics.reports.files.cells import csv_text
from crm_analytics.reports.table import ReportTable

BOM = "\ufeff"
#: rows encoded together before a write to the file
BATCH = 1000


async def write_csv(table: ReportTable, out: BinaryIO, *, max_rows: int) -> int:
    """Write ``table`` to ``out``; the number of data rows written. ``TooManyRows`` past
    ``max_rows`` (what was written so far is the caller's to delete)."""
    kinds = [c.kind for c in table.columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([guard(c.label) for c in table.columns])
    count = 0
    async for row in table.rows:
        count += 1
        if count > max_rows:
            raise TooManyRows(max_rows)
        writer.writerow([csv_text(v, k) for v, k in zip(row, kinds, strict=True)])
        if count % BATCH == 0:
            out.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    if table.totals is not None:
        cells = [csv_text(v, k) for v, k in zip(table.totals, kinds, strict=True)]
        if cells and cells[0] == "":
            cells[0] = "Total"
        writer.writerow(cells)
    out.write(buffer.getvalue().encode())
    return count


def guard(label: str) -> str:
    return csv_text(label, "text")
