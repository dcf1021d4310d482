"""A tiny Strawberry federation-2 subgraph that stands in for a real service in the gateway tests.

Run as a script: ``python tests/gateway/stub_subgraph.py --port N`` serves GraphQL at /graphql;
``python tests/gateway/stub_subgraph.py --sdl`` prints its SDL (composed by the test with
gateway/compose.mjs). It does not verify tokens: it reports the headers it received, so the test can
check what the gateway forwards.

``fault`` and ``badInput`` fail the way the real services do: ``fault`` like a masked fault
(crm_common.graphql.limits.TraceMaskErrors: "Unexpected error.", code INTERNAL_SERVER_ERROR and
the request's x-correlation-id as traceId), ``badInput`` like an error about the request
(code BAD_USER_INPUT, message kept).
"""

from __future__ import annotations

import argparse
import sys

import strawberry
from graphql import GraphQLError
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

    @strawberry.field
    def fault(self, info: Info) -> int | None:
        trace = info.context["request"].headers.get("x-correlation-id") or "-"
        raise GraphQLError("Unexpected error.",
                           extensions={"code": "INTERNAL_SERVER_ERROR", "traceId": trace})

    @strawberry.field
    def bad_input(self, value: int = 0) -> int | None:
        raise GraphQLError(
            f"value must be positive, got {value}", extensions={"code": "BAD_USER_INPUT"}
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
