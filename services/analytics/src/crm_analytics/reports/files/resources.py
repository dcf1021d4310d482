"""What the report files need at run time, built in the lifespan (``app.py``) and handed down
through the lifespan state as ``request.state.report_files`` (:func:`files_of`): the settings,
the GridFS store, the signed URLs, and the files being made in this process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from crm_analytics.reports.files.settings import FileSettings
from crm_common.attachments.files import AttachmentStore
from crm_common.attachments.urls import SignedUrls
from crm_common.service import state_of

log = logging.getLogger("crm.analytics.files")

#: the lifespan state's key
RESOURCES = "report_files"


@dataclass
class FileJobs:
    """Files being made in this process, in background tasks the lifespan cancels (a file cut
    short that way is recorded as failed by the task itself)."""

    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def start(self, work: Coroutine[Any, Any, str]) -> asyncio.Task[str]:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("making a report file failed", exc_info=task.exception())

    async def stop(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(BaseException):
                await task


@dataclass(frozen=True)
class FileResources:
    settings: FileSettings
    store: AttachmentStore
    urls: SignedUrls
    jobs: FileJobs


def files_of(request: Request) -> FileResources:
    return state_of(request, RESOURCES, FileResources)
