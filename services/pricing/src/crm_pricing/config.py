"""The pricing service's own settings, beside the kit's ``Settings``; read once at start-up
(docs/conventions.md and docs/pricing.md, "Settings")."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from crm_common.settings import EnvReader, Settings
from crm_common.signing import MIN_SECRET_BYTES, secret_from_env

log = logging.getLogger("crm.pricing")



@dataclass(frozen=True)
class PricingConfig:
    #: the ERP's topic exchange (DESIGN §9): the catalogue and its base prices
    erp_exchange: str = "erp.events"
    #: the priority of contract discounts; None: above every rule (DESIGN §11)
    contract_priority: int | None = None
    #: HMAC key of the signed export URLs (every replica must share it)
    url_secret: bytes = field(default_factory=lambda: secrets.token_bytes(MIN_SECRET_BYTES))
    #: scheme://host[:port] the signed export URLs start with (production: the service's ingress)
    public_base_url: str = "http://127.0.0.1:8104"
    #: how long a signed export URL works
    export_url_ttl: dt.timedelta = dt.timedelta(minutes=5)
    #: run the tier sweep in this process (``service_layer.tiers.sweep_tiers``)
    run_scheduler: bool = True
    #: how often the process checks whether the date or the rules moved (then it sweeps)
    tier_sweep_interval: dt.timedelta = dt.timedelta(minutes=10)

    @classmethod
    def from_env(cls, base: Settings, environ: Mapping[str, str] | None = None) -> PricingConfig:
        env = EnvReader(environ)
        secret = secret_from_env(env, "EXPORT_URL_SECRET", production=base.env == "production")
        priority_text = env.raw("CONTRACT_DISCOUNT_PRIORITY")
        return cls(
            erp_exchange=env.text("ERP_EXCHANGE", "erp.events"),
            contract_priority=None if not priority_text else env.integer(
                "CONTRACT_DISCOUNT_PRIORITY", 1001, min=-100000, max=100000),
            url_secret=secret,
            public_base_url=env.url("PUBLIC_BASE_URL", f"http://{base.host}:{base.port}"),
            export_url_ttl=env.duration("EXPORT_URL_TTL_SECONDS", dt.timedelta(seconds=300),
                                        positive=True),
            run_scheduler=env.boolean("RUN_SCHEDULER", True),
            tier_sweep_interval=env.duration("TIER_SWEEP_INTERVAL_SECONDS",
                                             dt.timedelta(minutes=10), positive=True),
        )
