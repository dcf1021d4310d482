"""The staff directory's rules: what a valid employee is. Pure functions, no I/O.

An employee's id is the ``sub`` of their tokens (the organisation's identity provider issues it),
so it is given on create, never generated here. The directory is managed by admins; every
authenticated caller may read it (reps need to see who their manager is, assignees, owners).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from crm_common.auth import Principal
from crm_common.identifiers import normalize_email, normalize_phone
from crm_common.parsing import parse_uuid
from crm_common.validation import Collector

MAX_FULL_NAME = 200


class EmployeeRole(enum.Enum):
    ADMIN = "admin"
    MANAGER = "manager"
    SALES_REP = "sales_rep"


def may_manage_staff(principal: Principal) -> bool:
    return principal.is_admin


def validate_employee(data: Mapping[str, Any], *, creating: bool,
                      prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    """Normalise employee fields; absent keys stay unchanged on update. Raises ``Problems``."""
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}

    def parse_id(name: str) -> None:
        raw = data.get(name)
        if raw is None:
            if creating and name == "id":
                c.add(name, "REQUIRED", "id is required: the employee's token subject (UUID)")
            elif name in data:
                out[name] = None
            return
        out[name] = c.run(name, parse_uuid, raw, what="employee id (a UUID)")

    if creating or "id" in data:
        parse_id("id")
    if creating or "full_name" in data:
        out["full_name"] = c.text("full_name", max_length=MAX_FULL_NAME, required=True)
    for key, normalise in (("email", normalize_email), ("phone", normalize_phone)):
        if key in data:
            value = data[key]
            out[key] = None if value in (None, "") else c.run(key, normalise, value)
    if creating or "role" in data:
        raw_role = data.get("role")
        if isinstance(raw_role, EmployeeRole):
            out["role"] = raw_role.value
        else:
            try:
                out["role"] = EmployeeRole(str(raw_role).lower()).value
            except ValueError:
                c.add("role", "INVALID_VALUE", "role must be one of: admin, manager, sales_rep")
    if "manager_id" in data:
        parse_id("manager_id")
        if out.get("manager_id") is not None and out.get("manager_id") == out.get("id"):
            c.add("manager_id", "INVALID_VALUE", "an employee cannot be their own manager")
    c.done()
    return out
