"""The report renderers on tables made here (no server): CSV, XLSX and PDF of the same table,
Cyrillic, formats, totals, the row cap, hostile text and charts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crm_analytics.reports.files import TooManyRows
from crm_analytics.reports.files.cells import csv_text, guard_formula, shown
from crm_analytics.reports.files.charts import ChartError, to_svg
from crm_analytics.reports.files.csv import write_csv
from crm_analytics.reports.files.pdf import table_html, write_pdf
from crm_analytics.reports.files.xlsx import sheet_name, write_xlsx
from crm_analytics.reports.table import Cell, Column, ReportTable

COLUMNS = [Column("client", "Клиент", "text"), Column("turnover", "Оборот", "money"),
           Column("share", "Дял", "percent"), Column("count", "Брой", "integer"),
           Column("day", "Дата", "date"), Column("at", "Кога", "datetime"),
           Column("qty", "Количество", "decimal")]
AS_OF = dt.datetime(2026, 12, 7, 15, 30, tzinfo=dt.UTC)
HOSTILE = '=HYPERLINK("http://evil","клик")'


def _row(i: int) -> list[Cell]:
    return [f"Клиент №{i} „Ябълка“ ЕООД", Decimal("1234.5") + i, Decimal("12.345"), i,
            dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC),
            Decimal("2.5")]


async def _rows(rows: Sequence[Sequence[Cell]]) -> AsyncIterator[Sequence[Cell]]:
    for row in rows:
        yield row


def _table(rows: Sequence[Sequence[Cell]], *, chart: dict[str, Any] | None = None,
           title: str = "Оборот по клиенти") -> ReportTable:
    return ReportTable(title=title, columns=COLUMNS, rows=_rows(rows), data_as_of=AS_OF,
                       parameters=[("Период", "2026-Q1"), ("Заявил", "Мария Иванова")],
                       totals=[None, Decimal("9999.99"), None, 42, None, None, None],
                       chart=chart)


def _chart() -> dict[str, Any]:
    return {"data": {"values": [{"м": "Януари", "v": 3}, {"м": "Февруари", "v": 5}]},
            "mark": "bar", "encoding": {"x": {"field": "м", "type": "nominal",
                                              "title": "Месец"},
                                        "y": {"field": "v", "type": "quantitative"}}}


# -- cells -----------------------------------------------------------------------------------

def test_cells_are_machine_readable_in_csv_and_grouped_in_print() -> None:
    assert csv_text(Decimal("1234.5"), "money") == "1234.50"
    assert csv_text(Decimal("12.50"), "percent") == "12.50"
    assert csv_text(Decimal("3.000"), "decimal") == "3"
    assert csv_text(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                    "datetime") == "2026-01-02T01:04:05Z"
    assert csv_text(None, "money") == ""
    assert shown(Decimal("1234567.891"), "money") == "1,234,567.89"
    assert shown(Decimal("12.5"), "percent") == "12.50 %"
    assert shown(1234567, "integer") == "1,234,567"


@pytest.mark.parametrize("text", ["=1+1", "+359", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_text_that_starts_a_formula_is_kept_as_text(text: str) -> None:
    assert guard_formula(text) == "'" + text
    assert csv_text(text, "text") == "'" + text


def test_ordinary_text_is_not_changed() -> None:
    assert guard_formula("Мегафарм ЕООД") == "Мегафарм ЕООД"


# -- CSV -------------------------------------------------------------------------------------

async def test_csv_is_utf8_with_bom_header_rows_and_totals() -> None:
    out = io.BytesIO()
    count = await write_csv(_table([_row(1), _row(2)]), out, max_rows=10)
    data = out.getvalue()
    assert count == 2
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == [c.label for c in COLUMNS]
    assert lines[1] == ["Клиент №1 „Ябълка“ ЕООД", "1235.50", "12.345", "1", "2026-03-01",
                        "2026-03-01T10:00:00Z", "2.5"]
    assert lines[3] == ["Total", "9999.99", "", "42", "", "", ""]
    assert len(lines) == 4
    assert b"\r\n" in data


async def test_csv_keeps_hostile_text_as_text_and_quoted() -> None:
    out = io.BytesIO()
    row = _row(1)
    row[0] = HOSTILE + '\n"; DROP TABLE x; --'
    await write_csv(_table([row]), out, max_rows=10)
    lines = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert lines[1][0] == "'" + HOSTILE + '\n"; DROP TABLE x; --'
    assert len(lines) == 3  # the newline stayed inside the quoted cell


async def test_csv_over_the_row_cap_stops() -> None:
    with pytest.raises(TooManyRows) as caught:
        await write_csv(_table([_row(i) for i in range(4)]), io.BytesIO(), max_rows=3)
    assert caught.value.limit == 3


async def test_csv_of_many_rows_writes_every_row_once() -> None:
    out = io.BytesIO()
    assert await write_csv(_table([_row(i) for i in range(2500)]), out, max_rows=2500) == 2500
    lines = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert [line[3] for line in lines[1:-1]] == [str(i) for i in range(2500)]


# -- XLSX ------------------------------------------------------------------------------------

def _sheet(path: Path) -> tuple[str, str]:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml").decode(), z.read("xl/styles.xml").decode()


async def test_xlsx_has_typed_cells_formats_frozen_header_and_totals(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    count = await write_xlsx(_table([_row(1), _row(2)]), str(path), max_rows=10)
    assert count == 2
    sheet, styles = _sheet(path)
    assert 'state="frozen"' in sheet and 'topLeftCell="A7"' in sheet  # below the header row 6
    assert "Оборот по клиенти" in sheet and "Мария Иванова" in sheet and "Клиент" in sheet
    assert '#,##0.00 &quot;€&quot;' in styles and "yyyy-mm-dd" in styles
    assert re.search(r'<c r="B7"[^>]*><v>1235.5</v>', sheet)  # money is a number
    assert re.search(r'<c r="D7"[^>]*><v>1</v>', sheet)
    assert re.search(r'<c r="E7"[^>]*><v>46082</v>', sheet)  # 2026-03-01 as an Excel date
    assert "Total" in sheet and re.search(r'<c r="B9"[^>]*><v>9999.99</v>', sheet)
    assert '<autoFilter ref="A6:G8"' in sheet
    assert "<cols>" in sheet


async def test_xlsx_writes_hostile_text_never_as_a_formula(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    row = _row(1)
    row[0] = HOSTILE
    await write_xlsx(_table([row], title="a/b:c*d?[e]" + "x" * 40), str(path), max_rows=10)
    sheet, _ = _sheet(path)
    assert "<f>" not in sheet
    assert "HYPERLINK" in sheet
    with zipfile.ZipFile(path) as z:
        workbook = z.read("xl/workbook.xml").decode()
    assert 'name="a b c d  e ' in workbook


def test_sheet_names_are_legal() -> None:
    assert sheet_name("Оборот/месец: [2026]") == "Оборот месец   2026"
    assert len(sheet_name("я" * 100)) == 31
    assert sheet_name("'''") == "Report"
    assert sheet_name("") == "Report"


async def test_xlsx_over_the_row_cap_stops(tmp_path: Path) -> None:
    with pytest.raises(TooManyRows):
        await write_xlsx(_table([_row(i) for i in range(5)]), str(tmp_path / "r.xlsx"),
                         max_rows=4)


async def test_xlsx_of_an_empty_table_has_the_header(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    assert await write_xlsx(_table([]), str(path), max_rows=4) == 0
    sheet, _ = _sheet(path)
    assert "Количество" in sheet and "autoFilter" not in sheet


# -- PDF -------------------------------------------------------------------------------------

def _pdf_objects(data: bytes) -> bytes:
    """The PDF's objects with their compressed streams inflated."""
    out = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return b"\n".join(out)


async def test_pdf_embeds_dejavu_and_repeats_pages(tmp_path: Path) -> None:
    path = tmp_path / "r.pdf"
    count = await write_pdf(_table([_row(i) for i in range(120)], chart=_chart()), str(path),
                            max_rows=200)
    assert count == 120
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    objects = _pdf_objects(data)
    assert b"DejaVu-Sans" in objects and b"/FontFile2" in objects  # embedded, not referenced
    assert len(re.findall(rb"/Type\s*/Page\b", objects)) >= 3


async def test_pdf_over_the_row_cap_stops(tmp_path: Path) -> None:
    with pytest.raises(TooManyRows):
        await write_pdf(_table([_row(i) for i in range(3)]), str(tmp_path / "r.pdf"),
                        max_rows=2)


def test_pdf_html_escapes_every_text() -> None:
    row = _row(1)
    row[0] = "</td></table><img src=http://evil/x.png><script>x</script>"
    table = ReportTable(title="<b>t</b>", columns=[Column("c", "<i>Клиент</i>", "text")],
                        rows=_rows([]), data_as_of=AS_OF, totals=None)
    html = table_html(table, [])
    assert "<i>" not in html and "&lt;i&gt;Клиент&lt;/i&gt;" in html


async def test_pdf_with_hostile_text_and_a_broken_chart_still_renders(tmp_path: Path) -> None:
    row = _row(1)
    row[0] = '</td></table><img src="http://127.0.0.1:9/x.png"><style>*{display:none}</style>'
    path = tmp_path / "r.pdf"
    chart = {"data": {"url": "http://127.0.0.1:9/data.json"}, "mark": "bar"}
    title = 'Отчет "</style><script>x</script>'
    assert await write_pdf(_table([row], chart=chart, title=title), str(path), max_rows=5) == 1
    assert path.read_bytes().startswith(b"%PDF-")


# -- charts ----------------------------------------------------------------------------------

def test_chart_is_svg_with_cyrillic_text_in_dejavu() -> None:
    svg = to_svg(_chart())
    assert svg.startswith("<svg") and "Февруари" in svg and "DejaVu Sans" in svg


def test_chart_with_external_data_is_refused() -> None:
    with pytest.raises(ChartError, match="not allowed"):
        to_svg({"data": {"url": "http://127.0.0.1:9/x.json"}, "mark": "bar"})


def test_chart_too_big_is_refused() -> None:
    spec = {"data": {"values": [{"v": "x" * 1000}] * 3000}, "mark": "bar"}
    with pytest.raises(ChartError, match="over"):
        to_svg(spec)


def test_chart_that_is_not_vega_lite_is_refused() -> None:
    with pytest.raises(ChartError):
        to_svg({"mark": 42})


# -- the client brief -------------------------------------------------------------------------

def _full_brief(**changes: Any) -> Any:
    from crm_analytics.reports.files.brief import (
        Brief,
        Contact,
        MonthTurnover,
        OpenTask,
        TierStanding,
    )
    long = "Дълго име " * 40
    values: dict[str, Any] = dict(
        client_name="Мегафарм „Дистрибуция“ ЕООД " + long, today=dt.date(2026, 12, 7),
        data_as_of=AS_OF, code="C1", eik="131468980", status="active", city="Пловдив",
        group=long, owner="Иван Петров", payment_term_days=30,
        months=[MonthTurnover(dt.date(2026, m, 1), Decimal(1000 * m), Decimal(900 * m))
                for m in range(1, 13)],
        year_to_date=Decimal("78000"), year_to_date_before=Decimal("70200"),
        stopped_groups=[f"Група {i} {long}" for i in range(30)],
        tiers=[TierStanding(f"R{i}", "rolling_12_months", "net_amount", Decimal("38200"), 2,
                            "5 %", Decimal("40000"), "7 %") for i in range(10)],
        open_tasks=[OpenTask(dt.date(2026, 12, i % 28 + 1), "new_contract", long, "assigned",
                             long) for i in range(50)],
        last_contacts=[Contact(AS_OF, "visit", long, 45, "done") for _ in range(50)],
        requested_by=long)
    values.update(changes)
    return Brief(**values)


async def test_the_brief_is_one_page_whatever_the_lists(tmp_path: Path) -> None:
    from crm_analytics.reports.files.brief import write_brief
    path = tmp_path / "brief.pdf"
    await write_brief(_full_brief(), str(path))
    objects = _pdf_objects(path.read_bytes())
    assert len(re.findall(rb"/Type\s*/Page\b", objects)) == 1
    assert b"DejaVu-Sans" in objects


async def test_an_empty_brief_says_what_is_missing(tmp_path: Path) -> None:
    from crm_analytics.reports.files.brief import Brief, brief_html, write_brief
    brief = Brief(client_name="Нов клиент", today=dt.date(2026, 12, 7), data_as_of=AS_OF)
    html = brief_html(brief)
    assert "No open tasks" in html and "No contacts" in html and "No turnover tier" in html
    assert "<img" not in html  # no months: no chart
    await write_brief(brief, str(tmp_path / "b.pdf"))


def test_the_brief_escapes_every_text_and_cuts_lists() -> None:
    from crm_analytics.reports.files.brief import LIMITS, brief_html
    hostile = '<script>alert(1)</script><img src="http://evil/x">'
    html = brief_html(_full_brief(client_name=hostile, city=hostile, stopped_groups=[hostile]))
    assert "<script>" not in html and 'src="http://evil' not in html
    assert "&lt;script&gt;" in html
    assert f"and {50 - LIMITS['tasks']} more" in html
    assert f"and {50 - LIMITS['contacts']} more" in html


def test_year_on_year_change_in_words() -> None:
    from crm_analytics.reports.files.brief import change_text
    assert change_text(Decimal(110), Decimal(100)) == "+10.0 %"
    assert change_text(Decimal(90), Decimal(100)) == "-10.0 %"
    assert change_text(Decimal(5), Decimal(0)) == "new"
    assert change_text(Decimal(0), Decimal(0)) == "—"


def test_a_chart_sized_by_its_container_gets_the_page_width() -> None:
    from crm_analytics.reports.files.charts import DEFAULT_HEIGHT, fitted
    spec = {**_chart(), "width": "container"}
    sized = fitted(spec, 800)
    assert (sized["width"], sized["height"]) == (800, DEFAULT_HEIGHT)
    assert spec["width"] == "container"  # the table's own spec is left as it is
    assert 'width="8' in to_svg(sized)[:200]  # drawn about 800 px wide, not Vega's default
    assert fitted({**_chart(), "width": 300, "height": 100}, 800)["width"] == 300
