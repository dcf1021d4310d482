from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLError
from strawberry.dataloader import DataLoader

from crm_common.graphql.connections import PageInfo, connection_of, load_page, page_info
from crm_common.graphql.cursors import InvalidCursor
from crm_common.paging import Page


@dataclass
class Edge:
    cursor: str
    node: Any


@dataclass
class Connection:
    edges: list[Edge]
    page_info: PageInfo


def test_connection_of_maps_every_row_with_its_cursor() -> None:
    page = Page([{"n": 1}, {"n": 2}], True, "c2", ["c1", "c2"])  # type: ignore[list-item]
    got = connection_of(page, Connection, Edge, lambda r: r["n"] * 10)
    assert [(e.cursor, e.node) for e in got.edges] == [("c1", 10), ("c2", 20)]
    assert got.page_info == page_info(page) == PageInfo(has_next_page=True, end_cursor="c2")
    empty = connection_of(Page.empty(), Connection, Edge, lambda r: r)
    assert empty.edges == [] and empty.page_info.has_next_page is False


async def test_load_page_turns_a_foreign_cursor_into_bad_user_input() -> None:
    async def refuse(keys: list[str]) -> list[Page]:
        raise InvalidCursor("malformed cursor")

    with pytest.raises(GraphQLError) as exc:
        await load_page(DataLoader(load_fn=refuse), "k")
    assert exc.value.extensions == {"code": "BAD_USER_INPUT"}
    assert "malformed cursor" in exc.value.message


async def test_load_node_maps_what_the_loader_finds() -> None:
    from crm_common.graphql.context import load_node

    async def rows(keys: list[int]) -> list[dict[str, int] | None]:
        return [{"n": k} if k > 0 else None for k in keys]

    loader = DataLoader(load_fn=rows)
    assert await load_node(loader, 3, lambda r: r["n"] * 2) == 6
    assert await load_node(loader, -1, lambda r: r["n"]) is None  # unknown or not visible
    assert await load_node(loader, None, lambda r: r["n"]) is None  # no key given
