"""BrokerLink leaves no aio-pika connection behind that is not closed."""

from __future__ import annotations

import aio_pika
import pytest

from crm_common.messaging.broker import BrokerLink

pytestmark = pytest.mark.timeout(30)


async def test_a_failed_connect_closes_its_connection(monkeypatch):
    # An aio-pika Connection that is never closed schedules close() from __del__; collected
    # outside the event loop that coroutine is never awaited ("coroutine 'Connection.close' was
    # never awaited"). A failed connect must therefore close the connection it created.
    created: list[aio_pika.Connection] = []
    original = aio_pika.Connection.__init__

    def record(self, *args, **kwargs):
        original(self, *args, **kwargs)
        created.append(self)

    monkeypatch.setattr(aio_pika.Connection, "__init__", record)
    with pytest.raises(Exception):  # noqa: B017 - whatever aiormq raises for a refused connect
        await BrokerLink.open("amqp://guest:guest@127.0.0.1:1/", connect_timeout=5)
    assert len(created) == 1
    assert created[0].is_closed
