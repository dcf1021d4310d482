"""The kit's background loop (``crm_common.background.every``: the tasks service's reminders and
sweeper, the analytics service's report-file sweeper): runs at once and then every interval,
survives a failing round, stops when told."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from crm_common.background import every, running


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


async def test_running_runs_every_job_until_the_block_ends_then_stops_them() -> None:
    runs: dict[str, int] = {"a": 0, "b": 0}
    both_ran = asyncio.Event()

    def counting(name: str) -> Callable[[], Awaitable[object]]:
        async def job() -> None:
            runs[name] += 1
            if name == "b":
                raise RuntimeError("b fails every round")  # and must not hold "a" back
            if runs["a"] >= 3 and runs["b"] >= 3:
                both_ran.set()
        return job

    async with running([(0.01, "a", counting("a")), (0.01, "b", counting("b"))]):
        await asyncio.wait_for(both_ran.wait(), timeout=5)
    after = dict(runs)
    await asyncio.sleep(0.05)
    assert runs == after  # nothing runs once the block is left


async def test_running_cancels_a_round_that_outlives_the_grace() -> None:
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async with running([(60, "stuck", stuck)], grace=0.05):
        await asyncio.wait_for(started.wait(), timeout=5)
    assert cancelled == [True]


async def test_running_with_no_jobs_is_a_no_op() -> None:
    async with running([]):
        pass
