"""An entity another subgraph owns, extended here (crm_common.graphql.entities): the key is its
one field of its own, a reference resolves to an instance with that key, and the base is no
type of the schema."""

from __future__ import annotations

import strawberry

from crm_common.graphql.entities import ExtendedEntity


@strawberry.federation.type(keys=["id"], description="A client (owned elsewhere).")
class Client(ExtendedEntity):
    @strawberry.field
    def shout(self) -> str:
        return f"client {self.id}"


@strawberry.type
class Query:
    @strawberry.field
    def client(self) -> Client | None:
        return None


def test_the_key_and_the_added_fields_and_no_base_type() -> None:
    schema = strawberry.federation.Schema(query=Query, types=[Client])
    sdl = schema.as_str()
    assert 'type Client @key(fields: "id")' in sdl
    assert "ExtendedEntity" not in sdl
    result = schema.execute_sync(
        'query { _entities(representations: [{__typename: "Client", id: "c1"}]) '
        "{ ... on Client { id shout } } }")
    assert result.errors is None
    assert result.data == {"_entities": [{"id": "c1", "shout": "client c1"}]}


def test_a_reference_is_an_instance_with_the_key() -> None:
    client = Client.resolve_reference(strawberry.ID("c2"))
    assert isinstance(client, Client) and client.id == "c2"
