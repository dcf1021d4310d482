"""Columns every service's tables declare alike (SQLAlchemy Core), written once: a moment's
type, and the ``created_at``, ``updated_at`` and ``version`` columns of a row.

Each call makes new ``Column`` objects (a column belongs to one table), as in::

    sa.Table("price_lists", metadata, ..., created_at(), updated_at())
    sa.Table("client_groups", metadata, ..., *version_columns())
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def timestamptz() -> sa.DateTime:
    """A moment: ``timestamp with time zone`` (stored in UTC, DESIGN §4)."""
    return sa.DateTime(timezone=True)


def created_at() -> sa.Column[Any]:
    """``created_at``: when the row was inserted (the database's clock unless given)."""
    return sa.Column("created_at", timestamptz(), nullable=False, server_default=sa.func.now())


def updated_at() -> sa.Column[Any]:
    """``updated_at``: when the row last changed (the database's clock unless given)."""
    return sa.Column("updated_at", timestamptz(), nullable=False, server_default=sa.func.now())


def version_columns() -> tuple[sa.Column[Any], sa.Column[Any]]:
    """``version``, the version of the entity the row holds (of a projection: the newest its
    events carried, so that an older or repeated event changes nothing), and
    :func:`updated_at`."""
    return sa.Column("version", sa.Integer, nullable=False), updated_at()
