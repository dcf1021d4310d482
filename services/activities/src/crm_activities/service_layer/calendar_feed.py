"""Commands on per-employee calendar feeds: a secret URL per employee, rotated on demand.

Only the SHA-256 of the secret is stored; rotating replaces it, so the old URL stops working at
once.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert

from crm_activities.adapters.tables import calendar_feeds
from crm_activities.domain import access as rules
from crm_activities.service_layer.history import record_history
from crm_common.auth import Principal
from crm_common.problems import forbidden
from crm_common.uow import UnitOfWork


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def rotate_feed(uow: UnitOfWork, principal: Principal,
                      employee_id: uuid.UUID | None) -> tuple[uuid.UUID, str]:
    """A new secret for the employee's feed (created on first use); returns (employee, secret)."""
    employee = employee_id or principal.subject
    if not rules.may_rotate_feed(principal, employee):
        raise forbidden("each employee rotates their own calendar URL (admins any)",
                        field=("input", "employeeId"))
    token = secrets.token_urlsafe(32)
    statement = insert(calendar_feeds).values(employee_id=employee, token_hash=token_hash(token),
                                              rotated_by=principal.subject)
    await uow.session.execute(statement.on_conflict_do_update(
        index_elements=["employee_id"],
        set_={"token_hash": statement.excluded.token_hash, "rotated_at": func.now(),
              "rotated_by": statement.excluded.rotated_by}))
    await record_history(uow.session, actor=principal.subject, entity_type="calendar_feed",
                         entity_id=employee, operation="rotate", changes={})
    await uow.commit()
    return employee, token
