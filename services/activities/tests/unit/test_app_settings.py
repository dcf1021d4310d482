"""The activities service's own variable (CALENDAR_BASE_URL) goes through the typed readers."""

from __future__ import annotations

import pytest

from crm_activities.app import create_app
from crm_common.devkeys import generate_key_pair
from crm_common.settings import Settings, SettingsError


def test_a_bad_calendar_base_url_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    _, public = generate_key_pair()
    settings = Settings.from_env("activities", 8102, environ={"JWT_PUBLIC_KEY": public})
    monkeypatch.setenv("CALENDAR_BASE_URL", "calendar.example.com")
    with pytest.raises(SettingsError, match="CALENDAR_BASE_URL"):
        create_app(settings)
