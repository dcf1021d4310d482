"""Domain events and their CloudEvents 1.0 envelope (structured JSON mode).

An event leaves a service as a plain ``dict`` that is a valid CloudEvents 1.0 structured JSON
document::

    {"specversion": "1.0", "id": "<uuid4>", "source": "crm/clients",
     "type": "crm.clients.client.created", "time": "2026-01-05T10:00:00.123456Z",
     "subject": "<entity id>", "datacontenttype": "application/json", "data": {...},
     "actorid": "<employee id or 'system'>", "correlationid": "<id>"}

``data`` is normalised through :func:`json_default` at construction time, so the dict can be
stored in a ``jsonb`` column and sent on the wire without further conversion (``Decimal`` becomes
a string so that money keeps its precision; dates and datetimes become ISO 8601 strings).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import re
import uuid
from decimal import Decimal
from typing import Any

import orjson

from .context import correlation_id as _correlation_id_var

SPECVERSION = "1.0"
DATACONTENTTYPE = "application/json"
#: ``crm.<service>.<entity>.<past-tense verb>``, lower case, ``_`` allowed inside a segment; or
#: ``crm.<service>.<entity>.<sub-entity>.<verb>``
#: (``crm.activities.competitor.observation.recorded``).
EVENT_TYPE_RE = re.compile(r"^crm(\.[a-z][a-z0-9_]*){3,4}$")
_ATTRIBUTE_NAME_RE = re.compile(r"^[a-z0-9]{1,20}$")
_REQUIRED = ("specversion", "id", "source", "type")
_OPTIONAL_STRINGS = ("subject", "datacontenttype", "time", "actorid", "correlationid")


class InvalidEnvelope(ValueError):
    """The document is not a CloudEvents 1.0 envelope this platform can handle."""


@dataclasses.dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something that happened to an entity of the owning service.

    ``type`` follows ``crm.<service>.<entity>.<verb>`` (``crm.clients.client.created``),
    ``subject`` is the entity id, ``data`` the state a consumer needs (JSON-serialisable through
    :func:`json_default`).
    """

    type: str
    subject: str
    data: dict[str, Any]

    def __post_init__(self) -> None:
        if not EVENT_TYPE_RE.match(self.type):
            raise InvalidEnvelope(
                f"event type {self.type!r} does not match crm.<service>.<entity>.<verb>"
            )
        if not isinstance(self.data, dict):
            raise InvalidEnvelope("event data must be a dict")


def json_default(value: Any) -> Any:
    """``json.dumps`` hook for the values domain code puts into event data."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError(f"naive datetime {value!r} cannot be put into an event")
        return _rfc3339(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(envelope: dict[str, Any]) -> bytes:
    """Serialise an envelope (or any event document) to compact UTF-8 JSON bytes."""
    return json.dumps(
        envelope, default=json_default, ensure_ascii=False, separators=(",", ":")
    ).encode()


def _rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def to_cloudevent(
    event: DomainEvent,
    *,
    source: str,
    actor_id: str | uuid.UUID,
    correlation_id: str | uuid.UUID | None = None,
) -> dict[str, Any]:
    """Wrap ``event`` in a CloudEvents 1.0 structured-JSON envelope.

    ``source`` names the producer (``crm/clients``); ``actor_id`` is the employee who caused the
    change (``"system"`` for background jobs). Without ``correlation_id`` the current value of the
    :data:`~crm_common.messaging.context.correlation_id` context variable is used, else a new id.
    """
    corr = correlation_id or _correlation_id_var.get() or str(uuid.uuid4())
    envelope: dict[str, Any] = {
        "specversion": SPECVERSION,
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event.type,
        "time": _rfc3339(dt.datetime.now(dt.UTC)),
        "subject": str(event.subject),
        "datacontenttype": DATACONTENTTYPE,
        "data": event.data,
        "actorid": str(actor_id),
        "correlationid": str(corr),
    }
    envelope = json.loads(dumps(envelope))  # normalise data to plain JSON types
    validate_envelope(envelope)
    return envelope


def validate_envelope(envelope: Any) -> dict[str, Any]:
    """Check that ``envelope`` is a CloudEvents 1.0 structured-JSON document; return it.

    Checks the required attributes (``specversion`` = ``1.0``, non-empty ``id``, ``source``,
    ``type``), the types of the optional ones, an RFC 3339 ``time``, the JSON content type and the
    extension attribute names. Raises :class:`InvalidEnvelope`.
    """
    if not isinstance(envelope, dict):
        raise InvalidEnvelope("envelope must be a JSON object")
    for name in _REQUIRED:
        value = envelope.get(name)
        if not isinstance(value, str) or not value:
            raise InvalidEnvelope(f"attribute {name!r} must be a non-empty string")
    if envelope["specversion"] != SPECVERSION:
        raise InvalidEnvelope(f"unsupported specversion {envelope['specversion']!r}")
    for name in _OPTIONAL_STRINGS:
        if name in envelope and not isinstance(envelope[name], str):
            raise InvalidEnvelope(f"attribute {name!r} must be a string")
    if envelope.get("datacontenttype", DATACONTENTTYPE) != DATACONTENTTYPE:
        raise InvalidEnvelope("datacontenttype must be application/json")
    if "time" in envelope:
        try:
            parsed = dt.datetime.fromisoformat(envelope["time"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidEnvelope(f"time is not RFC 3339: {envelope['time']!r}") from exc
        if parsed.tzinfo is None:
            raise InvalidEnvelope("time must carry a UTC offset")
    for name in envelope:
        if name not in ("data", "data_base64") and not _ATTRIBUTE_NAME_RE.match(name):
            raise InvalidEnvelope(f"invalid CloudEvents attribute name {name!r}")
    return envelope


#: every ASCII digit as ``0``, every other byte as ``.``: a run of 19 digits is then a substring
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x2E for byte in range(256))
_LONG_RUN = b"0" * 19


def loads(body: bytes | str) -> Any:
    """``json.loads``, faster: orjson, except where it could read the text differently from
    ``json`` (a run of 19 digits or more: an integer beyond 64 bits, which orjson makes a float)
    or refuses it (NaN, Infinity, a lone surrogate, too deep), and for text (``str``): there
    ``json`` itself, so the result and the errors are the standard library's."""
    if isinstance(body, bytes | bytearray) and _LONG_RUN not in body.translate(_DIGITS):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json.loads(body)


def parse_envelope(body: bytes | str) -> dict[str, Any]:
    """Decode a message body and validate it as an envelope (raises :class:`InvalidEnvelope`)."""
    try:
        document = loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEnvelope(f"body is not JSON: {exc}") from exc
    return validate_envelope(document)
