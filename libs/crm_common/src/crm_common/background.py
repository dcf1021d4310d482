"""Background jobs of a service process: a job run on a timer until the process stops.

``every`` is the loop; ``running`` starts several of them for the span of a ``with`` block and
stops and awaits them when the block ends — what a service's ``extra_lifespan`` needs when its
jobs use resources it closes itself (the jobs must stop before the resources go, which is before
the kit's own ``runtime.stop``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

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


#: a job for :func:`running`: (interval in seconds, name for the logs, the job)
Job = tuple[float, str, Callable[[], Awaitable[object]]]


@contextlib.asynccontextmanager
async def running(jobs: list[Job], *, grace: float = 10.0) -> AsyncIterator[None]:
    """Run each job with :func:`every` (one loop each, so that a failing job does not hold the
    others back) while the block runs; on leaving it, stop them and wait up to ``grace``
    seconds for a round in progress to finish (one still running then is cancelled)."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(every(seconds, stop, name, job), name=name)
             for seconds, name, job in jobs]
    try:
        yield
    finally:
        stop.set()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                log.warning("%s did not stop within %.0f s; cancelled", task.get_name(), grace)
                task.cancel()
            if pending:
                await asyncio.wait(pending)
