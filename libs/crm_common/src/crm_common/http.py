"""ASGI middleware shared by the services: correlation id, body limit, authentication, metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from crm_common.auth import AuthenticationError, TokenVerifier
from crm_common.correlation import accept_or_new, correlation_id
from crm_common.idempotency import requested_key
from crm_common.metrics import HTTP_LATENCY, HTTP_REQUESTS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _json_response(send: Send, status: int, body: dict[str, Any], cid: str) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"x-correlation-id", cid.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def graphql_error(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


class ServiceMiddleware:
    """Correlation id in and out; request body limit; bearer token on GraphQL paths; metrics;
    the ``Idempotency-Key`` header, as sent, for the mutation helper
    (``crm_common.idempotency.requested_key``).

    The principal is put in ``scope["state"]["principal"]`` for the GraphQL context.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        service: str,
        verifier: TokenVerifier,
        max_body_bytes: int,
        protected_prefixes: tuple[str, ...] = ("/graphql",),
        body_limit_exempt: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.service = service
        self.verifier = verifier
        self.max_body_bytes = max_body_bytes
        self.protected = protected_prefixes
        #: path prefixes whose routes enforce their own body limit while streaming (uploads)
        self.body_limit_exempt = body_limit_exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cid = accept_or_new(_header(scope, b"x-correlation-id"))
        token = correlation_id.set(cid)
        key_token = requested_key.set(_header(scope, b"idempotency-key"))
        path: str = scope.get("path", "")
        metric_path = path if path in {"/graphql", "/healthz", "/healthz/details", "/readyz",
                                       "/metrics"} else "other"
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-correlation-id", cid.encode()))
                message["headers"] = headers
            await send(message)

        try:
            if self.body_limit_exempt and path.startswith(self.body_limit_exempt):
                await self.app(scope, receive, send_wrapper)
                return
            length = _header(scope, b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
                status_holder["status"] = 413
                await _json_response(
                    send,
                    413,
                    graphql_error(
                        f"Request body exceeds the limit of {self.max_body_bytes} bytes",
                        "PAYLOAD_TOO_LARGE",
                    ),
                    cid,
                )
                return
            if path.startswith(self.protected) and scope.get("method") != "OPTIONS":
                try:
                    principal = self.verifier.verify(_header(scope, b"authorization"))
                except AuthenticationError as exc:
                    status_holder["status"] = 401
                    await _json_response(send, 401, graphql_error(str(exc), "UNAUTHENTICATED"), cid)
                    return
                scope.setdefault("state", {})["principal"] = principal
            await self.app(scope, self._limited(receive), send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            HTTP_REQUESTS.labels(self.service, metric_path, str(status_holder["status"])).inc()
            HTTP_LATENCY.labels(self.service, metric_path).observe(elapsed)
            correlation_id.reset(token)
            requested_key.reset(key_token)

    def _limited(self, receive: Receive) -> Receive:
        """Refuse a chunked body that grows past the limit (no Content-Length to trust)."""
        seen = 0
        limit = self.max_body_bytes

        async def wrapped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return wrapped


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit} bytes")
