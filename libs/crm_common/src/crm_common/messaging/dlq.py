"""Dead-letter tools: list what a service's dead-letter queues hold, and replay it.

``crm-<service> dlq list`` and ``crm-<service> dlq replay [--id ID ...]`` (see
:mod:`crm_common.cli`) call these with the service's work queues (``<service>.<name>``, as its
consumers declare them) and the dead-letter exchange of its settings (``DEAD_LETTER_EXCHANGE``,
``crm.dlx``).

Listing
    Takes the messages of each ``<queue>.dlq`` without acknowledging them (``basic.get``), notes
    what an operator needs (event id, type, subject, why and when it was dead-lettered, how many
    tries it had), then closes the channel, which returns every one of them to its queue
    untouched.

Replaying
    Publishes a copy of each chosen message (all, or those whose event id is given) to the
    dead-letter exchange with the work queue's name as routing key — every work queue is bound to
    it under its own name — on a channel with publisher confirms, ``mandatory`` (a route nobody
    binds is an error, not a loss), with the try count reset (``x-crm-attempts`` and
    ``x-delivery-count`` dropped; ``x-death`` kept as history). The message leaves its DLQ only
    after the broker confirmed the copy, so a failure part-way leaves it where it was. The
    consumer's inbox makes a replayed event that was in fact applied a no-op (within the inbox
    retention, 30 days).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractIncomingMessage

from .broker import BrokerLink
from .consumer import ATTEMPTS_HEADER, _header_int, dlq_name


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def describe(queue: str, message: AbstractIncomingMessage) -> dict[str, Any]:
    """What ``dlq list`` shows of one dead-lettered message."""
    headers: dict[str, Any] = dict(message.headers or {})
    deaths = headers.get("x-death")
    last: dict[str, Any] = deaths[0] if isinstance(deaths, list) and deaths else {}
    subject = None
    try:
        body = json.loads(message.body)
        subject = body.get("subject") if isinstance(body, dict) else None
    except ValueError:
        pass
    return {
        "queue": queue,
        "id": message.message_id,
        "type": message.type,
        "subject": _text(subject),
        "reason": _text(last.get("reason")),
        "from": _text(last.get("queue")),
        "deadLetteredAt": _text(last.get("time")),
        # the tries recorded through the retry queue, plus the last one
        "tries": _header_int(headers, ATTEMPTS_HEADER) + 1,
        "bytes": len(message.body),
    }


async def _take_all(channel: aio_pika.abc.AbstractChannel, queue_name: str,
                    limit: int) -> list[AbstractIncomingMessage]:
    """Every message of ``queue_name`` up to ``limit``, unacknowledged (held by the channel)."""
    try:
        queue = await channel.get_queue(queue_name, ensure=True)
    except aiormq.exceptions.ChannelNotFoundEntity:  # the consumers never declared it yet
        return []
    taken: list[AbstractIncomingMessage] = []
    while len(taken) < limit:
        message = await queue.get(no_ack=False, fail=False, timeout=10)
        if message is None:
            break
        taken.append(message)
    return taken


async def list_dead_letters(amqp_url: str, work_queues: Iterable[str], *,
                            limit: int = 1000) -> list[dict[str, Any]]:
    """Describe up to ``limit`` messages of each work queue's DLQ, leaving them in place."""
    link = await BrokerLink.open(amqp_url, name="crm-dlq-list")
    try:
        out: list[dict[str, Any]] = []
        for queue in work_queues:
            dead = dlq_name(queue)
            channel = await link.connection.channel()
            try:
                out += [describe(dead, m) for m in await _take_all(channel, dead, limit)]
            finally:
                if not channel.is_closed:
                    await channel.close()  # returns every message taken, unacknowledged
        return out
    finally:
        await link.close()


async def replay_dead_letters(amqp_url: str, work_queues: Iterable[str],
                              dead_letter_exchange: str, *,
                              ids: Iterable[str] | None = None,
                              limit: int = 100_000) -> list[dict[str, Any]]:
    """Send dead-lettered messages back to their work queues (all, or those with an event id in
    ``ids``); return what was replayed, as :func:`describe` shows it."""
    wanted = None if ids is None else set(ids)
    link = await BrokerLink.open(amqp_url, publisher_confirms=True, on_return_raises=True,
                                 name="crm-dlq-replay")
    replayed: list[dict[str, Any]] = []
    try:
        exchange = await link.channel.declare_exchange(
            dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True)
        for queue in work_queues:
            dead = dlq_name(queue)
            channel = await link.connection.channel()
            try:
                for message in await _take_all(channel, dead, limit):
                    if wanted is not None and message.message_id not in wanted:
                        continue  # returned to the DLQ when the channel closes
                    headers = {key: value for key, value in (message.headers or {}).items()
                               if key not in (ATTEMPTS_HEADER, "x-delivery-count")}
                    await exchange.publish(
                        aio_pika.Message(
                            message.body, headers=headers, content_type=message.content_type,
                            content_encoding=message.content_encoding,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            correlation_id=message.correlation_id,
                            message_id=message.message_id, timestamp=message.timestamp,
                            type=message.type, app_id=message.app_id),
                        routing_key=queue, mandatory=True, timeout=10)
                    await message.ack()  # only after the broker confirmed the copy
                    replayed.append(describe(dead, message))
            finally:
                if not channel.is_closed:
                    await channel.close()  # returns the messages not chosen
        return replayed
    finally:
        await link.close()
