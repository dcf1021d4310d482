"""The append-only audit history (DESIGN §4): who, when, which operation, old → new.

Written in the same transaction as the change it describes; the table refuses UPDATE and DELETE
(a trigger). ``client_id`` is the dossier the entry belongs to, or None for entities outside any
dossier (employees, client groups), whose history is read by ``entity_id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from crm_clients.adapters.tables import history
from crm_common.correlation import correlation_id
from crm_common.jsonvalues import jsonable


async def record_history(session: AsyncSession, actor: uuid.UUID, client_id: uuid.UUID | None,
                         entity_type: str, entity_id: uuid.UUID, operation: str,
                         changes: dict[str, Any]) -> None:
    await session.execute(insert(history).values(
        client_id=client_id, entity_type=entity_type, entity_id=entity_id, operation=operation,
        actor_id=actor, correlation_id=correlation_id.get(), changes=jsonable(changes),
    ))


def diff(old: Mapping[Any, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields of ``new`` whose value differs from ``old``."""
    return {k: [jsonable(old[k]), jsonable(v)] for k, v in new.items() if old[k] != v}
