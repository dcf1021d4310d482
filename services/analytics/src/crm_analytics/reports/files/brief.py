"""The client brief: one A4 page a sales rep reads before a visit (issue 13), laid out by
WeasyPrint like the report PDFs (DejaVu Sans embedded, nothing fetched, every text escaped).

What it shows, from :class:`Brief` (``service_layer.client_brief`` loads it): the dossier's
essentials (name, code, EIK, status, city, group, owner, payment term); turnover — the last 12
months against the same months a year before, as a chart (Vega-Lite → SVG) and the year to date
with its change; the product groups the client stopped buying; the pricing tiers reached and
the next threshold per turnover rule; the open tasks and commitments (overdue first); the last
contacts. Lists are cut to what fits one page (:data:`LIMITS`) and say how many more there are;
long texts are shortened. ``test_client_brief`` checks the page count stays one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from crm_analytics.reports.files.cells import TWO_PLACES
from crm_analytics.reports.files.pdf import as_of_text, chart_html, css, esc, render

#: rows of each list that fit the page
LIMITS = {"tasks": 6, "contacts": 5, "stopped": 6, "tiers": 3}
MAX_TEXT = 70


@dataclass(frozen=True)
class MonthTurnover:
    month: dt.date
    turnover: Decimal
    previous_year: Decimal


@dataclass(frozen=True)
class OpenTask:
    due: dt.date
    kind: str
    title: str
    status: str
    assignee: str | None


@dataclass(frozen=True)
class Contact:
    at: dt.datetime
    kind: str
    employee: str | None
    minutes: int
    status: str


@dataclass(frozen=True)
class TierStanding:
    rule: str
    window: str
    metric: str
    reached: Decimal
    tier: int | None
    tier_effect: str | None
    next_threshold: Decimal | None
    next_tier_effect: str | None


@dataclass(frozen=True)
class Brief:
    client_name: str
    today: dt.date
    data_as_of: dt.datetime
    code: str | None = None
    eik: str | None = None
    status: str | None = None
    city: str | None = None
    group: str | None = None
    owner: str | None = None
    payment_term_days: int | None = None
    months: Sequence[MonthTurnover] = ()
    year_to_date: Decimal = Decimal(0)
    year_to_date_before: Decimal = Decimal(0)
    stopped_groups: Sequence[str] = ()
    tiers: Sequence[TierStanding] = ()
    open_tasks: Sequence[OpenTask] = ()
    last_contacts: Sequence[Contact] = ()
    requested_by: str | None = None
    notes: Sequence[str] = field(default_factory=tuple)


def _short(text: str | None, limit: int = MAX_TEXT) -> str:
    if not text:
        return ""
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value.quantize(TWO_PLACES):,f} €"


def _amount(value: Decimal | None, metric: str) -> str:
    if value is None:
        return ""
    return _money(value) if metric == "net_amount" else f"{value.normalize():,f}"


def change_text(now: Decimal, before: Decimal) -> str:
    if before == 0:
        return "new" if now > 0 else "—"
    percent = ((now - before) / abs(before) * 100).quantize(Decimal("0.1"))
    return f"{'+' if percent > 0 else ''}{percent:f} %"


def chart_spec(months: Sequence[MonthTurnover]) -> dict[str, Any] | None:
    """Turnover by month, this year's bars against last year's, EUR."""
    if not months:
        return None
    values = []
    for m in months:
        label = m.month.strftime("%Y-%m")
        values.append({"month": label, "series": "this year", "turnover": float(m.turnover)})
        values.append({"month": label, "series": "a year before",
                       "turnover": float(m.previous_year)})
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": 470, "height": 105, "data": {"values": values}, "mark": "bar",
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": None,
                  "axis": {"labelAngle": 0, "labelFontSize": 8,
                           "labelExpr": "substring(datum.label, 2)"}},
            "xOffset": {"field": "series", "sort": ["a year before", "this year"]},
            "y": {"field": "turnover", "type": "quantitative", "title": "EUR",
                  "axis": {"format": ",.0f", "tickCount": 4}},
            "color": {"field": "series", "type": "nominal", "title": None,
                      "sort": ["a year before", "this year"],
                      "scale": {"range": ["#b8c7d9", "#1f4e79"]},
                      "legend": {"orient": "top", "direction": "horizontal"}},
        },
    }


_BRIEF_CSS = """
.grid { display: grid; grid-template-columns: 1fr 1fr; column-gap: 6mm; }
.facts { display: grid; grid-template-columns: auto 1fr; column-gap: 3mm; row-gap: 0.5mm;
         margin: 0; }
.facts dt { font-weight: bold; color: #444; } .facts dd { margin: 0; }
.kpi { font-size: 10pt; margin: 1mm 0; } .kpi b { font-size: 12pt; }
table.list { border-collapse: collapse; width: 100%; font-size: 8pt; }
table.list td, table.list th { padding: 0.6mm 1mm; border-bottom: 0.3pt solid #d0d0d0;
                               text-align: left; vertical-align: top; }
table.list th { color: #444; }
table.tiers td { white-space: nowrap; }
.overdue { color: #b00020; font-weight: bold; }
.more { color: #666; font-style: italic; font-size: 7.5pt; }
.empty { color: #777; font-style: italic; }
ul.tags { margin: 0; padding-left: 4mm; }
.chart img { max-height: 48mm; }
"""


def _more(count: int, shown: int) -> str:
    return f'<p class="more">and {count - shown} more</p>' if count > shown else ""


def _rows(items: list[list[str]], head: list[str], classes: list[str] | None = None,
          css_class: str = "") -> str:
    heading = "".join(f"<th>{esc(h)}</th>" for h in head)
    body = "".join(
        f'<tr class="{esc(classes[i]) if classes else ""}">'
        + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
        for i, row in enumerate(items))
    return (f'<table class="list {css_class}"><thead><tr>{heading}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def brief_html(b: Brief) -> str:
    facts = [("Code", b.code), ("EIK", b.eik), ("Status", b.status), ("City", b.city),
             ("Group", b.group), ("Owner", b.owner),
             ("Payment term", None if b.payment_term_days is None
              else f"{b.payment_term_days} days")]
    facts_html = "".join(f"<dt>{esc(k)}</dt><dd>{esc(_short(v, 40))}</dd>"
                         for k, v in facts if v)
    kpi = (f'<p class="kpi">Year to date: <b>{esc(_money(b.year_to_date))}</b> '
           f"({esc(change_text(b.year_to_date, b.year_to_date_before))} on "
           f"{esc(_money(b.year_to_date_before))} a year before)</p>")
    tasks = list(b.open_tasks)
    shown_tasks = tasks[: LIMITS["tasks"]]
    tasks_html = _rows(
        [[t.due.isoformat(), _short(t.kind.replace("_", " "), 18), _short(t.title, 48),
          _short(t.assignee, 22)]
         for t in shown_tasks], ["Due", "Kind", "Task", "Assignee"],
        ["overdue" if t.due < b.today else "" for t in shown_tasks]) if tasks \
        else '<p class="empty">No open tasks or commitments.</p>'
    contacts = list(b.last_contacts)
    contacts_html = _rows(
        [[c.at.astimezone(dt.UTC).strftime("%Y-%m-%d"), _short(c.kind.replace("_", " "), 18),
          _short(c.employee, 26), f"{c.minutes} min" if c.minutes else "", _short(c.status, 12)]
         for c in contacts[: LIMITS["contacts"]]], ["Date", "Kind", "By", "Length", "Status"]) \
        if contacts else '<p class="empty">No contacts recorded.</p>'
    stopped = list(b.stopped_groups)
    stopped_html = ("<ul class=\"tags\">" + "".join(
        f"<li>{esc(_short(g, 40))}</li>" for g in stopped[: LIMITS["stopped"]]) + "</ul>") \
        if stopped else '<p class="empty">None: the client buys every group it used to.</p>'
    tiers = list(b.tiers)
    tiers_html = _rows(
        [[_short(t.rule, 20), _short(t.window.replace("_", " "), 16),
          "—" if t.tier is None else f"{t.tier}" + (f" ({_short(t.tier_effect, 14)})"
                                                     if t.tier_effect else ""),
          _amount(t.reached, t.metric),
          (f"{_amount(t.next_threshold, t.metric)} → {_short(t.next_tier_effect, 14)}"
           if t.next_threshold is not None else "top tier")]
         for t in tiers[: LIMITS["tiers"]]],
        ["Rule", "Window", "Tier", "Reached", "Next tier"], css_class="tiers") if tiers \
        else '<p class="empty">No turnover tier published by pricing for this client.</p>'
    parameters = f"Prepared {esc(b.today.isoformat())}"
    if b.requested_by:
        parameters += f" for {esc(_short(b.requested_by, 40))}"
    parameters += f" · data as of {esc(as_of_text(b.data_as_of))}"
    notes = "".join(f'<p class="more">{esc(_short(n, 160))}</p>' for n in b.notes)
    return (
        '<!DOCTYPE html><html lang="bg"><head><meta charset="utf-8">'
        f"<title>{esc(b.client_name)}</title>"
        f"<style>{css('portrait', 'Client brief · ' + _short(b.client_name, 60))}{_BRIEF_CSS}"
        "</style>"
        f"</head><body><h1>{esc(_short(b.client_name, 60))}</h1>"
        f'<p class="more">{parameters}</p>'
        f'<div class="grid"><div><h2>Client</h2><dl class="facts">{facts_html}</dl></div>'
        f"<div><h2>Turnover</h2>{kpi}</div></div>"
        f"<h2>Turnover by month, against a year before</h2>{chart_html(chart_spec(b.months))}"
        f'<div class="grid"><div><h2>Product groups stopped</h2>{stopped_html}'
        f"{_more(len(stopped), LIMITS['stopped'])}</div>"
        f"<div><h2>Pricing tiers</h2>{tiers_html}{_more(len(tiers), LIMITS['tiers'])}</div>"
        f"</div><h2>Open tasks and commitments</h2>{tasks_html}"
        f"{_more(len(tasks), LIMITS['tasks'])}"
        f"<h2>Last contacts</h2>{contacts_html}{_more(len(contacts), LIMITS['contacts'])}"
        f"{notes}</body></html>")


async def write_brief(brief: Brief, path: str) -> None:
    """The brief as a one-page PDF at ``path`` (laid out in a worker thread)."""
    document = brief_html(brief)
    await asyncio.to_thread(render, document, path)
