"""Time for the merchant's figures: a store's local dates turned into UTC windows, and the period
buckets (day, week, month, quarter, year, all time) that series are grouped by.

Rows are stored in UTC; a store sees its figures in its own timezone. A ``Window`` is a half-open
UTC interval ``[start, end)`` that carries the store's timezone, so that "Monday" or "March" means
the store's Monday and March: a payment at 23:30 UTC on 2026-03-31 belongs to April 1st in a
UTC+9 store. Weeks start on Monday (ISO 8601)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta
from django.db import models
from django.db.models.functions import TruncDay, TruncMonth, TruncQuarter, TruncWeek, TruncYear


class Granularity(models.TextChoices):
    DAY = "DAY", "Day"
    WEEK = "WEEK", "Week"
    MONTH = "MONTH", "Month"
    QUARTER = "QUARTER", "Quarter"
    YEAR = "YEAR", "Year"
    ALL_TIME = "ALL_TIME", "All time"


_TRUNC = {
    Granularity.DAY: TruncDay,
    Granularity.WEEK: TruncWeek,
    Granularity.MONTH: TruncMonth,
    Granularity.QUARTER: TruncQuarter,
    Granularity.YEAR: TruncYear,
}


def store_zone(name: str | None) -> ZoneInfo:
    """The store's timezone; an unknown or empty name is UTC."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` starts in ``tz``."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval ``[start, end)`` seen from the store's timezone ``tz``."""

    start: datetime
    end: datetime
    tz: ZoneInfo

    @classmethod
    def of_days(cls, first: date, last: date, tz: ZoneInfo) -> Window:
        """The store-local days ``first`` to ``last``, both included."""
        if last < first:
            raise ValueError("last is before first")
        return cls(local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz), tz)

    @classmethod
    def last_days(cls, days: int, tz: ZoneInfo, now: datetime) -> Window:
        """The ``days`` store-local days ending with today (today included, up to its end)."""
        today = now.astimezone(tz).date()
        return cls.of_days(today - timedelta(days=days - 1), today, tz)

    @property
    def first_day(self) -> date:
        return self.start.astimezone(self.tz).date()

    @property
    def last_day(self) -> date:
        """The last store-local day the window touches."""
        return (self.end - timedelta(microseconds=1)).astimezone(self.tz).date()

    def days(self) -> list[date]:
        first, last = self.first_day, self.last_day
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]

    def previous(self) -> Window:
        """The window of the same number of local days just before this one (the "change
        against the previous period" of the metric cards)."""
        n = (self.last_day - self.first_day).days + 1
        return Window.of_days(
            self.first_day - timedelta(days=n), self.first_day - timedelta(1), self.tz
        )

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


def period_start(day: date, granularity: str) -> date | None:
    """The first local day of the period ``day`` falls in (``None`` for all time)."""
    if granularity == Granularity.DAY:
        return day
    if granularity == Granularity.WEEK:
        return day - timedelta(days=day.weekday())
    if granularity == Granularity.MONTH:
        return day.replace(day=1)
    if granularity == Granularity.QUARTER:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    if granularity == Granularity.YEAR:
        return date(day.year, 1, 1)
    if granularity == Granularity.ALL_TIME:
        return None
    raise ValueError(f"unknown granularity {granularity!r}")


_STEP = {
    Granularity.DAY: relativedelta(days=1),
    Granularity.WEEK: relativedelta(weeks=1),
    Granularity.MONTH: relativedelta(months=1),
    Granularity.QUARTER: relativedelta(months=3),
    Granularity.YEAR: relativedelta(years=1),
}


def buckets(window: Window, granularity: str) -> list[date | None]:
    """Every period the window touches, in order, so that a series shows empty periods as
    zero rather than leaving them out (``[None]`` for all time)."""
    first = period_start(window.first_day, granularity)
    if first is None:
        return [None]
    out, current, last = [], first, window.last_day
    while current <= last:
        out.append(current)
        current = current + _STEP[granularity]
    return out


def label(start: date | None, granularity: str) -> str:
    """How a period is named in series and exports: ``2026-03-09`` (day, and a week by its
    Monday), ``2026-03``, ``2026-Q1``, ``2026``, ``all``."""
    if start is None:
        return "all"
    if granularity == Granularity.MONTH:
        return f"{start.year:04d}-{start.month:02d}"
    if granularity == Granularity.QUARTER:
        return f"{start.year:04d}-Q{(start.month - 1) // 3 + 1}"
    if granularity == Granularity.YEAR:
        return f"{start.year:04d}"
    return start.isoformat()


def trunc(field: str, granularity: str, tz: ZoneInfo):
    """The database expression grouping ``field`` (a UTC datetime column) by the store-local
    period it falls in, as a date (``None`` for all time: group everything together)."""
    if granularity == Granularity.ALL_TIME:
        return models.Value(None, output_field=models.DateField())
    return _TRUNC[Granularity(granularity)](field, tzinfo=tz, output_field=models.DateField())
