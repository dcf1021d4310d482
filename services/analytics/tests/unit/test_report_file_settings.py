"""The report files' settings: read once, a bad value stops the service naming the variable."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_analytics.reports.files.settings import FileSettings
from crm_common.settings import Settings, SettingsError

SECRET = "s" * 32


def _base(env: str = "test") -> Settings:
    key = "-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----"
    return Settings.from_env("analytics", 8105, environ={"CRM_ENV": env, "JWT_PUBLIC_KEY": key})


def test_defaults_and_values_are_read() -> None:
    s = FileSettings.from_env(_base(), {"ATTACHMENT_URL_SECRET": SECRET})
    assert (s.retention, s.max_rows, s.pdf_max_rows, s.run_sweeper) == (
        dt.timedelta(hours=72), 200_000, 1_000, True)
    assert s.store.mongodb_database == "crm_analytics"
    s = FileSettings.from_env(_base(), {
        "ATTACHMENT_URL_SECRET": SECRET, "REPORT_FILE_RETENTION_HOURS": "2",
        "REPORT_FILE_MAX_ROWS": "1000000", "REPORT_PDF_MAX_ROWS": " 50 ",
        "RUN_REPORT_SWEEPER": "off"})
    assert (s.retention, s.max_rows, s.pdf_max_rows, s.run_sweeper) == (
        dt.timedelta(hours=2), 1_000_000, 50, False)
    assert s.row_cap(pdf=True) == 50 and s.row_cap(pdf=False) == 1_000_000
    assert s.urls().prefix == "/report-files/"


@pytest.mark.parametrize(("name", "value"), [
    ("REPORT_FILE_MAX_ROWS", "0"), ("REPORT_FILE_MAX_ROWS", "1000001"),
    ("REPORT_FILE_MAX_ROWS", "lots"), ("REPORT_PDF_MAX_ROWS", "-1"),
    ("REPORT_PDF_MAX_ROWS", "50001"), ("REPORT_FILE_RETENTION_HOURS", "0"),
    ("REPORT_FILE_RETENTION_HOURS", "-3"), ("REPORT_FILE_RETENTION_HOURS", "nan"),
    ("REPORT_FILE_INLINE_WAIT_SECONDS", "61"), ("RUN_REPORT_SWEEPER", "maybe"),
])
def test_a_bad_value_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        FileSettings.from_env(_base(), {"ATTACHMENT_URL_SECRET": SECRET, name: value})


def test_the_url_secret_is_required_in_production() -> None:
    with pytest.raises(SettingsError, match="ATTACHMENT_URL_SECRET is required in production"):
        FileSettings.from_env(_base("production"), {})
    with pytest.raises(SettingsError, match="at least 32 bytes"):
        FileSettings.from_env(_base("production"), {"ATTACHMENT_URL_SECRET": "short"})
