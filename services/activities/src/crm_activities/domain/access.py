"""Who may do what in the activities service (DESIGN §6), as pure functions.

Reads: admins and managers see everything; a sales rep sees the activities they logged or made,
the meetings they attend, and everything of the clients they may see (owned, or granted by a
standing meeting). Writes: a manager or admin records and schedules for any employee with any
client; a rep only for themself, with clients they may already see.
"""

from __future__ import annotations

import uuid

from crm_common.auth import Principal


def acts_for_others(principal: Principal) -> bool:
    return principal.sees_all_clients


def may_act_as(principal: Principal, employee_id: uuid.UUID) -> bool:
    """May ``principal`` record or schedule something for ``employee_id``?"""
    return employee_id == principal.subject or acts_for_others(principal)


def is_staff(principal: Principal) -> bool:
    return bool(principal.roles & {"admin", "manager", "sales_rep"})


def may_rotate_feed(principal: Principal, employee_id: uuid.UUID) -> bool:
    """Each employee rotates their own calendar URL; an admin may revoke anyone's."""
    return employee_id == principal.subject or principal.is_admin
