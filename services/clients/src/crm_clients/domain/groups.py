"""Client groups' rules: a code, a name and a description. Pure functions, no I/O.

A client belongs to at most one group; the pricing service gives discounts by group, so groups
publish events too. Groups are managed by managers and admins and archived, never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crm_clients.domain.identifiers import InvalidValue, clean_text
from crm_common.auth import Principal
from crm_common.problems import FieldProblem, Problems

MAX_CODE = 30
MAX_NAME = 200
MAX_DESCRIPTION = 2_000
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")


def may_manage_groups(principal: Principal) -> bool:
    return principal.sees_all_clients


def validate_group(data: Mapping[str, Any], *, creating: bool,
                   prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    problems: list[FieldProblem] = []
    out: dict[str, Any] = {}

    def text(key: str, max_length: int, required: bool, multiline: bool = False) -> None:
        if not (creating or key in data):
            return
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(FieldProblem(prefix + (key,), "INVALID_TYPE", f"{key} must be text"))
            return
        try:
            out[key] = clean_text(value, max_length=max_length, required=required,
                                  multiline=multiline)
        except InvalidValue as exc:
            problems.append(FieldProblem(prefix + (key,), exc.code, exc.message))

    text("code", MAX_CODE, True)
    if out.get("code"):
        out["code"] = out["code"].upper()
        if not _CODE.match(out["code"]):
            problems.append(FieldProblem(
                prefix + ("code",), "INVALID_VALUE",
                "code is letters A-Z, digits, '-' and '_', starting with a letter or digit"))
    text("name", MAX_NAME, True)
    text("description", MAX_DESCRIPTION, False, multiline=True)
    if problems:
        raise Problems(problems)
    return out
