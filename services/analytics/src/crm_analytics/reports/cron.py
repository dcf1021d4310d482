"""Schedules of saved reports: five-field cron expressions (minute hour day-of-month month
day-of-week, in UTC) with ``*``, lists ``1,15``, ranges ``1-5`` and steps ``*/15`` / ``1-10/2``;
day of week 0–7 (0 and 7 are Sunday). As in cron, when both day fields are restricted a day
matching either runs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12),
           ("day of week", 0, 7))
#: how far ahead :meth:`Cron.next_after` looks (a schedule such as 30 February never runs)
HORIZON_DAYS = 366 * 5


class CronError(ValueError):
    pass


def _part(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        body, _, step_text = item.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) < 1:
                raise CronError(f"{name}: the step {step_text!r} is not a whole number above 0")
            step = int(step_text)
        if body == "*":
            start, end = low, high
        else:
            first, dash, last = body.partition("-")
            if not first.isdigit() or (dash and not last.isdigit()):
                raise CronError(f"{name}: {item!r} is not a number, range or *")
            start = int(first)
            end = int(last) if dash else (high if step_text else start)
        if not low <= start <= end <= high:
            raise CronError(f"{name}: {item!r} is outside {low}–{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Cron:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(text) > 100 or len(parts) != 5:
            raise CronError("give five fields: minute hour day-of-month month day-of-week")
        sets = [_part(p, name, low, high) for p, (name, low, high) in zip(parts, _FIELDS,
                                                                          strict=True)]
        weekdays = frozenset(0 if d == 7 else d for d in sets[4])
        return cls(" ".join(parts), sets[0], sets[1], sets[2], sets[3], weekdays,
                   parts[2] == "*", parts[4] == "*")

    def _day_matches(self, day: dt.date) -> bool:
        dom = day.day in self.days
        dow = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return dom and dow
        return dom or dow

    def next_after(self, moment: dt.datetime) -> dt.datetime:
        """The first matching minute strictly after ``moment`` (UTC); ``CronError`` if none
        within five years."""
        moment = moment.astimezone(dt.UTC).replace(second=0, microsecond=0) \
            + dt.timedelta(minutes=1)
        day = moment.date()
        for _ in range(HORIZON_DAYS):
            if day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = dt.datetime(day.year, day.month, day.day, hour, minute,
                                                tzinfo=dt.UTC)
                        if candidate >= moment:
                            return candidate
            day += dt.timedelta(days=1)
        raise CronError("this schedule never runs")
