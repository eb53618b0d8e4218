"""A subscription's time. Every rule about a subscription (when it renews, proration, the trial's
end) reads ``now(subscription)``: real time, plus the offset a test clock was advanced by (test
mode only, zero otherwise). The clock starts at the subscription's creation and never goes back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from pancake.models import Environment

MAX_ADVANCE = timedelta(days=2 * 366)


def now(subscription, real_now: datetime | None = None) -> datetime:
    return (real_now or timezone.now()) + subscription.clock_offset


def real_time(subscription, at: datetime) -> datetime:
    """The real time at which the subscription's clock shows ``at``."""
    return at - subscription.clock_offset


def clock_time(subscription) -> datetime | None:
    """The test clock's time (``clockTime`` / ``testClockTime``); None in prod."""
    if subscription.environment != Environment.TEST:
        return None
    return now(subscription)


def simulated(subscription) -> bool:
    return bool(subscription.clock_offset)
