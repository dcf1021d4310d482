"""Plain JSON values from what domain code holds: the one conversion events and history use.

:func:`jsonable` walks dicts, lists and tuples and turns every other non-JSON value through
``crm_common.messaging.envelope.json_default`` (UUIDs and Decimals as strings, aware datetimes as
RFC 3339, dates ISO, enums by value), so an event payload and a history entry spell a value the
same way. :func:`snapshot` is a row's state as events and history carry it: the named fields,
camelCase keys, JSON values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from crm_common.messaging.envelope import json_default
from crm_common.problems import camel

_PLAIN = (str, int, float, bool, type(None))


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (dict keys as strings)."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return jsonable(json_default(value))


def snapshot(row: Mapping[Any, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The row's ``fields`` (snake_case column names) as camelCase keys with JSON values."""
    return {camel(f): jsonable(row[f]) for f in fields}
