"""Where the simulated ERP's envelopes go: an NDJSON file, or RabbitMQ as the ERP would publish.

Both take any iterable of envelopes and stream it: nothing is held beyond a write buffer (file)
or the messages in flight awaiting their confirm (broker).
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import aio_pika
from pamqp import commands as spec

from crm_common.messaging.broker import BrokerLink, declare_events_exchange
from crm_common.messaging.envelope import dumps

DEFAULT_EXCHANGE = "erp.events"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
CONTENT_TYPE = "application/cloudevents+json"

Progress = Callable[[int, float], None]  # (messages so far, seconds so far)


@dataclass
class Throughput:
    messages: int
    seconds: float
    unroutable: int = 0

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds > 0 else float("inf")


def _open(path: Path) -> BinaryIO:
    if path.suffix == ".gz":
        return cast(BinaryIO, gzip.open(path, "wb", compresslevel=1))
    return path.open("wb", buffering=1 << 20)


def write_ndjson(path: Path | str, envelopes: Iterable[dict[str, Any]], *,
                 progress: Progress | None = None, every: int = 200_000) -> Throughput:
    """Write one envelope per line (compact UTF-8 JSON, ``\\n``-terminated); ``.gz`` compresses.
    Streams: each line is written as it is produced. ``progress`` is called every ``every``
    lines."""
    path = Path(path)
    started = time.perf_counter()
    n = 0
    with _open(path) as out:
        write = out.write
        for envelope in envelopes:
            write(dumps(envelope))
            write(b"\n")
            n += 1
            if progress is not None and n % every == 0:
                progress(n, time.perf_counter() - started)
    return Throughput(n, time.perf_counter() - started)


class PublishError(RuntimeError):
    pass


async def publish(envelopes: Iterable[dict[str, Any]], *, amqp_url: str = DEFAULT_AMQP_URL,
                  exchange: str = DEFAULT_EXCHANGE, in_flight: int = 1000,
                  progress: Progress | None = None, every: int = 20_000) -> Throughput:
    """Publish each envelope to the durable topic exchange ``exchange`` (declared if missing),
    routing key = its type, persistent, with publisher confirms and up to ``in_flight``
    unconfirmed messages at a time. Raises :class:`PublishError` when the broker nacks one.

    Messages are ``mandatory``: those no queue is bound for come back and are counted in
    :attr:`Throughput.unroutable` (until a CRM service binds its queues to ``erp.events``, all of
    them) — they are not an error, an ERP does not wait for its consumers.
    """
    link = await BrokerLink.open(amqp_url, publisher_confirms=True, name="crm-dev erp-sim")
    returned = 0
    failures: list[BaseException] = []
    slots = asyncio.Semaphore(in_flight)
    pending: set[asyncio.Future[Any]] = set()

    def settled(future: asyncio.Future[Any]) -> None:
        nonlocal returned
        slots.release()
        pending.discard(future)
        if future.cancelled():
            return
        if (exc := future.exception()) is not None:
            failures.append(exc)
            return
        frame = future.result()  # Ack; Nack; or the message itself, when it came back
        if isinstance(frame, spec.Basic.Nack | spec.Basic.Reject):
            failures.append(PublishError("the broker refused (nacked) a message"))
        elif not isinstance(frame, spec.Basic.Ack):
            returned += 1

    started = time.perf_counter()
    n = 0
    try:
        target = await declare_events_exchange(link.channel, exchange)
        for envelope in envelopes:
            await slots.acquire()
            if failures:
                raise failures[0]
            message = aio_pika.Message(
                dumps(envelope), message_id=envelope["id"], type=envelope["type"],
                content_type=CONTENT_TYPE, delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            )
            future: asyncio.Future[Any] = asyncio.ensure_future(
                target.publish(message, routing_key=envelope["type"], mandatory=True))
            pending.add(future)
            future.add_done_callback(settled)
            n += 1
            if progress is not None and n % every == 0:
                progress(n, time.perf_counter() - started)
        if pending:
            await asyncio.wait(set(pending))
        if failures:
            raise failures[0]
        elapsed = time.perf_counter() - started
    finally:
        for unsettled in list(pending):
            unsettled.cancel()
        await link.close()
    return Throughput(n, elapsed, unroutable=returned)
