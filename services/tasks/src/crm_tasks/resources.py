"""What the tasks service holds beside the shared runtime: its settings, the GridFS store of
attachments and their signed URLs. Built in the lifespan (``app.py``), where the store is
opened, and handed down through the lifespan state as ``request.state.tasks``
(:func:`resources_of`)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from crm_common.attachments import AttachmentStore, SignedUrls
from crm_common.service import state_of
from crm_tasks.config import TasksSettings

#: the lifespan state's key of the tasks service's resources
RESOURCES = "tasks"
#: the signature purpose and the path of attachment URLs (unchanged since before the move to
#: the kit: URLs handed out earlier keep working)
URL_PURPOSE = "crm-tasks-attachment"
URL_PREFIX = "/attachments/"


@dataclass(frozen=True)
class Resources:
    settings: TasksSettings
    store: AttachmentStore
    #: ``<PUBLIC_BASE_URL>/attachments/<id>/content?exp=..&sig=..`` (:func:`attachment_urls`)
    urls: SignedUrls


def attachment_urls(settings: TasksSettings) -> SignedUrls:
    return settings.store.urls(URL_PURPOSE, URL_PREFIX)


def resources_of(request: Request) -> Resources:
    """The tasks service's resources, from the request's lifespan state."""
    return state_of(request, RESOURCES, Resources)
