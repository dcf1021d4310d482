"""A report as PDF, laid out by WeasyPrint from HTML: the title, the parameters, "data as of",
the chart (SVG from ``charts``), the table (its header repeated on every page, rows never split
across pages), the totals row, and "page N of M" with the title at the foot of every page.

Text is set in DejaVu Sans (Cyrillic, Latin, €), which WeasyPrint embeds as a subset; the
fonts are found through fontconfig (the image installs ``fonts-dejavu-core``). A table over six
columns is printed in landscape. Nothing is fetched while laying out (:data:`FETCHER` allows only
``data:`` URLs), and every text from the table is HTML-escaped.

WeasyPrint lays out the whole document in memory, so a PDF is bounded by its own row cap
(``REPORT_PDF_MAX_ROWS``), lower than the CSV/XLSX one.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import logging
from collections.abc import Sequence
from typing import Any

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from crm_analytics.reports.files import TooManyRows
from crm_analytics.reports.files.cells import as_utc, numeric, shown
from crm_analytics.reports.files.charts import FONT, ChartError, fitted, to_svg
from crm_analytics.reports.table import Cell, Column, ReportTable

log = logging.getLogger("crm.analytics.files")

#: only inline ``data:`` resources (the chart); never the network or the file system
FETCHER = URLFetcher(allowed_protocols=["data"], timeout=1)
LANDSCAPE_OVER_COLUMNS = 6

BASE_CSS = f"""
@page {{
  size: A4 %(orientation)s; margin: 14mm 12mm 16mm 12mm;
  @bottom-left {{ content: %(footer)s; font: 7.5pt '{FONT}'; color: #666; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages);
                   font: 7.5pt '{FONT}'; color: #666; }}
}}
html {{ font-family: '{FONT}', sans-serif; font-size: 8.5pt; color: #1a1a1a; }}
h1 {{ font-size: 15pt; margin: 0 0 2mm 0; }}
h2 {{ font-size: 10.5pt; margin: 4mm 0 1.5mm 0; color: #1f4e79; }}
dl.parameters {{ margin: 0 0 3mm 0; display: grid; grid-template-columns: auto 1fr;
                 column-gap: 3mm; row-gap: 0.6mm; }}
dl.parameters dt {{ font-weight: bold; color: #444; }}
dl.parameters dd {{ margin: 0; }}
.chart {{ margin: 2mm 0 4mm 0; text-align: center; }}
.chart img {{ max-width: 100%; max-height: 95mm; }}
.note {{ color: #8a4b00; font-style: italic; }}
table.rows {{ border-collapse: collapse; width: 100%; }}
table.rows th {{ background: #DDEBF7; border: 0.4pt solid #9bb7d4; padding: 1mm 1.2mm;
                 text-align: left; vertical-align: bottom; }}
table.rows td {{ border-bottom: 0.3pt solid #d0d0d0; padding: 0.8mm 1.2mm;
                 vertical-align: top; overflow-wrap: anywhere; }}
table.rows tr {{ break-inside: avoid; }}
table.rows .n {{ text-align: right; white-space: nowrap; }}
table.rows tr.total td {{ font-weight: bold; border-top: 0.8pt solid #333;
                          border-bottom: none; }}
table.rows tbody tr:nth-child(even) td {{ background: #f6f8fb; }}
"""


def css(orientation: str, footer: str) -> str:
    return BASE_CSS.replace("%(orientation)s", orientation) \
        .replace("%(footer)s", _css_string(footer))


def _css_string(text: str) -> str:
    """A CSS string literal of ``text`` (quotes, backslashes and line ends escaped)."""
    escaped = "".join(c if c.isprintable() and c not in "\"\\<>" else f"\\{ord(c):x} "
                      for c in text[:120])
    return f'"{escaped}"'


def esc(text: str) -> str:
    return html.escape(text, quote=True)


#: the chart's drawing width (px) by page orientation
CHART_WIDTH = {"portrait": 520, "landscape": 800}


def chart_html(spec: dict[str, Any] | None, orientation: str = "portrait") -> str:
    """The chart as an ``<img>`` of its SVG, or a note saying why it is missing."""
    if spec is None:
        return ""
    try:
        svg = to_svg(fitted(spec, CHART_WIDTH[orientation]))
    except ChartError as exc:
        log.warning("report chart not drawn: %s", exc)
        return '<p class="note">The chart could not be drawn.</p>'
    data = base64.b64encode(svg.encode()).decode()
    return f'<div class="chart"><img alt="chart" src="data:image/svg+xml;base64,{data}"></div>'


def render(document: str, path: str) -> None:
    """Lay out ``document`` (HTML) and write the PDF to ``path``. Blocking."""
    HTML(string=document, url_fetcher=FETCHER, base_url="data:,").write_pdf(path)


def _row_html(row: Sequence[Cell], columns: Sequence[Column], css_class: str = "") -> str:
    texts = [shown(v, c.kind) for v, c in zip(row, columns, strict=True)]
    if css_class == "total" and texts and row[0] is None:
        texts[0] = "Total"
    cells = "".join(
        f'<td class="n">{esc(t)}</td>' if numeric(c.kind) else f"<td>{esc(t)}</td>"
        for t, c in zip(texts, columns, strict=True))
    return f'<tr class="{css_class}">{cells}</tr>' if css_class else f"<tr>{cells}</tr>"


def table_html(table: ReportTable, rows: list[str]) -> str:
    head = "".join(f'<th class="n">{esc(c.label)}</th>' if numeric(c.kind)
                   else f"<th>{esc(c.label)}</th>" for c in table.columns)
    body = "".join(rows)
    if table.totals is not None:
        body += _row_html(table.totals, table.columns, "total")
    return f'<table class="rows"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def as_of_text(moment: dt.datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


async def write_pdf(table: ReportTable, path: str, *, max_rows: int) -> int:
    """Write ``table`` as a PDF at ``path``; the number of data rows. ``TooManyRows`` past
    ``max_rows``. The rows are read first (as HTML, bounded by the cap), then the chart is
    drawn and the document laid out in a worker thread."""
    rows: list[str] = []
    async for row in table.rows:
        if len(rows) >= max_rows:
            raise TooManyRows(max_rows)
        rows.append(_row_html(row, table.columns))
    count = len(rows)
    orientation = "landscape" if len(table.columns) > LANDSCAPE_OVER_COLUMNS else "portrait"

    def build() -> None:
        parameters = "".join(f"<dt>{esc(label)}</dt><dd>{esc(value)}</dd>"
                             for label, value in table.parameters)
        parameters += f"<dt>Data as of</dt><dd>{esc(as_of_text(table.data_as_of))}</dd>"
        empty = "" if count else '<p class="note">No rows.</p>'
        document = (
            f'<!DOCTYPE html><html lang="bg"><head><meta charset="utf-8">'
            f"<title>{esc(table.title)}</title>"
            f"<style>{css(orientation, table.title)}</style></head><body>"
            f"<h1>{esc(table.title)}</h1>"
            f'<dl class="parameters">{parameters}</dl>'
            f"{chart_html(table.chart, orientation)}{table_html(table, rows)}{empty}"
            "</body></html>")
        render(document, path)

    await asyncio.to_thread(build)
    return count
