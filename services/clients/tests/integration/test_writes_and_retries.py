"""Issue 14, "Writes and retries": a committed change is never answered as an error, and a
mutation retried with its Idempotency-Key is done once. Real PostgreSQL; the connections are
terminated with ``pg_terminate_backend`` at the moment under test."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from crm_clients.app import create_app
from crm_common import idempotency
from crm_common.settings import Settings
from crm_common.testing import (
    ServiceUnderTest,
    connections_dropped_at_commit,
    terminate_service_connections,
)
from crm_dev import procs

from .conftest import EventTap, Service
from .fragments import CREATE, UPDATE, company

pytestmark = pytest.mark.integration

SEARCH = """query($s: String!) {
  clients(first: 5, filter: {search: $s}) { edges { node { id } } } }"""
#: the session's service, or the second process of it (``quiet``)
AnyService = Service | ServiceUnderTest


@pytest.fixture(scope="module")
async def quiet(service: Service) -> AsyncIterator[ServiceUnderTest]:
    """A second process of the service on the same database without its relay and consumers:
    nothing but the request under test touches its pool, so that a dead pooled connection is
    drawn by that request and not first noticed (and the pool reset) by the relay."""
    port = procs.free_port()
    base = service.settings
    settings = Settings.from_env("clients", port, environ={
        "CRM_ENV": "test", "SERVICE_PORT": str(port), "DATABASE_URL": base.database_url,
        "AMQP_URL": base.amqp_url, "EVENTS_EXCHANGE": base.events_exchange,
        "JWT_PUBLIC_KEY": base.jwt_public_key, "QUEUE_PREFIX": base.queue_prefix,
        "RUN_RELAY": "false", "RUN_CONSUMERS": "false"})
    async with httpx.AsyncClient(timeout=30) as client:
        second = ServiceUnderTest("clients", f"http://127.0.0.1:{port}", service.private_key,
                                  settings, client, base.database_url,
                                  make_app=lambda: create_app(settings))
        await second.start()
        yield second
        await second.stop()


async def _db(service: AnyService) -> asyncpg.Connection:
    url = sa.make_url(service.settings.database_url).set(drivername="postgresql")
    return await asyncpg.connect(url.render_as_string(hide_password=False))


async def _count(service: AnyService, legal_name: str) -> int:
    conn = await _db(service)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM clients WHERE legal_name = $1",
                                       legal_name))
    finally:
        await conn.close()


async def _warm_pool(service: AnyService, token: str) -> None:
    """Several pooled connections in the service, so that dead ones are drawn afterwards."""
    await asyncio.gather(*(service.data(token, SEARCH, {"s": "загрявка"}) for _ in range(6)))


async def _create(service: AnyService, token: str, legal_name: str, *, key: str | None = None,
                  correlation: str | None = None, **extra: Any) -> httpx.Response:
    headers = {}
    if key is not None:
        headers["idempotency-key"] = key
    if correlation is not None:
        headers["x-correlation-id"] = correlation
    return await service.gql(token, CREATE, {"input": company(legal_name, **extra)},
                             headers=headers)


def _created(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    payload = body["data"]["createClient"]
    assert payload["userErrors"] == [], payload
    return payload["client"]  # type: ignore[no-any-return]


# -- a committed change is answered as committed -----------------------------------------------

async def test_a_create_after_the_pool_was_dropped_is_answered_once(
        quiet: ServiceUnderTest) -> None:
    """Every pooled connection dead (a database restart): the next create is committed and
    answered with its client, not an error."""
    service = quiet
    manager = service.token("manager")
    await _warm_pool(service, manager)
    assert await terminate_service_connections(service.settings.database_url) > 0
    name = f"След рестарт {uuid.uuid4().hex[:6]} ООД"
    client = _created(await _create(service, manager, name))
    assert client["legalName"] == name
    assert await _count(service, name) == 1


async def test_connections_dropped_between_commit_and_read_still_answer_the_change(
        quiet: ServiceUnderTest) -> None:
    """The other pooled connections die just before the create commits: the payload (the
    client, its children, the duplicate warnings) is read after the commit on dead connections,
    and must still come back."""
    service = quiet
    manager = service.token("manager")
    await _warm_pool(service, manager)
    cid = f"drop-others-{uuid.uuid4().hex}"
    name = f"Между запис и четене {uuid.uuid4().hex[:6]} АД"
    with connections_dropped_at_commit(cid, which="others") as fired:
        response = await _create(service, manager, name, correlation=cid,
                                 addresses=[{"kind": "REGISTERED", "city": "София",
                                             "street": "ул. Шипка 1"}])
    assert fired == ["others"]
    client = _created(response)
    assert client["legalName"] == name and client["addresses"][0]["city"] == "София"
    assert await _count(service, name) == 1


# -- idempotency keys --------------------------------------------------------------------------

async def test_a_create_lost_mid_request_and_retried_with_its_key_exists_once(
        service: Service) -> None:
    """The connection dies under the transaction: the caller gets an error; the retry with
    the same key creates the client, and a further retry answers the same client."""
    manager = service.token("manager")
    key = str(uuid.uuid4())
    cid = f"drop-own-{uuid.uuid4().hex}"
    name = f"Прекъсната връзка {uuid.uuid4().hex[:6]} ЕООД"
    with connections_dropped_at_commit(cid, which="own") as fired:
        first = await _create(service, manager, name, key=key, correlation=cid)
    assert fired == ["own"]
    assert "errors" in first.json(), first.json()
    assert await _count(service, name) == 0
    second = _created(await _create(service, manager, name, key=key))
    third = _created(await _create(service, manager, name, key=key))
    assert second["id"] == third["id"]
    assert await _count(service, name) == 1


async def test_a_committed_create_whose_answer_was_lost_is_answered_on_retry(
        service: Service, tap: EventTap) -> None:
    """The commit succeeds and the answer is lost on its way (the caller sees an error, as
    in the drill: committed, answered as failed). The retry with the key returns the client
    that was committed; no second client, no second event."""
    manager = service.token("manager")
    key = str(uuid.uuid4())
    cid = f"lost-answer-{uuid.uuid4().hex}"
    name = f"Загубен отговор {uuid.uuid4().hex[:6]} ООД"
    with connections_dropped_at_commit(cid, which="after") as fired:
        first = await _create(service, manager, name, key=key, correlation=cid)
    assert fired == ["after"]
    assert "errors" in first.json(), first.json()
    assert await _count(service, name) == 1
    retried = _created(await _create(service, manager, name, key=key))
    assert retried["legalName"] == name
    assert await _count(service, name) == 1
    await tap.wait_for_type("crm.clients.client.created", subject=retried["id"])
    await asyncio.sleep(0.5)  # a second event, were there one, would have come meanwhile
    assert len(tap.of_type("crm.clients.client.created", subject=retried["id"])) == 1


async def test_the_same_key_with_another_input_is_refused_and_changes_nothing(
        service: Service) -> None:
    manager = service.token("manager")
    key = f"app-{uuid.uuid4()}"
    name = f"Ключ {uuid.uuid4().hex[:6]} ООД"
    client = _created(await _create(service, manager, name, key=key))
    other = f"Друг вход {uuid.uuid4().hex[:6]} ООД"
    body = (await _create(service, manager, other, key=key)).json()
    payload = body["data"]["createClient"]
    assert payload["client"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("IDEMPOTENCY_KEY_REUSED", ["Idempotency-Key"])]
    assert await _count(service, other) == 0
    # the first input is still answered under its key
    assert _created(await _create(service, manager, name, key=key))["id"] == client["id"]


async def test_concurrent_requests_with_one_key_create_one_client(service: Service) -> None:
    manager = service.token("manager")
    key = str(uuid.uuid4())
    name = f"Едновременно {uuid.uuid4().hex[:6]} ООД"
    responses = await asyncio.gather(*(_create(service, manager, name, key=key)
                                       for _ in range(6)))
    ids = {_created(r)["id"] for r in responses}
    assert len(ids) == 1
    assert await _count(service, name) == 1


async def test_a_key_is_the_callers_own(service: Service) -> None:
    """Two employees sending the same key are two requests."""
    key = str(uuid.uuid4())
    name = f"Двама с един ключ {uuid.uuid4().hex[:6]} ООД"
    a = _created(await _create(service, service.token("manager"), name, key=key))
    b = _created(await _create(service, service.token("manager"), name, key=key))
    assert a["id"] != b["id"]
    assert await _count(service, name) == 2


async def test_an_update_retried_with_its_key_is_applied_once(service: Service) -> None:
    """A retried update whose first attempt committed is answered from its outcome, not
    refused as CONFLICT (its version is no longer the stored one)."""
    manager = service.token("manager")
    client = _created(await _create(service, manager, f"Промяна {uuid.uuid4().hex[:6]} ООД"))
    key = str(uuid.uuid4())
    variables = {"input": {"id": client["id"], "version": client["version"],
                           "notes": "звъннете след 10"}}
    answers = []
    for _ in range(2):
        body = (await service.gql(manager, UPDATE, variables,
                                  headers={"idempotency-key": key})).json()
        answers.append(body["data"]["updateClient"])
    assert [a["userErrors"] for a in answers] == [[], []]
    assert [a["client"]["version"] for a in answers] == [client["version"] + 1] * 2
    conn = await _db(service)
    try:
        assert await conn.fetchval("SELECT version FROM clients WHERE id = $1",
                                   uuid.UUID(client["id"])) == client["version"] + 1
    finally:
        await conn.close()


async def test_an_expired_key_is_not_answered_and_is_swept(service: Service) -> None:
    manager = service.token("manager")
    key = str(uuid.uuid4())
    name = f"Изтекъл ключ {uuid.uuid4().hex[:6]} ООД"
    first = _created(await _create(service, manager, name, key=key))
    conn = await _db(service)
    try:
        await conn.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
                           " WHERE key = $1", key)
        again = _created(await _create(service, manager, name, key=key))
        assert again["id"] != first["id"]  # a key older than 24 hours is a new request
        await conn.execute("UPDATE idempotency_keys SET expires_at = now() - interval '1 second'"
                           " WHERE key = $1", key)
        eng = create_async_engine(service.settings.database_url)
        try:
            assert await idempotency.sweep(eng) >= 1
        finally:
            await eng.dispose()
        assert await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1",
                                   key) == 0
        kept = await conn.fetchval("SELECT min(expires_at - created_at) FROM idempotency_keys")
        assert kept is None or kept.total_seconds() >= 24 * 3600
    finally:
        await conn.close()


@pytest.mark.parametrize(("key", "why"), [
    ("", "empty"),
    ("k" * 256, "longer than 255"),
    ("с кирилица", "visible ASCII"),
    ("two words", "visible ASCII"),
    ("tab\there", "visible ASCII"),
])
async def test_a_malformed_key_is_a_user_error_and_nothing_is_done(
        service: Service, key: str, why: str) -> None:
    manager = service.token("manager")
    name = f"Лош ключ {uuid.uuid4().hex[:6]} ООД"
    response = await service.client.post(
        f"{service.url}/graphql", json={"query": CREATE, "variables": {"input": company(name)}},
        headers=[(b"authorization", f"Bearer {manager}".encode()),
                 (b"idempotency-key", key.encode("utf-8"))])
    body = response.json()
    assert response.status_code == 200, body
    (error,) = body["data"]["createClient"]["userErrors"]
    assert error["code"] == "INVALID_IDEMPOTENCY_KEY" and error["field"] == ["Idempotency-Key"]
    assert why in error["message"]
    assert await _count(service, name) == 0


@pytest.mark.parametrize("raw", [b"nul\x00byte", b"bell\x07", b"bare\rcr", b"del\x7f",
                                 b"   ", b"esc\x1b[2J"])
async def test_control_characters_in_the_key_never_reach_the_command(
        service: Service, raw: bytes) -> None:
    """Control characters: refused by the HTTP server (400) or as INVALID_IDEMPOTENCY_KEY;
    never a fault, never a client."""
    manager = service.token("manager")
    name = f"Контролен знак {uuid.uuid4().hex[:6]} ООД"
    body = (f'{{"query": {json.dumps(CREATE)}, "variables": '
            f'{json.dumps({"input": company(name)})}}}').encode()
    host, port = service.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Authorization: Bearer " + manager.encode() + b"\r\n"
                 b"Idempotency-Key: " + raw + b"\r\nContent-Length: "
                 + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    status = int(answer.split(b" ", 2)[1])
    assert status in (200, 400), answer[:300]
    if status == 200:
        assert b"INVALID_IDEMPOTENCY_KEY" in answer, answer[-500:]
    assert await _count(service, name) == 0


async def test_queries_ignore_the_key(service: Service) -> None:
    manager = service.token("manager")
    for key in ("", "k" * 300, str(uuid.uuid4())):
        response = await service.gql(manager, SEARCH, {"s": "нищо"},
                                     headers={"idempotency-key": key})
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
