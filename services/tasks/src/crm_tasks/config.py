"""The tasks service's own settings (beyond ``crm_common.settings.Settings``), read once at
start-up. See docs/tasks.md for the variables and their defaults."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_common.settings import HOUR, EnvReader, Settings, SettingsError

log = logging.getLogger("crm.tasks")

MIN_SECRET_BYTES = 32


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
        env = EnvReader(environ)
        secret_text = env.raw("ATTACHMENT_URL_SECRET")
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
        return cls(
            mongodb_url=env.text("MONGODB_URL", "mongodb://127.0.0.1:27017/"),
            mongodb_database=env.text("MONGODB_DATABASE", "crm_tasks"),
            url_secret=secret,
            public_base_url=env.url("PUBLIC_BASE_URL", f"http://{base.host}:{base.port}"),
            max_attachment_bytes=env.integer("ATTACHMENT_MAX_BYTES", 50 * 1024 * 1024, min=1),
            upload_url_ttl=env.duration("UPLOAD_URL_TTL_SECONDS", dt.timedelta(seconds=900),
                                        positive=True),
            download_url_ttl=env.duration("DOWNLOAD_URL_TTL_SECONDS",
                                          dt.timedelta(seconds=300), positive=True),
            timezone=env.parsed("TASKS_TIMEZONE", _zone, ZoneInfo("Europe/Sofia")),
            reminder_lead=env.duration("REMINDER_LEAD_HOURS", dt.timedelta(hours=24),
                                       unit=HOUR, positive=True),
            reminder_interval=env.number("REMINDER_INTERVAL_SECONDS", 60, positive=True),
            sweeper_interval=env.number("SWEEPER_INTERVAL_SECONDS", 300, positive=True),
            stale_upload_after=env.duration("STALE_UPLOAD_SECONDS", dt.timedelta(hours=1),
                                            positive=True),
            run_scheduler=env.boolean("RUN_SCHEDULER", True),
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not a time zone (an IANA name such as Europe/Sofia)") from exc
