"""The shared middleware's body limit (MAX_BODY_BYTES) does not apply to the upload route, which
enforces its own limit while streaming; it still applies everywhere else."""

from __future__ import annotations

from typing import Any

from crm_common.auth import TokenVerifier
from crm_common.devkeys import generate_key_pair
from crm_common.http import BodyTooLarge, ServiceMiddleware

_, PUBLIC = generate_key_pair()


async def _echo(scope: Any, receive: Any, send: Any) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


async def _put(app: ServiceMiddleware, path: str, body: bytes, chunks: int,
               length: bool) -> tuple[int, bytes]:
    step = len(body) // chunks
    parts = [body[i * step:(i + 1) * step] for i in range(chunks - 1)] + \
        [body[(chunks - 1) * step:]]
    messages = [{"type": "http.request", "body": p, "more_body": i < len(parts) - 1}
                for i, p in enumerate(parts)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"content-length", str(len(body)).encode())] if length else []
    await app({"type": "http", "method": "PUT", "path": path, "headers": headers},
              receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


def _app() -> ServiceMiddleware:
    return ServiceMiddleware(_echo, service="t", verifier=TokenVerifier(PUBLIC, "i", "a"),
                             max_body_bytes=100, body_limit_exempt=("/attachments/",))


async def test_upload_paths_are_exempt_other_paths_are_not() -> None:
    body = b"x" * 1000
    assert await _put(_app(), "/attachments/a/content", body, 4, True) == (200, b"1000")
    assert await _put(_app(), "/attachments/a/content", body, 4, False) == (200, b"1000")
    status, _ = await _put(_app(), "/other", body, 1, True)
    assert status == 413
    try:
        await _put(_app(), "/other", body, 4, False)
    except BodyTooLarge:
        pass
    else:
        raise AssertionError("a chunked body over the limit passed elsewhere")
