"""Relay-style connection types shared by every subgraph."""

from __future__ import annotations

import strawberry


@strawberry.federation.type(shareable=True, description="Relay page information.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None


def clamp_page_size(first: int | None, maximum: int, default: int = 20) -> int:
    """The page size actually served: ``first`` within 1..maximum (default 20)."""
    if first is None:
        return min(default, maximum)
    if first < 1:
        raise ValueError("first must be at least 1")
    return min(first, maximum)
