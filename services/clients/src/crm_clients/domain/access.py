"""Who may see and change which client (DESIGN section 6), as pure functions.

A sales rep sees a client they own, or one they have a standing meeting grant for (``granted``,
looked up by the service layer in the grant store fed by the activities service's meeting
events). Anything a principal may not see reads as not found, so callers never learn that it
exists.
"""

from __future__ import annotations

import uuid
from enum import Enum

from crm_common.auth import Principal


class Decision(Enum):
    ALLOW = "allow"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"


def can_see(principal: Principal, owner_id: uuid.UUID | None,
            granted: bool = False) -> bool:
    if principal.sees_all_clients:
        return True
    if "sales_rep" in principal.roles:
        return owner_id == principal.subject or granted
    return False


def can_edit(principal: Principal, owner_id: uuid.UUID | None,
             granted: bool = False) -> Decision:
    """Managers and admins edit any client; a rep edits the clients they own. A rep who sees a
    client through a meeting grant reads it but is told changing it is forbidden."""
    if principal.sees_all_clients:
        return Decision.ALLOW
    if can_see(principal, owner_id, granted):
        return Decision.ALLOW if owner_id == principal.subject else Decision.FORBIDDEN
    return Decision.NOT_FOUND


def can_archive(principal: Principal, owner_id: uuid.UUID | None,
                granted: bool = False) -> Decision:
    """Archiving is for managers and admins; a rep who sees the client is told it is forbidden."""
    if principal.sees_all_clients:
        return Decision.ALLOW
    return Decision.FORBIDDEN if can_see(principal, owner_id, granted) else Decision.NOT_FOUND


def owner_on_create(
    principal: Principal, requested: uuid.UUID | None
) -> tuple[Decision, uuid.UUID | None]:
    """A rep's new client is theirs; a manager may name any owner (or none)."""
    if principal.sees_all_clients:
        return Decision.ALLOW, requested
    if "sales_rep" in principal.roles:
        if requested is not None and requested != principal.subject:
            return Decision.FORBIDDEN, None
        return Decision.ALLOW, principal.subject
    return Decision.FORBIDDEN, None
