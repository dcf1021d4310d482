"""Background jobs of a service process: a job run on a timer until the process stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("crm.background")


async def every(seconds: float, stop: asyncio.Event, name: str,
                job: Callable[[], Awaitable[object]]) -> None:
    """Run ``job`` now and then every ``seconds`` until ``stop``; a failure is logged and the
    next round runs as planned."""
    while not stop.is_set():
        try:
            await job()
        except Exception:  # noqa: BLE001 - a background job must outlive a bad round
            log.exception("%s failed; retrying in %.0f s", name, seconds)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=seconds)
