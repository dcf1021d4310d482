"""A report's chart (a Vega-Lite specification with its data inline) drawn as SVG by vl-convert,
for the PDFs (the web app draws the same specification itself).

The drawing never reaches out: external data (``data.url``) is refused by vl-convert
(``allowed_base_urls=[]``), and images an SVG might reference are refused by the PDF's URL
fetcher. Text is set in DejaVu Sans, the font the PDFs embed, so Cyrillic labels draw the same
in the chart as around it. A specification over :data:`MAX_SPEC_BYTES` once serialised is not
drawn.
"""

from __future__ import annotations

import json
from typing import Any

import vl_convert

FONT = "DejaVu Sans"
MAX_SPEC_BYTES = 2 * 1024 * 1024
#: the look of every chart in a file (the specification's own ``config`` wins)
CONFIG: dict[str, Any] = {
    "font": FONT,
    "view": {"stroke": None},
    "axis": {"labelFontSize": 10, "titleFontSize": 11, "gridColor": "#e6e6e6"},
    # long category names (clients) slanted and cut rather than standing on end
    "axisX": {"labelAngle": -35, "labelLimit": 150},
    "legend": {"labelFontSize": 10, "titleFontSize": 11},
    "title": {"fontSize": 13, "anchor": "start"},
}


#: the drawing's height when the specification sets none
DEFAULT_HEIGHT = 220


def fitted(spec: dict[str, Any], width: int) -> dict[str, Any]:
    """The specification sized for a page: a width of ``"container"`` (how the web app is told
    to fill its box) or none becomes ``width`` pixels, a missing height :data:`DEFAULT_HEIGHT`.
    Without this Vega falls back to its small default and a chart of 20 clients is a sliver."""
    sized = dict(spec)
    if not isinstance(sized.get("width"), int | float):
        sized["width"] = width
    if not isinstance(sized.get("height"), int | float):
        sized["height"] = DEFAULT_HEIGHT
    return sized


class ChartError(Exception):
    """The specification could not be drawn; the message says why (for logs and the file)."""


def to_svg(spec: dict[str, Any]) -> str:
    """The chart as an SVG document. Blocking (vl-convert runs Vega in its own engine): call it
    from a worker thread."""
    try:
        size = len(json.dumps(spec, default=str))
    except (TypeError, ValueError) as exc:
        raise ChartError(f"the chart is not JSON: {exc}") from exc
    if size > MAX_SPEC_BYTES:
        raise ChartError(f"the chart's specification is over {MAX_SPEC_BYTES} bytes")
    try:
        return str(vl_convert.vegalite_to_svg(spec, config=CONFIG, allowed_base_urls=[]))
    except Exception as exc:  # vl-convert raises ValueError, and others from its engine
        raise ChartError(" ".join(str(exc).split())[:300] or type(exc).__name__) from exc
