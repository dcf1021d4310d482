"""The attachment table a service keeps in its own PostgreSQL database: one row per upload
asked for, with the GridFS file id chosen before the first byte is written (DESIGN §8: every
file the service ever wrote can be found again from PostgreSQL).

Life of a row (``status`` / ``file_state``)::

    pending/none ──PUT──▶ uploading/writing ──▶ stored/present ──remove──▶ removed/to_delete
                                   │                                          │
                                   └─fail─▶ failed/deleted | failed/to_delete  └─▶ .../deleted

(``abandoned`` when the file server refused a delete ``MAX_DELETE_ATTEMPTS`` times.)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

#: ``Table.info`` key naming the owner column (``task_id``): what an attachment belongs to
OWNER = "crm_attachment_owner"


def define_attachment_table(metadata: MetaData, *extra: Column[Any],
                            owner: tuple[str, Column[Any]], name: str = "attachments"
                            ) -> Table:
    """Add the attachment table ``name`` to ``metadata`` (or return it when defined already).

    ``owner`` is ``(entity, column)``: what the attachments belong to, e.g. ``("task",
    Column("task_id", UUID(as_uuid=True), ForeignKey("tasks.id"), nullable=False))``; its
    index is ``ix_<name>_<entity>``. ``extra`` are the service's own columns (a ``use`` that
    picks the upload policy, a second owner, ...). The service's Alembic migration creates the
    table as described here (the tasks service's initial migration is the model to copy).
    """
    if name in metadata.tables:
        return metadata.tables[name]
    entity, owner_column = owner
    table = Table(
        name,
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        owner_column,
        # the GridFS file id (ObjectId hex), chosen and recorded before a byte is written
        Column("file_id", Text, nullable=False, unique=True),
        Column("file_name", Text, nullable=False),
        Column("declared_type", Text),
        Column("detected_type", Text),
        Column("size", BigInteger),
        Column("sha256", Text),
        # business state: pending → uploading → stored → removed; or failed
        Column("status", Text, nullable=False),
        # the GridFS file: none → writing → present → to_delete → deleted (or abandoned)
        Column("file_state", Text, nullable=False),
        Column("created_by", UUID(as_uuid=True), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False,
               server_default=func.now()),
        Column("upload_expires_at", DateTime(timezone=True), nullable=False),
        Column("upload_started_at", DateTime(timezone=True)),
        Column("stored_at", DateTime(timezone=True)),
        Column("removed_at", DateTime(timezone=True)),
        Column("removed_by", UUID(as_uuid=True)),
        Column("failure", Text),
        Column("delete_attempts", Integer, nullable=False, server_default="0"),
        Column("next_delete_at", DateTime(timezone=True)),
        Column("last_delete_error", Text),
        Column("version", Integer, nullable=False, server_default="1"),
        *extra,
        info={OWNER: owner_column.name},
    )
    Index(f"ix_{name}_{entity}", owner_column, table.c.created_at)
    Index(f"ix_{name}_sweep", table.c.file_state, table.c.next_delete_at,
          postgresql_where=text("file_state IN ('writing', 'to_delete')"))
    Index(f"ix_{name}_pending", table.c.upload_expires_at,
          postgresql_where=text("status = 'pending'"))
    return table


def owner_column(table: Table) -> Column[Any]:
    """The column naming what an attachment of ``table`` belongs to."""
    try:
        return table.c[table.info[OWNER]]
    except KeyError:
        raise ValueError(f"{table.name} was not made by define_attachment_table") from None
