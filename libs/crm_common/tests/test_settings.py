"""The typed readers of settings: defaults for unset or blank variables, and errors that name the
variable a bad value came from. No server needed."""

from __future__ import annotations

import datetime as dt

import pytest

from crm_common.devkeys import generate_key_pair
from crm_common.settings import HOUR, EnvReader, Settings, SettingsError, database_url

_, PUBLIC = generate_key_pair()


def test_unset_or_blank_gives_the_default() -> None:
    env = EnvReader({"BLANK": "  "})
    assert env.raw("BLANK") is None and env.raw("UNSET") is None
    assert env.text("BLANK", "d") == "d"
    assert env.boolean("BLANK", True) is True
    assert env.integer("UNSET", 7, min=1) == 7
    assert env.number("UNSET", 1.5) == 1.5
    assert env.duration("UNSET", dt.timedelta(seconds=3)) == dt.timedelta(seconds=3)
    assert env.url("UNSET", "http://x:1/") == "http://x:1"
    assert env.choice("UNSET", "a", ("a", "b")) == "a"
    assert env.parsed("UNSET", int, 5) == 5


def test_values_are_parsed() -> None:
    env = EnvReader({"B": " Yes ", "N": "0", "I": "42", "F": "2.5", "D": "90", "H": "1.5",
                     "U": "https://crm.example.com/", "C": "b", "S": " text "})
    assert env.boolean("B", False) is True and env.boolean("N", True) is False
    assert env.integer("I", 0, min=1, max=100) == 42
    assert env.number("F", 0, positive=True) == 2.5
    assert env.duration("D", dt.timedelta(0)) == dt.timedelta(seconds=90)
    assert env.duration("H", dt.timedelta(0), unit=HOUR) == dt.timedelta(minutes=90)
    assert env.url("U", "http://x") == "https://crm.example.com"
    assert env.choice("C", "a", ("a", "b")) == "b"
    assert env.text("S", "") == "text"


@pytest.mark.parametrize(("read", "value", "says"), [
    (lambda e: e.boolean("THE_VAR", True), "maybe", "true or false"),
    (lambda e: e.integer("THE_VAR", 1), "ten", "whole number"),
    (lambda e: e.integer("THE_VAR", 1), "1.5", "whole number"),
    (lambda e: e.integer("THE_VAR", 1, min=1), "0", "at least 1"),
    (lambda e: e.integer("THE_VAR", 1, max=9), "10", "at most 9"),
    (lambda e: e.number("THE_VAR", 1.0), "x", "a number"),
    (lambda e: e.number("THE_VAR", 1.0), "nan", "finite"),
    (lambda e: e.number("THE_VAR", 1.0, positive=True), "0", "more than zero"),
    (lambda e: e.duration("THE_VAR", dt.timedelta(0)), "-1", "at least 0"),
    (lambda e: e.duration("THE_VAR", dt.timedelta(1), positive=True), "0", "more than zero"),
    (lambda e: e.url("THE_VAR", "http://x"), "ftp://x", "http:// or https://"),
    (lambda e: e.url("THE_VAR", "http://x"), "crm.example.com", "http://"),
    (lambda e: e.choice("THE_VAR", "a", ("a", "b")), "c", "one of a, b"),
    (lambda e: e.parsed("THE_VAR", int, 0), "x", "THE_VAR: "),
])
def test_a_bad_value_names_its_variable(read: object, value: str, says: str) -> None:
    with pytest.raises(SettingsError) as caught:
        read(EnvReader({"THE_VAR": value}))  # type: ignore[operator]
    message = str(caught.value)
    assert "THE_VAR" in message and says in message and repr(value.strip()) in message


def test_a_settings_error_is_a_value_error() -> None:
    assert issubclass(SettingsError, ValueError)


def _settings(**env: str) -> Settings:
    return Settings.from_env("demo", 9000, environ={"JWT_PUBLIC_KEY": PUBLIC, **env})


@pytest.mark.parametrize(("name", "value"), [
    ("SERVICE_PORT", "http"), ("SERVICE_PORT", "70000"), ("GRAPHQL_MAX_DEPTH", "0"),
    ("GRAPHQL_MAX_ALIASES", "many"), ("GRAPHQL_MAX_TOKENS", "-1"),
    ("GRAPHQL_MAX_PAGE_SIZE", "1e3"), ("MAX_BODY_BYTES", "1MB"), ("DB_POOL_SIZE", "0"),
    ("ACCESS_GRACE_HOURS", "-2"), ("ACCESS_GRACE_HOURS", "inf"), ("RUN_CONSUMERS", "2"),
    ("CRM_ENV", "staging"), ("LOG_LEVEL", "LOUD"),
])
def test_every_service_setting_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        _settings(**{name: value})


def test_the_grace_period_has_one_source() -> None:
    assert _settings().access_grace == dt.timedelta(hours=24)
    assert _settings(ACCESS_GRACE_HOURS="0.5").access_grace == dt.timedelta(minutes=30)


def test_the_database_url_needs_nothing_else() -> None:
    assert database_url("demo", {}).endswith("/crm_demo")
    assert database_url("demo", {"DATABASE_URL": "postgresql+asyncpg://h/x"}) == \
        "postgresql+asyncpg://h/x"
    assert _settings(LOG_LEVEL="debug").log_level == "DEBUG"
