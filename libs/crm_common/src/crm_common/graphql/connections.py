"""Relay-style connection types shared by every subgraph, and the page size rule."""

from __future__ import annotations

from typing import Any

import strawberry

from crm_common.graphql.errors import bad_input

DEFAULT_PAGE_SIZE = 20


@strawberry.federation.type(shareable=True, description="Relay page information.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None


def page_size(first: int | None, maximum: int, connection: str,
              default: int = DEFAULT_PAGE_SIZE) -> int:
    """The page size to serve: ``first``, or ``default`` (at most ``maximum``) when it is not
    given. ``first`` below 1 or above ``maximum`` is refused, not cut: a GraphQL error with code
    BAD_USER_INPUT naming the connection and the cap, worded as GitHub's API words it."""
    if first is None:
        return min(default, maximum)
    if first < 1:
        raise bad_input(f"`first` on the `{connection}` connection must be at least 1, "
                        f"got {first}.")
    if first > maximum:
        raise bad_input(f"Requesting {first} records on the `{connection}` connection exceeds "
                        f"the `first` limit of {maximum} records.")
    return first


def requested_page_size(info: strawberry.Info[Any, Any], first: int | None) -> int:
    """``page_size`` for the field being resolved (its name is the connection's) and the
    service's cap (``info.context.max_page_size``)."""
    return page_size(first, info.context.max_page_size, info.field_name)
