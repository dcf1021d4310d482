"""One ``History`` connection for every entity of every subgraph (DESIGN §4).

``HistoryEntry``, ``HistoryEdge`` and ``HistoryConnection`` are ``@shareable`` and defined here
once, so that every subgraph declares them identically and the supergraph has one history type.
:func:`history_connection` is the resolver of an entity's ``history(first, after)``: one page
through the request's :class:`~crm_common.history.HistoryLoader` (one statement for every entity
of a list), mapped to the types.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from crm_common.graphql.connections import PageInfo, requested_page_size
from crm_common.graphql.cursors import InvalidCursor
from crm_common.graphql.errors import bad_input
from crm_common.history import HISTORY_OF, HistoryLoader

#: a history row → the ``changes`` the API shows (default: the stored ``changes``)
ChangesOf = Callable[[Mapping[Any, Any]], Any]


@strawberry.federation.type(shareable=True, description=(
    "One recorded change of an entity: who, when, which operation, old → new. The history is "
    "append-only: entries are never changed or removed."))
class HistoryEntry:
    id: strawberry.ID = strawberry.field(description="The entry's id (ordered by time of "
                                                     "writing).")
    at: datetime = strawberry.field(description="When the change was made.")
    actor_id: strawberry.ID | None = strawberry.field(description=(
        "The employee who made the change; null when the system made it (a scheduled job, or "
        "an event from another service)."))
    operation: str = strawberry.field(description=(
        "What was done, as the entity's service names it: create, update, archive, remove, "
        "reassign, reschedule, cancel, complete, a contract's activate, suspend, terminate, "
        "renew or expire, a task's created, updated, status_changed, closed, reopened, "
        "reassigned, rescheduled, priority_changed, attachment_added or attachment_removed, …"))
    entity_type: str = strawberry.field(description=(
        "The kind of entity changed: client, address, contact_person, bank_account, contract, "
        "employee or client_group (clients); activity, meeting, competitor, "
        "competitor_observation or calendar_feed (activities); task (tasks)."))
    entity_id: strawberry.ID = strawberry.field(description="The id of the entity changed.")
    changes: JSON = strawberry.field(description=(
        "What changed, in the API's field names and values (camelCase keys, enum values as the "
        "schema spells them): {field: [old, new]} for an update, {new: {…}} for a creation, "
        "{old: {…}} for a removal, plus an operation's own details (reason, comment). Entries "
        "written before this rule keep the spelling they were written with (snake_case keys, "
        "lower-case enum values)."))


@strawberry.federation.type(shareable=True, description="A history entry and its cursor.")
class HistoryEdge:
    cursor: str
    node: HistoryEntry


@strawberry.federation.type(shareable=True, description="A page of an entity's history.")
class HistoryConnection:
    edges: list[HistoryEdge]
    page_info: PageInfo


def history_entry(row: Mapping[Any, Any], *, entity: tuple[str, str] | None = None,
                  changes_of: ChangesOf | None = None) -> HistoryEntry:
    """A history row as the API shows it; ``entity`` is ``(type, column)`` for the history
    of one entity type (the row has no ``entity_type``/``entity_id`` columns)."""
    entity_type, entity_id = ((entity[0], row[entity[1]]) if entity is not None
                              else (row["entity_type"], row["entity_id"]))
    actor = row["actor_id"]
    return HistoryEntry(
        id=strawberry.ID(str(row["id"])), at=row["at"],
        actor_id=strawberry.ID(str(actor)) if actor is not None else None,
        operation=row["operation"], entity_type=entity_type,
        entity_id=strawberry.ID(str(entity_id)),
        changes=changes_of(row) if changes_of is not None else row["changes"])


async def history_connection(info: strawberry.Info, loader: HistoryLoader, key: uuid.UUID,
                             first: int | None, after: str | None, *,
                             changes_of: ChangesOf | None = None) -> HistoryConnection:
    """A page of history through a per-request loader (by entity, or by client for a dossier):
    one statement for every entity of a list. ``first`` is served within the context's
    ``max_page_size``; a bad ``first`` or cursor is a GraphQL BAD_USER_INPUT error."""
    size = requested_page_size(info, first)
    try:
        page = await loader.load((key, size, after))
    except InvalidCursor as exc:
        raise bad_input(f"after: {exc}") from None
    entity = loader.table.info.get(HISTORY_OF)
    return HistoryConnection(
        edges=[HistoryEdge(cursor=c, node=history_entry(r, entity=entity, changes_of=changes_of))
               for r, c in zip(page.rows, page.cursors, strict=True)],
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor))
