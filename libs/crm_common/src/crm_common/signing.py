"""Signed URLs: HMAC-SHA256 over (purpose, subject, expiry), one implementation for every
service that hands out a link authorised by its signature rather than a bearer token (the tasks
service's attachments, the pricing service's exports).

- ``purpose`` names what the URL is for and who made it (``crm-tasks-attachment``,
  ``crm-pricing-export``): a signature made for one purpose never verifies for another, even with
  the same secret and subject. One line of text, not empty.
- ``subject`` is what the URL is about (an attachment id and the action, an export id); any
  text. The signed message is ``purpose \\n subject \\n expires``: the purpose is the first line
  and the expiry (digits) the last, so the subject may hold newlines without ambiguity.
- ``expires`` is a Unix time in whole seconds; after it the URL is refused.

The secret is the service's own (``ATTACHMENT_URL_SECRET``, ``EXPORT_URL_SECRET``), at least
:data:`MIN_SECRET_BYTES`, the same on every replica. Verification compares in constant time and
refuses a malformed expiry or signature before computing anything.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from crm_common.settings import EnvReader, SettingsError

__all__ = ["MAX_EXPIRY_DIGITS", "MIN_SECRET_BYTES", "BadSignature", "secret_from_env", "sign",
           "signed_params", "verify"]

log = logging.getLogger("crm.signing")

MIN_SECRET_BYTES = 32
MAX_EXPIRY_DIGITS = 12
_HEX_LENGTH = 64


class BadSignature(Exception):
    """The URL's signature is missing, malformed, not ours for these values, or expired;
    ``reason`` says which (for logs, not for the caller)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _message(purpose: str, subject: str, expires: int) -> bytes:
    if not purpose or "\n" in purpose or "\r" in purpose:
        raise ValueError("purpose is one non-empty line")
    if expires < 0:
        raise ValueError("expires is a Unix time")
    return f"{purpose}\n{subject}\n{expires}".encode()


def sign(secret: bytes, purpose: str, subject: str, expires: int) -> str:
    """The hex HMAC-SHA256 of ``purpose``, ``subject`` and ``expires`` under ``secret``."""
    return hmac.new(secret, _message(purpose, subject, expires), hashlib.sha256).hexdigest()


def signed_params(secret: bytes, purpose: str, subject: str, expires: int) -> dict[str, str]:
    """The query parameters of a signed URL: ``{"expires": …, "sig": …}``."""
    return {"expires": str(expires), "sig": sign(secret, purpose, subject, expires)}


def verify(secret: bytes, purpose: str, subject: str, expires: str | None,
           signature: str | None, now: float) -> None:
    """Raise :class:`BadSignature` unless ``signature`` is ours for these values and ``expires``
    (as the URL carries it, text) is not before ``now``."""
    if not expires or not signature:
        raise BadSignature("missing signature")
    if not expires.isascii() or not expires.isdigit() or len(expires) > MAX_EXPIRY_DIGITS \
            or len(signature) != _HEX_LENGTH:
        raise BadSignature("malformed signature")
    expected = sign(secret, purpose, subject, int(expires))
    if not hmac.compare_digest(expected, signature.lower()):
        raise BadSignature("bad signature")
    if int(expires) < now:
        raise BadSignature("expired")


def secret_from_env(env: EnvReader, name: str, *, production: bool) -> bytes:
    """The HMAC key in variable ``name``: at least :data:`MIN_SECRET_BYTES`; required in
    production; elsewhere, when unset, a random per-process key with a warning (URLs it signs
    work only in this process and only until it restarts: fine for one development process,
    wrong for replicas)."""
    text = env.raw(name)
    if text:
        secret = text.encode()
        if len(secret) < MIN_SECRET_BYTES:
            raise SettingsError(f"{name} must be at least {MIN_SECRET_BYTES} bytes")
        return secret
    if production:
        raise SettingsError(f"{name} is required in production (at least {MIN_SECRET_BYTES} "
                            "bytes, the same on every replica)")
    log.warning("%s is not set: signing URLs with a random per-process key (set it in "
                "production)", name)
    return secrets.token_bytes(MIN_SECRET_BYTES)
