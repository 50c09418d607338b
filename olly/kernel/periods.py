"""Date periods with inclusive ends, as coverage and billing periods are stated in insurance."""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, slots=True)
class DatePeriod:
    """``start`` to ``end`` inclusive; ``end=None`` means open-ended (coverage with no termination)."""

    start: date
    end: date | None = None

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    __contains__ = contains

    def overlaps(self, other: DatePeriod) -> bool:
        return self.intersection(other) is not None

    def intersection(self, other: DatePeriod) -> DatePeriod | None:
        start = max(self.start, other.start)
        ends = [e for e in (self.end, other.end) if e is not None]
        end = min(ends) if ends else None
        if end is not None and end < start:
            return None
        return DatePeriod(start, end)

    def days(self) -> int:
        if self.end is None:
            raise ValueError("an open-ended period has no length")
        return (self.end - self.start).days + 1

    def iter_days(self) -> Iterator[date]:
        if self.end is None:
            raise ValueError("cannot iterate an open-ended period")
        day = self.start
        while day <= self.end:
            yield day
            day += timedelta(days=1)


def end_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def start_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to the month's last day (Jan 31 + 1 → Feb 28/29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_period(year: int, month: int) -> DatePeriod:
    first = date(year, month, 1)
    return DatePeriod(first, end_of_month(first))


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day`` (a 29 February birthday turns over on 1 March)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
