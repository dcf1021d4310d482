"""``Client.tasks`` and ``Employee.tasks`` through ``_entities``: access applied, and the number of
SQL statements does not grow with the number of clients or tasks."""

from __future__ import annotations

import uuid

import pytest

from crm_common.testing import request_statements, statements_sent

from .conftest import Publisher, Service, World, wait_until
from .helpers import commitment

pytestmark = pytest.mark.integration

ENTITIES = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Client { id tasks(first: 50) { edges { node {
    id number status assignee { id } client { id } } } pageInfo { hasNextPage } } }
  ... on Employee { id tasks(first: 50, role: ASSIGNEE, openOnly: true) {
    edges { node { id } } } } } }"""
PAGE = """query($reps: [_Any!]!, $after: String) { _entities(representations: $reps) {
  ... on Client { tasks(first: 2, after: $after) { edges { node { id } }
    pageInfo { hasNextPage endCursor } } } } }"""


def _nodes(connection: object) -> list[dict[str, object]]:
    return [e["node"] for e in connection["edges"]]  # type: ignore[index]


async def _count(service: Service, token: str, reps: list[dict[str, str]]
                 ) -> tuple[int, dict[str, object]]:
    with statements_sent() as seen:
        data = await service.data(token, ENTITIES, {"reps": reps})
    return len(request_statements(seen)), data


async def test_client_and_employee_tasks_in_constant_statements(
        service: Service, world: World, publisher: Publisher) -> None:
    clients = [uuid.uuid4() for _ in range(6)]
    for c in clients:
        await publisher.client(c, owner=world.rep, name=f"Клиент {c.hex[:4]}")

    async def known() -> bool:
        rows = await service.sql("SELECT count(*) AS n FROM access_clients WHERE client_id = "
                                 "ANY(:ids)", ids=clients)
        return rows[0]["n"] == len(clients)

    await wait_until(known)
    for i, c in enumerate(clients):
        for _ in range(1 if i == 0 else 4):
            await commitment(service, world, client=c)
    manager = service.token("manager", world.manager)
    small, data = await _count(service, manager, [
        {"__typename": "Client", "id": str(clients[0])},
        {"__typename": "Employee", "id": str(world.rep)}])
    large, data = await _count(service, manager, [
        *({"__typename": "Client", "id": str(c)} for c in clients),
        {"__typename": "Employee", "id": str(world.rep)},
        {"__typename": "Employee", "id": str(world.other_rep)}])
    assert small == large <= 2, (small, large)
    entities = data["_entities"]
    assert [len(_nodes(e["tasks"])) for e in entities[:6]] == [1, 4, 4, 4, 4, 4]  # type: ignore[index]
    assert all(t["client"]["id"] == str(clients[1])  # type: ignore[index]
               for t in _nodes(entities[1]["tasks"]))  # type: ignore[index]
    # Client.tasks is a connection: keyset pages of 2 read the same tasks as one page
    # (and for the rep who owns the client: the pages after a cursor apply the rep's rule)
    for token in (manager, service.token("sales_rep", world.rep)):
        seen: list[object] = []
        after = None
        while True:
            (entity,) = (await service.data(token, PAGE, {
                "reps": [{"__typename": "Client", "id": str(clients[1])}], "after": after}))[
                "_entities"]
            seen += [t["id"] for t in _nodes(entity["tasks"])]  # type: ignore[index]
            if not entity["tasks"]["pageInfo"]["hasNextPage"]:  # type: ignore[index]
                break
            after = entity["tasks"]["pageInfo"]["endCursor"]  # type: ignore[index]
        assert seen == [t["id"] for t in _nodes(entities[1]["tasks"])]  # type: ignore[index]
    # access: another rep sees none of those clients' tasks, and never an error
    _, data = await _count(service, service.token("sales_rep", world.other_rep), [
        {"__typename": "Client", "id": str(c)} for c in clients])
    assert all(_nodes(e["tasks"]) == [] for e in data["_entities"])  # type: ignore[union-attr]
    # a malformed id reads as no tasks
    _, data = await _count(service, manager, [{"__typename": "Client", "id": "nope"}])
    assert data["_entities"] == [{"id": "nope", "tasks": {"edges": [],
                                                          "pageInfo": {"hasNextPage": False}}}]


async def test_history_on_a_list_of_tasks_is_one_statement(
        service: Service, world: World, publisher: Publisher) -> None:
    client = uuid.uuid4()
    await publisher.client(client, owner=world.rep, name="История ООД")

    async def known() -> bool:
        rows = await service.sql("SELECT count(*) AS n FROM access_clients WHERE client_id = "
                                 ":id", id=client)
        return rows[0]["n"] == 1

    await wait_until(known)
    for _ in range(5):
        await commitment(service, world, client=client)
    query = """query($f: TaskFilterInput) { tasks(first: 10, filter: $f) { edges { node {
      id history(first: 5) { edges { node { changes } } pageInfo { hasNextPage } } } } } }"""
    with statements_sent() as seen:
        data = await service.data(service.token("manager", world.manager), query,
                                  {"f": {"clientId": str(client)}})
    edges = data["tasks"]["edges"]
    assert len(edges) == 5 and len([s for s in seen if "task_history" in s]) == 1
    assert all(e["node"]["history"]["edges"] for e in edges)
