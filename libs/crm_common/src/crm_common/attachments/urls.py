"""Signed attachment URLs: the kit's HMAC (``crm_common.signing``) over (action, attachment id
[, requester], expiry) for one purpose per use (``crm-tasks-attachment``, ...).

The signature binds a URL to one attachment, one action (``upload`` or ``download``), an expiry
and, when the service asks for it, the employee the URL was made for (``by``); changing any of
them, or presenting it after the expiry, is refused. The secret is the service's own
(``ATTACHMENT_URL_SECRET``); every replica must share it. Without ``by`` the signed message is
``<purpose>\\n<action>\\n<id>\\n<expires>``, the one the tasks service signed before the store
moved to the kit, so URLs handed out before an upgrade keep working.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from crm_common import signing
from crm_common.signing import MAX_EXPIRY_DIGITS, BadSignature

__all__ = ["MAX_EXPIRY_DIGITS", "Action", "BadSignature", "SignedUrls", "sign", "verify"]


class Action(enum.Enum):
    UPLOAD = "upload"
    DOWNLOAD = "download"


def _subject(action: Action, attachment_id: uuid.UUID, by: uuid.UUID | None) -> str:
    base = f"{action.value}\n{attachment_id}"
    return base if by is None else f"{base}\nby={by}"


def sign(secret: bytes, purpose: str, action: Action, attachment_id: uuid.UUID, expires: int,
         by: uuid.UUID | None = None) -> str:
    return signing.sign(secret, purpose, _subject(action, attachment_id, by), expires)


def verify(secret: bytes, purpose: str, action: Action, attachment_id: uuid.UUID,
           expires: str | None, signature: str | None, now: float,
           by: uuid.UUID | None = None) -> None:
    """Raise ``BadSignature`` unless ``signature`` is ours for these values and not expired."""
    signing.verify(secret, purpose, _subject(action, attachment_id, by), expires, signature,
                   now)


@dataclass(frozen=True)
class SignedUrls:
    """How one use of the store makes and checks its URLs:
    ``<base_url><prefix><id>/content?exp=..&sig=..[&by=..]``."""

    secret: bytes
    #: one line naming the use (``crm-tasks-attachment``); a URL of one use never works for
    #: another, even with the same secret
    purpose: str
    #: ``http(s)://host[:port]`` (no trailing ``/``): where the service is reached
    base_url: str
    #: the routes' prefix, starting and ending with ``/`` (``/attachments/``)
    prefix: str
    upload_ttl: dt.timedelta = dt.timedelta(minutes=15)
    download_ttl: dt.timedelta = dt.timedelta(minutes=5)

    def __post_init__(self) -> None:
        if not (self.prefix.startswith("/") and self.prefix.endswith("/")
                and len(self.prefix) > 1):
            raise ValueError(f"an attachment URL prefix is /…/, not {self.prefix!r}")
        if len(self.secret) < signing.MIN_SECRET_BYTES:
            raise ValueError(f"the URL secret must be at least {signing.MIN_SECRET_BYTES} bytes")

    def signed_url(self, action: Action, attachment_id: uuid.UUID,
                   expires_at: dt.datetime | None = None, *, by: uuid.UUID | None = None
                   ) -> tuple[str, dt.datetime]:
        """The URL and its expiry (by default now plus the action's time to live). With
        ``by``, the URL is good only as the employee's: the service's ``authorise`` callback
        is told who."""
        if expires_at is None:
            ttl = self.upload_ttl if action is Action.UPLOAD else self.download_ttl
            expires = int(time.time() + ttl.total_seconds())
        else:
            expires = int(expires_at.timestamp())
        params = {"exp": str(expires),
                  "sig": sign(self.secret, self.purpose, action, attachment_id, expires, by)}
        if by is not None:
            params["by"] = str(by)
        url = f"{self.base_url}{self.prefix}{attachment_id}/content?{urlencode(params)}"
        return url, dt.datetime.fromtimestamp(expires, dt.UTC)

    def verify(self, action: Action, attachment_id: uuid.UUID, expires: str | None,
               signature: str | None, by: str | None, now: float) -> uuid.UUID | None:
        """The employee the URL was made for (None: anyone holding it); ``BadSignature``
        unless the URL is ours, for this action and attachment, and not expired."""
        who: uuid.UUID | None = None
        if by is not None:
            try:
                who = uuid.UUID(by)
            except ValueError:
                raise BadSignature("malformed signature") from None
        verify(self.secret, self.purpose, action, attachment_id, expires, signature, now, who)
        return who
