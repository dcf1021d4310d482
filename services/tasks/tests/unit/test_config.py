"""The attachment URL secret: required in production, a per-process key elsewhere."""

from __future__ import annotations

import pytest

from crm_common.settings import Settings, SettingsError
from crm_common.signing import MIN_SECRET_BYTES
from crm_tasks.config import TasksSettings


def _base(env: str) -> Settings:
    return Settings.from_env("tasks", 8103, environ={"CRM_ENV": env, "JWT_PUBLIC_KEY": "k"})


def test_production_refuses_to_start_without_a_shared_secret() -> None:
    with pytest.raises(SettingsError, match="ATTACHMENT_URL_SECRET is required"):
        TasksSettings.from_env(_base("production"), {"CRM_ENV": "production"})


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(SettingsError, match="at least"):
        TasksSettings.from_env(_base("production"), {"ATTACHMENT_URL_SECRET": "short"})


@pytest.mark.parametrize("env", ["development", "test"])
def test_outside_production_a_random_key_is_used(env: str) -> None:
    one = TasksSettings.from_env(_base(env), {})
    two = TasksSettings.from_env(_base(env), {})
    assert one.store.url_secret != two.store.url_secret
    assert len(one.store.url_secret) >= MIN_SECRET_BYTES


@pytest.mark.parametrize(("name", "value"), [
    ("ATTACHMENT_MAX_BYTES", "50MB"), ("UPLOAD_URL_TTL_SECONDS", "0"),
    ("DOWNLOAD_URL_TTL_SECONDS", "soon"), ("REMINDER_LEAD_HOURS", "-1"),
    ("REMINDER_INTERVAL_SECONDS", "0"), ("SWEEPER_INTERVAL_SECONDS", "x"),
    ("STALE_UPLOAD_SECONDS", "nan"), ("RUN_SCHEDULER", "sometimes"),
    ("TASKS_TIMEZONE", "Mars/Olympus"), ("PUBLIC_BASE_URL", "tasks.example.com"),
    ("AUDIT_TASK_DUE_DAYS", "-1"), ("AUDIT_TASK_DUE_DAYS", "366"),
    ("AUDIT_TASK_DUE_DAYS", "a week"),
])
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        TasksSettings.from_env(_base("test"), {name: value})
