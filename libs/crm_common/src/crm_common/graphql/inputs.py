"""GraphQL input objects → the plain dicts the service layers validate."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from typing import Any

import strawberry

from crm_common.graphql.errors import bad_input
from crm_common.parsing import parse_uuid
from crm_common.text import InvalidValue


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


def filter_id(value: Any, name: str) -> uuid.UUID | None:
    """An optional id of a query's ``filter`` (``name`` as the API spells it): ``None`` when not
    given; one that is not an id is a GraphQL BAD_USER_INPUT error ("filter.clientId is not a
    valid id"), as for every other malformed argument of a query."""
    if value is None:
        return None
    try:
        return parse_uuid(value)
    except InvalidValue:
        raise bad_input(f"filter.{name} is not a valid id") from None
