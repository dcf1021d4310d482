"""Outbox relay: publishes committed outbox rows to RabbitMQ, at least once, in order.

Loop
    In one transaction: ``SELECT … FROM outbox WHERE published_at IS NULL AND next_attempt_at is
    due ORDER BY created_at LIMIT batch_size FOR UPDATE SKIP LOCKED`` (several relays may run
    side by side), publish the rows one after the other in ``created_at`` order, and set
    ``published_at`` only for those the broker confirmed. The loop sleeps until ``NOTIFY outbox``
    (a LISTEN on a dedicated asyncpg connection) or ``idle_poll_seconds`` elapse, whichever comes
    first; if LISTEN is not available it just polls.

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
    relay reconnects with jittered exponential back-off. A crash between publish and the commit of
    ``published_at`` causes a re-send: consumers de-duplicate by envelope id (inbox).

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
    evaluated at scrape time; ``crm_outbox_purged_total``; and ``crm_outbox_pending``, the
    number of unpublished rows (including those waiting for a retry), counted (decision) by the
    relay itself at the end of every cycle — i.e. after each wake-up (NOTIFY, poll interval) or
    failed attempt — and every ``backlog_refresh_seconds`` during a long drain. The count is
    one index-only scan of the partial index on unpublished rows, capped at
    ``backlog_count_cap`` (100,000: the gauge then reads "at least that many"). It is not done
    on scrape because a Prometheus collector is synchronous and must not wait for the database.
    While the database is unreachable the gauge keeps its last value.
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
    count_unpublished,
    outbox_table,
    purge_published,
)

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/cloudevents+json"
_ERROR_TEXT_LIMIT = 2000


DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600.0


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
        batch_size: int = 100,
        idle_poll_seconds: float = 5.0,
        *,
        archive: bool = True,
        archive_max_length: int = 100_000,
        publish_timeout: float = 10.0,
        retry_backoff_seconds: float = 1.0,
        max_retry_backoff_seconds: float = 300.0,
        reconnect_max_seconds: float = 30.0,
        service_name: str = "unknown",
        retention_seconds: float | None = DEFAULT_RETENTION_SECONDS,
        purge_interval_seconds: float = 600.0,
        purge_batch_size: int = PURGE_BATCH_SIZE,
        backlog_count_cap: int = 100_000,
        backlog_refresh_seconds: float = 5.0,
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
        self._backlog_counted_at = 0.0
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
                broker_step = True
                try:
                    await self._ensure_broker()
                    broker_step = False
                    await self._ensure_listener()
                    self._wakeup.clear()
                    await self._drain(stop)
                    self._reconnect.reset()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    delay = self._reconnect.next_delay()
                    log.warning("outbox relay cycle failed (%r); retrying in %.1fs", exc, delay)
                    await self._drop_broker_if_broken(exc)
                    if broker_step or self._db_ok:  # the broker failed: show the backlog grow
                        await self._refresh_backlog()
                    await sleep_unless(stop, delay)
                    continue
                await self._refresh_backlog()
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

    async def _refresh_backlog(self) -> None:
        """Update ``crm_outbox_pending`` (best effort)."""
        self._backlog_counted_at = time.monotonic()
        try:
            pending = await asyncio.wait_for(
                count_unpublished(self._engine, cap=self._backlog_cap), timeout=5.0
            )
        except Exception as exc:
            log.debug("could not count the outbox backlog: %r", exc)
            return
        OUTBOX_PENDING.labels(self.service_name).set(pending)

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

    async def _drain(self, stop: asyncio.Event) -> None:
        """Publish batches until no due row is left (refused rows are deferred, so this ends)."""
        while not stop.is_set():
            if await self._publish_batch() < self._batch_size:
                return
            if time.monotonic() - self._backlog_counted_at >= self._backlog_refresh:
                await self._refresh_backlog()

    # -- one batch ---------------------------------------------------------------------------

    async def _publish_batch(self) -> int:
        """Publish one batch; return how many rows it selected."""
        t = outbox_table
        broker_error: BaseException | None = None
        try:
            async with self._engine.begin() as conn:
                rows = (
                    await conn.execute(
                        sa.select(
                            t.c.id, t.c.event_type, t.c.routing_key, t.c.envelope, t.c.attempts
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
                published: list[Any] = []
                for row in rows:
                    try:
                        await self._publish(row.envelope, row.routing_key)
                    except _PerMessageFailure as exc:
                        log.warning("event %s not accepted by the broker: %s", row.id, exc)
                        self._count_failure(exc.reason)
                        delay = min(self._max_retry_backoff, self._retry_backoff * 2**row.attempts)
                        await self._record_failure(conn, row.id, str(exc), delay)
                        continue
                    except Exception as exc:  # channel/connection problem or confirm timeout
                        broker_error = exc
                        self._count_failure(
                            "timeout" if isinstance(exc, TimeoutError) else "connection"
                        )
                        await self._record_failure(conn, row.id, _describe(exc), None)
                        break
                    published.append(row)
                if published:
                    await conn.execute(
                        sa.update(t)
                        .where(t.c.id.in_([r.id for r in published]))
                        .values(published_at=sa.func.now())
                    )
        except Exception:
            self._db_ok = False
            raise
        for row in published:  # committed: count each event once
            EVENTS_PUBLISHED.labels(self.service_name, row.event_type).inc()
        if rows:
            log.debug("outbox batch: %d selected, %d published", len(rows), len(published))
        if broker_error is not None:
            raise broker_error
        return len(rows)

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
