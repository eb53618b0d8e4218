"""Billing-period arithmetic: the one place that knows how long a period is.

Periods count from the anchor, never from the last period's end: the ``n``-th period starts
``n`` periods after the anchor. Weekly is 7 days; monthly, quarterly and yearly keep the anchor's
day of the month, clamped to the month's last day and restored when the month allows it
(Jan 31 → Feb 28 → Mar 31). Works on dates and on aware datetimes alike (the time of day is
kept); subscriptions anchor in UTC.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TypeVar

from dateutil.relativedelta import relativedelta

from products.models import BillingPeriod

When = TypeVar("When", date, datetime)

PERIOD_MONTHS = {
    BillingPeriod.MONTHLY: 1,
    BillingPeriod.QUARTERLY: 3,
    BillingPeriod.YEARLY: 12,
}


def add_periods(anchor: When, period: str, count: int = 1) -> When:
    """The start of the ``count``-th period after ``anchor`` (``count`` may be 0 or negative)."""
    if period == BillingPeriod.WEEKLY:
        return anchor + timedelta(days=7 * count)
    try:
        months = PERIOD_MONTHS[BillingPeriod(period)]
    except (KeyError, ValueError):
        raise ValueError(f"Unknown billing period: {period!r}") from None
    # relativedelta clamps the day to the target month's length, counted from the anchor.
    return anchor + relativedelta(months=months * count)
