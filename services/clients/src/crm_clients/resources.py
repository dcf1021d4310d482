"""What the clients service holds beside the shared runtime for the inventory's files: the
attachment store's settings, one GridFS bucket and one set of signed URLs per use (placement
protocols, audit photos). Built in the lifespan (``app.py``), where the stores are opened, and
handed down through the lifespan state as ``request.state.inventory_files``
(:func:`files_of`)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from crm_common.attachments import AttachmentStore, SignedUrls, StoreSettings
from crm_common.service import state_of

#: the lifespan state's key of the inventory's files
FILES = "inventory_files"
#: one signature purpose and one path per use, so that a URL of one never works for the other
PROTOCOL_PURPOSE, PROTOCOL_PREFIX = "crm-clients-placement-protocol", "/inventory/protocols/"
PHOTO_PURPOSE, PHOTO_PREFIX = "crm-clients-audit-photo", "/inventory/photos/"
#: GridFS buckets, in the clients service's own MongoDB database (MONGODB_DATABASE)
PROTOCOL_BUCKET, PHOTO_BUCKET = "placement_protocols", "audit_photos"


@dataclass(frozen=True)
class Urls:
    protocols: SignedUrls
    photos: SignedUrls

    @classmethod
    def of(cls, settings: StoreSettings) -> Urls:
        return cls(settings.urls(PROTOCOL_PURPOSE, PROTOCOL_PREFIX),
                   settings.urls(PHOTO_PURPOSE, PHOTO_PREFIX))


@dataclass(frozen=True)
class InventoryFiles:
    settings: StoreSettings
    urls: Urls
    protocols: AttachmentStore
    photos: AttachmentStore


def files_of(request: Request) -> InventoryFiles:
    """The inventory's file stores and URLs, from the request's lifespan state."""
    return state_of(request, FILES, InventoryFiles)
