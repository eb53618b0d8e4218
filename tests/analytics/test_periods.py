from datetime import UTC, date, datetime

import pytest

from billing.analytics.periods import Granularity, Window, buckets, label, period_start, store_zone

TOKYO = store_zone("Asia/Tokyo")


def test_a_window_of_local_days_starts_at_the_stores_midnight():
    w = Window.of_days(date(2026, 4, 1), date(2026, 4, 1), TOKYO)
    assert w.start == datetime(2026, 3, 31, 15, 0, tzinfo=UTC)
    assert w.end == datetime(2026, 4, 1, 15, 0, tzinfo=UTC)
    # 23:30 UTC on March 31st is April 1st in Tokyo.
    assert w.contains(datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    assert not w.contains(datetime(2026, 3, 31, 14, 59, tzinfo=UTC))


def test_last_days_ends_with_the_stores_today_and_previous_is_just_before():
    w = Window.last_days(7, TOKYO, datetime(2026, 3, 31, 23, 30, tzinfo=UTC))
    assert (w.first_day, w.last_day) == (date(2026, 3, 26), date(2026, 4, 1))
    p = w.previous()
    assert (p.first_day, p.last_day) == (date(2026, 3, 19), date(2026, 3, 25))
    assert p.end == w.start


@pytest.mark.parametrize(
    ("granularity", "expected"),
    [
        (Granularity.DAY, ["2026-03-30", "2026-03-31", "2026-04-01"]),
        (Granularity.WEEK, ["2026-03-30"]),
        (Granularity.MONTH, ["2026-03", "2026-04"]),
        (Granularity.QUARTER, ["2026-Q1", "2026-Q2"]),
        (Granularity.YEAR, ["2026"]),
        (Granularity.ALL_TIME, ["all"]),
    ],
)
def test_buckets_cover_every_period_the_window_touches(granularity, expected):
    w = Window.of_days(date(2026, 3, 30), date(2026, 4, 1), TOKYO)
    assert [label(b, granularity) for b in buckets(w, granularity)] == expected


def test_a_week_starts_on_monday():
    assert period_start(date(2026, 3, 29), Granularity.WEEK) == date(2026, 3, 23)  # a Sunday
    assert period_start(date(2026, 3, 30), Granularity.WEEK) == date(2026, 3, 30)


def test_an_unknown_timezone_is_utc():
    assert store_zone("Mars/Olympus") == store_zone("UTC")
