"""A report's chart as a Vega-Lite v5 specification with its data inline: the web app draws it as
it is; the files render it to SVG (docs/reports.md, "Charts")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crm_analytics.reports.definition import Chart

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def vega_lite(chart: Chart, title: str, columns: Sequence[tuple[str, str, str]],
              rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    """``columns`` are (key, label, kind) of the table; ``rows`` its first rows."""
    index = {key: i for i, (key, _l, _k) in enumerate(columns)}
    labels = {key: label for key, label, _k in columns}
    keys = [chart.x, chart.y] + ([chart.series] if chart.series else [])
    values = [{k: _json(row[index[k]]) for k in keys} for row in rows]
    x = {"field": chart.x, "type": "nominal", "title": labels[chart.x], "sort": None}
    y = {"field": chart.y, "type": "quantitative", "title": labels[chart.y]}
    encoding: dict[str, Any]
    if chart.kind == "pie":
        mark: dict[str, Any] = {"type": "arc", "tooltip": True}
        encoding = {"theta": {**y, "stack": True},
                    "color": {"field": chart.x, "type": "nominal", "title": labels[chart.x]}}
    else:
        mark = {"type": "line", "point": True, "tooltip": True} if chart.kind == "line" \
            else {"type": "bar", "tooltip": True}
        if chart.kind == "line":
            x = {**x, "type": "ordinal"}
        encoding = {"x": x, "y": y}
        if chart.series:
            encoding["color"] = {"field": chart.series, "type": "nominal",
                                 "title": labels[chart.series]}
            if chart.kind == "bar":
                encoding["xOffset"] = {"field": chart.series}
    return {"$schema": SCHEMA, "title": title, "data": {"values": values}, "mark": mark,
            "encoding": encoding, "width": "container", "config": {"font": "DejaVu Sans"}}
