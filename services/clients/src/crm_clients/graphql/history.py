"""The audit history as GraphQL exposes it, on clients, contracts, employees and groups."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from crm_common.graphql.connections import PageInfo, requested_page_size
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import bad_input
from crm_common.history import HistoryLoader


@strawberry.type(description="One recorded change: who, when, which operation, old → new.")
class HistoryEntry:
    at: datetime
    actor_id: strawberry.ID | None
    operation: str = strawberry.field(
        description="create, update, archive, reassign, remove, or a contract transition.")
    entity_type: str = strawberry.field(
        description="client, address, contact_person, bank_account, contract, employee or "
                    "client_group.")
    entity_id: strawberry.ID
    changes: JSON = strawberry.field(
        description="For updates {field: [old, new]}; for create {new: …}; for remove {old: …}.")


@strawberry.type
class HistoryEdge:
    cursor: str
    node: HistoryEntry


@strawberry.type
class HistoryConnection:
    edges: list[HistoryEdge]
    page_info: PageInfo


async def history_connection(info: strawberry.Info, loader: HistoryLoader, key: uuid.UUID,
                             first: int | None, after: str | None) -> HistoryConnection:
    """A page of history through a per-request loader (``loaders.client_history`` by client,
    ``loaders.entity_history`` by entity): one statement for every entity of a list. A bad
    ``first`` or cursor is a GraphQL BAD_USER_INPUT error."""
    try:
        size = requested_page_size(info, first)
        page = await loader.load((key, size, after))
    except (InvalidCursor, ValueError) as exc:
        raise bad_input(f"history: {exc}") from None
    return HistoryConnection(
        edges=[HistoryEdge(cursor=c, node=HistoryEntry(
            at=r["at"], actor_id=strawberry.ID(str(r["actor_id"])) if r["actor_id"] else None,
            operation=r["operation"], entity_type=r["entity_type"],
            entity_id=strawberry.ID(str(r["entity_id"])), changes=r["changes"]))
            for r, c in zip(page.rows, page.cursors, strict=True)],
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor))
