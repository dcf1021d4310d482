"""Service settings, read from the environment once at start-up (never at import).

Every variable is read through :class:`EnvReader`, the one set of typed readers: an unset or
blank variable gives the default, a malformed one raises :class:`SettingsError` with a message
that names the variable, says what it must be and repeats the value it got. Services read their
own variables with the same reader (``EnvReader(environ).integer("X", 5, min=1)``).

See ``docs/conventions.md`` for the full list of variables and their defaults.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
SECOND = dt.timedelta(seconds=1)
HOUR = dt.timedelta(hours=1)


class SettingsError(ValueError):
    """A required setting is missing or malformed (the message names the variable)."""


class EnvReader:
    """Typed readers over an environment mapping (``os.environ`` by default).

    Each reader takes the variable's name and its default, returned when the variable is unset
    or blank; surrounding white space is ignored.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ: Mapping[str, str] = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        """The value without surrounding white space; None when unset or blank."""
        value = self.environ.get(name)
        if value is None or not value.strip():
            return None
        return value.strip()

    def parsed(self, name: str, parse: Callable[[str], T], default: T) -> T:
        """``parse(value)``; a ``ValueError`` it raises becomes a ``SettingsError`` that names
        the variable."""
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            return parse(raw)
        except SettingsError:
            raise
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc} (got {raw!r})") from exc

    def text(self, name: str, default: str) -> str:
        raw = self.raw(name)
        return default if raw is None else raw

    def choice(self, name: str, default: str, choices: Collection[str]) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(sorted(choices))}, "
                                f"not {value!r}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        raw = self.raw(name)
        if raw is None:
            return default
        lowered = raw.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise SettingsError(f"{name} must be true or false (1/0, yes/no, on/off), not {raw!r}")

    def integer(self, name: str, default: int, *, min: int | None = None,  # noqa: A002
                max: int | None = None) -> int:  # noqa: A002
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
        _check_bounds(name, raw, value, min, max)
        return value

    def number(self, name: str, default: float, *, min: float | None = None,  # noqa: A002
               max: float | None = None, positive: bool = False) -> float:  # noqa: A002
        """A finite decimal number; ``positive``: more than zero."""
        raw = self.raw(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, not {raw!r}") from None
        if not math.isfinite(value):
            raise SettingsError(f"{name} must be a finite number, not {raw!r}")
        if positive and not value > 0:
            raise SettingsError(f"{name} must be more than zero, not {raw!r}")
        _check_bounds(name, raw, value, min, max)
        return value

    def duration(self, name: str, default: dt.timedelta, *, unit: dt.timedelta = SECOND,
                 positive: bool = False) -> dt.timedelta:
        """A number of ``unit`` (seconds unless told; ``ACCESS_GRACE_HOURS`` is in hours), never
        negative; ``positive``: more than zero."""
        raw = self.raw(name)
        if raw is None:
            return default
        return unit * self.number(name, 0.0, min=0.0, positive=positive)

    def url(self, name: str, default: str, *,
            schemes: Collection[str] = ("http", "https")) -> str:
        """A URL with one of ``schemes`` and a host, without a trailing slash."""
        value = self.text(name, default)
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.netloc:
            allowed = " or ".join(f"{s}://" for s in sorted(schemes))
            raise SettingsError(f"{name} must be a URL starting with {allowed} and naming a "
                                f"host, not {value!r}")
        return value.rstrip("/")


def _check_bounds(name: str, raw: str, value: float, low: float | None,
                  high: float | None) -> None:
    if low is not None and value < low:
        raise SettingsError(f"{name} must be at least {low:g}, not {raw!r}")
    if high is not None and value > high:
        raise SettingsError(f"{name} must be at most {high:g}, not {raw!r}")


def database_url(service_name: str, environ: Mapping[str, str] | None = None) -> str:
    """``DATABASE_URL``, by default the service's database on the local PostgreSQL (what
    ``migrate`` and one-off jobs need, without the rest of the settings)."""
    return EnvReader(environ).text(
        "DATABASE_URL", f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_{service_name}")


@dataclass(frozen=True)
class Settings:
    service_name: str
    env: str
    host: str
    port: int
    database_url: str
    amqp_url: str
    events_exchange: str
    jwt_public_key: str
    jwt_issuer: str
    jwt_audience: str
    run_relay: bool
    run_consumers: bool
    log_level: str
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_page_size: int = 100
    max_body_bytes: int = 1_048_576
    db_pool_size: int = 20
    #: how long after a meeting's end the rep keeps access to the client (DESIGN §6)
    access_grace_hours: float = 24.0
    #: prepended to the names of the queues this service consumes from (tests use their own)
    queue_prefix: str = ""
    #: uvicorn worker processes of ``serve`` (``crm_common.cli``): one serves what one core can
    web_concurrency: int = 1
    #: the direct exchange of the dead-letter, retry-return and replay routes (``crm.dlx``)
    dead_letter_exchange: str = "crm.dlx"

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def source(self) -> str:
        """CloudEvents ``source`` of the events this service publishes."""
        return f"crm/{self.service_name}"

    @property
    def access_grace(self) -> dt.timedelta:
        """The grace period of the access rule (``ACCESS_GRACE_HOURS``): its one source."""
        return self.access_grace_hours * HOUR

    @classmethod
    def from_env(
        cls,
        service_name: str,
        default_port: int,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        env = EnvReader(environ)
        crm_env = env.choice("CRM_ENV", "production", ("development", "production", "test"))
        key_pem = env.raw("JWT_PUBLIC_KEY")
        if key_pem is None:
            key_file = env.raw("JWT_PUBLIC_KEY_FILE")
            if key_file is None:
                raise SettingsError("JWT_PUBLIC_KEY_FILE (or JWT_PUBLIC_KEY) must be set")
            try:
                key_pem = Path(key_file).read_text()
            except OSError as exc:
                raise SettingsError(f"cannot read JWT_PUBLIC_KEY_FILE {key_file}: {exc}") from exc
        return cls(
            service_name=service_name,
            env=crm_env,
            host=env.text("SERVICE_HOST", "127.0.0.1"),
            port=env.integer("SERVICE_PORT", default_port, min=1, max=65535),
            database_url=database_url(service_name, env.environ),
            amqp_url=env.text("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            events_exchange=env.text("EVENTS_EXCHANGE", "crm.events"),
            jwt_public_key=key_pem,
            jwt_issuer=env.text("JWT_ISSUER", "crm-dev"),
            jwt_audience=env.text("JWT_AUDIENCE", "crm"),
            run_relay=env.boolean("RUN_RELAY", True),
            run_consumers=env.boolean("RUN_CONSUMERS", True),
            log_level=env.parsed("LOG_LEVEL", _log_level, "INFO"),
            max_depth=env.integer("GRAPHQL_MAX_DEPTH", 10, min=1),
            max_aliases=env.integer("GRAPHQL_MAX_ALIASES", 15, min=1),
            max_tokens=env.integer("GRAPHQL_MAX_TOKENS", 2000, min=1),
            max_page_size=env.integer("GRAPHQL_MAX_PAGE_SIZE", 100, min=1),
            max_body_bytes=env.integer("MAX_BODY_BYTES", 1_048_576, min=1),
            db_pool_size=env.integer("DB_POOL_SIZE", 20, min=1),
            access_grace_hours=env.number("ACCESS_GRACE_HOURS", 24.0, min=0),
            queue_prefix=env.text("QUEUE_PREFIX", ""),
            web_concurrency=env.integer("WEB_CONCURRENCY", 1, min=1, max=32),
            dead_letter_exchange=env.text("DEAD_LETTER_EXCHANGE", "crm.dlx"),
        )


def _log_level(raw: str) -> str:
    level = raw.upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError("must be a logging level (DEBUG, INFO, WARNING, ERROR, CRITICAL)")
    return level
