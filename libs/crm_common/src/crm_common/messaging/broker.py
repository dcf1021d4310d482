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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aio_pika.connection import make_url

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
        connection.close_callbacks.add(self.on_lost)
        channel.close_callbacks.add(self.on_lost)

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
        # Not aio_pika.connect(): when connecting fails it drops a Connection that was never
        # closed, whose __del__ later creates a close() coroutine; collected outside the event
        # loop, that coroutine is never awaited (RuntimeWarning). Close it here instead.
        connection = aio_pika.Connection(
            make_url(url), client_properties={"connection_name": name or "crm"}
        )
        try:
            await connection.connect(timeout=connect_timeout)
        except BaseException:
            await _close_quietly(connection)
            raise
        try:
            channel = await connection.channel(
                publisher_confirms=publisher_confirms, on_return_raises=on_return_raises
            )
            if prefetch:
                await channel.set_qos(prefetch_count=prefetch)
        except BaseException:
            await _close_quietly(connection)
            raise
        return cls(connection, channel)

    def on_lost(self, *_: Any) -> None:
        """Close callback: the connection, or a channel of it the owner relies on, is gone."""
        self.lost.set()

    @property
    def usable(self) -> bool:
        return not self.lost.is_set() and not self.channel.is_closed

    async def close(self) -> None:
        self.lost.set()
        await _close_quietly(self.connection)


async def _close_quietly(connection: AbstractConnection, seconds: float = 5.0) -> None:
    """Close ``connection``, ignoring errors, and make sure aio-pika considers it closed.

    ``Connection.close()`` marks the connection closed only when closing the transport succeeds;
    if that fails (broker gone, timeout) a second call, which has no transport left to close,
    does. Otherwise ``Connection.__del__`` would schedule yet another ``close()`` at collection
    time, which is never awaited when that happens outside the event loop.
    """
    try:
        await asyncio.wait_for(connection.close(), timeout=seconds)
    except Exception:  # already gone, or the broker is not answering
        log.debug("error while closing AMQP connection", exc_info=True)
    if not connection.is_closed:
        try:
            await asyncio.wait_for(connection.close(), timeout=seconds)
        except Exception:
            log.debug("error while closing AMQP connection (second try)", exc_info=True)


async def run_periodically(
    stop: asyncio.Event, interval: float, job: Callable[[], Awaitable[Any]], what: str
) -> None:
    """Run ``job()`` now and then every ``interval`` seconds until ``stop``; log its failures."""
    while not stop.is_set():
        try:
            await job()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s failed (%r); next try in %.0fs", what, exc, interval)
        if await sleep_unless(stop, interval):
            return


async def finish_task(task: asyncio.Task[Any], grace: float) -> None:
    """Give ``task`` (which watches the same stop event) ``grace`` seconds, then cancel it."""
    try:
        if not task.done():
            await asyncio.wait({task}, timeout=grace)
    finally:
        task.cancel()  # no-op when it is done
        results: tuple[object] = await asyncio.gather(task, return_exceptions=True)
        (result,) = results
        if isinstance(result, Exception):
            log.debug("background task failed: %r", result)
