"""Signed URLs: HMAC-SHA256 over (purpose, subject, expiry).

A signature binds a URL to one purpose (``crm-tasks-attachment/download``,
``crm-pricing-price-list-export``), one subject (what the URL gives access to, as a string the
caller builds from everything that must not change) and an expiry (Unix seconds); changing any
of them, or presenting it after the expiry, is refused. The secret is the service's
(``ATTACHMENT_URL_SECRET``, ``EXPORT_URL_SECRET``); every replica must share it.
"""

from __future__ import annotations

import hashlib
import hmac


class BadSignature(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


MAX_EXPIRY_DIGITS = 12


def sign(secret: bytes, purpose: str, subject: str, expires: int) -> str:
    message = f"{purpose}\n{subject}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify(secret: bytes, purpose: str, subject: str, expires: str | None,
           signature: str | None, now: float) -> None:
    """Raise ``BadSignature`` unless ``signature`` is ours for these values and not expired."""
    if not expires or not signature:
        raise BadSignature("missing signature")
    if not expires.isdigit() or len(expires) > MAX_EXPIRY_DIGITS or len(signature) != 64:
        raise BadSignature("malformed signature")
    expected = sign(secret, purpose, subject, int(expires))
    if not hmac.compare_digest(expected, signature.lower()):
        raise BadSignature("bad signature")
    if int(expires) < now:
        raise BadSignature("expired")
