"""Idempotent event consumers on durable quorum queues with per-queue dead-letter queues.

Topology, per registration ``name`` of service ``svc``
    * queue ``svc.name``: durable quorum queue bound to the events exchange with each routing key,
      ``x-delivery-limit`` = ``max_attempts``, dead-lettering to the durable direct exchange
      ``crm.dlx`` with routing key ``svc.name.dlq`` (``x-dead-letter-strategy: at-least-once``,
      which RabbitMQ allows with ``x-overflow: reject-publish``; the queue has no length limit, so
      this never refuses a publish);
    * queue ``svc.name.dlq``: durable quorum queue bound to ``crm.dlx`` with key ``svc.name.dlq``.

Processing one message
    Parse and validate the CloudEvent; a body that is not one is rejected without requeue (it
    goes straight to the DLQ) and logged. Otherwise, in one database transaction: ``claim`` the
    event id in the inbox for consumer ``svc.name`` — if already claimed, commit and ack (a
    duplicate) — else run the handler, commit, then ack. The envelope's ``correlationid`` is in
    the ``correlation_id`` context variable while the handler runs.

Failures and retries (decision)
    On a handler exception the transaction rolls back. Attempt ``n`` is ``x-delivery-count + 1``
    (the header RabbitMQ quorum queues put on redeliveries). If ``n < max_attempts`` the message is
    nacked with requeue after a short back-off (``retry_backoff_seconds`` doubling, capped; the
    message holds one prefetch slot meanwhile, other messages keep flowing since each delivery is
    handled in its own task); at ``n >= max_attempts`` it is rejected without requeue, which
    dead-letters it. So a poison message is tried exactly ``max_attempts`` times; the queue's
    ``x-delivery-limit`` is the broker-side backstop (e.g. a consumer crashing mid-handler).
    An ack/nack that fails because the channel died is ignored: the broker redelivers and the
    inbox turns the redelivery into a no-op. Infrastructure failures (the service's own database
    down) count as attempts too: an outage longer than the back-off sum dead-letters the messages
    that arrive meanwhile; they are intact in the DLQ and can be shovelled back.

Concurrency and order
    Up to ``prefetch`` messages per queue are handled concurrently, so consumers must not rely on
    delivery order; handlers should compare versions / timestamps carried in the payload.

Broker restarts
    The runner notices the lost connection, backs off (jittered, exponential), reconnects,
    re-declares the topology and re-attaches every consumer. ``attached`` is False meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue, ConsumerTag
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .broker import (
    DEFAULT_DLX,
    DEFAULT_EXCHANGE,
    Backoff,
    BrokerLink,
    declare_events_exchange,
    quorum_arguments,
    sleep_unless,
)
from .context import correlation_id
from .envelope import InvalidEnvelope, parse_envelope
from .inbox import claim

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


@dataclass
class _Registration:
    name: str
    queue_name: str
    routing_keys: list[str]
    handler: Handler
    queue: AbstractQueue | None = field(default=None, repr=False)
    consumer_tag: ConsumerTag | None = None


class ConsumerRunner:
    """Run the event handlers of one service."""

    def __init__(
        self,
        sessions: AsyncEngine | async_sessionmaker[AsyncSession],
        amqp_url: str,
        exchange: str = DEFAULT_EXCHANGE,
        service_name: str = "",
        max_attempts: int = 5,
        prefetch: int = 16,
        *,
        dead_letter_exchange: str = DEFAULT_DLX,
        retry_backoff_seconds: float = 0.5,
        max_retry_backoff_seconds: float = 10.0,
        reconnect_max_seconds: float = 30.0,
        shutdown_grace_seconds: float = 10.0,
    ) -> None:
        if not service_name:
            raise ValueError("service_name is required (it prefixes the queue names)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if isinstance(sessions, AsyncEngine):
            sessions = async_sessionmaker(sessions, expire_on_commit=False)
        self._sessions = sessions
        self._amqp_url = amqp_url
        self.exchange_name = exchange
        self.service_name = service_name
        self.dead_letter_exchange = dead_letter_exchange
        self._max_attempts = max_attempts
        self._prefetch = prefetch
        self._retry_backoff = retry_backoff_seconds
        self._max_retry_backoff = max_retry_backoff_seconds
        self._reconnect = Backoff(maximum=reconnect_max_seconds)
        self._grace = shutdown_grace_seconds
        self._registrations: dict[str, _Registration] = {}
        self._link: BrokerLink | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        self._running = False

    # -- configuration -----------------------------------------------------------------------

    def register(self, name: str, routing_keys: list[str], handler: Handler) -> str:
        """Register ``handler`` for events matching ``routing_keys``; return its queue name."""
        if self._running:
            raise RuntimeError("register handlers before run()")
        if name in self._registrations:
            raise ValueError(f"handler {name!r} is already registered")
        if not routing_keys:
            raise ValueError("at least one routing key is required")
        queue_name = f"{self.service_name}.{name}"
        self._registrations[name] = _Registration(name, queue_name, list(routing_keys), handler)
        return queue_name

    def queue_names(self) -> list[str]:
        """Every queue this runner declares (work queues and their DLQs)."""
        names = []
        for reg in self._registrations.values():
            names += [reg.queue_name, dlq_name(reg.queue_name)]
        return names

    @property
    def attached(self) -> bool:
        """True while every registered queue has a consumer on an open channel."""
        return (
            self._link is not None
            and self._link.usable
            and bool(self._registrations)
            and all(r.consumer_tag is not None for r in self._registrations.values())
        )

    # -- main loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set. Never raises except on cancellation."""
        self._running = True
        try:
            while not stop.is_set():
                try:
                    await self._attach()
                    self._reconnect.reset()
                    assert self._link is not None
                    await _first(stop.wait(), self._link.lost.wait())
                    if not stop.is_set():
                        log.warning("consumers of %s lost the broker", self.service_name)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("consumer set-up for %s failed: %r", self.service_name, exc)
                await self._detach(graceful=stop.is_set())
                if not stop.is_set():
                    await sleep_unless(stop, self._reconnect.next_delay())
        finally:
            await self._detach(graceful=False)
            self._running = False

    async def _attach(self) -> None:
        link = await BrokerLink.open(
            self._amqp_url, prefetch=self._prefetch, name=f"crm-{self.service_name}-consumers"
        )
        self._link = link
        channel = link.channel
        exchange = await declare_events_exchange(channel, self.exchange_name)
        dlx = await channel.declare_exchange(self.dead_letter_exchange, "direct", durable=True)
        for reg in self._registrations.values():
            dead = dlq_name(reg.queue_name)
            dlq = await channel.declare_queue(dead, durable=True, arguments=quorum_arguments())
            await dlq.bind(dlx, routing_key=dead)
            queue = await channel.declare_queue(
                reg.queue_name,
                durable=True,
                arguments=quorum_arguments(
                    x_delivery_limit=self._max_attempts,
                    x_dead_letter_exchange=self.dead_letter_exchange,
                    x_dead_letter_routing_key=dead,
                    x_dead_letter_strategy="at-least-once",
                    x_overflow="reject-publish",
                ),
            )
            for key in reg.routing_keys:
                await queue.bind(exchange, routing_key=key)
            reg.queue = queue
        for reg in self._registrations.values():
            assert reg.queue is not None
            reg.consumer_tag = await reg.queue.consume(self._callback(reg))
        log.info("consumers of %s attached: %s", self.service_name, ", ".join(self.queue_names()))

    async def _detach(self, *, graceful: bool) -> None:
        link, self._link = self._link, None
        for reg in self._registrations.values():
            if graceful and link is not None and link.usable and reg.queue and reg.consumer_tag:
                try:
                    await reg.queue.cancel(reg.consumer_tag)
                except Exception:
                    log.debug("cancel of %s failed", reg.queue_name, exc_info=True)
            reg.consumer_tag = None
            reg.queue = None
        if graceful and self._inflight:
            await asyncio.wait(set(self._inflight), timeout=self._grace)
        if link is not None:
            await link.close()

    # -- one message -------------------------------------------------------------------------

    def _callback(self, reg: _Registration) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        async def on_message(message: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
            await self._handle(reg, message)

        return on_message

    async def _handle(self, reg: _Registration, message: AbstractIncomingMessage) -> None:
        try:
            envelope = parse_envelope(message.body)
        except InvalidEnvelope as exc:
            log.error(
                "rejecting malformed message %s on %s (to DLQ): %s",
                message.message_id,
                reg.queue_name,
                exc,
            )
            await _settle(message.reject(requeue=False))
            return
        attempt = _delivery_count(message) + 1
        token = correlation_id.set(envelope.get("correlationid"))
        try:
            async with self._sessions() as session, session.begin():
                if await claim(session, reg.queue_name, envelope["id"]):
                    await reg.handler(session, envelope)
                else:
                    log.info("skipping duplicate event %s on %s", envelope["id"], reg.queue_name)
        except Exception:
            if attempt >= self._max_attempts:
                log.exception(
                    "event %s (%s) failed on %s, attempt %d/%d; dead-lettering",
                    envelope["id"],
                    envelope["type"],
                    reg.queue_name,
                    attempt,
                    self._max_attempts,
                )
                await _settle(message.reject(requeue=False))
            else:
                log.warning(
                    "event %s (%s) failed on %s, attempt %d/%d; will retry",
                    envelope["id"],
                    envelope["type"],
                    reg.queue_name,
                    attempt,
                    self._max_attempts,
                    exc_info=True,
                )
                delay = min(self._max_retry_backoff, self._retry_backoff * 2 ** (attempt - 1))
                await asyncio.sleep(delay)
                await _settle(message.nack(requeue=True))
            return
        finally:
            correlation_id.reset(token)
        await _settle(message.ack())


def dlq_name(queue_name: str) -> str:
    """Name of the dead-letter queue (and its routing key on the DLX) of ``queue_name``."""
    return f"{queue_name}.dlq"


def _delivery_count(message: AbstractIncomingMessage) -> int:
    raw = (message.headers or {}).get("x-delivery-count", 0)
    try:
        return int(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


async def _settle(action: Awaitable[Any]) -> None:
    """Ack/nack/reject, ignoring a dead channel (the broker will redeliver)."""
    try:
        await action
    except Exception as exc:
        log.warning("could not settle message (will be redelivered): %r", exc)


async def _first(*awaitables: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    try:
        await asyncio.wait(tasks, return_when="FIRST_COMPLETED")
    finally:
        for t in tasks:
            t.cancel()
