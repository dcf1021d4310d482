"""Prometheus metrics of a service, exposed at ``/metrics``.

Every metric is registered once, at import, in the default registry, and carries a ``service``
label. Event plumbing (see docs/events.md, "Metrics"):

``crm_outbox_pending{service}``
    Unpublished outbox rows, counted by the relay (capped, see
    :class:`~crm_common.messaging.relay.OutboxRelay`) after every relay cycle.
``crm_events_published_total{service,type}``
    Events whose ``published_at`` was committed after a broker confirm.
``crm_events_publish_failures_total{service,reason}``
    Failed publish attempts; ``reason`` is ``unroutable``, ``nacked``, ``unconfirmed``,
    ``timeout`` or ``connection``.
``crm_events_consumed_total{service,queue,outcome}``
    Deliveries handled by a consumer; ``outcome`` is ``applied``, ``duplicate`` (already in the
    inbox), ``failed`` (handler failed, will be retried) or ``dead_lettered`` (malformed, or failed
    the last allowed attempt).
``crm_broker_connected{service,role}``
    1 while the relay (``role="relay"``) has an open publishing channel, or the consumers
    (``role="consumer"``) are attached to every queue; evaluated at scrape time.
``crm_outbox_purged_total{service}`` / ``crm_inbox_purged_total{service}``
    Rows deleted by the retention purges.
``crm_dlq_depth{service,queue}``
    Messages in each dead-letter queue of the service's consumers.
``crm_outbox_relay_lag_seconds{service}``
    Histogram: from an event's outbox row (written in the business transaction) to its confirm.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

HTTP_REQUESTS = Counter(
    "crm_http_requests_total", "HTTP requests served", ["service", "path", "status"]
)
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "path"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
USER_ERRORS = Counter("crm_graphql_user_errors_total", "userErrors returned", ["service", "code"])

# -- event plumbing ----------------------------------------------------------------------------

OUTBOX_PENDING = Gauge(
    "crm_outbox_pending",
    "Unpublished outbox rows (counted by the relay after each cycle, capped)",
    ["service"],
)
EVENTS_PUBLISHED = Counter(
    "crm_events_published_total",
    "Events published and confirmed by the broker",
    ["service", "type"],
)
EVENT_PUBLISH_FAILURES = Counter(
    "crm_events_publish_failures_total", "Failed event publish attempts", ["service", "reason"]
)
EVENTS_CONSUMED = Counter(
    "crm_events_consumed_total",
    "Event deliveries handled by consumers, by outcome",
    ["service", "queue", "outcome"],
)
BROKER_CONNECTED = Gauge(
    "crm_broker_connected",
    "1 while the relay / the consumers are connected to the broker",
    ["service", "role"],
)
OUTBOX_PURGED = Counter(
    "crm_outbox_purged_total", "Published outbox rows deleted by retention", ["service"]
)
INBOX_PURGED = Counter("crm_inbox_purged_total", "Inbox rows deleted by retention", ["service"])
DLQ_DEPTH = Gauge(
    "crm_dlq_depth",
    "Messages in a dead-letter queue (read by the consumers every 30 s while attached)",
    ["service", "queue"],
)
RELAY_LAG = Histogram(
    "crm_outbox_relay_lag_seconds",
    "From an event's commit (its outbox row's created_at) to the broker's confirm of it",
    ["service"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
