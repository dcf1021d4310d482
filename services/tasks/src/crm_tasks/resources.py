"""What the tasks service holds beside the shared runtime: its settings, the GridFS store and
the signer of attachment URLs. Built in the lifespan (``app.py``), where the store is opened,
and handed down through the lifespan state as ``request.state.tasks`` (:func:`resources_of`)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import Request

from crm_common.service import state_of
from crm_tasks.adapters.files import AttachmentStore
from crm_tasks.config import TasksSettings
from crm_tasks.domain.signing import Action, sign

#: the lifespan state's key of the tasks service's resources
RESOURCES = "tasks"


@dataclass(frozen=True)
class Resources:
    settings: TasksSettings
    store: AttachmentStore

    def signed_url(self, action: Action, attachment_id: uuid.UUID,
                   expires_at: dt.datetime | None = None) -> tuple[str, dt.datetime]:
        """``<PUBLIC_BASE_URL>/attachments/<id>/content?exp=..&sig=..`` and its expiry (by
        default now plus the action's time to live)."""
        if expires_at is None:
            ttl = self.settings.upload_url_ttl if action is Action.UPLOAD \
                else self.settings.download_url_ttl
            expires = int(time.time() + ttl.total_seconds())
        else:
            expires = int(expires_at.timestamp())
        query = urlencode({"exp": expires,
                           "sig": sign(self.settings.url_secret, action, attachment_id, expires)})
        url = f"{self.settings.public_base_url}/attachments/{attachment_id}/content?{query}"
        return url, dt.datetime.fromtimestamp(expires, dt.UTC)


def resources_of(request: Request) -> Resources:
    """The tasks service's resources, from the request's lifespan state."""
    return state_of(request, RESOURCES, Resources)
