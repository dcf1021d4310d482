"""A tiny Strawberry federation-2 subgraph that stands in for a real service in the gateway tests.

Run as a script: ``python tests/gateway/stub_subgraph.py --port N`` serves GraphQL at /graphql;
``python tests/gateway/stub_subgraph.py --sdl`` prints its SDL (composed by the test with
gateway/compose.mjs). It does not verify tokens: it reports the headers it received, so the test can
check what the gateway forwards.
"""

from __future__ import annotations

import argparse
import sys

import strawberry
from strawberry.types import Info


@strawberry.federation.type(keys=["id"])
class Client:
    id: strawberry.ID
    name: str

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return Client(id=id, name=f"client {id}")


@strawberry.type
class Node:
    """Self-referencing type, so that a query can be made arbitrarily deep."""

    level: int

    @strawberry.field
    def child(self) -> Node:
        return Node(level=self.level + 1)


@strawberry.type
class Received:
    authorization: str | None
    correlation_id: str | None


@strawberry.type
class Query:
    @strawberry.field
    def client(self, id: strawberry.ID) -> Client | None:
        return Client(id=id, name=f"client {id}")

    @strawberry.field
    def node(self) -> Node:
        return Node(level=1)

    @strawberry.field
    def received(self, info: Info) -> Received:
        headers = info.context["request"].headers
        return Received(
            authorization=headers.get("authorization"),
            correlation_id=headers.get("x-correlation-id"),
        )


schema = strawberry.federation.Schema(query=Query, federation_version="2.7")


def make_app():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    from strawberry.asgi import GraphQL

    async def healthz(_request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/healthz", healthz)])
    app.mount("/graphql", GraphQL(schema, graphql_ide=None))
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int)
    parser.add_argument("--sdl", action="store_true")
    args = parser.parse_args()
    if args.sdl:
        sys.stdout.write(schema.as_str() + "\n")
        return
    import uvicorn

    uvicorn.run(make_app(), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
