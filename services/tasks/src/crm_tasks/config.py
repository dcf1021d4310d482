"""The tasks service's own settings (beyond ``crm_common.settings.Settings``), read once at
start-up. See docs/tasks.md for the variables and their defaults."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_common.settings import Settings, SettingsError

log = logging.getLogger("crm.tasks")

MIN_SECRET_BYTES = 32


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from exc
    if not value > 0:
        raise SettingsError(f"{name} must be more than zero, not {raw!r}")
    return value


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} is not a boolean: {raw!r}")


@dataclass(frozen=True)
class TasksSettings:
    mongodb_url: str
    mongodb_database: str
    #: HMAC key of the signed attachment URLs (every replica must share it)
    url_secret: bytes
    #: scheme://host[:port] the signed URLs start with (production: the tasks service's ingress)
    public_base_url: str
    max_attachment_bytes: int = 50 * 1024 * 1024
    upload_url_ttl: dt.timedelta = dt.timedelta(minutes=15)
    download_url_ttl: dt.timedelta = dt.timedelta(minutes=5)
    timezone: ZoneInfo = ZoneInfo("Europe/Sofia")
    reminder_lead: dt.timedelta = dt.timedelta(hours=24)
    reminder_interval: float = 60.0
    sweeper_interval: float = 300.0
    #: an upload still "writing" after this long is taken as dead (its process died)
    stale_upload_after: dt.timedelta = dt.timedelta(hours=1)
    run_scheduler: bool = True

    @classmethod
    def from_env(cls, base: Settings, environ: Mapping[str, str] | None = None) -> TasksSettings:
        env = os.environ if environ is None else environ
        secret_text = env.get("ATTACHMENT_URL_SECRET", "")
        if secret_text:
            secret = secret_text.encode()
            if len(secret) < MIN_SECRET_BYTES:
                raise SettingsError(
                    f"ATTACHMENT_URL_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        elif base.env == "production":
            raise SettingsError(
                "ATTACHMENT_URL_SECRET is required in production (at least "
                f"{MIN_SECRET_BYTES} bytes, the same on every replica)")
        else:
            # Without a shared secret, URLs signed by this process are valid only here and only
            # until it restarts: acceptable for one dev/test process, wrong for replicas.
            log.warning("ATTACHMENT_URL_SECRET is not set: signing attachment URLs with a "
                        "random per-process key (set it in production)")
            secret = secrets.token_bytes(MIN_SECRET_BYTES)
        tz_name = env.get("TASKS_TIMEZONE", "Europe/Sofia")
        try:
            tz = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"TASKS_TIMEZONE is not a time zone: {tz_name!r}") from exc
        base_url = env.get("PUBLIC_BASE_URL") or f"http://{base.host}:{base.port}"
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError("PUBLIC_BASE_URL must start with http:// or https://")
        return cls(
            mongodb_url=env.get("MONGODB_URL", "mongodb://127.0.0.1:27017/"),
            mongodb_database=env.get("MONGODB_DATABASE", "crm_tasks"),
            url_secret=secret,
            public_base_url=base_url.rstrip("/"),
            max_attachment_bytes=int(_positive(env, "ATTACHMENT_MAX_BYTES", 50 * 1024 * 1024)),
            upload_url_ttl=dt.timedelta(seconds=_positive(env, "UPLOAD_URL_TTL_SECONDS", 900)),
            download_url_ttl=dt.timedelta(
                seconds=_positive(env, "DOWNLOAD_URL_TTL_SECONDS", 300)),
            timezone=tz,
            reminder_lead=dt.timedelta(hours=_positive(env, "REMINDER_LEAD_HOURS", 24)),
            reminder_interval=_positive(env, "REMINDER_INTERVAL_SECONDS", 60),
            sweeper_interval=_positive(env, "SWEEPER_INTERVAL_SECONDS", 300),
            stale_upload_after=dt.timedelta(
                seconds=_positive(env, "STALE_UPLOAD_SECONDS", 3600)),
            run_scheduler=_flag(env, "RUN_SCHEDULER", True),
        )
