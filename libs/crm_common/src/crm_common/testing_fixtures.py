"""The pytest fixtures every service's integration tests need, made once (imported by the
services' ``tests/integration/conftest.py``, not by services).

Each of ``keys``, ``database``, ``exchange`` and ``tap`` makes a fixture that a conftest binds
to a module name, as in::

    from crm_common import testing_fixtures as fixtures

    keys = fixtures.keys()
    database_url = fixtures.database("tasks", migrate, run=RUN)
    exchange_name = fixtures.exchange(QUEUES, run=RUN)
    tap = fixtures.tap("crm.tasks.#")

pytest registers it under the name given here (``keys``, ``database_url``, ...), whatever the
module name it is bound to. ``scope`` is ``"session"`` unless told: a service whose tests want a
fresh database or exchange per test module says ``"module"``; ``run`` names the databases and
exchanges of a run, a fresh one each time the fixture is set up when left out.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Literal

import aio_pika
import pytest

from crm_common.devkeys import generate_key_pair
from crm_common.testing import (
    AMQP_URL,
    CaughtEvents,
    delete_broker_objects,
    migrated_database,
    open_tap,
)

Scope = Literal["session", "package", "module", "class", "function"]


def _run(run: str | None) -> str:
    return run or uuid.uuid4().hex[:10]


def keys() -> Any:
    """``keys``: a key pair of the run (private, public), the service trusting the public one."""

    def fixture() -> tuple[str, str]:
        return generate_key_pair()

    return pytest.fixture(scope="session", name="keys")(fixture)


def database(service: str, migrate: Callable[[str], None], *, run: str | None = None,
                     scope: Scope = "session") -> Any:
    """``database_url``: a database of the service's own, created by ``migrate`` and dropped
    afterwards (:func:`crm_common.testing.migrated_database`)."""

    async def fixture() -> AsyncIterator[str]:
        async with migrated_database(service, migrate, _run(run)) as url:
            yield url

    return pytest.fixture(scope=scope, name="database_url")(fixture)


def exchange(queues: Sequence[str] = (), *, run: str | None = None,
                     name: str = "exchange_name", prefix: str = "crm.events",
                     scope: Scope = "session") -> Any:
    """``exchange_name`` (or ``name``): the name of the run's events exchange
    ``<prefix>.test.<run>``; afterwards the exchange and the service's ``queues`` are deleted."""

    async def fixture() -> AsyncIterator[str]:
        exchange_name = f"{prefix}.test.{_run(run)}"
        yield exchange_name
        await delete_broker_objects(exchange_name, list(queues))

    return pytest.fixture(scope=scope, name=name)(fixture)


def tap(binding: str = "#", *, scope: Scope = "session") -> Any:
    """``tap``: every event published on the run's exchange (``exchange_name``) whose routing key
    matches ``binding``; at the end, each must have matched the catalogue."""

    async def fixture(exchange_name: str) -> AsyncIterator[CaughtEvents]:
        caught = CaughtEvents()
        conn = await open_tap(exchange_name, caught, binding=binding)
        yield caught
        await conn.close()
        caught.assert_all_valid()  # every event published during the run matches the catalogue

    return pytest.fixture(scope=scope, name="tap")(fixture)


def queue_names(prefix: str, service: str, queues: Sequence[str]) -> list[str]:
    """The names of a service's ``queues`` under a run's ``prefix``, each with its retry and
    dead-letter queue: what :func:`exchange` deletes at the end."""
    return [f"{prefix}{service}.{name}{suffix}" for name in queues
            for suffix in ("", ".retry", ".dlq")]


@contextlib.asynccontextmanager
async def declared_exchanges(*names: str, amqp_url: str = AMQP_URL
                             ) -> AsyncIterator[list[aio_pika.abc.AbstractExchange]]:
    """The durable topic exchanges ``names``, declared on a connection with publisher confirms
    (what a ``publisher`` fixture publishes on); the connection closes on leaving."""
    conn = await aio_pika.connect(amqp_url)
    channel = await conn.channel(publisher_confirms=True)
    exchanges = [await channel.declare_exchange(name, aio_pika.ExchangeType.TOPIC, durable=True)
                 for name in names]
    yield exchanges
    await conn.close()
