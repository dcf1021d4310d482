"""Pages of an append-only history table, for many entities in one statement.

Every service keeps an audit history (DESIGN §4) readable as ``history(first, after)`` on its
entities. Asked for on a list (``clients { history }``, ``tasks { history }``), one query per
entity would make the statement count grow with the rows returned; :class:`HistoryLoader` is a
per-request DataLoader that answers every entity's first page in one statement (a window
function, ``row_number() OVER (PARTITION BY key ORDER BY id)``), and pages after a cursor (asked
for one entity at a time in practice) with a keyset condition on the id.

Cursors are ``[id]`` of the history row; the order is by id (newest first by default).

The same module writes it: :func:`define_history_table` adds the table to a service's metadata,
:func:`record_history` (or a :class:`HistoryWriter` bound to the table) appends an entry in the
caller's transaction, and :func:`diff` makes the ``{field: [old, new]}`` of an update. Every entry
is written as the API spells things (:func:`api_changes`): camelCase keys at every depth, plain
JSON values (``crm_common.jsonvalues``), and enum values as the GraphQL enum names (``ACTIVE``,
not ``active``). Rows written before that rule (snake_case keys, lower-case enum values) stay as
they were: the table refuses UPDATE.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from strawberry.dataloader import DataLoader

from crm_common.correlation import correlation_id
from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor
from crm_common.jsonvalues import jsonable
from crm_common.paging import Page
from crm_common.problems import camel

#: (entity key, page size, cursor or None)
HistoryKey = tuple[uuid.UUID, int, str | None]


def _cursor(row: sa.RowMapping) -> str:
    return encode_cursor([row["id"]])


def cursor_id(after: str) -> int:
    """The history id a cursor points at; ``InvalidCursor`` when it is not one of ours."""
    (raw,) = decode_cursor(after, 1)
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise InvalidCursor("malformed cursor")
    return raw


async def history_pages(reader: AsyncEngine, table: sa.Table, key: str,
                        keys: Sequence[uuid.UUID], *, first: int, after: str | None = None,
                        newest_first: bool = True) -> list[Page]:
    """One page per key of ``table`` rows whose ``key`` column equals it."""
    column, row_id = table.c[key], table.c.id
    condition: sa.ColumnElement[bool] = column.in_(list(keys))
    if after is not None:
        last = cursor_id(after)
        condition = sa.and_(condition, row_id < last if newest_first else row_id > last)
    order = row_id.desc() if newest_first else row_id.asc()
    rank = sa.func.row_number().over(partition_by=column, order_by=order).label("_rank")
    inner = sa.select(table, rank).where(condition).subquery()
    statement = (sa.select(*[inner.c[c.name] for c in table.c])
                 .where(inner.c["_rank"] <= first + 1)
                 .order_by(inner.c[key], inner.c["_rank"]))
    grouped: dict[Any, list[sa.RowMapping]] = defaultdict(list)
    async with reader.connect() as conn:
        for row in (await conn.execute(statement)).mappings():
            grouped[row[key]].append(row)
    return [Page.of(grouped.get(k, []), first, _cursor) for k in keys]


class HistoryLoader(DataLoader[HistoryKey, Page]):
    """Per request: ``await loader.load((entity_id, first, after))``; keys with the same page
    size and cursor are answered together, one statement per (size, cursor) combination."""

    def __init__(self, reader: AsyncEngine, table: sa.Table, key: str, *,
                 newest_first: bool = True) -> None:
        async def load(keys: list[HistoryKey]) -> list[Page]:
            groups: dict[tuple[int, str | None], list[uuid.UUID]] = defaultdict(list)
            for entity, first, after in keys:
                groups[(first, after)].append(entity)
            answers: dict[HistoryKey, Page] = {}
            for (first, after), entities in groups.items():
                unique = list(dict.fromkeys(entities))
                pages = await history_pages(reader, table, key, unique, first=first,
                                            after=after, newest_first=newest_first)
                answers.update({(e, first, after): p for e, p in zip(unique, pages,
                                                                     strict=True)})
            return [answers[k] for k in keys]

        super().__init__(load_fn=load, max_batch_size=500)
        self.table = table


# --- the table ------------------------------------------------------------------------------------

#: ``table.info`` key naming the one entity a single-entity history is of: (entity type, column)
HISTORY_OF = "history_of"


def define_history_table(metadata: sa.MetaData, *extra: sa.Column[Any], name: str = "history",
                         entity: tuple[str, sa.Column[Any]] | None = None,
                         identity: bool = False) -> sa.Table:
    """Add the append-only history table to ``metadata`` (or return it when already defined).

    Every history has ``id``, ``at``, ``actor_id`` (null: the system), ``operation``,
    ``changes`` (JSONB) and ``correlation_id``. A history of many entity types (the default)
    names each entry's entity with ``entity_type``, ``entity_id`` and the ``client_id`` whose
    dossier it belongs to (null outside any dossier). A history of one entity type passes
    ``entity=(type, column)`` instead, e.g. ``("task", Column("task_id", ..., ForeignKey(...)))``;
    :func:`record_history` then writes the entity id into that column. ``extra`` are the
    service's own columns (tasks: ``from_status``, ``to_status``, ``comment``); ``identity``
    makes the id an identity column (how the tasks migration created it). Indexes and the
    append-only trigger are the service's (its migrations made them).
    """
    if name in metadata.tables:
        return metadata.tables[name]
    id_column = (sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True) if identity
                 else sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True))
    if entity is None:
        subject: list[sa.Column[Any]] = [
            sa.Column("entity_type", sa.Text, nullable=False),
            sa.Column("entity_id", UUID(as_uuid=True), nullable=False),
            sa.Column("client_id", UUID(as_uuid=True)),
        ]
        info: dict[str, Any] = {}
    else:
        subject = [entity[1]]
        info = {HISTORY_OF: (entity[0], entity[1].name)}
    return sa.Table(
        name, metadata, id_column, *subject,
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("actor_id", UUID(as_uuid=True)),
        sa.Column("correlation_id", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("changes", JSONB, nullable=False),
        *extra,
        info=info,
    )


# --- the API's spelling of changes ----------------------------------------------------------------

@dataclass(frozen=True)
class EnumKeys:
    """A field holding a mapping whose keys are values of ``enum`` (clients'
    ``documentDescriptions``: ``{"invoice": "…"}`` is spelled ``{"INVOICE": "…"}``)."""

    enum: type[enum.Enum]


#: camelCase field name → the enum its values belong to, :class:`EnumKeys`, or the spelling of a
#: nested entity (``{"addresses": {"kind": AddressKind}}``)
Spelling: TypeAlias = Mapping[str, "type[enum.Enum] | EnumKeys | Spelling"]


def _enum_name(value: Any, kind: type[enum.Enum]) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, str):
        try:
            return kind(value).name
        except ValueError:
            return value  # not one of the enum's values: as it is
    if isinstance(value, (list, tuple)):  # [old, new], or a list of values
        return [_enum_name(v, kind) for v in value]
    return _walk(value, {})


def _enum_keys(value: Any, kind: type[enum.Enum]) -> Any:
    if isinstance(value, Mapping):
        return {_enum_name(str(k), kind): _walk(v, {}) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_enum_keys(v, kind) for v in value]
    return _walk(value, {})


def _walk(value: Any, spelling: Spelling) -> Any:
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = camel(str(k))
            rule = spelling.get(key)
            if rule is None:  # a field of no special spelling, or {new: …}, {old: …}, [old, new]
                out[key] = _walk(v, spelling)
            elif isinstance(rule, EnumKeys):
                out[key] = _enum_keys(v, rule.enum)
            elif isinstance(rule, type):
                out[key] = _enum_name(v, rule)
            else:  # a nested entity: its own spelling
                out[key] = _walk(v, rule)
        return out
    if isinstance(value, (list, tuple)):
        return [_walk(v, spelling) for v in value]
    return jsonable(value)


def api_changes(changes: Mapping[str, Any], spelling: Spelling | None = None) -> dict[str, Any]:
    """``changes`` as the API spells them: camelCase keys at every depth, JSON values, enum
    members as their names and, for the fields ``spelling`` names, stored enum values (``"active"``)
    as the GraphQL enum names (``"ACTIVE"``). Works on every shape an entry holds: ``{field:
    [old, new]}``, ``{new: {…}}``, ``{old: {…}}``, nested entities and lists of them."""
    result: dict[str, Any] = _walk(changes, spelling or {})
    return result


def diff(old: Mapping[Any, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """``{field: [old, new]}`` for the fields of ``new`` whose value differs from ``old``
    (the values as they are; the writer spells them)."""
    return {k: [old[k], v] for k, v in new.items() if old[k] != v}


# --- the writer -----------------------------------------------------------------------------------

_INSERTS: dict[sa.Table, sa.Insert] = {}


def _insert_of(table: sa.Table) -> sa.Insert:
    statement = _INSERTS.get(table)
    if statement is None:
        statement = _INSERTS[table] = sa.insert(table)
    return statement


async def record_history(session: AsyncSession, table: sa.Table, *, actor: uuid.UUID | None,
                         entity_type: str, entity_id: uuid.UUID, operation: str,
                         changes: Mapping[str, Any], client_id: uuid.UUID | None = None,
                         spelling: Spelling | None = None, **columns: Any) -> None:
    """Append one entry to ``table`` in the session's transaction: who (``actor``; None is the
    system), which entity, which operation, and ``changes`` spelled as the API spells them
    (:func:`api_changes`); the correlation id of the request or event that caused it.
    ``columns`` are the table's extra columns (``define_history_table(..., *extra)``)."""
    values: dict[str, Any] = {
        "operation": operation, "actor_id": actor, "correlation_id": correlation_id.get(),
        "changes": api_changes(changes, spelling), **columns,
    }
    of = table.info.get(HISTORY_OF)
    if of is None:
        values.update(entity_type=entity_type, entity_id=entity_id, client_id=client_id)
    else:
        expected, column = of
        if entity_type != expected or client_id is not None:
            raise ValueError(f"{table.name} is the history of {expected} entities only")
        values[column] = entity_id
    # the values as parameters of the plain INSERT: its SQL is compiled once per table and
    # set of columns, not built and keyed anew on every entry (issue 15)
    await session.execute(_insert_of(table), values)


@dataclass(frozen=True)
class HistoryWriter:
    """:func:`record_history` bound to a service's table and its spelling (entity type →
    :data:`Spelling`), so that call sites name only the entry: ``await record(session,
    actor=…, entity_type="client", entity_id=…, operation="update", changes=…)``."""

    table: sa.Table
    spelling: Mapping[str, Spelling] = field(default_factory=dict)

    async def __call__(self, session: AsyncSession, *, actor: uuid.UUID | None,
                       entity_type: str, entity_id: uuid.UUID, operation: str,
                       changes: Mapping[str, Any], client_id: uuid.UUID | None = None,
                       **columns: Any) -> None:
        await record_history(session, self.table, actor=actor, entity_type=entity_type,
                             entity_id=entity_id, operation=operation, changes=changes,
                             client_id=client_id, spelling=self.spelling.get(entity_type),
                             **columns)
