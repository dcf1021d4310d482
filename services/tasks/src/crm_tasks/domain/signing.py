"""Signed attachment URLs: the kit's HMAC (``crm_common.signing``) over (action, attachment
id, expiry) for the purpose ``crm-tasks-attachment``.

The signature binds a URL to one attachment, one action (``upload`` or ``download``) and an
expiry; changing any of them, or presenting it after the expiry, is refused. The secret comes from
``ATTACHMENT_URL_SECRET``; every replica of the service must share it. The signed message is the
one this module signed before the HMAC moved to the kit (``crm-tasks-attachment\\n<action>\\n<id>\\n
<expires>``), so URLs handed out before an upgrade keep working.
"""

from __future__ import annotations

import enum
import uuid

from crm_common import signing
from crm_common.signing import MAX_EXPIRY_DIGITS, BadSignature

__all__ = ["MAX_EXPIRY_DIGITS", "PURPOSE", "Action", "BadSignature", "sign", "verify"]

PURPOSE = "crm-tasks-attachment"


class Action(enum.Enum):
    UPLOAD = "upload"
    DOWNLOAD = "download"


def _subject(action: Action, attachment_id: uuid.UUID) -> str:
    return f"{action.value}\n{attachment_id}"


def sign(secret: bytes, action: Action, attachment_id: uuid.UUID, expires: int) -> str:
    return signing.sign(secret, PURPOSE, _subject(action, attachment_id), expires)


def verify(secret: bytes, action: Action, attachment_id: uuid.UUID, expires: str | None,
           signature: str | None, now: float) -> None:
    """Raise ``BadSignature`` unless ``signature`` is ours for these values and not expired."""
    signing.verify(secret, PURPOSE, _subject(action, attachment_id), expires, signature, now)
