"""The settings of a service's attachment store, read once at start-up with the kit's typed
readers. Every service that mounts the store reads the same variables (each from its own
environment):

- ``MONGODB_URL`` / ``MONGODB_DATABASE``: where the GridFS buckets live (default
  ``mongodb://127.0.0.1:27017/`` / ``crm_<service>``);
- ``ATTACHMENT_URL_SECRET``: HMAC key of the signed URLs, at least 32 bytes, the same on every
  replica; required in production, elsewhere a random per-process key (with a warning);
- ``PUBLIC_BASE_URL``: ``http(s)://host[:port]`` the signed URLs start with (default
  ``http://<SERVICE_HOST>:<SERVICE_PORT>``);
- ``ATTACHMENT_MAX_BYTES``: the largest file (default 50 MiB; a use may accept less);
- ``UPLOAD_URL_TTL_SECONDS`` / ``DOWNLOAD_URL_TTL_SECONDS``: how long a signed URL works
  (900 / 300);
- ``SWEEPER_INTERVAL_SECONDS``: how often the sweeper runs in the service process (300);
- ``STALE_UPLOAD_SECONDS``: an upload still writing after this long is taken for dead (3600).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from crm_common.attachments.urls import SignedUrls
from crm_common.settings import EnvReader, Settings, SettingsError
from crm_common.signing import MIN_SECRET_BYTES

log = logging.getLogger("crm.attachments")

DEFAULT_MAX_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class StoreSettings:
    mongodb_url: str
    mongodb_database: str
    #: HMAC key of the signed URLs (every replica must share it)
    url_secret: bytes
    #: scheme://host[:port] the signed URLs start with (production: the service's ingress)
    public_base_url: str
    max_bytes: int = DEFAULT_MAX_BYTES
    upload_url_ttl: dt.timedelta = dt.timedelta(minutes=15)
    download_url_ttl: dt.timedelta = dt.timedelta(minutes=5)
    sweeper_interval: float = 300.0
    #: an upload still "writing" after this long is taken as dead (its process died)
    stale_upload_after: dt.timedelta = dt.timedelta(hours=1)

    @classmethod
    def from_env(cls, base: Settings, environ: Mapping[str, str] | None = None
                 ) -> StoreSettings:
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
            mongodb_database=env.text("MONGODB_DATABASE", f"crm_{base.service_name}"),
            url_secret=secret,
            public_base_url=env.url("PUBLIC_BASE_URL", f"http://{base.host}:{base.port}"),
            max_bytes=env.integer("ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES, min=1),
            upload_url_ttl=env.duration("UPLOAD_URL_TTL_SECONDS", dt.timedelta(seconds=900),
                                        positive=True),
            download_url_ttl=env.duration("DOWNLOAD_URL_TTL_SECONDS",
                                          dt.timedelta(seconds=300), positive=True),
            sweeper_interval=env.number("SWEEPER_INTERVAL_SECONDS", 300, positive=True),
            stale_upload_after=env.duration("STALE_UPLOAD_SECONDS", dt.timedelta(hours=1),
                                            positive=True),
        )

    def urls(self, purpose: str, prefix: str) -> SignedUrls:
        """The signed URLs of one use: ``purpose`` names it (``crm-tasks-attachment``),
        ``prefix`` is its routes' path (``/attachments/``)."""
        return SignedUrls(self.url_secret, purpose, self.public_base_url, prefix,
                          self.upload_url_ttl, self.download_url_ttl)
