"""The client's price list as a file (CSV or XLSX), written while it is read: pages of
:data:`PAGE` products go through the same pricing as ``Client.priceList`` and out to the file, so
memory holds one page whatever the catalogue's size.

CSV: UTF-8 with a byte-order mark (so that Excel shows Cyrillic), ``;``-free comma-separated
RFC 4180, one header row, amounts with a dot and two places (four for base prices of lists that
keep them). XLSX: XlsxWriter in constant-memory mode, written to a temporary file that is
streamed and deleted; a frozen header row, number formats, a title row with the client and
the date.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from decimal import Decimal

import xlsxwriter
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_pricing.service_layer.pricing_inputs import ClientFacts, RuleBook
from crm_pricing.service_layer.quote import (
    ListPricer,
    PriceListEntry,
    PriceListFilter,
    price_list_page,
)

PAGE = 500
HEADER = ("Product code", "Product", "Product group", "Unit", "Base price (EUR)",
          "Base price list", "Client price (EUR)", "Discount %", "Rule", "Rule version")


@dataclass(frozen=True)
class ExportRequest:
    client_id: uuid.UUID
    client_name: str | None
    day: dt.date
    contract_priority: int | None


def _row(e: PriceListEntry) -> tuple[object, ...]:
    applied = e.price.applied
    return (e.product.code, e.product.name, e.product.group_name or e.product.group_code,
            e.product.unit, e.base.price, e.base.price_list_code, e.price.unit_price,
            e.price.discount_percent, applied[0].rule_code if applied else "",
            applied[0].rule_version if applied else "")


async def entries(reader: AsyncEngine, book: RuleBook, facts: ClientFacts,
                  request: ExportRequest) -> AsyncIterator[list[PriceListEntry]]:
    """The price list, a page at a time (one connection per page, so that a slow reader of
    the file holds no connection between pages)."""
    after: str | None = None
    async with reader.connect() as conn:
        pricer = await ListPricer.make(conn, book, facts, request.day,
                                       request.contract_priority)
    while True:
        async with reader.connect() as conn:
            page = await price_list_page(conn, pricer, PriceListFilter(), after=after,
                                         first=PAGE)
        if page.entries:
            yield page.entries
        if not page.has_next or not page.entries:
            return
        after = page.entries[-1].product.code


def _money(value: object) -> object:
    return f"{value:.2f}" if isinstance(value, Decimal) and value == value.quantize(
        Decimal("0.01")) else value


async def csv_chunks(pages: AsyncIterator[list[PriceListEntry]]) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    yield ("\ufeff" + buffer.getvalue()).encode()
    async for page in pages:
        buffer.seek(0)
        buffer.truncate()
        for e in page:
            writer.writerow([_money(v) for v in _row(e)])
        yield buffer.getvalue().encode()


async def write_xlsx(pages: AsyncIterator[list[PriceListEntry]], request: ExportRequest,
                     path: str) -> None:
    """The workbook at ``path`` (constant memory: rows are flushed as they are written)."""
    book = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": os.path.dirname(path)})
    try:
        sheet = book.add_worksheet("Price list")
        bold = book.add_format({"bold": True})
        header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                  "text_wrap": True, "valign": "top"})
        money = book.add_format({"num_format": "#,##0.00"})
        price4 = book.add_format({"num_format": "#,##0.00##"})
        percent = book.add_format({"num_format": "0.00", "right": 0})
        rule_format = book.add_format({"indent": 1})
        title = f"Price list of {request.client_name or request.client_id} on " \
                f"{request.day.isoformat()}"
        sheet.write_string(0, 0, title, bold)
        sheet.set_row(2, 30)  # two lines of header text
        for col, name in enumerate(HEADER):
            sheet.write_string(2, col, name, header)
        widths = (14, 40, 22, 8, 14, 14, 14, 12, 26, 10)
        for col, width in enumerate(widths):
            sheet.set_column(col, col, width)
        sheet.freeze_panes(3, 1)
        # printed: landscape, one page wide, the header on every page
        sheet.set_landscape()
        sheet.set_paper(9)  # A4
        sheet.fit_to_pages(1, 0)
        sheet.repeat_rows(2)
        r = 3
        async for page in pages:
            for e in page:
                applied = e.price.applied
                sheet.write_string(r, 0, e.product.code)
                sheet.write_string(r, 1, e.product.name)
                sheet.write_string(r, 2, e.product.group_name or e.product.group_code)
                sheet.write_string(r, 3, e.product.unit)
                sheet.write_number(r, 4, float(e.base.price), price4)
                sheet.write_string(r, 5, e.base.price_list_code)
                sheet.write_number(r, 6, float(e.price.unit_price), money)
                sheet.write_number(r, 7, float(e.price.discount_percent), percent)
                if applied:
                    sheet.write_string(r, 8, applied[0].rule_code or "", rule_format)
                    sheet.write_number(r, 9, applied[0].rule_version or 0)
                r += 1
        if r > 3:
            sheet.autofilter(2, 0, r - 1, len(HEADER) - 1)
    finally:
        book.close()


def temporary_path() -> str:
    handle, path = tempfile.mkstemp(prefix="crm-price-list-", suffix=".xlsx")
    os.close(handle)
    return path


def file_chunks(path: str, size: int = 64 * 1024) -> Iterator[bytes]:
    """The file's bytes, then the file is deleted (also when the reader goes away)."""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(size):
                yield chunk
    finally:
        discard(path)


def discard(path: str) -> None:
    """Delete a temporary file, if it is still there."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
