"""Entities another subgraph owns, as a subgraph that adds fields to them declares them."""

from __future__ import annotations

from typing import Self

import strawberry


@strawberry.type
class ExtendedEntity:
    """The base of an entity owned elsewhere (``Client``, ``Employee``, ``ClientGroup`` outside
    the clients service): all this subgraph keeps of it is the key, so resolving a reference is
    making one. A subclass is a ``@strawberry.federation.type(keys=["id"])`` with the fields
    this subgraph adds; the base itself is no type of the schema."""

    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Self:  # noqa: A002 - federation's name
        return cls(id=id)
