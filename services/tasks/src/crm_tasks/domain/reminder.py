"""When a task is due soon and when it is overdue (pure; ``now`` is always passed in).

A task is due by the *end* of its due date in the business time zone. It is *due soon* from
``lead`` before that moment, and *overdue* once the moment has passed while it is still open.
Each reminder goes out once per task and due date (the service keeps a table of those sent).
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from zoneinfo import ZoneInfo


class ReminderKind(enum.Enum):
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Window:
    #: the business date at ``now``: tasks due before it are overdue
    today: dt.date
    #: tasks due on or before this date (and not before ``today``) are due soon
    due_soon_until: dt.date


def due_moment(due_date: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The end of the due date: midnight at the start of the next day, in ``tz``."""
    return dt.datetime.combine(due_date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)


def window(now: dt.datetime, tz: ZoneInfo, lead: dt.timedelta) -> Window:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(tz).date()
    # due soon ⇔ due_moment(D) - lead <= now ⇔ D + 1 day <= (now + lead) as a local date
    horizon = (now + lead).astimezone(tz).date() - dt.timedelta(days=1)
    return Window(today=today, due_soon_until=horizon)


def today_in(tz: ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(tz).date()
