"""What a report run produces, and what every file renderer reads: a table with typed columns.

This is the seam between the report engine (definitions, datasets, running) and the files (CSV,
XLSX, PDF): the engine builds a :class:`ReportTable`, the renderers write it. Rows are an async
iterator so that a 100,000-row export streams from the database to the file without holding the
rows in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ColumnKind = Literal["text", "integer", "decimal", "money", "percent", "date", "datetime"]
"""How a column's values are typed and shown: ``money`` is EUR (Decimal, 2 places shown),
``percent`` is a Decimal *in percent* (12.5 means 12.5 %), ``date`` a ``datetime.date``."""

Cell = Any
"""A cell: ``str``, ``int``, ``decimal.Decimal``, ``datetime.date``, ``datetime.datetime``, or
None."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind


@dataclass(frozen=True)
class ReportTable:
    """One run of a report, ready to be written to a file."""

    title: str
    columns: Sequence[Column]
    rows: AsyncIterator[Sequence[Cell]]
    """One sequence per row, in the order of ``columns``; consumed once."""
    data_as_of: datetime
    parameters: Sequence[tuple[str, str]] = ()
    """(label, value shown) pairs printed under the title: period, filters, the requester."""
    totals: Sequence[Cell] | None = None
    """A totals row in the order of ``columns`` (None where a column has no total)."""
    chart: dict[str, Any] | None = field(default=None)
    """A Vega-Lite specification with its data inline, or None."""
