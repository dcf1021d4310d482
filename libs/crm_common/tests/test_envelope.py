"""Unit tests of the CloudEvents envelope (no servers)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest

from crm_common.messaging import (
    DomainEvent,
    InvalidEnvelope,
    correlation_id,
    parse_envelope,
    to_cloudevent,
    validate_envelope,
)


def make(**data: object) -> dict:
    return to_cloudevent(
        DomainEvent("crm.clients.client.created", "c-1", dict(data)),
        source="crm/clients",
        actor_id=uuid.UUID(int=7),
        correlation_id="corr-1",
    )


def test_structured_cloudevent_shape() -> None:
    env = make(name="Фирма ЕООД")
    assert env["specversion"] == "1.0"
    assert uuid.UUID(env["id"]).version == 4
    assert env["source"] == "crm/clients"
    assert env["type"] == "crm.clients.client.created"
    assert env["subject"] == "c-1"
    assert env["datacontenttype"] == "application/json"
    assert env["actorid"] == str(uuid.UUID(int=7))
    assert env["correlationid"] == "corr-1"
    assert env["time"].endswith("Z")
    assert dt.datetime.fromisoformat(env["time"].replace("Z", "+00:00")).tzinfo is not None
    assert env["data"] == {"name": "Фирма ЕООД"}
    assert json.loads(json.dumps(env)) == env


def test_data_is_normalised_to_json_types() -> None:
    moment = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    env = make(
        amount=Decimal("1.95583"),
        due=dt.date(2026, 2, 1),
        at=moment,
        ref=uuid.UUID(int=1),
        tags={"b", "a"},
    )
    assert env["data"] == {
        "amount": "1.95583",
        "due": "2026-02-01",
        "at": "2026-01-01T10:00:00.000000Z",
        "ref": str(uuid.UUID(int=1)),
        "tags": ["a", "b"],
    }


def test_naive_datetime_and_unknown_types_are_refused() -> None:
    with pytest.raises(TypeError):
        make(at=dt.datetime(2026, 1, 1))
    with pytest.raises(TypeError):
        make(obj=object())


def test_correlation_id_defaults_to_context_then_new() -> None:
    token = correlation_id.set("from-context")
    try:
        env = to_cloudevent(DomainEvent("crm.a.b.c", "s", {}), source="crm/a", actor_id="system")
        assert env["correlationid"] == "from-context"
    finally:
        correlation_id.reset(token)
    env = to_cloudevent(DomainEvent("crm.a.b.c", "s", {}), source="crm/a", actor_id="system")
    assert env["correlationid"]


@pytest.mark.parametrize("bad_type", ["clients.client.created", "crm.clients.created", "crm.A.b.c"])
def test_event_type_pattern(bad_type: str) -> None:
    with pytest.raises(InvalidEnvelope):
        DomainEvent(bad_type, "s", {})


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.pop("id"),
        lambda e: e.update(specversion="0.3"),
        lambda e: e.update(source=""),
        lambda e: e.update(type=3),
        lambda e: e.update(time="yesterday"),
        lambda e: e.update(time="2026-01-01T10:00:00"),
        lambda e: e.update(datacontenttype="text/plain"),
        lambda e: e.update({"Bad-Name": 1}),
        lambda e: e.update(subject=5),
    ],
)
def test_validation_rejects_malformed(mutate) -> None:
    env = make()
    mutate(env)
    with pytest.raises(InvalidEnvelope):
        validate_envelope(env)


def test_parse_envelope() -> None:
    env = make(x=1)
    assert parse_envelope(json.dumps(env).encode()) == env
    for body in (b"{nope", b"[1, 2]", "\udcff".encode("utf-8", "surrogatepass"), b'{"id": "x"}'):
        with pytest.raises(InvalidEnvelope):
            parse_envelope(body)


@pytest.mark.parametrize("body", [
    b'{"a":1,"a":2}', b'{"amount":"12.50","n":[1,2.5,-0,1e2]}', '{"name":"Кола 0,5 л"}',
    b'{"x":NaN}', b'{"x":Infinity}', b'{"x":1e400}', b'{"x":123456789012345678901234567890}',
    b'{"x":-9223372036854775809}', b'"\\ud800"', b'{"x":"\\u0000"}', b'\xef\xbb\xbf{}',
    b'{"x":1', b'\xff{}', b"[" * 5000 + b"]" * 5000,
])
def test_loads_reads_as_json_does(body: bytes | str) -> None:
    from crm_common.messaging.envelope import loads

    def read(reader) -> object:
        try:
            return reader(body)
        except (ValueError, RecursionError) as exc:
            return type(exc)
    assert repr(read(loads)) == repr(read(json.loads))
