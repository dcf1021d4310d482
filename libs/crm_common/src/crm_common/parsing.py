"""Ids and moments as they arrive in an input: a UUID, a timezone-aware date and time.

Pure functions that return the parsed value or raise :class:`crm_common.text.InvalidValue` with a
message for the person who sent it (never Python's "badly formed hexadecimal UUID string").
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Final

from crm_common.problems import problem
from crm_common.text import InvalidValue

__all__ = ["EARLIEST", "LATEST", "aware_moment", "lookup_id", "parse_id", "parse_uuid"]

#: an id longer than this is not looked at (a UUID has 36 characters, 45 with a urn: prefix)
_ID_RAW_MAX: Final = 64

EARLIEST: Final = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""Moments before this are typing mistakes (year 0001, 1970 from an unset clock)."""
LATEST: Final = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)


def parse_uuid(value: object, *, what: str = "id") -> uuid.UUID:
    """A UUID given as text (any spelling :class:`uuid.UUID` reads) or already parsed.

    ``what`` names the id in the message (``"employee id"``: "This is not a valid employee id.").

    Raises:
        InvalidValue: ``INVALID_ID`` for anything else, ``None`` included.
    """
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str) or len(value) > _ID_RAW_MAX:
        raise InvalidValue("INVALID_ID", f"This is not a valid {what}.")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidValue("INVALID_ID", f"This is not a valid {what}.") from None


def parse_id(value: object, field: tuple[str, ...]) -> uuid.UUID:
    """The id a command's input names, or :class:`Problems` INVALID_ID "not a valid id" at
    ``field`` (snake_case; the userError spells it in camelCase): :func:`parse_uuid` for the
    commands and resolvers that stop at a bad id rather than collect it."""
    try:
        return parse_uuid(value)
    except InvalidValue:
        raise problem(field, "INVALID_ID", "not a valid id") from None


def lookup_id(value: object) -> uuid.UUID | None:
    """The id a lookup names (``client(id:)``, a federation reference), or ``None`` when it is
    not an id: a malformed id finds nothing, the same answer as an unknown one (DESIGN §6)."""
    try:
        return parse_uuid(value)
    except InvalidValue:
        return None


def aware_moment(value: object) -> dt.datetime:
    """A timezone-aware date and time between 2000 and 2100, returned in UTC.

    Raises:
        InvalidValue: ``INVALID_TYPE`` when not a ``datetime``, ``TIMEZONE_REQUIRED`` without a UTC
            offset, ``OUT_OF_RANGE`` outside [2000, 2100).
    """
    if not isinstance(value, dt.datetime):
        raise InvalidValue("INVALID_TYPE", "This must be a date and time.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue("TIMEZONE_REQUIRED",
                           "Give the time with its UTC offset, e.g. 2026-03-02T10:00:00+02:00.")
    moment = value.astimezone(dt.UTC)
    if not EARLIEST <= moment < LATEST:
        raise InvalidValue("OUT_OF_RANGE", "The date must be between 2000 and 2100.")
    return moment
