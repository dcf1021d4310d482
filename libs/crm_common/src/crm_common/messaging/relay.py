"""Outbox relay: publishes committed outbox rows to RabbitMQ, at least once, in order.

Loop
    In one transaction: ``SELECT … FROM outbox WHERE published_at IS NULL AND next_attempt_at is
    due ORDER BY created_at LIMIT batch_size FOR UPDATE SKIP LOCKED`` (several relays may run
    side by side), publish every row of the batch with its confirm still outstanding (up to
    ``batch_size`` confirms in flight, 500 by default), wait for the confirms, and set
    ``published_at`` only for the rows the broker confirmed, each after its own confirm. The
    publishes leave in ``created_at`` order on one channel (each is queued behind the previous
    one on the channel's FIFO lock before the first one waits for anything), so the broker
    routes them, and a queue delivers them, in commit order: per-aggregate order holds. The loop
    then sleeps until ``NOTIFY outbox`` (a LISTEN on a dedicated asyncpg connection) or
    ``idle_poll_seconds`` elapse, whichever comes first; if LISTEN is not available it just
    polls. Wake-ups are coalesced: every NOTIFY that arrives while a cycle runs, and within
    ``notify_coalesce_seconds`` (10 ms) of the first, leads to one more cycle, not one each.

Messages
    Persistent, ``content_type=application/cloudevents+json``, ``message_id`` = envelope id,
    ``type`` = event type, ``correlation_id`` and headers ``ce-source``/``ce-subject``/
    ``correlationid``/``actorid``; body = the structured CloudEvent. Published to the durable
    topic exchange (declared here) with routing key = event type, on a channel with publisher
    confirms and ``mandatory=True``.

What counts as sent
    Only a broker ack. A nack (e.g. a full queue with ``x-overflow: reject-publish``) or a return
    (unroutable) leaves the row unpublished: ``attempts``/``last_error`` are updated and the row
    is retried after an exponential back-off (``retry_backoff_seconds`` doubling up to
    ``max_retry_backoff_seconds``), so one stuck event does not spin the loop; the rest of the
    batch is still published. A connection/channel failure or a confirm timeout aborts the batch
    (the row in flight gets ``attempts``/``last_error``), the confirmed part is committed, and the
    relay reconnects with jittered exponential back-off, capped at ``reconnect_max_seconds`` (2 s
    by default: back at work within ~3 s of the broker's return). A database failure does not
    touch the broker link, and the other way round: ``database_ok`` and ``broker_connected``
    say which side failed. A crash between publish and the commit of ``published_at`` causes a
    re-send: consumers de-duplicate by envelope id (inbox).

Order when the broker refuses one event (limit)
    The batch is published before any confirm is read, so when the broker refuses one event
    (nack, or unroutable when the archive queue is off) a later event of the same aggregate in
    the same batch may already be confirmed; the refused one follows after its back-off. The
    archive queue makes "unroutable" impossible in practice, and a nack means a full queue,
    where the later event is normally refused too. Consumers compare the ``version`` in the
    payload in any case (DESIGN §5: handlers do not rely on delivery order).

Unroutable events (decision)
    An event nobody has subscribed to yet must neither block the outbox nor be silently dropped.
    The relay therefore declares, next to the exchange, an *archive* queue
    ``<exchange>.archive`` (durable quorum queue bound with ``#``, capped with ``x-max-length``
    = ``archive_max_length`` and ``x-overflow: drop-head`` so the oldest archived events give way
    and it can never fill the disk or nack new publishes). Every event is thus routable and kept
    for replay by integrations that start later; "unroutable" then only happens when the archive
    was removed (or ``archive=False``), and is treated as *not sent* as DESIGN §5 requires:
    retried with back-off until some queue is bound, visible in ``attempts``/``last_error``.

Retention
    Published rows are deleted once ``published_at`` is older than ``retention_seconds`` (7 days
    by default; ``None`` keeps them forever) by a purge that runs in its own task, at start-up
    and then every ``purge_interval_seconds`` (600), in statements of at most
    ``purge_batch_size`` rows (10,000), each its own short transaction, skipping rows locked by
    another replica's purge. Unpublished rows are never deleted. The purge needs no broker.

Metrics (``crm_common.metrics``, label ``service`` = ``service_name``)
    ``crm_events_published_total{type}`` after the commit of ``published_at``;
    ``crm_events_publish_failures_total{reason}`` per failed attempt (``unroutable``, ``nacked``,
    ``unconfirmed``, ``timeout``, ``connection``); ``crm_broker_connected{role="relay"}``
    evaluated at scrape time; ``crm_outbox_purged_total``; ``crm_outbox_relay_lag_seconds``, a
    histogram of the time from each event's outbox row to the commit of its ``published_at``
    (measured on the database's clock); and ``crm_outbox_pending``, the number of unpublished
    rows (including those waiting for a retry), kept (decision) from what each cycle already
    knows rather than counted per cycle: a batch that comes back short means no due row is left,
    so the gauge is then the number of rows the relay knows to be waiting for a retry; a full
    batch lowers it by what was published. It is counted exactly — one index-only scan of the
    partial index on unpublished rows, capped at ``backlog_count_cap`` (100,000: the gauge then
    reads "at least that many") — at start-up and then at most every
    ``backlog_refresh_seconds`` (5 s) while the relay drains a backlog or cannot reach the
    broker, so the figure keeps rising during an outage. It is not counted on scrape because a
    Prometheus collector is synchronous and must not wait for the database. While the database is
    unreachable the gauge keeps its last value.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from typing import Any

import aio_pika
import aiormq
import sqlalchemy as sa
from aio_pika.abc import AbstractExchange
from aio_pika.exceptions import DeliveryError, PublishError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from crm_common.metrics import (
    BROKER_CONNECTED,
    EVENT_PUBLISH_FAILURES,
    EVENTS_PUBLISHED,
    OUTBOX_PENDING,
    OUTBOX_PURGED,
    RELAY_LAG,
)

from .broker import (
    DEFAULT_EXCHANGE,
    Backoff,
    BrokerLink,
    declare_events_exchange,
    finish_task,
    quorum_arguments,
    run_periodically,
    sleep_unless,
)
from .envelope import dumps
from .outbox import (
    NOTIFY_CHANNEL,
    PURGE_BATCH_SIZE,
    count_backlog,
    outbox_table,
    purge_published,
)

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/cloudevents+json"
_ERROR_TEXT_LIMIT = 2000


DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600.0
#: reconnect back-off cap: publishing again within ~3 s of the broker's return
DEFAULT_RECONNECT_MAX_SECONDS = 2.0


class _BrokerFailure(Exception):
    """The broker link failed during a cycle (the database round trip did not)."""


class _PerMessageFailure(Exception):
    """The broker refused this one message (nack or return); the channel is fine."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason = reason  # metric label: unroutable, nacked, unconfirmed


class OutboxRelay:
    """Publish outbox rows of one service database to the events exchange."""

    def __init__(
        self,
        engine: AsyncEngine,
        amqp_url: str,
        exchange: str = DEFAULT_EXCHANGE,
        batch_size: int = 500,
        idle_poll_seconds: float = 5.0,
        *,
        archive: bool = True,
        archive_max_length: int = 100_000,
        publish_timeout: float = 10.0,
        retry_backoff_seconds: float = 1.0,
        max_retry_backoff_seconds: float = 300.0,
        reconnect_max_seconds: float = DEFAULT_RECONNECT_MAX_SECONDS,
        service_name: str = "unknown",
        retention_seconds: float | None = DEFAULT_RETENTION_SECONDS,
        purge_interval_seconds: float = 600.0,
        purge_batch_size: int = PURGE_BATCH_SIZE,
        backlog_count_cap: int = 100_000,
        backlog_refresh_seconds: float = 5.0,
        notify_coalesce_seconds: float = 0.01,
    ) -> None:
        if retention_seconds is not None and retention_seconds <= 0:
            raise ValueError("retention_seconds must be positive (or None to keep rows)")
        self._engine = engine
        self.service_name = service_name or "unknown"
        self._retention = retention_seconds
        self._purge_interval = purge_interval_seconds
        self._purge_batch_size = purge_batch_size
        self._backlog_cap = backlog_count_cap
        self._backlog_refresh = backlog_refresh_seconds
        self._backlog_counted_at = float("-inf")
        #: the gauge's value and the rows known to wait for a retry (see the module docstring)
        self._pending = 0
        self._deferred = 0
        self._coalesce = notify_coalesce_seconds
        self._amqp_url = amqp_url
        self.exchange_name = exchange
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._archive = archive
        self._archive_max_length = archive_max_length
        self._publish_timeout = publish_timeout
        self._retry_backoff = retry_backoff_seconds
        self._max_retry_backoff = max_retry_backoff_seconds
        self._reconnect = Backoff(maximum=reconnect_max_seconds)
        self._wakeup = asyncio.Event()
        self._link: BrokerLink | None = None
        self._exchange: AbstractExchange | None = None
        self._listen_conn: AsyncConnection | None = None
        self._listen_raw: Any = None  # asyncpg.Connection
        self._db_ok = False
        #: the last failure of a cycle, for ``/healthz/details`` (None after a good cycle)
        self.last_error: str | None = None
        self._last_error_side: str | None = None

    @property
    def archive_queue_name(self) -> str:
        return f"{self.exchange_name}.archive"

    @property
    def healthy(self) -> bool:
        """True while the broker channel is open and the last database round trip succeeded."""
        return self._db_ok and self._link is not None and self._link.usable

    @property
    def listening(self) -> bool:
        """True while the LISTEN connection is up (otherwise the relay polls every second)."""
        return self._listen_raw is not None and not self._listen_raw.is_closed()

    @property
    def broker_connected(self) -> bool:
        """True while the publishing channel is open."""
        return self._link is not None and self._link.usable

    @property
    def database_ok(self) -> bool:
        """True when the last database round trip of the relay succeeded."""
        return self._db_ok

    @property
    def pending(self) -> int:
        """What ``crm_outbox_pending`` shows (see the module docstring)."""
        return self._pending

    def details(self) -> dict[str, Any]:
        """The relay's state for ``/healthz/details``: each side reported on its own, so that a
        failed database round trip never reads as a broker problem."""
        return {
            "database": self._db_ok,
            "broker": self.broker_connected,
            "listening": self.listening,
            "pending": self._pending,
            "lastError": self.last_error,
            "lastErrorSide": self._last_error_side,
        }

    # -- main loop ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set. Never raises except on cancellation."""
        log.info("outbox relay starting (exchange %s)", self.exchange_name)
        connected = BROKER_CONNECTED.labels(self.service_name, "relay")
        connected.set_function(lambda: float(self.broker_connected))
        purger: asyncio.Task[None] | None = None
        if self._retention is not None:
            purger = asyncio.create_task(
                run_periodically(stop, self._purge_interval, self.purge, "outbox purge")
            )
        try:
            while not stop.is_set():
                try:
                    try:
                        await self._ensure_broker()
                    except Exception as exc:
                        raise _BrokerFailure(_describe(exc)) from exc
                    await self._ensure_listener()
                    self._wakeup.clear()
                    await self._drain(stop)
                    self._reconnect.reset()
                    self.last_error = self._last_error_side = None
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    delay = self._reconnect.next_delay()
                    broker = isinstance(exc, _BrokerFailure)
                    cause = exc.__cause__ if broker and exc.__cause__ is not None else exc
                    self.last_error = _describe(cause)[:_ERROR_TEXT_LIMIT]
                    self._last_error_side = "broker" if broker else "database"
                    if not broker:
                        self._db_ok = False
                    log.warning("outbox relay cycle failed on the %s (%r); retrying in %.1fs",
                                self._last_error_side, cause, delay)
                    if broker:
                        await self._drop_broker_if_broken(cause)
                        # the broker failed: show the backlog grow (at most every refresh)
                        await self._refresh_backlog(force=False)
                    await sleep_unless(stop, delay)
                    continue
                await self._idle(stop)
        finally:
            try:
                await self._close_listener()
                await self._close_broker()
                if purger is not None:
                    await finish_task(purger, grace=5.0)
            finally:
                if purger is not None:
                    purger.cancel()  # in case we were cancelled before finish_task
                connected.set_function(lambda: 0.0)  # and drop the reference to this relay
                log.info("outbox relay stopped")

    async def purge(self) -> int:
        """Delete rows published more than ``retention_seconds`` ago now; return how many."""
        if self._retention is None:
            return 0
        deleted = await purge_published(
            self._engine,
            dt.timedelta(seconds=self._retention),
            batch_size=self._purge_batch_size,
        )
        OUTBOX_PURGED.labels(self.service_name).inc(deleted)
        if deleted:
            log.info("outbox purge: deleted %d published rows", deleted)
        return deleted

    async def _refresh_backlog(self, *, force: bool) -> None:
        """Count the backlog exactly into ``crm_outbox_pending`` (best effort), unless it was
        counted less than ``backlog_refresh_seconds`` ago and ``force`` is False."""
        now = time.monotonic()
        if not force and now - self._backlog_counted_at < self._backlog_refresh:
            return
        self._backlog_counted_at = now
        try:
            pending, deferred = await asyncio.wait_for(
                count_backlog(self._engine, cap=self._backlog_cap), timeout=5.0
            )
        except Exception as exc:
            log.debug("could not count the outbox backlog: %r", exc)
            self._db_ok = False
            return
        self._db_ok = True  # a database round trip, also while the broker is away
        self._deferred = deferred
        self._set_pending(pending)

    def _set_pending(self, value: int) -> None:
        self._pending = max(0, value)
        OUTBOX_PENDING.labels(self.service_name).set(self._pending)

    async def _idle(self, stop: asyncio.Event) -> None:
        """Wait for a NOTIFY, the poll interval, a broker loss or ``stop``."""
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wakeup.wait())]
        if self._link is not None:
            waiters.append(asyncio.ensure_future(self._link.lost.wait()))
        try:
            # without a working LISTEN, poll often and retry LISTEN soon
            timeout = self._idle_poll if self._listen_raw is not None else min(self._idle_poll, 1.0)
            await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()
        if self._wakeup.is_set() and self._coalesce > 0 and not stop.is_set():
            # a burst of commits sends a burst of NOTIFYs: take them in one cycle
            await asyncio.sleep(self._coalesce)

    async def _drain(self, stop: asyncio.Event) -> None:
        """Publish batches until no due row is left (refused rows are deferred, so this ends)."""
        if self._backlog_counted_at == float("-inf"):
            await self._refresh_backlog(force=True)  # the first figure, at start-up
        while not stop.is_set():
            selected, published = await self._publish_batch()
            if selected < self._batch_size:
                self._set_pending(self._deferred)  # no due row left: only those in back-off
                return
            self._set_pending(max(self._pending - published, self._deferred + 1))
            await self._refresh_backlog(force=False)

    # -- one batch ---------------------------------------------------------------------------

    async def _publish_batch(self) -> tuple[int, int]:
        """Publish one batch; return how many rows it selected and how many were published."""
        t = outbox_table
        broker_error: BaseException | None = None
        lags: list[float] = []
        try:
            async with self._engine.begin() as conn:
                rows = (
                    await conn.execute(
                        sa.select(
                            t.c.id, t.c.event_type, t.c.routing_key, t.c.envelope, t.c.attempts,
                            t.c.next_attempt_at,
                        )
                        .where(
                            t.c.published_at.is_(None),
                            sa.or_(
                                t.c.next_attempt_at.is_(None),
                                t.c.next_attempt_at <= sa.func.now(),
                            ),
                        )
                        .order_by(t.c.created_at)
                        .limit(self._batch_size)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                self._db_ok = True
                # every publish is queued on the channel, in order, before any confirm is read
                confirms = [asyncio.ensure_future(self._publish(row.envelope, row.routing_key))
                            for row in rows]
                outcomes = await asyncio.gather(*confirms, return_exceptions=True)
                published: list[Any] = []
                for row, outcome in zip(rows, outcomes, strict=True):
                    if isinstance(outcome, asyncio.CancelledError):
                        raise outcome
                    if isinstance(outcome, _PerMessageFailure):
                        log.warning("event %s not accepted by the broker: %s", row.id, outcome)
                        self._count_failure(outcome.reason)
                        delay = min(self._max_retry_backoff, self._retry_backoff * 2**row.attempts)
                        await self._record_failure(conn, row.id, str(outcome), delay)
                        if row.next_attempt_at is None:
                            self._deferred += 1  # newly waiting for a retry
                        continue
                    if isinstance(outcome, BaseException):  # channel/connection, confirm timeout
                        if broker_error is None:  # the row in flight when the link failed
                            broker_error = outcome
                            self._count_failure(
                                "timeout" if isinstance(outcome, TimeoutError) else "connection"
                            )
                            await self._record_failure(conn, row.id, _describe(outcome), None)
                        continue
                    published.append(row)
                if published:
                    result = await conn.execute(
                        sa.update(t)
                        .where(t.c.id.in_([r.id for r in published]))
                        .values(published_at=sa.func.now())
                        .returning(
                            sa.extract("epoch", sa.func.clock_timestamp() - t.c.created_at)
                        )
                    )
                    lags = [float(lag) for (lag,) in result]
        except Exception:
            self._db_ok = False
            raise
        lag = RELAY_LAG.labels(self.service_name)
        for seconds in lags:
            lag.observe(seconds)
        for row in published:  # committed: count each event once
            EVENTS_PUBLISHED.labels(self.service_name, row.event_type).inc()
            if row.next_attempt_at is not None:
                self._deferred = max(0, self._deferred - 1)  # a retry that went through
        if rows:
            log.debug("outbox batch: %d selected, %d published", len(rows), len(published))
        if broker_error is not None:
            raise _BrokerFailure(_describe(broker_error)) from broker_error
        return len(rows), len(published)

    def _count_failure(self, reason: str) -> None:
        EVENT_PUBLISH_FAILURES.labels(self.service_name, reason).inc()

    async def _record_failure(
        self, conn: AsyncConnection, row_id: Any, error: str, delay: float | None
    ) -> None:
        t = outbox_table
        values: dict[str, Any] = {
            "attempts": t.c.attempts + 1,
            "last_error": error[:_ERROR_TEXT_LIMIT],
        }
        if delay is not None:
            values["next_attempt_at"] = sa.func.now() + dt.timedelta(seconds=delay)
        await conn.execute(sa.update(t).where(t.c.id == row_id).values(**values))

    async def _publish(self, stored: dict[str, Any] | str, routing_key: str) -> None:
        # tolerate a json column that was not decoded
        envelope: dict[str, Any] = json.loads(stored) if isinstance(stored, str) else stored
        assert self._exchange is not None
        headers: dict[str, Any] = {
            "ce-specversion": envelope.get("specversion"),
            "ce-source": envelope.get("source"),
            "ce-subject": envelope.get("subject"),
            "correlationid": envelope.get("correlationid"),
            "actorid": envelope.get("actorid"),
        }
        message = aio_pika.Message(
            dumps(envelope),
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=envelope["id"],
            type=envelope["type"],
            correlation_id=envelope.get("correlationid"),
            app_id=envelope.get("source"),
            headers={k: v for k, v in headers.items() if v is not None},
        )
        try:
            result = await self._exchange.publish(
                message, routing_key, mandatory=True, timeout=self._publish_timeout
            )
        except PublishError as exc:  # basic.return: no queue matched the routing key
            raise _PerMessageFailure(
                "unroutable", f"unroutable (returned by broker): {_describe(exc)}"
            ) from exc
        except DeliveryError as exc:  # basic.nack
            raise _PerMessageFailure("nacked", f"nacked by broker: {_describe(exc)}") from exc
        if not isinstance(result, aiormq.spec.Basic.Ack):  # returned without raising
            raise _PerMessageFailure("unconfirmed", f"not confirmed by broker: {result!r}")

    # -- broker ------------------------------------------------------------------------------

    async def _ensure_broker(self) -> None:
        if self._link is not None and self._link.usable:
            return
        await self._close_broker()
        link = await BrokerLink.open(
            self._amqp_url, publisher_confirms=True, on_return_raises=True, name="crm-outbox-relay"
        )
        try:
            self._exchange = await declare_events_exchange(link.channel, self.exchange_name)
            if self._archive:
                queue = await link.channel.declare_queue(
                    self.archive_queue_name,
                    durable=True,
                    arguments=quorum_arguments(
                        x_max_length=self._archive_max_length, x_overflow="drop-head"
                    ),
                )
                await queue.bind(self._exchange, routing_key="#")
        except BaseException:
            await link.close()
            raise
        self._link = link
        log.info("outbox relay connected to broker")

    async def _drop_broker_if_broken(self, exc: BaseException) -> None:
        if self._link is not None and (
            not self._link.usable
            or isinstance(exc, (aiormq.exceptions.AMQPError, ConnectionError, TimeoutError))
        ):
            await self._close_broker()

    async def _close_broker(self) -> None:
        link, self._link, self._exchange = self._link, None, None
        if link is not None:
            await link.close()

    # -- LISTEN ------------------------------------------------------------------------------

    async def _ensure_listener(self) -> None:
        raw = self._listen_raw
        if raw is not None and not raw.is_closed():
            return
        await self._close_listener()
        try:
            conn = await self._engine.connect()
            try:
                # a pooled connection may be dead (server restart, terminated backend): ping it,
                # and commit so that the LISTEN below is not deferred by an open transaction
                await conn.exec_driver_sql("SELECT 1")
                await conn.commit()
                raw = (await conn.get_raw_connection()).driver_connection
                if raw is None:  # the pool handed out an invalidated connection
                    raise ConnectionError("no driver connection behind the pooled connection")
                await raw.add_listener(NOTIFY_CHANNEL, self._on_notify)
                raw.add_termination_listener(self._on_listener_lost)
            except BaseException:
                await conn.invalidate()
                await conn.close()
                raise
        except Exception as exc:
            log.warning("LISTEN %s unavailable (%r); polling only", NOTIFY_CHANNEL, exc)
            return
        self._listen_conn, self._listen_raw = conn, raw
        self._wakeup.set()  # rows may have been committed while nobody listened

    def _on_notify(self, *_: Any) -> None:
        self._wakeup.set()

    def _on_listener_lost(self, *_: Any) -> None:
        log.warning("LISTEN connection lost; re-establishing")
        self._wakeup.set()

    async def _close_listener(self) -> None:
        conn, raw = self._listen_conn, self._listen_raw
        self._listen_conn = self._listen_raw = None
        if conn is None:
            return
        try:
            if raw is not None:
                raw.remove_termination_listener(self._on_listener_lost)
                if not raw.is_closed():
                    await raw.remove_listener(NOTIFY_CHANNEL, self._on_notify)
            await conn.invalidate()  # never hand a LISTENing connection back to the pool
            await conn.close()
        except Exception:
            log.debug("error while closing LISTEN connection", exc_info=True)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
