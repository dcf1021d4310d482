"""The daily contract job's settings and schedule (no server needed)."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_clients.service_layer.contract_jobs import (
    LOCK_KEY,
    JobSettings,
    _seconds_until_next_run,
)


def test_settings_from_the_environment() -> None:
    assert JobSettings.from_env({}) == JobSettings(notice_days=(30,), enabled=True)
    job = JobSettings.from_env({"CONTRACT_EXPIRY_NOTICE_DAYS": "7,30,90",
                                "RUN_CONTRACT_JOB": "false"})
    assert job == JobSettings(notice_days=(90, 30, 7), enabled=False)
    for bad in ({"CONTRACT_EXPIRY_NOTICE_DAYS": "thirty"}, {"RUN_CONTRACT_JOB": "maybe"},
                {"CONTRACT_EXPIRY_NOTICE_DAYS": "-1"}):
        with pytest.raises(ValueError):
            JobSettings.from_env(bad)


def test_the_next_run_is_five_past_midnight_in_sofia() -> None:
    # 21:00 UTC on 30 June is 00:00 on 1 July in Sofia (summer time, UTC+3)
    assert _seconds_until_next_run(dt.datetime(2026, 6, 30, 21, 0, tzinfo=dt.UTC)) == 300
    # 22:05 UTC in winter is 00:05 in Sofia (UTC+2): the run is due now, the next in a day
    assert _seconds_until_next_run(
        dt.datetime(2026, 1, 15, 22, 5, tzinfo=dt.UTC)) == 24 * 3600
    # the night the clocks go forward (29 March 2026) has 23 hours
    assert _seconds_until_next_run(
        dt.datetime(2026, 3, 28, 22, 5, tzinfo=dt.UTC)) == 23 * 3600


def test_the_lock_key_is_a_postgresql_bigint() -> None:
    assert 0 < LOCK_KEY < 2**63


def test_a_bad_value_names_its_variable() -> None:
    from crm_common.settings import SettingsError

    for name, value in (("CONTRACT_EXPIRY_NOTICE_DAYS", "thirty"),
                        ("CONTRACT_EXPIRY_NOTICE_DAYS", "4000"), ("RUN_CONTRACT_JOB", "maybe")):
        with pytest.raises(SettingsError, match=name):
            JobSettings.from_env({name: value})
