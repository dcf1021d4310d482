"""Client groups' rules: a code, a name and a description. Pure functions, no I/O.

A client belongs to at most one group; the pricing service gives discounts by group, so groups
publish events too. Groups are managed by managers and admins and archived, never deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from crm_common.auth import Principal
from crm_common.validation import Collector

MAX_CODE = 30
MAX_NAME = 200
MAX_DESCRIPTION = 2_000
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]*$")


def may_manage_groups(principal: Principal) -> bool:
    return principal.sees_all_clients


def validate_group(data: Mapping[str, Any], *, creating: bool,
                   prefix: tuple[str, ...] = ("input",)) -> dict[str, Any]:
    c = Collector(data, prefix=prefix)
    out: dict[str, Any] = {}

    def text(key: str, max_length: int, required: bool, multiline: bool = False) -> None:
        if creating or key in data:
            out[key] = c.text(key, max_length=max_length, required=required, multiline=multiline)

    text("code", MAX_CODE, True)
    if out.get("code"):
        out["code"] = out["code"].upper()
        if not _CODE.match(out["code"]):
            c.add("code", "INVALID_VALUE",
                  "code is letters A-Z, digits, '-' and '_', starting with a letter or digit")
    text("name", MAX_NAME, True)
    text("description", MAX_DESCRIPTION, False, multiline=True)
    c.done()
    return out
