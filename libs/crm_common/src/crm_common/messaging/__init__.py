"""Event plumbing: CloudEvents envelopes, transactional outbox + relay, inbox + consumers.

See DESIGN.md §5. Producer: :func:`to_cloudevent` + :func:`write_to_outbox` in the business
transaction, :class:`OutboxRelay` publishes. Consumer: :class:`ConsumerRunner` with handlers
``async (session, envelope) -> None`` that run in the same transaction as the inbox claim.
"""

from .consumer import ConsumerRunner, Handler, dlq_name, retry_queue_name
from .context import correlation_id
from .envelope import (
    DomainEvent,
    InvalidEnvelope,
    json_default,
    parse_envelope,
    to_cloudevent,
    validate_envelope,
)
from .inbox import claim, define_inbox_table, purge_inbox
from .outbox import define_outbox_table, purge_published, write_to_outbox
from .relay import OutboxRelay

__all__ = [
    "ConsumerRunner",
    "DomainEvent",
    "Handler",
    "InvalidEnvelope",
    "OutboxRelay",
    "claim",
    "correlation_id",
    "define_inbox_table",
    "define_outbox_table",
    "dlq_name",
    "json_default",
    "parse_envelope",
    "purge_inbox",
    "purge_published",
    "retry_queue_name",
    "to_cloudevent",
    "validate_envelope",
    "write_to_outbox",
]
