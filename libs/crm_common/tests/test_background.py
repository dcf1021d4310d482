"""The kit's background loop (``crm_common.background.every``: the tasks service's reminders and
sweeper, the analytics service's report-file sweeper): runs at once and then every interval,
survives a failing round, stops when told."""

from __future__ import annotations

import asyncio

from crm_common.background import every


async def test_runs_repeatedly_survives_failures_and_stops() -> None:
    stop = asyncio.Event()
    calls: list[int] = []

    async def job() -> None:
        calls.append(len(calls))
        if len(calls) == 2:
            raise RuntimeError("a bad round")
        if len(calls) == 4:
            stop.set()

    await asyncio.wait_for(every(0.01, stop, "test", job), timeout=5)
    assert calls == [0, 1, 2, 3]


async def test_an_already_stopped_loop_does_nothing() -> None:
    stop = asyncio.Event()
    stop.set()
    ran: list[bool] = []

    async def job() -> None:
        ran.append(True)

    await every(60, stop, "test", job)
    assert ran == []
