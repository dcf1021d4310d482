"""The entities the pricing subgraph extends: ``Client`` (its personal price list and its
pricing tiers)."""

from __future__ import annotations

import strawberry


@strawberry.federation.type(keys=["id"], description="A client (the clients service owns it).")
class Client:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return cls(id=id)
