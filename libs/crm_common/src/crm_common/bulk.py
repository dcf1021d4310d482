"""Many rows in one statement: ``INSERT … SELECT FROM json_to_recordset(rows) … ON CONFLICT``.

An ``executemany`` of N rows costs SQLAlchemy and the driver work per row (parameters built,
processed and sent one row at a time). Binding each column as an array (``unnest``) costs that
once per column, but the driver still inspects and encodes every element in Python (on the
analytics ledger a third of an import's main thread). Here the rows travel as one JSON text,
serialised by orjson in C (decimals as strings, so that money keeps its precision; UUIDs, dates
and datetimes in their ISO forms, a naive datetime as UTC as the driver reads it; a ``str``
bound for a JSON/JSONB column is taken as JSON text, as a ``CAST`` of it was) and read by
PostgreSQL's ``json_to_recordset`` with each column's own type. Rows are written in the order of
the conflict key — sorted before they are cut into statements when there are several, and
ordered within each statement the same way (text keys byte-wise, ``COLLATE "C"``, as Python
compares them) — so two transactions that upsert overlapping rows lock them in the same order
and never wait on each other in a circle, however many statements each takes. Callers need not
sort.

    await bulk_upsert(session, rollup, rows, key=("client_id", "month"), add=("amount",))

Bind money and quantities as ``Decimal`` (a ``float`` goes as a JSON number, and orjson writes
NaN as ``null``); an ``int`` beyond 64 bits or a ``str`` that is not valid Unicode fails the
statement (``TypeError``), as the driver refused them before.

``add``: columns summed into the stored row on conflict (``col = col + excluded.col``);
``replace``: columns overwritten; ``where``: SQL (text) that must hold for the update (``version``
checks); ``returning``: columns of the rows actually inserted or updated.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

#: rows per statement (a few MB of JSON at most)
CHUNK = 5_000


@cache
def _sql_type(column: sa.Column[Any]) -> str:
    return str(column.type.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


def _is_json(column: sa.Column[Any]) -> bool:
    return isinstance(column.type, sa.JSON)


def _order(table: sa.Table, name: str) -> str:
    """The ordering of a key column in the statement: text byte-wise, as Python sorts it."""
    if isinstance(table.c[name].type, sa.String):
        return f'u."{name}" COLLATE "C"'
    return f'u."{name}"'


def _statement(table: sa.Table, columns: Sequence[str], key: Sequence[str],
               add: Sequence[str], replace: Sequence[str], where: str | None,
               returning: Sequence[str]) -> sa.TextClause:
    names = ", ".join(f'"{c}"' for c in columns)
    record = ", ".join(f'"{c}" {_sql_type(table.c[c])}' for c in columns)
    order = ", ".join(_order(table, c) for c in key)
    sets = [f'"{c}" = {table.name}."{c}" + excluded."{c}"' for c in add]
    sets += [f'"{c}" = excluded."{c}"' for c in replace]
    conflict = ", ".join(f'"{c}"' for c in key)
    action = f"DO UPDATE SET {', '.join(sets)}" if sets else "DO NOTHING"
    if sets and where:
        action += f" WHERE {where}"
    sql = (f"INSERT INTO {table.name} ({names}) SELECT {names} FROM "
           f"json_to_recordset(CAST(CAST(:rows AS text) AS json)) AS u({record}) "
           f"ORDER BY {order} ON CONFLICT ({conflict}) {action}")
    if returning:
        sql += " RETURNING " + ", ".join(f'{table.name}."{c}"' for c in returning)
    return sa.text(sql)


def _default(value: Any) -> Any:
    """What orjson does not serialise itself: decimals, as their exact text, and UUIDs of
    another class than ``uuid.UUID`` (the driver's own, read from a row)."""
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be bound in a bulk statement")


def _json_rows(rows: Sequence[Mapping[str, Any]], json_columns: Sequence[str]) -> str:
    if json_columns:  # JSON text given for a JSON column goes in as it is
        rows = [{**row, **{c: orjson.Fragment(row[c]) for c in json_columns
                           if isinstance(row[c], str)}} for row in rows]
    return orjson.dumps(rows, default=_default, option=orjson.OPT_NAIVE_UTC).decode()


async def bulk_upsert(session: AsyncSession, table: sa.Table,
                      rows: Sequence[Mapping[str, Any]], *, key: Sequence[str],
                      add: Sequence[str] = (), replace: Sequence[str] = (),
                      where: str | None = None, returning: Sequence[str] = (),
                      chunk: int = CHUNK) -> list[Any]:
    """Insert ``rows`` (mappings with the same keys) or, on a conflict of ``key``, update the
    stored row; return the ``returning`` columns of the rows written (``[]`` without)."""
    if not rows:
        return []
    columns = list(rows[0])
    if len(rows) > chunk:  # one global order across the statements (each orders its own)
        rows = sorted(rows, key=itemgetter(*key))
    statement = _statement(table, columns, key, add, replace, where, returning)
    json_columns = [c for c in columns if _is_json(table.c[c])]
    written: list[Any] = []
    for start in range(0, len(rows), chunk):
        result = await session.execute(
            statement, {"rows": _json_rows(rows[start:start + chunk], json_columns)})
        if returning:
            written.extend(result.all())
    return written


def columns_except(table: sa.Table, *excluded: str) -> list[str]:
    """The table's column names but ``excluded`` (what an upsert replaces)."""
    return [c.name for c in table.c if c.name not in excluded]
