"""Idempotent event consumers on durable quorum queues with per-queue dead-letter queues.

Topology, per registration ``name`` of service ``svc``
    * queue ``svc.name``: durable quorum queue bound to the events exchange with each routing key,
      and to the dead-letter exchange (``crm.dlx``, direct; ``DEAD_LETTER_EXCHANGE``) with its own
      name as routing key (the way back from the retry queue and from ``dlq replay``);
      ``x-delivery-limit`` = ``max_attempts``, dead-lettering to ``crm.dlx`` with routing key
      ``svc.name.dlq`` (``x-dead-letter-strategy: at-least-once``, which RabbitMQ allows with
      ``x-overflow: reject-publish``; the queue has no length limit, so this never refuses a
      publish);
    * queue ``svc.name.retry``: durable quorum queue with no consumer; a failed message waits in
      it for its per-try TTL (the message's ``expiration``), then dead-letters back to
      ``svc.name`` through ``crm.dlx``;
    * queue ``svc.name.dlq``: durable quorum queue bound to ``crm.dlx`` with key ``svc.name.dlq``.

Processing one message
    Parse and validate the CloudEvent; a body that is not one is rejected without requeue (it
    goes straight to the DLQ) and logged. Otherwise, in one database transaction: ``claim`` the
    event id in the inbox for consumer ``svc.name`` — if already claimed, commit and ack (a
    duplicate) — else run the handler, commit, then ack. The envelope's ``correlationid`` is in
    the ``correlation_id`` context variable while the handler runs.

Failures and retries (decision)
    On a handler exception the transaction rolls back. Attempt ``n`` is the tries recorded on the
    message (header ``x-crm-attempts``, set when it went to the retry queue) plus
    ``x-delivery-count`` (redeliveries, e.g. after a consumer crash) plus one. If
    ``n < max_attempts`` a copy of the message (same body and properties, ``x-crm-attempts`` =
    ``n``, ``expiration`` = ``retry_backoff_seconds`` doubling per try, capped at
    ``max_retry_backoff_seconds``) is published to the retry queue on a channel with publisher
    confirms, and the original is acknowledged only after that confirm. The wait therefore holds
    no prefetch slot: 50 poison messages in a row cost the good message behind them a few
    milliseconds each, not their back-off. If the copy cannot be published the original is
    nacked with requeue (never lost). At ``n >= max_attempts`` the message is rejected without
    requeue, which dead-letters it. So a poison message is tried exactly ``max_attempts`` times;
    the queue's ``x-delivery-limit`` is the broker-side backstop (e.g. a consumer crashing
    mid-handler). Per-message TTLs in one queue expire from its head only, so a short retry can
    wait behind a longer one (at most ``max_retry_backoff_seconds``); it never delays a fresh
    message. An ack/nack that fails because the channel died is ignored: the broker redelivers
    and the inbox turns the redelivery into a no-op. Infrastructure failures (the service's own
    database down) count as attempts too: an outage longer than the back-off sum dead-letters the
    messages that arrive meanwhile; they are intact in the DLQ and ``crm-<service> dlq replay``
    sends them back (:mod:`crm_common.messaging.dlq`).

Concurrency and order
    Up to ``prefetch`` messages per queue are handled concurrently, so consumers must not rely on
    delivery order; handlers should compare versions / timestamps carried in the payload.

Broker restarts
    The runner notices the lost connection, backs off (jittered, exponential, capped at
    ``reconnect_max_seconds``, 2 s by default, so that it is back within ~3 s of the broker),
    reconnects, re-declares the topology and re-attaches every consumer. ``attached`` is False
    meanwhile.

Consumers cancelled by the broker
    RabbitMQ cancels a consumer (``basic.cancel`` from the server, e.g. when its queue is deleted)
    without closing the channel. The runner listens for these notifications on the channel
    (aiormq's ``on_consumer_cancel_callbacks``): ``attached`` turns False at once, and after a
    short jittered back-off (growing while cancellations keep coming) the runner re-declares that
    registration's topology (queue, bindings, DLQ) and consumes again on the same channel. If
    that fails, it falls back to a full reconnect.

Inbox retention
    A background task deletes inbox rows older than ``inbox_retention_seconds`` (30 days by
    default, ``None`` keeps them) at start-up and every ``purge_interval_seconds``, in batches
    (see :func:`~crm_common.messaging.inbox.purge_inbox`). An event redelivered after its inbox
    row was purged would be applied again, so the retention must be longer than any redelivery
    window (DLQ shovel-back, archive replay) you intend to use.

Metrics (``crm_common.metrics``, label ``service`` = ``service_name``)
    ``crm_events_consumed_total{queue,outcome}`` with outcome ``applied``, ``duplicate``,
    ``failed`` (will be retried) or ``dead_lettered``; ``crm_broker_connected{role="consumer"}``
    (= ``attached``, evaluated at scrape time); ``crm_inbox_purged_total``; ``crm_dlq_depth{queue}``
    (messages in each dead-letter queue, read by a passive declare every
    ``dlq_depth_interval_seconds`` while attached).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractQueue, ConsumerTag
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from crm_common.metrics import BROKER_CONNECTED, DLQ_DEPTH, EVENTS_CONSUMED, INBOX_PURGED

from .broker import (
    DEFAULT_DLX,
    DEFAULT_EXCHANGE,
    Backoff,
    BrokerLink,
    declare_events_exchange,
    finish_task,
    quorum_arguments,
    run_periodically,
    sleep_unless,
)
from .context import correlation_id
from .envelope import InvalidEnvelope, parse_envelope
from .inbox import PURGE_BATCH_SIZE, claim, claim_many, purge_inbox

log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
#: a handler of several events in one transaction (``register_batch``)
BatchHandler = Callable[[AsyncSession, list[dict[str, Any]]], Awaitable[None]]

DEFAULT_INBOX_RETENTION_SECONDS = 30 * 24 * 3600.0
#: header counting the failed tries of a message sent through the retry queue
ATTEMPTS_HEADER = "x-crm-attempts"
#: reconnect back-off cap: back at work within ~3 s of the broker's return
DEFAULT_RECONNECT_MAX_SECONDS = 2.0
#: a cancellation this long after the previous one starts the re-attach back-off afresh
_CANCEL_QUIET_SECONDS = 60.0


@dataclass
class _Batch:
    """Messages of a batch registration waiting for their transaction."""

    handler: BatchHandler
    max_size: int
    max_wait: float
    prefetch: int
    pending: list[tuple[AbstractIncomingMessage, dict[str, Any]]] = field(default_factory=list)
    timer: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: every delivery tag of the registration's channel up to this one is settled
    settled_upto: int = 0
    #: tags above ``settled_upto`` settled one by one (rejected, or handled alone)
    settled: set[int] = field(default_factory=set)

    def note_settled(self, tags: list[int]) -> None:
        self.settled.update(tags)
        while self.settled_upto + 1 in self.settled:
            self.settled_upto += 1
            self.settled.discard(self.settled_upto)

    def settles_all_before(self, tags: list[int]) -> bool:
        """Whether settling ``tags`` leaves no earlier delivery of the channel unsettled
        (delivery tags count 1, 2, … on a channel)."""
        covered = self.settled.union(tags)
        return all(tag in covered for tag in range(self.settled_upto + 1, max(tags) + 1))


@dataclass
class _Registration:
    name: str
    queue_name: str
    routing_keys: list[str]
    handler: Handler
    #: the exchange its queue is bound to (the runner's, unless registered with another)
    exchange: str = DEFAULT_EXCHANGE
    queue: AbstractQueue | None = field(default=None, repr=False)
    consumer_tag: ConsumerTag | None = None
    batch: _Batch | None = None
    #: a batch registration's own channel (its deliveries alone, so that one ``basic.ack``
    #: with ``multiple`` settles a whole batch); None: the link's shared channel
    channel: AbstractChannel | None = field(default=None, repr=False)


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
        reconnect_max_seconds: float = DEFAULT_RECONNECT_MAX_SECONDS,
        shutdown_grace_seconds: float = 10.0,
        inbox_retention_seconds: float | None = DEFAULT_INBOX_RETENTION_SECONDS,
        purge_interval_seconds: float = 600.0,
        purge_batch_size: int = PURGE_BATCH_SIZE,
        queue_prefix: str = "",
        dlq_depth_interval_seconds: float = 30.0,
    ) -> None:
        if not service_name:
            raise ValueError("service_name is required (it prefixes the queue names)")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if inbox_retention_seconds is not None and inbox_retention_seconds <= 0:
            raise ValueError("inbox_retention_seconds must be positive (or None to keep rows)")
        if isinstance(sessions, AsyncEngine):
            self._engine: AsyncEngine | None = sessions
            sessions = async_sessionmaker(sessions, expire_on_commit=False)
        else:
            bind = sessions.kw.get("bind")
            self._engine = bind if isinstance(bind, AsyncEngine) else None
        self._sessions = sessions
        self._inbox_retention = inbox_retention_seconds
        self._purge_interval = purge_interval_seconds
        self._purge_batch_size = purge_batch_size
        self._amqp_url = amqp_url
        self.exchange_name = exchange
        self.service_name = service_name
        #: prepended to every queue name, so that a test run's consumers never share queues with
        #: a development stack on the same broker (``QUEUE_PREFIX``)
        self.queue_prefix = queue_prefix
        self.dead_letter_exchange = dead_letter_exchange
        self._max_attempts = max_attempts
        self._prefetch = prefetch
        self._retry_backoff = retry_backoff_seconds
        self._max_retry_backoff = max_retry_backoff_seconds
        self._reconnect = Backoff(maximum=reconnect_max_seconds)
        self._reattach = Backoff(maximum=reconnect_max_seconds)
        self._last_cancel_at = float("-inf")
        self._cancelled = asyncio.Event()
        self._grace = shutdown_grace_seconds
        self._registrations: dict[str, _Registration] = {}
        self._link: BrokerLink | None = None
        self._inflight: set[asyncio.Task[Any]] = set()
        self._running = False
        self._dlq_interval = dlq_depth_interval_seconds
        #: a channel with publisher confirms for the copies sent to the retry queues
        self._retry_channel: AbstractChannel | None = None

    # -- configuration -----------------------------------------------------------------------

    def register(self, name: str, routing_keys: list[str], handler: Handler, *,
                 exchange: str | None = None) -> str:
        """Register ``handler`` for events matching ``routing_keys``; return its queue name.

        ``exchange``: bind the queue to this topic exchange instead of the runner's (the
        analytics service consumes the ERP's ``erp.events`` beside ``crm.events``)."""
        if self._running:
            raise RuntimeError("register handlers before run()")
        if name in self._registrations:
            raise ValueError(f"handler {name!r} is already registered")
        if not routing_keys:
            raise ValueError("at least one routing key is required")
        queue_name = f"{self.queue_prefix}{self.service_name}.{name}"
        self._registrations[name] = _Registration(
            name, queue_name, list(routing_keys), handler, exchange or self.exchange_name)
        return queue_name

    def register_batch(self, name: str, routing_keys: list[str], handler: BatchHandler, *,
                       max_size: int = 200, max_wait_seconds: float = 0.05,
                       prefetch: int | None = None, exchange: str | None = None) -> str:
        """Register ``handler`` for events matching ``routing_keys``, applied several at a time:
        up to ``max_size`` messages (or what arrived within ``max_wait_seconds`` of the first)
        in one transaction, with one inbox statement, acknowledged after the commit (one
        ``basic.ack`` with ``multiple`` for the batch: the registration consumes on a channel
        of its own, whose earlier deliveries are then all settled). A batch that fails is rolled
        back and its messages are handled one by one (``handler`` with a list of one), with the
        retries and dead-lettering of :meth:`register`, so one poison message holds up nobody.
        The queue's consumer prefetches ``prefetch`` messages (``2 × max_size`` by default;
        more lets the next batches arrive and be decoded while one waits on the database)."""
        if max_size < 1 or max_wait_seconds <= 0:
            raise ValueError("max_size must be at least 1 and max_wait_seconds positive")
        prefetch = 2 * max_size if prefetch is None else prefetch
        if prefetch < max_size:
            raise ValueError("prefetch must be at least max_size")

        async def one(session: AsyncSession, envelope: dict[str, Any]) -> None:
            await handler(session, [envelope])

        queue_name = self.register(name, routing_keys, one, exchange=exchange)
        self._registrations[name].batch = _Batch(handler, max_size, max_wait_seconds, prefetch)
        return queue_name

    def queue_names(self) -> list[str]:
        """Every queue this runner declares (work queues, their retry queues and DLQs)."""
        names = []
        for reg in self._registrations.values():
            names += [reg.queue_name, retry_queue_name(reg.queue_name), dlq_name(reg.queue_name)]
        return names

    def work_queue_names(self) -> list[str]:
        """The queues the handlers consume (each has ``<name>.retry`` and ``<name>.dlq``)."""
        return [reg.queue_name for reg in self._registrations.values()]

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
        connected = BROKER_CONNECTED.labels(self.service_name, "consumer")
        connected.set_function(lambda: float(self.attached))
        purger: asyncio.Task[None] | None = None
        if self._inbox_retention is not None:
            if self._engine is None:
                log.warning("inbox purge disabled: the session factory is not bound to an engine")
            else:
                purger = asyncio.create_task(
                    run_periodically(stop, self._purge_interval, self.purge, "inbox purge")
                )
        depth = asyncio.create_task(
            run_periodically(stop, self._dlq_interval, self.measure_dlq_depth, "DLQ depth"))
        try:
            while not stop.is_set():
                try:
                    await self._attach()
                    self._reconnect.reset()
                    await self._watch(stop)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("consumer set-up for %s failed: %r", self.service_name, exc)
                await self._detach(graceful=stop.is_set())
                if not stop.is_set():
                    await sleep_unless(stop, self._reconnect.next_delay())
        finally:
            try:
                await self._detach(graceful=False)
                await finish_task(depth, grace=1.0)
                if purger is not None:
                    await finish_task(purger, grace=5.0)
            finally:
                depth.cancel()
                if purger is not None:
                    purger.cancel()  # in case we were cancelled before finish_task
                connected.set_function(lambda: 0.0)  # and drop the reference to this runner
                self._running = False

    async def purge(self) -> int:
        """Delete inbox rows older than ``inbox_retention_seconds`` now; return how many."""
        if self._inbox_retention is None or self._engine is None:
            return 0
        deleted = await purge_inbox(
            self._engine,
            dt.timedelta(seconds=self._inbox_retention),
            batch_size=self._purge_batch_size,
        )
        INBOX_PURGED.labels(self.service_name).inc(deleted)
        if deleted:
            log.info("inbox purge: deleted %d rows", deleted)
        return deleted

    async def measure_dlq_depth(self) -> dict[str, int]:
        """Read the depth of every dead-letter queue (passive declares on a channel of its own)
        into ``crm_dlq_depth``; return it. Nothing while the consumers are not attached."""
        link = self._link
        if link is None or not link.usable:
            return {}
        depths: dict[str, int] = {}
        channel = await link.connection.channel()
        try:
            for reg in self._registrations.values():
                dead = dlq_name(reg.queue_name)
                queue = await channel.declare_queue(dead, passive=True)
                depths[dead] = queue.declaration_result.message_count or 0
                DLQ_DEPTH.labels(self.service_name, dead).set(depths[dead])
        finally:
            if not channel.is_closed:
                await channel.close()
        return depths

    async def _watch(self, stop: asyncio.Event) -> None:
        """Return on ``stop`` or a lost link; re-attach consumers the broker cancelled."""
        link = self._link
        assert link is not None
        while True:
            await _first(stop.wait(), link.lost.wait(), self._cancelled.wait())
            if stop.is_set():
                return
            if link.lost.is_set():
                log.warning("consumers of %s lost the broker", self.service_name)
                return
            self._cancelled.clear()
            now = time.monotonic()
            if now - self._last_cancel_at > _CANCEL_QUIET_SECONDS:
                self._reattach.reset()
            self._last_cancel_at = now
            await _first(stop.wait(), link.lost.wait(), asyncio.sleep(self._reattach.next_delay()))
            if stop.is_set() or link.lost.is_set():
                continue
            cancelled = [r for r in self._registrations.values() if r.consumer_tag is None]
            await self._declare(link.channel, cancelled)
            await self._consume(cancelled)
            log.info(
                "consumers of %s re-attached: %s",
                self.service_name,
                ", ".join(r.queue_name for r in cancelled),
            )

    def _on_consumer_cancel(self, frame: aiormq.spec.Basic.Cancel) -> None:
        """The broker cancelled a consumer (its queue was deleted, …): re-attach it."""
        for reg in self._registrations.values():
            if reg.consumer_tag is not None and reg.consumer_tag == frame.consumer_tag:
                log.warning(
                    "broker cancelled the consumer of %s (queue deleted?); re-attaching",
                    reg.queue_name,
                )
                reg.consumer_tag = None
                self._cancelled.set()

    async def _attach(self) -> None:
        link = await BrokerLink.open(
            self._amqp_url, prefetch=self._prefetch, name=f"crm-{self.service_name}-consumers"
        )
        self._link = link
        self._cancelled.clear()
        self._retry_channel = await link.connection.channel(publisher_confirms=True)
        self._retry_channel.close_callbacks.add(link.on_lost)
        underlay = await link.channel.get_underlay_channel()
        underlay.on_consumer_cancel_callbacks.add(self._on_consumer_cancel)
        registrations = list(self._registrations.values())
        for reg in registrations:
            if reg.batch is not None:
                reg.channel = await self._batch_channel(link, reg.batch)
                reg.batch.settled_upto, reg.batch.settled = 0, set()
        await self._declare(link.channel, registrations)
        await self._consume(registrations)
        log.info("consumers of %s attached: %s", self.service_name, ", ".join(self.queue_names()))

    async def _batch_channel(self, link: BrokerLink, batch: _Batch) -> AbstractChannel:
        """A channel of the link's connection for one batch registration, with its prefetch;
        its loss and the broker's cancellations watched like the link's."""
        channel = await link.connection.channel()
        channel.close_callbacks.add(link.on_lost)
        await channel.set_qos(prefetch_count=batch.prefetch)
        underlay = await channel.get_underlay_channel()
        underlay.on_consumer_cancel_callbacks.add(self._on_consumer_cancel)
        return channel

    async def _declare(self, channel: AbstractChannel, registrations: list[_Registration]) -> None:
        """Declare the exchanges, and the queues, DLQs and bindings of ``registrations``."""
        if not registrations:
            return
        exchanges = {name: await declare_events_exchange(channel, name)
                     for name in dict.fromkeys(reg.exchange for reg in registrations)}
        dlx = await channel.declare_exchange(self.dead_letter_exchange, "direct", durable=True)
        for reg in registrations:
            exchange = exchanges[reg.exchange]
            dead = dlq_name(reg.queue_name)
            dlq = await channel.declare_queue(dead, durable=True, arguments=quorum_arguments())
            await dlq.bind(dlx, routing_key=dead)
            retry = await channel.declare_queue(
                retry_queue_name(reg.queue_name),
                durable=True,
                arguments=quorum_arguments(
                    x_dead_letter_exchange=self.dead_letter_exchange,
                    x_dead_letter_routing_key=reg.queue_name,
                    x_dead_letter_strategy="at-least-once",
                    x_overflow="reject-publish",
                ),
            )
            del retry  # nobody consumes it: its messages expire back to the work queue
            queue = await (reg.channel or channel).declare_queue(
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
            await queue.bind(dlx, routing_key=reg.queue_name)  # back from retry, dlq replay
            reg.queue = queue

    async def _consume(self, registrations: list[_Registration]) -> None:
        for reg in registrations:
            assert reg.queue is not None  # declared on the registration's channel
            reg.consumer_tag = await reg.queue.consume(self._callback(reg))

    async def _detach(self, *, graceful: bool) -> None:
        for reg in self._registrations.values():
            if reg.batch is not None:
                if graceful and self._link is not None and self._link.usable:
                    while reg.batch.pending:
                        await self._flush(reg)
                else:  # unacknowledged: the broker redelivers them
                    reg.batch.pending.clear()
        link, self._link = self._link, None
        self._retry_channel = None  # closed with the connection
        for reg in self._registrations.values():
            if graceful and link is not None and link.usable and reg.queue and reg.consumer_tag:
                try:
                    await reg.queue.cancel(reg.consumer_tag)
                except Exception:
                    log.debug("cancel of %s failed", reg.queue_name, exc_info=True)
            reg.consumer_tag = None
            reg.queue = None
            reg.channel = None  # closed with the connection
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
            if reg.batch is not None:
                await self._enqueue(reg, reg.batch, message)
            else:
                await self._handle(reg, message)

        return on_message

    async def _parse(self, reg: _Registration,
                     message: AbstractIncomingMessage) -> dict[str, Any] | None:
        """The message's envelope; a malformed one is rejected (to the DLQ) and None."""
        try:
            return parse_envelope(message.body)
        except InvalidEnvelope as exc:
            log.error(
                "rejecting malformed message %s on %s (to DLQ): %s",
                message.message_id,
                reg.queue_name,
                exc,
            )
            self._count(reg, "dead_lettered")
            await _settle(message.reject(requeue=False))
            self._note_settled(reg, message)
            return None

    async def _enqueue(self, reg: _Registration, batch: _Batch,
                       message: AbstractIncomingMessage) -> None:
        envelope = await self._parse(reg, message)
        if envelope is None:
            return
        batch.pending.append((message, envelope))
        if len(batch.pending) % batch.max_size == 0:  # one flush per batch's worth waiting
            await self._flush(reg)
        elif batch.timer is None:
            batch.timer = asyncio.create_task(self._flush_later(reg, batch))

    async def _flush_later(self, reg: _Registration, batch: _Batch) -> None:
        await asyncio.sleep(batch.max_wait)
        batch.timer = None
        await self._flush(reg)

    async def _flush(self, reg: _Registration) -> None:
        """Apply the pending messages of a batch registration (up to ``max_size``, the first
        ones) in one transaction; what is left waits for the next flush."""
        batch = reg.batch
        assert batch is not None
        async with batch.lock:
            items = batch.pending[:batch.max_size]
            del batch.pending[:batch.max_size]
            if batch.timer is not None and batch.timer is not asyncio.current_task():
                batch.timer.cancel()
                batch.timer = None
            try:
                if items:
                    await self._apply(reg, batch, items)
            finally:
                if batch.pending and batch.timer is None:
                    batch.timer = asyncio.create_task(self._flush_later(reg, batch))

    async def _apply(self, reg: _Registration, batch: _Batch,
                     items: list[tuple[AbstractIncomingMessage, dict[str, Any]]]) -> None:
        """One batch in one transaction (under the batch lock), acknowledged after it."""
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            fresh: list[dict[str, Any]] = []
            async with self._sessions() as session, session.begin():
                claimed = await claim_many(session, reg.queue_name,
                                           [envelope["id"] for _, envelope in items])
                for _, envelope in items:
                    if envelope["id"] in claimed:
                        claimed.discard(envelope["id"])
                        fresh.append(envelope)
                if fresh:
                    await batch.handler(session, fresh)
        except Exception:
            log.warning("a batch of %d events failed on %s; handling them one by one",
                        len(items), reg.queue_name, exc_info=True)
            for message, envelope in items:
                await self._process(reg, message, envelope)
            return
        finally:
            if task is not None:
                self._inflight.discard(task)
        EVENTS_CONSUMED.labels(self.service_name, reg.queue_name, "applied").inc(len(fresh))
        if len(items) > len(fresh):
            EVENTS_CONSUMED.labels(self.service_name, reg.queue_name, "duplicate").inc(
                len(items) - len(fresh))
        await self._ack_batch(batch, [message for message, _ in items])

    async def _ack_batch(self, batch: _Batch, messages: list[AbstractIncomingMessage]) -> None:
        """Acknowledge a committed batch: one ``basic.ack`` with ``multiple`` up to its last
        delivery tag when every earlier delivery of the registration's channel is settled or in
        the batch (the usual case), else one ack each."""
        tags = [message.delivery_tag or 0 for message in messages]
        if 0 not in tags and batch.settles_all_before(tags):
            last = max(tags)
            await _settle(messages[tags.index(last)].ack(multiple=True))
        else:
            for message in messages:
                await _settle(message.ack())
        batch.note_settled(tags)

    def _note_settled(self, reg: _Registration, message: AbstractIncomingMessage) -> None:
        """Keep count of a batch registration's deliveries settled one by one."""
        if reg.batch is not None and message.delivery_tag:
            reg.batch.note_settled([message.delivery_tag])

    async def _handle(self, reg: _Registration, message: AbstractIncomingMessage) -> None:
        envelope = await self._parse(reg, message)
        if envelope is not None:
            await self._process(reg, message, envelope)

    async def _send_to_retry(self, reg: _Registration, message: AbstractIncomingMessage,
                             attempt: int, delay: float) -> bool:
        """Publish a copy of ``message`` to the registration's retry queue, to come back after
        ``delay`` seconds as try ``attempt + 1``; True once the broker confirmed it."""
        channel = self._retry_channel
        if channel is None or channel.is_closed:
            return False
        headers = {key: value for key, value in (message.headers or {}).items()
                   if key != "x-delivery-count"}
        headers[ATTEMPTS_HEADER] = attempt
        copy = aio_pika.Message(
            message.body,
            headers=headers,
            content_type=message.content_type,
            content_encoding=message.content_encoding,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            correlation_id=message.correlation_id,
            message_id=message.message_id,
            timestamp=message.timestamp,
            type=message.type,
            app_id=message.app_id,
            expiration=max(delay, 0.001),
        )
        try:
            await channel.default_exchange.publish(
                copy, retry_queue_name(reg.queue_name), timeout=10)
        except Exception as exc:
            log.warning("could not send %s to the retry queue of %s: %r",
                        message.message_id, reg.queue_name, exc)
            return False
        return True

    async def _process(self, reg: _Registration, message: AbstractIncomingMessage,
                       envelope: dict[str, Any]) -> None:
        attempt = _attempts_so_far(message) + 1
        token = correlation_id.set(envelope.get("correlationid"))
        duplicate = False
        try:
            async with self._sessions() as session, session.begin():
                if await claim(session, reg.queue_name, envelope["id"]):
                    await reg.handler(session, envelope)
                else:
                    duplicate = True
                    log.info("skipping duplicate event %s on %s", envelope["id"], reg.queue_name)
        except Exception:
            if attempt >= self._max_attempts:
                self._count(reg, "dead_lettered")
                log.exception(
                    "event %s (%s) failed on %s, attempt %d/%d; dead-lettering",
                    envelope["id"],
                    envelope["type"],
                    reg.queue_name,
                    attempt,
                    self._max_attempts,
                )
                await _settle(message.reject(requeue=False))
                self._note_settled(reg, message)
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
                self._count(reg, "failed")
                delay = min(self._max_retry_backoff, self._retry_backoff * 2 ** (attempt - 1))
                if await self._send_to_retry(reg, message, attempt, delay):
                    await _settle(message.ack())
                else:  # not lost: the broker hands it out again at once
                    await _settle(message.nack(requeue=True))
                self._note_settled(reg, message)
            return
        finally:
            correlation_id.reset(token)
        self._count(reg, "duplicate" if duplicate else "applied")
        await _settle(message.ack())
        self._note_settled(reg, message)

    def _count(self, reg: _Registration, outcome: str) -> None:
        EVENTS_CONSUMED.labels(self.service_name, reg.queue_name, outcome).inc()


def dlq_name(queue_name: str) -> str:
    """Name of the dead-letter queue (and its routing key on the DLX) of ``queue_name``."""
    return f"{queue_name}.dlq"


def retry_queue_name(queue_name: str) -> str:
    """Name of the retry queue of ``queue_name`` (failed messages wait there for their TTL)."""
    return f"{queue_name}.retry"


def _attempts_so_far(message: AbstractIncomingMessage) -> int:
    """Failed tries of ``message``: those recorded when it went through the retry queue, plus
    the broker's redeliveries of this copy (a consumer that died mid-handler)."""
    headers = message.headers or {}
    return _header_int(headers, ATTEMPTS_HEADER) + _header_int(headers, "x-delivery-count")


def _header_int(headers: Any, name: str) -> int:
    raw = headers.get(name, 0)
    try:
        return max(0, int(raw))
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
