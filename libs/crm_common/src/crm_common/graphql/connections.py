"""Relay-style connection types shared by every subgraph, and the page size rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy import RowMapping
from strawberry.dataloader import DataLoader

from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import bad_input
from crm_common.paging import Page

C = TypeVar("C")

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


def page_info(page: Page) -> PageInfo:
    """The ``pageInfo`` of a keyset page (forward paging only)."""
    return PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor)


def connection_of(page: Page, connection: Callable[..., C], edge: Callable[..., Any],
                  node: Callable[[RowMapping], Any]) -> C:
    """A Relay connection of ``page``: ``connection(edges=[edge(cursor, node(row))],
    page_info)``, whatever the entity (``connection_of(page, TaskConnection, TaskEdge,
    Task.from_row)``)."""
    return connection(edges=[edge(cursor=c, node=node(r))
                             for r, c in zip(page.rows, page.cursors, strict=True)],
                      page_info=page_info(page))


async def load_page(loader: DataLoader[Any, Page], key: Any) -> Page:
    """A page through a per-request loader; a cursor that is not one of ours is BAD_USER_INPUT."""
    try:
        return await loader.load(key)
    except InvalidCursor as exc:
        raise bad_input(f"after: {exc}") from None
