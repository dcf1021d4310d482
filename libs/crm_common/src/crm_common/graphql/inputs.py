"""GraphQL input objects → the plain dicts the service layers validate."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import strawberry


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_raw(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def to_raw(obj: Any) -> dict[str, Any]:
    """The fields the caller sent (``UNSET`` ones left out, so that "absent" and "null" stay
    apart); nested input objects become dicts and enums their values, in lists too."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if value is strawberry.UNSET:
            continue
        out[f.name] = [_plain(v) for v in value] if isinstance(value, list) else _plain(value)
    return out
