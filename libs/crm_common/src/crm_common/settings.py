"""Service settings, read from the environment once at start-up (never at import).

See ``docs/conventions.md`` for the full list of variables and their defaults.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class SettingsError(RuntimeError):
    """A required setting is missing or malformed."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise SettingsError(f"not a boolean: {value!r}")


def _non_negative_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from exc
    if value < 0 or value != value:
        raise SettingsError(f"{name} must be zero or more, not {raw!r}")
    return value


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

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def source(self) -> str:
        """CloudEvents ``source`` of the events this service publishes."""
        return f"crm/{self.service_name}"

    @classmethod
    def from_env(
        cls,
        service_name: str,
        default_port: int,
        environ: Mapping[str, str] | None = None,
    ) -> Settings:
        env = os.environ if environ is None else environ
        crm_env = env.get("CRM_ENV", "production")
        if crm_env not in {"development", "production", "test"}:
            raise SettingsError(f"CRM_ENV must be development, test or production, not {crm_env!r}")
        key_file = env.get("JWT_PUBLIC_KEY_FILE")
        key_pem = env.get("JWT_PUBLIC_KEY")
        if not key_pem:
            if not key_file:
                raise SettingsError("JWT_PUBLIC_KEY_FILE (or JWT_PUBLIC_KEY) must be set")
            try:
                key_pem = Path(key_file).read_text()
            except OSError as exc:
                raise SettingsError(f"cannot read JWT_PUBLIC_KEY_FILE {key_file}: {exc}") from exc
        try:
            port = int(env.get("SERVICE_PORT", str(default_port)))
        except ValueError as exc:
            raise SettingsError("SERVICE_PORT must be an integer") from exc
        return cls(
            service_name=service_name,
            env=crm_env,
            host=env.get("SERVICE_HOST", "127.0.0.1"),
            port=port,
            database_url=env.get(
                "DATABASE_URL",
                f"postgresql+asyncpg://postgres@127.0.0.1:5432/crm_{service_name}",
            ),
            amqp_url=env.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
            events_exchange=env.get("EVENTS_EXCHANGE", "crm.events"),
            jwt_public_key=key_pem,
            jwt_issuer=env.get("JWT_ISSUER", "crm-dev"),
            jwt_audience=env.get("JWT_AUDIENCE", "crm"),
            run_relay=_bool(env.get("RUN_RELAY", "true")),
            run_consumers=_bool(env.get("RUN_CONSUMERS", "true")),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            max_depth=int(env.get("GRAPHQL_MAX_DEPTH", "10")),
            max_aliases=int(env.get("GRAPHQL_MAX_ALIASES", "15")),
            max_tokens=int(env.get("GRAPHQL_MAX_TOKENS", "2000")),
            max_page_size=int(env.get("GRAPHQL_MAX_PAGE_SIZE", "100")),
            max_body_bytes=int(env.get("MAX_BODY_BYTES", "1048576")),
            db_pool_size=int(env.get("DB_POOL_SIZE", "20")),
            access_grace_hours=_non_negative_float(env, "ACCESS_GRACE_HOURS", 24.0),
            queue_prefix=env.get("QUEUE_PREFIX", ""),
        )
