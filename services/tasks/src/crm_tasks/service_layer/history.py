"""The append-only history of a task (DESIGN §4): who, when, which operation, old → new.

Written in the same transaction as the change, through the kit's writer (``crm_common.history``).
The status transition and the comment are kept in the table's own columns (``from_status``,
``to_status``, ``comment``, the stored values) and in ``changes`` as the API spells them
(``{"status": ["ASSIGNED", "IN_PROGRESS"], "comment": "…"}``), the one place the API's
``HistoryEntry`` shows them. :data:`SPELLING` names the enum fields of a task.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from crm_common.history import HistoryWriter, Spelling, diff
from crm_tasks.adapters.tables import task_history
from crm_tasks.domain.task import CommitmentType, Outcome, Priority, TaskKind, TaskStatus

#: a task's fields whose values are enums (camelCase, as the API names them); an attachment's
#: ``status`` is a plain string in the API (``Attachment.status``), so it is left as stored
SPELLING: dict[str, Spelling] = {
    "task": {"kind": TaskKind, "commitmentType": CommitmentType, "priority": Priority,
             "status": TaskStatus, "outcome": Outcome, "attachment": {}},
}

_write = HistoryWriter(task_history, SPELLING)


def transition(from_status: str | None, to_status: str | None,
               comment: str | None) -> dict[str, Any]:
    """The ``changes`` a transition and a comment add to an entry."""
    out: dict[str, Any] = {}
    if from_status is not None or to_status is not None:
        out["status"] = [from_status, to_status]
    if comment is not None:
        out["comment"] = comment
    return out


async def record_history(session: AsyncSession, *, actor: uuid.UUID | None, task_id: uuid.UUID,
                         operation: str, from_status: str | None = None,
                         to_status: str | None = None, comment: str | None = None,
                         changes: Mapping[str, Any] | None = None) -> None:
    await _write(session, actor=actor, entity_type="task", entity_id=task_id,
                 operation=operation,
                 changes={**(changes or {}), **transition(from_status, to_status, comment)},
                 from_status=from_status, to_status=to_status, comment=comment)


__all__ = ["SPELLING", "diff", "record_history", "transition"]
