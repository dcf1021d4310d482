"""Small RabbitMQ helpers shared by the relay and the consumers.

Neither side uses ``connect_robust``: both run their own supervision loop (connect, declare
topology, work, notice the loss, back off, start again). That keeps "is it healthy right now?"
observable and makes recovery explicit — a publish that failed during an outage is simply
retried from the outbox, and consumers are re-declared and re-attached from scratch.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange

log = logging.getLogger(__name__)

DEFAULT_EXCHANGE = "crm.events"
DEFAULT_DLX = "crm.dlx"


async def declare_events_exchange(channel: AbstractChannel, name: str) -> AbstractExchange:
    """Declare the platform's durable topic exchange (idempotent)."""
    return await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)


def quorum_arguments(**extra: Any) -> dict[str, Any]:
    """Arguments of a durable quorum queue plus ``extra`` (``x_max_length`` → ``x-max-length``)."""
    args: dict[str, Any] = {"x-queue-type": "quorum"}
    args.update({key.replace("_", "-"): value for key, value in extra.items()})
    return args


@dataclass
class Backoff:
    """Exponential back-off with full jitter for reconnect loops."""

    initial: float = 0.2
    maximum: float = 30.0
    _attempt: int = field(default=0, init=False)

    def reset(self) -> None:
        self._attempt = 0

    def next_delay(self) -> float:
        delay = min(self.maximum, self.initial * (2**self._attempt))
        self._attempt += 1
        return random.uniform(delay / 2, delay)


async def sleep_unless(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``; return True early (and at once) when ``stop`` is set."""
    if stop.is_set():
        return True
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        return False
    return True


class BrokerLink:
    """One AMQP connection with one channel, and an event set when either is lost."""

    def __init__(self, connection: AbstractConnection, channel: AbstractChannel) -> None:
        self.connection = connection
        self.channel = channel
        self.lost = asyncio.Event()
        connection.close_callbacks.add(self._on_close)
        channel.close_callbacks.add(self._on_close)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        publisher_confirms: bool = False,
        on_return_raises: bool = False,
        prefetch: int | None = None,
        connect_timeout: float = 10.0,
        name: str | None = None,
    ) -> BrokerLink:
        connection = await aio_pika.connect(
            url, timeout=connect_timeout, client_properties={"connection_name": name or "crm"}
        )
        try:
            channel = await connection.channel(
                publisher_confirms=publisher_confirms, on_return_raises=on_return_raises
            )
            if prefetch:
                await channel.set_qos(prefetch_count=prefetch)
        except BaseException:
            await connection.close()
            raise
        return cls(connection, channel)

    def _on_close(self, *_: Any) -> None:
        self.lost.set()

    @property
    def usable(self) -> bool:
        return not self.lost.is_set() and not self.channel.is_closed

    async def close(self) -> None:
        self.lost.set()
        try:
            await asyncio.wait_for(self.connection.close(), timeout=5.0)
        except Exception:  # already gone, or the broker is not answering
            log.debug("error while closing AMQP connection", exc_info=True)
