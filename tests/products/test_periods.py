"""Billing-period arithmetic: anchor day kept, clamped to short months, counted from the anchor."""

from datetime import UTC, date, datetime

import pytest

from products.periods import add_periods


@pytest.mark.parametrize(
    "anchor, period, count, expected",
    [
        ("2026-01-31", "monthly", 1, "2026-02-28"),
        ("2026-01-31", "monthly", 2, "2026-03-31"),  # back to the 31st, not stuck on the 28th
        ("2026-01-31", "monthly", 3, "2026-04-30"),
        ("2028-01-31", "monthly", 1, "2028-02-29"),  # leap year
        ("2026-11-30", "quarterly", 1, "2027-02-28"),
        ("2026-11-30", "quarterly", 2, "2027-05-30"),
        ("2028-02-29", "yearly", 1, "2029-02-28"),
        ("2028-02-29", "yearly", 4, "2032-02-29"),
        ("2026-12-29", "weekly", 1, "2027-01-05"),
        ("2026-12-29", "weekly", 0, "2026-12-29"),
        ("2026-03-31", "monthly", -1, "2026-02-28"),
    ],
)
def test_periods_keep_the_anchor_day_clamped_to_the_month(anchor, period, count, expected):
    assert add_periods(date.fromisoformat(anchor), period, count).isoformat() == expected


def test_periods_count_from_the_anchor_not_from_the_last_period_end():
    anchor = date(2026, 1, 31)
    chained = anchor
    for _ in range(3):
        chained = add_periods(chained, "monthly")
    assert chained == date(2026, 4, 28)  # what chaining would drift to
    assert add_periods(anchor, "monthly", 3) == date(2026, 4, 30)


def test_periods_keep_the_time_of_day_of_an_aware_anchor():
    anchor = datetime(2026, 1, 31, 23, 59, 30, tzinfo=UTC)
    assert add_periods(anchor, "monthly") == datetime(2026, 2, 28, 23, 59, 30, tzinfo=UTC)


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError, match="Unknown billing period"):
        add_periods(date(2026, 1, 1), "fortnightly")
