"""The AsyncAPI catalogue lists exactly the event types the code can publish, plus the messages
the platform receives from the ERP (``erp.*``, ``receive`` operations; validated against the ERP
simulator's output in ``tools/crm_dev/tests/test_erp_sim.py``).

Event types are string literals of the form crm.<service>.<entity>.<verb> in the services'
sources (the handlers' EVENT_* constants); the payload of each is validated against the catalogue
by the services' integration tests (see their EventTap)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from jsonschema import ValidationError

from crm_common.messaging.catalogue import Catalogue, UnknownEventType

ROOT = Path(__file__).resolve().parents[2]
# crm.<service>.<entity>.<verb>, or crm.<service>.<entity>.<sub-entity>.<verb>
EVENT_TYPE = re.compile(r"^crm\.[a-z]+(\.[a-z][a-z0-9_]*){2,3}$")


def published_event_types() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "services").glob("*/src/**/*.py"):
        if "consumers" in path.parts:  # routing keys a service subscribes to, not publishes
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and EVENT_TYPE.match(node.value):
                found.add(node.value)
    return found


def received_event_types() -> set[str]:
    """The addresses of the channels the catalogue's ``receive`` operations name."""
    doc = Catalogue().document
    return {doc["channels"][op["channel"]["$ref"].split("/")[-1]]["address"]
            for op in doc["operations"].values() if op["action"] == "receive"}


def test_every_published_event_type_is_in_the_catalogue() -> None:
    published = published_event_types()
    assert published, "found no event type in the services' code"
    missing = published - Catalogue().event_types
    assert not missing, f"events the code publishes but events/asyncapi.yaml lacks: {missing}"


#: Listed in the catalogue before their publisher is merged: the tasks service consumes them
#: (branch ``store``) and the clients service's inventory publishes them (branch ``inventory``,
#: issue 12), both built to the same contract. Remove this set once the inventory is merged.
PUBLISHER_IN_FLIGHT = frozenset({"crm.clients.asset.audited", "crm.clients.asset.missing"})


def test_the_catalogue_lists_nothing_the_code_cannot_publish() -> None:
    stale = (Catalogue().event_types - published_event_types() - received_event_types()
             - PUBLISHER_IN_FLIGHT)
    assert not stale, f"events/asyncapi.yaml lists events no code publishes: {stale}"


def test_every_channel_has_one_operation_and_a_message() -> None:
    """crm.* channels are sent (published by a service), erp.* ones received (from the ERP),
    each through exactly one operation."""
    doc = Catalogue().document
    actions: dict[str, list[str]] = {}
    for op in doc["operations"].values():
        actions.setdefault(op["channel"]["$ref"].split("/")[-1], []).append(op["action"])
    assert set(actions) == set(doc["channels"])
    for name, channel in doc["channels"].items():
        expected = "receive" if channel["address"].startswith("erp.") else "send"
        assert actions[name] == [expected], (name, actions[name])
        exchange = channel["bindings"]["amqp"]["exchange"]["name"]
        assert exchange == ("erp.events" if expected == "receive" else "crm.events"), name
    for channel in doc["channels"].values():
        (message,) = channel["messages"].values()
        name = message["$ref"].split("/")[-1]
        assert name == channel["address"]
        assert doc["components"]["messages"][name]["name"] == channel["address"]


def _envelope(**data_overrides: object) -> dict[str, object]:
    client = {
        "id": "5b0e1c9e-5f1c-4c56-9a43-0f3a2a2b9c11", "code": "C000001", "kind": "company",
        "legalName": "Агрополис ЕООД", "tradeName": None, "eik": "121759222",
        "vatNumber": "BG121759222", "status": "active", "ownerId": None,
        "phones": ["+359888123456"], "emails": ["office@agropolis.bg"], "website": None,
        "notes": None, "tags": [], "version": 1, "createdAt": "2026-01-05T10:00:00+00:00",
        "updatedAt": "2026-01-05T10:00:00+00:00", "archivedAt": None, "addresses": [],
        "contactPersons": [], "bankAccounts": [], "groupId": None, "paymentTermDays": 30,
        "currency": "EUR", "creditLimit": "15000.00",
        "documentDescriptions": {"invoice": "Доставка по договор 12/2026"},
    }
    client.update(data_overrides)
    return {
        "specversion": "1.0", "id": "0d8e8a4c-97a8-4c41-8c1e-0c2f1e6f7b55",
        "source": "crm/clients", "type": "crm.clients.client.created",
        "time": "2026-01-05T10:00:00.000000Z", "subject": client["id"],
        "datacontenttype": "application/json", "data": {"client": client},
        "actorid": "system", "correlationid": "abc",
    }


def test_the_received_messages_are_the_erp_ones() -> None:
    assert received_event_types(), "the catalogue documents no erp.* message"
    assert all(t.startswith("erp.") for t in received_event_types())


def test_schemas_accept_a_good_event_and_refuse_bad_ones() -> None:
    catalogue = Catalogue()
    catalogue.validate(_envelope())
    with pytest.raises(ValidationError):
        catalogue.validate(_envelope(status="deleted"))
    with pytest.raises(ValidationError):
        catalogue.validate(_envelope(phones=["0888 123 456"]))
    with pytest.raises(ValidationError):
        catalogue.validate(_envelope(creditLimit=15000.5))  # amounts are strings, not floats
    with pytest.raises(ValidationError):
        catalogue.validate(_envelope(documentDescriptions={"receipt": "x"}))
    with pytest.raises(UnknownEventType):
        catalogue.validate({**_envelope(), "type": "crm.clients.client.vanished"})
