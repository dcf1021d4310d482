"""A report as XLSX, written with XlsxWriter in constant-memory mode: each row goes to the
worksheet's temporary file as it is written, so memory stays flat whatever the number of rows
(``bench/report_xlsx.py`` measures it). Rows are written in batches of :data:`BATCH` in a worker
thread (``asyncio.to_thread``), and the workbook is zipped there too, so a 100,000-row file does
not stall the service's event loop.

The sheet: the title (bold, larger), one line per parameter, "Data as of", a blank line, the
header row (frozen, with an autofilter, repeated on every printed page), the rows and a bold
totals row. Numbers are numbers with formats (``#,##0`` integers, money ``#,##0.00 €``,
percentages ``0.00 %`` of the value in percent, dates ``yyyy-mm-dd``, timestamps in UTC); text
is always written as text, never as a formula. Column widths come from the labels and the first
:data:`SAMPLE` rows (constant-memory mode needs them before the first row), between
:data:`MIN_WIDTH` and :data:`MAX_WIDTH` characters.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import xlsxwriter

from crm_analytics.reports.files import TooManyRows
from crm_analytics.reports.files.cells import as_utc, shown
from crm_analytics.reports.table import Cell, ColumnKind, ReportTable

BATCH = 1000
SAMPLE = 200
MIN_WIDTH = 8
MAX_WIDTH = 60
#: Excel's limit on one cell's text
MAX_CELL_TEXT = 32767
#: Excel's limit on rows in a sheet (minus the title lines, header and totals)
EXCEL_MAX_ROWS = 1_048_576
_NUMBER_FORMATS: dict[ColumnKind, str] = {
    "integer": "#,##0",
    "decimal": "#,##0.00##",
    "money": '#,##0.00 "€"',
    "percent": '0.00 "%"',
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\\x00-\x1f]")


def sheet_name(title: str) -> str:
    """A legal worksheet name from the title (≤ 31 characters, none of ``[]:*?/\\``)."""
    name = _SHEET_NAME_FORBIDDEN.sub(" ", title).strip().strip("'")[:31].strip()
    return name or "Report"


def _width(label: str, kind: ColumnKind, sample: list[Sequence[Cell]], index: int) -> float:
    longest = max([len(label) + 2] + [len(shown(r[index], kind)) + 2 for r in sample])
    return float(min(MAX_WIDTH, max(MIN_WIDTH, longest)))


class _Sheet:
    """The workbook and its formats; every method runs in a worker thread."""

    def __init__(self, path: str, table: ReportTable) -> None:
        self.book = xlsxwriter.Workbook(path, {"constant_memory": True, "in_memory": False,
                                               "strings_to_formulas": False,
                                               "strings_to_urls": False,
                                               "remove_timezone": True})
        self.sheet = self.book.add_worksheet(sheet_name(table.title))
        self.kinds = [c.kind for c in table.columns]
        b = self.book
        self.title = b.add_format({"bold": True, "font_size": 14})
        self.label = b.add_format({"bold": True})
        self.header = b.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                    "text_wrap": True, "valign": "top"})
        self.cell = {k: b.add_format({"num_format": f}) for k, f in _NUMBER_FORMATS.items()}
        self.total = {k: b.add_format({"num_format": f, "bold": True, "top": 1})
                      for k, f in _NUMBER_FORMATS.items()}
        self.total_text = b.add_format({"bold": True, "top": 1})
        self.row = 0

    def head(self, table: ReportTable, sample: list[Sequence[Cell]]) -> None:
        s = self.sheet
        for i, column in enumerate(table.columns):
            s.set_column(i, i, _width(column.label, column.kind, sample, i))
        s.write_string(0, 0, _text(table.title), self.title)
        r = 1
        for label, value in table.parameters:
            s.write_string(r, 0, _text(label), self.label)
            s.write_string(r, 1, _text(value))
            r += 1
        s.write_string(r, 0, "Data as of", self.label)
        s.write_datetime(r, 1, as_utc(table.data_as_of).replace(tzinfo=None),
                         self.cell["datetime"])
        s.write_string(r, 2, "UTC")
        r += 2
        for i, column in enumerate(table.columns):
            s.write_string(r, i, _text(column.label), self.header)
        s.freeze_panes(r + 1, 0)
        s.repeat_rows(r)
        s.set_landscape()
        s.set_paper(9)  # A4
        s.fit_to_pages(1, 0)
        self.header_row = r
        self.row = r + 1

    def rows(self, rows: list[Sequence[Cell]]) -> None:
        for row in rows:
            self._write(self.row, row, self.cell, None)
            self.row += 1

    def finish(self, totals: Sequence[Cell] | None) -> None:
        last = self.row - 1
        if totals is not None:
            self._write(self.row, totals, self.total, self.total_text)
            if totals and totals[0] is None:
                self.sheet.write_string(self.row, 0, "Total", self.total_text)
        if last > self.header_row:
            self.sheet.autofilter(self.header_row, 0, last, len(self.kinds) - 1)
        self.book.close()

    def _write(self, r: int, row: Sequence[Cell], formats: dict[ColumnKind, Any],
               text_format: Any) -> None:
        s = self.sheet
        for c, (value, kind) in enumerate(zip(row, self.kinds, strict=True)):
            if value is None:
                if text_format is not None:
                    s.write_blank(r, c, None, text_format)
                continue
            if isinstance(value, bool):
                s.write_string(r, c, str(value), text_format)
            elif isinstance(value, (int, float, Decimal)):
                s.write_number(r, c, float(value), formats.get(kind, text_format))
            elif isinstance(value, dt.datetime):
                s.write_datetime(r, c, as_utc(value).replace(tzinfo=None),
                                 formats["datetime"])
            elif isinstance(value, dt.date):
                s.write_datetime(r, c, dt.datetime(value.year, value.month, value.day),
                                 formats["date"])
            else:
                s.write_string(r, c, _text(str(value)), text_format)


def _text(value: str) -> str:
    return value[:MAX_CELL_TEXT]


async def write_xlsx(table: ReportTable, path: str, *, max_rows: int) -> int:
    """Write ``table`` as a workbook at ``path``; the number of data rows written.
    ``TooManyRows`` past ``max_rows`` (or past what a sheet can hold)."""
    limit = min(max_rows, EXCEL_MAX_ROWS - len(table.parameters) - 6)
    sheet = await asyncio.to_thread(_Sheet, path, table)
    try:
        batch: list[Sequence[Cell]] = []
        count = 0
        started = False
        async for row in table.rows:
            count += 1
            if count > limit:
                raise TooManyRows(limit)
            batch.append(row)
            if len(batch) >= (BATCH if started else SAMPLE):
                if not started:
                    await asyncio.to_thread(sheet.head, table, batch)
                    started = True
                await asyncio.to_thread(sheet.rows, batch)
                batch = []
        if not started:
            await asyncio.to_thread(sheet.head, table, batch)
        await asyncio.to_thread(sheet.rows, batch)
        await asyncio.to_thread(sheet.finish, table.totals)
    except BaseException:
        await asyncio.to_thread(_close_quietly, sheet)
        raise
    return count


def _close_quietly(sheet: _Sheet) -> None:
    try:
        sheet.book.close()
    except Exception:  # noqa: BLE001 - the file is being discarded anyway
        pass
