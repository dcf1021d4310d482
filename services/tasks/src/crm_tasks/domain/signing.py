"""Signed attachment URLs: HMAC-SHA256 over (action, attachment id, expiry).

The signature binds a URL to one attachment, one action (``upload`` or ``download``) and an
expiry; changing any of them, or presenting it after the expiry, is refused. The secret comes from
``ATTACHMENT_URL_SECRET``; every replica of the service must share it.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import uuid


class Action(enum.Enum):
    UPLOAD = "upload"
    DOWNLOAD = "download"


class BadSignature(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


MAX_EXPIRY_DIGITS = 12


def sign(secret: bytes, action: Action, attachment_id: uuid.UUID, expires: int) -> str:
    message = f"crm-tasks-attachment\n{action.value}\n{attachment_id}\n{expires}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify(secret: bytes, action: Action, attachment_id: uuid.UUID, expires: str | None,
           signature: str | None, now: float) -> None:
    """Raise ``BadSignature`` unless ``signature`` is ours for these values and not expired."""
    if not expires or not signature:
        raise BadSignature("missing signature")
    if not expires.isdigit() or len(expires) > MAX_EXPIRY_DIGITS or len(signature) != 64:
        raise BadSignature("malformed signature")
    expected = sign(secret, action, attachment_id, int(expires))
    if not hmac.compare_digest(expected, signature.lower()):
        raise BadSignature("bad signature")
    if int(expires) < now:
        raise BadSignature("expired")
