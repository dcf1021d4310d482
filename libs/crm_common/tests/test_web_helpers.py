"""Unit tests of the plumbing around requests: settings, tokens, cursors, limits, masking, the
service middleware (body limit, authentication, correlation id). No server needed."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import strawberry

from crm_common.auth import AuthenticationError, TokenVerifier
from crm_common.correlation import accept_or_new
from crm_common.devkeys import generate_key_pair, mint_token
from crm_common.graphql.connections import page_size
from crm_common.graphql.cursors import InvalidCursor, decode_cursor, encode_cursor
from crm_common.graphql.limits import schema_extensions
from crm_common.http import ServiceMiddleware
from crm_common.settings import Settings, SettingsError

PRIVATE, PUBLIC = generate_key_pair()


def settings(**env: str) -> Settings:
    return Settings.from_env("demo", 9000, environ={"JWT_PUBLIC_KEY": PUBLIC, **env})


# --- settings -------------------------------------------------------------------------------

def test_settings_defaults_and_errors() -> None:
    s = settings()
    assert s.env == "production" and not s.development
    assert s.database_url.endswith("/crm_demo") and s.port == 9000
    assert s.run_relay and s.run_consumers
    assert settings(RUN_RELAY="false").run_relay is False
    with pytest.raises(SettingsError):
        settings(CRM_ENV="staging")
    with pytest.raises(SettingsError):
        settings(RUN_RELAY="maybe")
    with pytest.raises(SettingsError):
        Settings.from_env("demo", 9000, environ={})
    with pytest.raises(SettingsError):
        Settings.from_env("demo", 9000, environ={"JWT_PUBLIC_KEY_FILE": "/nonexistent.pem"})


# --- tokens ---------------------------------------------------------------------------------

VERIFIER = TokenVerifier(PUBLIC, "crm-dev", "crm")


def test_a_valid_token_gives_the_principal() -> None:
    sub = uuid.uuid4()
    principal = VERIFIER.verify("Bearer " + mint_token(PRIVATE, subject=sub,
                                                       roles=["sales_rep", "cook"], name="Ива"))
    assert principal.subject == sub and principal.roles == {"sales_rep"}
    assert principal.name == "Ива" and not principal.sees_all_clients


@pytest.mark.parametrize("header", [
    None, "", "Bearer", "Basic abc", "Bearer not.a.token",
    "Bearer " + mint_token(PRIVATE, subject=uuid.uuid4(), roles=["admin"], ttl_seconds=-60),
    "Bearer " + mint_token(generate_key_pair()[0], subject=uuid.uuid4(), roles=["admin"]),
    "Bearer " + mint_token(PRIVATE, subject=uuid.uuid4(), roles=["admin"], issuer="evil"),
    "Bearer " + mint_token(PRIVATE, subject=uuid.uuid4(), roles=["admin"], audience="other"),
    "Bearer " + mint_token(PRIVATE, subject="not-a-uuid", roles=["admin"]),
    "Bearer " + mint_token(PRIVATE, subject=uuid.uuid4(), roles=["cook"]),
])
def test_bad_tokens_are_refused(header: str | None) -> None:
    with pytest.raises(AuthenticationError):
        VERIFIER.verify(header)


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    import jwt
    forged = jwt.encode({"sub": str(uuid.uuid4()), "roles": ["admin"], "iss": "crm-dev",
                         "aud": "crm", "iat": 0, "exp": 2_000_000_000},
                        "not-the-key-but-long-enough-for-hs256!!", algorithm="HS256")
    with pytest.raises(AuthenticationError):
        VERIFIER.verify("Bearer " + forged)


# --- cursors and page size ------------------------------------------------------------------

def test_cursor_round_trip_and_tampering() -> None:
    cursor = encode_cursor(["Агрополис", "5b0e1c9e-5f1c-4c56-9a43-0f3a2a2b9c11"])
    assert decode_cursor(cursor, 2) == ["Агрополис", "5b0e1c9e-5f1c-4c56-9a43-0f3a2a2b9c11"]
    for bad in ["!!!", "x" * 2000, encode_cursor([1]), encode_cursor({"a": 1})]:  # type: ignore[arg-type]
        with pytest.raises(InvalidCursor):
            decode_cursor(bad, 2)


def test_page_size_is_capped() -> None:
    from graphql import GraphQLError
    assert page_size(None, 100, "clients") == 20
    assert page_size(100, 100, "clients") == 100
    with pytest.raises(GraphQLError) as over:  # refused, no longer cut to 100
        page_size(500, 100, "clients")
    assert over.value.message == ("Requesting 500 records on the `clients` connection exceeds "
                                  "the `first` limit of 100 records.")
    assert over.value.extensions == {"code": "BAD_USER_INPUT"}
    with pytest.raises(GraphQLError):
        page_size(0, 100, "clients")


def test_correlation_ids_are_accepted_only_when_sane() -> None:
    assert accept_or_new("abc-123") == "abc-123"
    assert accept_or_new("bad id\n") != "bad id\n"
    assert len(accept_or_new(None)) == 32


# --- GraphQL limits and masking -------------------------------------------------------------

@strawberry.type
class Node:
    name: str = "n"

    @strawberry.field
    def child(self) -> Node:
        return Node()


@strawberry.type
class Query:
    @strawberry.field
    def node(self) -> Node:
        return Node()

    @strawberry.field
    def boom(self) -> str:
        raise RuntimeError("database password is hunter2")

    @strawberry.field
    def refused(self) -> str:
        from crm_common.graphql.errors import bad_input
        raise bad_input("after: malformed cursor")


def schema_for(**env: str) -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=schema_extensions(settings(**env)))


async def test_faults_are_masked_in_production_with_a_trace_id() -> None:
    from crm_common.correlation import correlation_id
    token = correlation_id.set("trace-42")
    try:
        result = await schema_for().execute("{ boom }")
    finally:
        correlation_id.reset(token)
    assert result.errors and result.errors[0].message == "Unexpected error."
    assert result.errors[0].extensions == {"code": "INTERNAL_SERVER_ERROR", "traceId": "trace-42"}
    dev = await schema_for(CRM_ENV="development").execute("{ boom }")
    assert dev.errors and "hunter2" in dev.errors[0].message
    refused = await schema_for().execute("{ refused }")
    assert refused.errors and refused.errors[0].message == "after: malformed cursor"
    assert refused.errors[0].extensions == {"code": "BAD_USER_INPUT"}


async def test_limits_refuse_deep_aliased_and_long_documents() -> None:
    schema = schema_for(GRAPHQL_MAX_DEPTH="3", GRAPHQL_MAX_ALIASES="2", GRAPHQL_MAX_TOKENS="40")
    ok = await schema.execute("{ node { child { name } } }")
    assert ok.errors is None
    deep = await schema.execute("{ node { child { child { name } } } }")
    assert deep.errors and deep.errors[0].message == "Query depth limit of 3 exceeded, found 4."
    aliased = await schema.execute("{ a: node { name } b: node { name } c: node { name } }")
    assert aliased.errors and "aliases" in aliased.errors[0].message.lower()
    long_doc = await schema.execute("{ " + " ".join(["node { name }"] * 20) + " }")
    assert long_doc.errors and "token" in long_doc.errors[0].message.lower()


async def test_introspection_only_in_development() -> None:
    prod = await schema_for().execute("{ __schema { queryType { name } } }")
    assert prod.errors
    dev = await schema_for(CRM_ENV="development").execute("{ __schema { queryType { name } } }")
    assert dev.errors is None


# --- the service middleware -----------------------------------------------------------------

async def _call(app: Any, path: str, headers: dict[str, str], body: bytes = b"",
                chunks: int = 1) -> tuple[int, dict[str, str], dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    pieces = [body[i::chunks] for i in range(chunks)] if chunks > 1 else [body]
    queue = [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1}
             for i, p in enumerate(pieces)]

    async def receive() -> dict[str, Any]:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path,
             "headers": [(k.encode(), v.encode()) for k, v in headers.items()]}
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    hdrs = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], hdrs, json.loads(payload) if payload else {}


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    principal = scope.get("state", {}).get("principal")
    payload = json.dumps({"len": len(body), "sub": str(principal.subject) if principal else None})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload.encode()})


def middleware() -> ServiceMiddleware:
    return ServiceMiddleware(echo_app, service="demo", verifier=VERIFIER, max_body_bytes=100)


async def test_middleware_authenticates_graphql_but_not_health() -> None:
    status, headers, body = await _call(middleware(), "/graphql", {})
    assert status == 401 and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert headers["x-correlation-id"]
    sub = uuid.uuid4()
    status, headers, body = await _call(
        middleware(), "/graphql",
        {"authorization": "Bearer " + mint_token(PRIVATE, subject=sub, roles=["manager"]),
         "x-correlation-id": "req-1"})
    assert status == 200 and body["sub"] == str(sub) and headers["x-correlation-id"] == "req-1"
    status, _, _ = await _call(middleware(), "/healthz", {})
    assert status == 200


async def test_middleware_refuses_large_bodies_with_and_without_length() -> None:
    token = "Bearer " + mint_token(PRIVATE, subject=uuid.uuid4(), roles=["manager"])
    status, _, body = await _call(middleware(), "/graphql",
                                  {"authorization": token, "content-length": "101"}, b"x" * 101)
    assert status == 413 and body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    status, _, _ = await _call(middleware(), "/graphql",
                               {"authorization": token, "content-length": "-5"})
    assert status == 413
    from crm_common.http import BodyTooLarge
    with pytest.raises(BodyTooLarge):  # chunked: the app sees the error while reading
        await _call(middleware(), "/graphql", {"authorization": token}, b"y" * 300, chunks=3)
    status, _, body = await _call(middleware(), "/graphql", {"authorization": token}, b"z" * 99)
    assert status == 200 and body["len"] == 99


async def test_bad_variables_are_reported_not_masked() -> None:
    @strawberry.type
    class Q:
        @strawberry.field
        def echo(self, n: int) -> int:
            return n

    schema = strawberry.Schema(query=Q, extensions=schema_extensions(settings()))
    result = await schema.execute("query($n: Int!) { echo(n: $n) }", variable_values={"n": "x"})
    assert result.errors and "Unexpected error" not in result.errors[0].message
    assert "Int" in result.errors[0].message


def test_cursors_given_out_before_orjson_still_decode() -> None:
    """Cursors were json.dumps with \\u escapes for a text key; now UTF-8 (orjson): a client
    holding an old cursor of a name ordering pages on from the same place."""
    import base64
    import json

    values = ["Тракия Дистрибуция АД", "0b9f4d8e-2c1a-4c8e-9a51-1d2f3e4a5b6c"]
    old = base64.urlsafe_b64encode(
        json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")
    new = encode_cursor(values)
    assert old != new
    assert decode_cursor(old, 2) == decode_cursor(new, 2) == values
