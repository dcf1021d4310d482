"""Due soon / overdue windows in the business time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm_tasks.domain.reminder import due_moment, window

SOFIA = ZoneInfo("Europe/Sofia")


def test_a_task_is_due_by_the_end_of_its_due_date() -> None:
    assert due_moment(dt.date(2026, 12, 1), SOFIA) == dt.datetime(2026, 12, 2, tzinfo=SOFIA)


def test_window_with_a_day_of_lead() -> None:
    # 2026-12-01 08:00 in Sofia (06:00 UTC)
    now = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
    w = window(now, SOFIA, dt.timedelta(hours=24))
    assert w.today == dt.date(2026, 12, 1)
    # due 12-01 ends 12-02 00:00 (within 24 h) → due soon; due 12-02 ends 12-03 00:00 → not yet
    assert w.due_soon_until == dt.date(2026, 12, 1)


def test_window_uses_the_business_date_not_utc() -> None:
    # 23:30 UTC on 11-30 is already 12-01 in Sofia
    w = window(dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC), SOFIA, dt.timedelta(hours=1))
    assert w.today == dt.date(2026, 12, 1)


def test_longer_lead_reaches_further() -> None:
    now = dt.datetime(2026, 12, 1, 6, 0, tzinfo=dt.UTC)
    assert window(now, SOFIA, dt.timedelta(days=3)).due_soon_until == dt.date(2026, 12, 3)


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        window(dt.datetime(2026, 12, 1), SOFIA, dt.timedelta(hours=1))
