"""Tasks through the subgraph: create, the workflow with its history and events, reassigning,
rescheduling, priorities, the reads (mine, assigned by me, a client's, overdue, due soon,
filters, board, keyset pages) and who sees what."""

from __future__ import annotations

import uuid

import pytest

from .conftest import EventTap, Publisher, Service, World, wait_until
from .helpers import (
    BOARD,
    CLOSE,
    GET,
    LIST,
    PRIORITY,
    REASSIGN,
    REOPEN,
    RESCHEDULE,
    STATUS,
    UPDATE,
    commitment,
    create,
    days,
)

pytestmark = pytest.mark.integration


async def mutate(service: Service, token: str, document: str, name: str,
                 **input_: object) -> dict[str, object]:
    payload = (await service.data(token, document, {"input": input_}))[name]
    return payload  # type: ignore[no-any-return]


async def test_a_commitment_through_its_whole_workflow(service: Service, world: World,
                                                      tap: EventTap) -> None:
    task = await commitment(service, world, ctype="SAMPLE", priority="HIGH",
                            watchers=[str(world.other_rep)])
    assert task["number"].startswith("T") and len(task["number"]) >= 7
    assert task["status"] == "ASSIGNED" and task["assignedBy"]["id"] == str(world.manager)
    assert task["client"]["id"] == str(world.rep_client) and task["priority"] == "HIGH"
    rep = service.token("sales_rep", world.rep)
    assert set(task["nextStatuses"]) == {"IN_PROGRESS", "IN_PRODUCTION", "ON_HOLD",
                                         "CLOSED_CONFIRMED", "CLOSED_REFUSED", "CANCELLED"}
    version = task["version"]
    for target in ("IN_PROGRESS", "IN_PRODUCTION", "ON_HOLD", "IN_PROGRESS"):
        payload = await mutate(service, rep, STATUS, "changeTaskStatus", id=task["id"],
                               version=version, to=target, comment=f"към {target}")
        assert payload["userErrors"] == [], payload
        version = payload["task"]["version"]  # type: ignore[index]
        assert payload["task"]["status"] == target  # type: ignore[index]
    closed = await mutate(service, rep, CLOSE, "closeTask", id=task["id"], version=version,
                          outcome="REFUSED", refusalReason="Цената е висока")
    assert closed["userErrors"] == []
    t = closed["task"]
    assert t["status"] == "CLOSED_REFUSED" and t["outcome"] == "REFUSED"  # type: ignore[index]
    assert t["refusalReason"] == "Цената е висока" and t["closedAt"]  # type: ignore[index]
    # final: the rep cannot move it; only a manager reopens
    again = await mutate(service, rep, STATUS, "changeTaskStatus", id=task["id"],
                         version=t["version"], to="IN_PROGRESS")  # type: ignore[index]
    assert again["userErrors"][0]["code"] == "INVALID_TRANSITION"  # type: ignore[index]
    denied = await mutate(service, rep, REOPEN, "reopenTask", id=task["id"],
                          version=t["version"])  # type: ignore[index]
    assert denied["userErrors"][0]["code"] == "FORBIDDEN"  # type: ignore[index]
    manager = service.token("manager", world.manager)
    reopened = await mutate(service, manager, REOPEN, "reopenTask", id=task["id"],
                            version=t["version"], comment="Нова оферта")  # type: ignore[index]
    r = reopened["task"]
    assert r["status"] == "ASSIGNED" and r["outcome"] is None  # type: ignore[index]
    history = [e["node"] for e in (await service.data(manager, GET, {"id": task["id"]}))
               ["task"]["history"]["edges"]]
    # the one History type: the transition is changes.status, as the API spells the statuses
    assert [(h["operation"], *h["changes"]["status"]) for h in history] == [
        ("created", None, "ASSIGNED"),
        ("status_changed", "ASSIGNED", "IN_PROGRESS"),
        ("status_changed", "IN_PROGRESS", "IN_PRODUCTION"),
        ("status_changed", "IN_PRODUCTION", "ON_HOLD"),
        ("status_changed", "ON_HOLD", "IN_PROGRESS"),
        ("closed", "IN_PROGRESS", "CLOSED_REFUSED"),
        ("reopened", "CLOSED_REFUSED", "ASSIGNED"),
    ]
    assert history[1]["changes"]["comment"] == "към IN_PROGRESS"
    assert history[1]["actorId"] == str(world.rep)
    assert history[-1]["actorId"] == str(world.manager)
    assert {(h["entityType"], h["entityId"]) for h in history} == {("task", task["id"])}
    assert history[0]["changes"]["task"]["kind"] == "COMMITMENT"
    assert history[5]["changes"]["outcome"] == "REFUSED"
    subject = task["id"]
    await tap.wait_for_type("crm.tasks.task.created", subject)
    changes = await tap.wait_for_type("crm.tasks.task.status_changed", subject, count=6)
    assert [(e["data"]["from"], e["data"]["to"]) for e in changes][-1] == (
        "closed_refused", "assigned")
    (closed_event,) = await tap.wait_for_type("crm.tasks.task.closed", subject)
    assert closed_event["data"]["outcome"] == "refused"
    assert closed_event["data"]["refusalReason"] == "Цената е висока"
    assert closed_event["actorid"] == str(world.rep)
    (reopened_event,) = await tap.wait_for_type("crm.tasks.task.reopened", subject)
    assert reopened_event["data"]["task"]["status"] == "assigned"


async def test_close_confirmed_and_cancel_by_the_assigner_only(service: Service,
                                                               world: World) -> None:
    task = await commitment(service, world)
    rep = service.token("sales_rep", world.rep)
    denied = await mutate(service, rep, STATUS, "changeTaskStatus", id=task["id"],
                          version=task["version"], to="CANCELLED")
    assert denied["userErrors"][0]["code"] == "FORBIDDEN"  # type: ignore[index]
    produce = await mutate(service, rep, STATUS, "changeTaskStatus", id=task["id"],
                           version=task["version"], to="IN_PRODUCTION")
    assert produce["userErrors"][0] == {"field": ["input", "to"], "code": "NOT_APPLICABLE",
                                        "message": produce["userErrors"][0]["message"]}  # type: ignore[index]
    done = await mutate(service, rep, STATUS, "changeTaskStatus", id=task["id"],
                        version=task["version"], to="CLOSED_CONFIRMED")
    assert done["task"]["outcome"] == "CONFIRMED"  # type: ignore[index]
    other = await commitment(service, world)
    manager = service.token("manager", world.manager)
    cancelled = await mutate(service, manager, STATUS, "changeTaskStatus", id=other["id"],
                             version=other["version"], to="CANCELLED", comment="отпада")
    assert cancelled["task"]["status"] == "CANCELLED"  # type: ignore[index]


async def test_reassign_reschedule_and_priority_are_recorded_and_published(
        service: Service, world: World, tap: EventTap) -> None:
    task = await commitment(service, world, due=3)
    manager = service.token("manager", world.manager)
    moved = await mutate(service, manager, REASSIGN, "reassignTask", id=task["id"],
                         version=task["version"], assigneeId=str(world.other_rep),
                         comment="Иван е в отпуск")
    assert moved["userErrors"] == [] and moved["task"]["assignee"]["id"] == str(  # type: ignore[index]
        world.other_rep)
    version = moved["task"]["version"]  # type: ignore[index]
    later = await mutate(service, manager, RESCHEDULE, "rescheduleTask", id=task["id"],
                         version=version, dueDate=days(10))
    assert later["task"]["dueDate"] == days(10)  # type: ignore[index]
    urgent = await mutate(service, manager, PRIORITY, "changeTaskPriority", id=task["id"],
                          version=later["task"]["version"], priority="URGENT")  # type: ignore[index]
    assert urgent["task"]["priority"] == "URGENT"  # type: ignore[index]
    renamed = await mutate(service, manager, UPDATE, "updateTask", id=task["id"],
                           version=urgent["task"]["version"],  # type: ignore[index]
                           title="Оферта — спешно", watchers=[str(world.rep)])
    assert renamed["task"]["title"] == "Оферта — спешно"  # type: ignore[index]
    (assigned,) = await tap.wait_for_type("crm.tasks.task.assigned", task["id"])
    assert assigned["data"]["previousAssigneeId"] == str(world.rep)
    assert assigned["data"]["comment"] == "Иван е в отпуск"
    updates = await tap.wait_for_type("crm.tasks.task.updated", task["id"], count=3)
    assert [e["data"]["changed"] for e in updates] == [["dueDate"], ["priority"],
                                                       ["title", "watchers"]]
    assert updates[0]["data"]["previousDueDate"] == days(3)
    history = [e["node"] for e in (await service.data(manager, GET, {"id": task["id"]}))
               ["task"]["history"]["edges"]]
    assert [h["operation"] for h in history] == ["created", "reassigned", "rescheduled",
                                                 "priority_changed", "updated"]
    assert history[2]["changes"] == {"dueDate": [days(3), days(10)]}
    assert history[3]["changes"]["priority"][1] == "URGENT"  # the API's spelling
    assert history[1]["changes"]["assigneeId"] == [str(world.rep), str(world.other_rep)]
    # the old assignee, now neither assignee nor assigner, sees it still through the client
    rep = service.token("sales_rep", world.rep)
    assert (await service.data(rep, GET, {"id": task["id"]}))["task"] is not None


CLIENT_TASKS = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Client { tasks(first: 100) { edges { node { id } } } } } }"""


async def test_who_sees_what(service: Service, world: World, publisher: Publisher) -> None:
    rep, other = world.rep, world.other_rep
    # assigned to rep on other_rep's client; assigned by rep to other_rep without client;
    # a client task of other_rep's only; a general task between managers
    to_rep = await commitment(service, world, client=world.other_client, assignee=rep)
    by_rep = await create(service, service.token("sales_rep", rep), title="Помощ с мостра",
                          assigneeId=str(other), dueDate=days(2))
    others = await commitment(service, world, client=world.other_client, assignee=other)
    private = await create(service, service.token("manager", world.manager),
                           title="Бюджет", assigneeId=str(world.manager), dueDate=days(2))
    rep_token = service.token("sales_rep", rep)

    async def visible(token: str, task_id: str) -> bool:
        return (await service.data(token, GET, {"id": task_id}))["task"] is not None

    async def client_tasks(token: str, client: uuid.UUID) -> set[str]:
        """``Client.tasks`` through ``_entities``: the statement built once per shape, the
        access rule over bind parameters (not the ``task(id)`` path)."""
        data = await service.data(token, CLIENT_TASKS, {"reps": [
            {"__typename": "Client", "id": str(client)}]})
        return {e["node"]["id"] for e in data["_entities"][0]["tasks"]["edges"]}

    assert await visible(rep_token, to_rep["id"])
    assert await visible(rep_token, by_rep["id"])
    # on other_rep's client the rep sees only the task assigned to them
    assert to_rep["id"] in await client_tasks(rep_token, world.other_client)
    assert others["id"] not in await client_tasks(rep_token, world.other_client)
    assert others["id"] in await client_tasks(service.token("sales_rep", other),
                                              world.other_client)
    assert not await visible(rep_token, others["id"])
    assert not await visible(rep_token, private["id"])
    admin = service.token("admin")
    assert all([await visible(admin, t["id"]) for t in (to_rep, by_rep, others, private)])
    # a meeting with other_client grants the rep its tasks, and cancelling revokes it
    meeting = uuid.uuid4()
    data = {"meetingId": str(meeting), "clientId": str(world.other_client),
            "employeeId": str(rep), "startsAt": "2099-01-01T09:00:00Z",
            "endsAt": "2099-01-01T10:00:00Z", "status": "scheduled", "version": 1}
    await publisher.publish("crm.activities.meeting.scheduled", meeting, data, "crm/activities")

    async def granted() -> bool:
        return await visible(rep_token, others["id"])

    await wait_until(granted)
    assert others["id"] in await client_tasks(rep_token, world.other_client)
    await publisher.publish("crm.activities.meeting.cancelled", meeting,
                            {**data, "status": "cancelled", "version": 2, "reason": "болест"},
                            "crm/activities")

    async def revoked() -> bool:
        return not await visible(rep_token, others["id"])

    await wait_until(revoked)
    assert others["id"] not in await client_tasks(rep_token, world.other_client)
    # a rep changing a task they only see through a client is refused, not ignored
    rep_client_task = await commitment(service, world, assignee=other)
    # ... but sees it on the client they own, though neither assignee nor assigner
    assert rep_client_task["id"] in await client_tasks(rep_token, world.rep_client)
    payload = await mutate(service, rep_token, STATUS, "changeTaskStatus",
                           id=rep_client_task["id"], version=rep_client_task["version"],
                           to="IN_PROGRESS")
    assert payload["userErrors"][0]["code"] == "FORBIDDEN"  # type: ignore[index]


async def test_reads_filters_board_and_pages(service: Service, world: World,
                                             publisher: Publisher) -> None:
    # a fresh assignee so that counts are exact
    me = uuid.uuid4()
    await publisher.employee(me, name="Нов Търговец")

    async def known() -> bool:
        return bool(await service.sql("SELECT 1 FROM access_employees WHERE employee_id = :e",
                                      e=me))

    await wait_until(known)
    manager = service.token("manager", world.manager)
    made = []
    for i, due in enumerate([-3, -1, 0, 1, 2, 5, 30]):
        made.append(await commitment(service, world, assignee=me, due=due,
                                     ctype="INVOICE" if i % 2 else "OFFER"))
    general = await create(service, manager, title="Обща", assigneeId=str(me), dueDate=days(1))
    closed = await mutate(service, manager, CLOSE, "closeTask", id=made[0]["id"],
                          version=made[0]["version"], outcome="CONFIRMED")
    assert closed["userErrors"] == []
    token = service.token("sales_rep", me)

    async def ids(flt: dict[str, object], token: str = token) -> list[str]:
        page = (await service.data(token, LIST, {"filter": flt, "first": 100}))["tasks"]
        return [e["node"]["id"] for e in page["edges"]]

    mine = await ids({"assignedToMe": True})
    assert len(mine) == 8
    assert mine[0] == made[0]["id"]  # soonest due first
    assert await ids({"assignedToMe": True, "overdue": True}) == [made[1]["id"]]
    soon = await ids({"assignedToMe": True, "dueWithinDays": 2})
    assert set(soon) == {made[2]["id"], made[3]["id"], made[4]["id"], general["id"]}
    assert set(await ids({"assignedToMe": True, "kinds": ["GENERAL"]})) == {general["id"]}
    assert len(await ids({"assignedToMe": True, "commitmentTypes": ["INVOICE"]})) == 3
    assert await ids({"assignedToMe": True, "statuses": ["CLOSED_CONFIRMED"]}) == [
        made[0]["id"]]
    period = await ids({"assigneeId": str(me), "dueFrom": days(1), "dueTo": days(5)},
                       manager)
    assert set(period) == {made[3]["id"], made[4]["id"], made[5]["id"], general["id"]}
    assert made[0]["id"] in await ids({"clientId": str(world.rep_client)}, manager)
    by_manager = await ids({"assignedByMe": True, "assigneeId": str(me)}, manager)
    assert len(by_manager) == 8
    board = (await service.data(token, BOARD, {"filter": {"assignedToMe": True}}))["taskBoard"]
    counts = {c["status"]: c["count"] for c in board["columns"]}
    assert counts["ASSIGNED"] == 7 and counts["CLOSED_CONFIRMED"] == 1 and board["total"] == 8
    assert len(counts) == 7
    # keyset pages: 3 + 3 + 2, no duplicates, same order as one page
    seen: list[str] = []
    after = None
    while True:
        page = (await service.data(token, LIST, {"filter": {"assignedToMe": True}, "first": 3,
                                                 "after": after}))["tasks"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == mine
    # the overdue flag on the task itself
    task = (await service.data(token, GET, {"id": made[1]["id"]}))["task"]
    assert task["overdue"] is True
    for bad in ({"dueFrom": "yesterday"}, {"clientId": "x"}, {"dueWithinDays": -1}):
        response = await service.gql(token, LIST, {"filter": bad})
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    response = await service.gql(token, LIST, {"after": "garbage!"})
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
