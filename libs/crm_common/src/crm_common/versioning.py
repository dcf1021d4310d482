"""Optimistic concurrency, one way for every service (DESIGN §4): an update carries the
``version`` the caller read; the handler locks the row (``SELECT ... FOR UPDATE``) and refuses a
stale version with a CONFLICT userError, never a lost update.

- :func:`lock_row`: the row, locked, or NOT_FOUND (also when a visibility condition hides it:
  "you may not see it" reads as "it does not exist", DESIGN §6);
- :func:`check_version`: CONFLICT unless ``version`` is an integer (not a boolean: ``True == 1``
  in Python) equal to the row's;
- :func:`lock_versioned`: both, with an optional check in between (FORBIDDEN before CONFLICT:
  a caller who may not change the row is told so, not asked to reload).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, RowMapping, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.problems import conflict, not_found


def is_version(value: Any) -> bool:
    """A version as a row stores it: an integer, and not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_version(row: RowMapping, version: Any, *, what: str,
                  field: tuple[str, ...] = ("input", "version")) -> None:
    """CONFLICT naming ``what`` unless ``version`` is the row's ``version``."""
    if not is_version(version) or row["version"] != version:
        raise conflict(what, field=field)


async def lock_row(session: AsyncSession, table: Table, row_id: Any, *, what: str,
                   where: ColumnElement[bool] | None = None,
                   statement: Select[Any] | None = None,
                   field: tuple[str, ...] = ("input", "id")) -> RowMapping:
    """``SELECT ... WHERE id = :row_id [AND where] FOR UPDATE OF table``: the row, or NOT_FOUND
    naming ``what``. ``statement`` replaces ``select(table)`` when more columns are needed (a
    join to a parent row); only ``table``'s row is locked."""
    stmt = (statement if statement is not None else select(table)).where(table.c.id == row_id)
    if where is not None:
        stmt = stmt.where(where)
    row: RowMapping | None = (await session.execute(stmt.with_for_update(of=table))
                              ).mappings().one_or_none()
    if row is None:
        raise not_found(what, field=field)
    return row


async def lock_versioned(session: AsyncSession, table: Table, row_id: Any, version: Any, *,
                         what: str, where: ColumnElement[bool] | None = None,
                         statement: Select[Any] | None = None,
                         allowed: Callable[[RowMapping], None] | None = None,
                         field: tuple[str, ...] = ("input", "id"),
                         version_field: tuple[str, ...] = ("input", "version")) -> RowMapping:
    """:func:`lock_row`, then ``allowed(row)`` (raises FORBIDDEN or another problem), then
    :func:`check_version`: the locked row the caller may change at the version they read."""
    row = await lock_row(session, table, row_id, what=what, where=where, statement=statement,
                         field=field)
    if allowed is not None:
        allowed(row)
    check_version(row, version, what=what, field=version_field)
    return row
