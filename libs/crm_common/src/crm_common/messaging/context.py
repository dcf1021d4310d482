"""Context variables shared by the messaging code and the rest of a service.

``correlation_id`` holds the correlation id of the unit of work in progress: the consumer sets
it from the envelope's ``correlationid`` while a handler runs, and :func:`to_cloudevent` reads it
when no explicit correlation id is given, so events caused by an event carry the same id.
"""

from __future__ import annotations

from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)

__all__ = ["correlation_id"]
