"""The tasks service's own settings (beyond ``crm_common.settings.Settings``), read once at
start-up. See docs/tasks.md for the variables and their defaults; the attachment store's are
the kit's (``crm_common.attachments.settings.StoreSettings``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_common.attachments.settings import StoreSettings
from crm_common.settings import HOUR, EnvReader, Settings
from crm_tasks.domain.audit_line import DEFAULT_DUE_DAYS


@dataclass(frozen=True)
class TasksSettings:
    #: the attachment store: MongoDB, the URL secret and base URL, the size limit, the TTLs
    store: StoreSettings
    timezone: ZoneInfo = ZoneInfo("Europe/Sofia")
    reminder_lead: dt.timedelta = dt.timedelta(hours=24)
    reminder_interval: float = 60.0
    run_scheduler: bool = True
    #: days after an inventory audit that the task a missing or damaged asset raises is due
    audit_task_due_days: int = DEFAULT_DUE_DAYS

    @classmethod
    def from_env(cls, base: Settings, environ: Mapping[str, str] | None = None) -> TasksSettings:
        env = EnvReader(environ)
        return cls(
            store=StoreSettings.from_env(base, environ),
            timezone=env.parsed("TASKS_TIMEZONE", _zone, ZoneInfo("Europe/Sofia")),
            reminder_lead=env.duration("REMINDER_LEAD_HOURS", dt.timedelta(hours=24),
                                       unit=HOUR, positive=True),
            reminder_interval=env.number("REMINDER_INTERVAL_SECONDS", 60, positive=True),
            run_scheduler=env.boolean("RUN_SCHEDULER", True),
            audit_task_due_days=env.integer("AUDIT_TASK_DUE_DAYS", DEFAULT_DUE_DAYS, min=0,
                                            max=365),
        )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("not a time zone (an IANA name such as Europe/Sofia)") from exc
