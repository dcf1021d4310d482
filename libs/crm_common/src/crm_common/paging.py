"""A keyset page as every service's read queries return it.

A query fetches ``first + 1`` rows in the page's order; :meth:`Page.of` keeps ``first`` of them,
says whether there is a next page, and makes each kept row's opaque cursor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import RowMapping


@dataclass(frozen=True)
class Page:
    rows: list[RowMapping]
    has_next: bool
    end_cursor: str | None
    cursors: list[str]

    @classmethod
    def of(cls, rows: Sequence[RowMapping], first: int,
           cursor: Callable[[RowMapping], str]) -> Page:
        """The page of ``first`` rows out of ``first + 1`` fetched; ``cursor`` encodes a row's
        position (``crm_common.graphql.cursors.encode_cursor`` of its sort key)."""
        kept = list(rows[:first])
        cursors = [cursor(r) for r in kept]
        return cls(kept, len(rows) > first, cursors[-1] if cursors else None, cursors)
