"""How a cell of each column kind is written: as text for CSV (machine-readable: ISO dates, a dot
for decimals, no grouping) and for print (PDF: grouped thousands, two places for money, a % sign),
and the guard against spreadsheet formula injection. Pure functions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from crm_analytics.reports.table import ColumnKind

#: a text cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
TWO_PLACES = Decimal("0.01")


def guard_formula(text: str) -> str:
    """Text a spreadsheet will show as text: a leading formula character gets a ``'`` before it
    (Excel and LibreOffice hide that quote and never evaluate the cell)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def as_utc(value: dt.datetime) -> dt.datetime:
    """A timestamp in UTC (a naive one is taken as UTC already)."""
    return value.astimezone(dt.UTC) if value.tzinfo is not None else value


def csv_text(value: Any, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if kind == "money" and isinstance(value, (Decimal, int, float)):
        return f"{Decimal(str(value)).quantize(TWO_PLACES):f}"
    if isinstance(value, dt.datetime):
        return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:f}"
    if isinstance(value, (int, float)):
        return str(value)
    return guard_formula(str(value))


def shown(value: Any, kind: ColumnKind) -> str:
    """A cell as a person reads it in print (English number style: ``12,345.67``)."""
    if value is None:
        return ""
    if kind in ("money", "decimal", "percent") and isinstance(value, (Decimal, int, float)):
        number = Decimal(str(value))
        text = f"{number.quantize(TWO_PLACES):,f}" if kind != "decimal" \
            else f"{number:,f}"
        return text + " %" if kind == "percent" else text
    if kind == "integer" and isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dt.datetime):
        return as_utc(value).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def numeric(kind: ColumnKind) -> bool:
    return kind in ("integer", "decimal", "money", "percent")
