"""The projection of clients and employees catches up after the service was down: the durable
queues keep what was published meanwhile."""

from __future__ import annotations

import uuid

import pytest

from .conftest import Publisher, Service, World, wait_until
from .helpers import GET, commitment

pytestmark = pytest.mark.integration


async def test_events_published_while_down_are_applied_after_restart(
        service: Service, world: World, publisher: Publisher) -> None:
    client, newcomer = uuid.uuid4(), uuid.uuid4()
    await publisher.client(client, owner=world.other_rep, name="Докато спеше ООД")
    await wait_until(lambda: _has_client(service, client))
    task = await commitment(service, world, client=client, assignee=world.other_rep)
    rep = service.token("sales_rep", world.rep)
    assert (await service.data(rep, GET, {"id": task["id"]}))["task"] is None
    await service.stop()
    try:
        # while it is down: the client changes owner, a new employee joins
        await publisher.client(client, owner=world.rep, name="Докато спеше ООД")
        await publisher.employee(newcomer, name="Нова Колежка")
        assert await service.sql("SELECT owner_id FROM access_clients WHERE client_id = :c",
                                 c=client) == [{"owner_id": world.other_rep}]
    finally:
        await service.start()

    async def caught_up() -> bool:
        owner = await service.sql("SELECT owner_id FROM access_clients WHERE client_id = :c",
                                  c=client)
        staff = await service.sql("SELECT active FROM access_employees WHERE employee_id = :e",
                                  e=newcomer)
        return owner == [{"owner_id": world.rep}] and staff == [{"active": True}]

    await wait_until(caught_up, within=30)
    # the rule follows: the new owner sees the client's task
    assert (await service.data(rep, GET, {"id": task["id"]}))["task"]["id"] == task["id"]


async def _has_client(service: Service, client: uuid.UUID) -> bool:
    return bool(await service.sql("SELECT 1 FROM access_clients WHERE client_id = :c",
                                  c=client))
