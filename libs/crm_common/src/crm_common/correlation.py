"""The correlation id of the current request or event, carried into the events it causes."""

from __future__ import annotations

import re
import uuid

from crm_common.messaging.context import correlation_id

__all__ = ["correlation_id", "accept_or_new"]

_SAFE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def accept_or_new(value: str | None) -> str:
    """Use the caller's correlation id when it is a sane token, otherwise make a new one."""
    if value and _SAFE.match(value):
        return value
    return uuid.uuid4().hex
