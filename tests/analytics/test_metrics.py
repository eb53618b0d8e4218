"""The merchant's figures on a store built by hand, every expected number worked out below.

Store in Asia/Tokyo (UTC+9), default currency USD; fixture rates: 1 EUR = 1.25 USD = 150 JPY,
so 1 USD = 120 JPY. Window: the local days 2026-03-01 to 2026-03-31, i.e. UTC
[2026-02-28 15:00, 2026-03-31 15:00).
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing import rates, tasks
from billing.analytics import metrics
from billing.analytics.metrics import Amount, Scope
from billing.analytics.periods import Granularity, Window, store_zone
from billing.models import AnalyticsDay, PaymentStatus, RefundStatus, SubscriptionStatus
from tests.analytics.builders import ENV, pay, product, refund, subscribe
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "eurofxref-test.xml"
TOKYO = store_zone("Asia/Tokyo")
MARCH = Window.of_days(date(2026, 3, 1), date(2026, 3, 31), TOKYO)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(params=["raw", "rolled up"])
def shop(request):
    """The store; "rolled up": the rollup task ran an hour later, when every March day is
    sealed (then the figures come from the rollups), "raw": before it ever ran."""
    assert rates.refresh(FIXTURE.as_uri()) == 4
    store = StoreFactory(timezone="Asia/Tokyo", default_currency="USD")
    ebook = product(store, "E-Book")
    manga = product(store, "Manga", currency="JPY")
    plan = product(store, "Plan")
    # Alice paid in January (before the window) and again at 00:30 local on March 1st.
    january = pay(ebook, "alice@example.com", 11000, 1000, utc(2026, 1, 15, 3))
    alice = pay(ebook, "alice@example.com", 11000, 1000, utc(2026, 2, 28, 15, 30), fee=600)
    # Bob at 23:59 local on March 31st (mixed-case email: the same customer as lower case).
    bob = pay(ebook, "Bob@Example.com", 5500, 500, utc(2026, 3, 31, 14, 59), country="DE", fee=300)
    # Carol at 00:00 local on April 1st: outside.
    pay(ebook, "carol@example.com", 2200, 200, utc(2026, 3, 31, 15, 0))
    # Dave in yen.
    pay(
        manga,
        "dave@example.com",
        12000,
        2000,
        utc(2026, 3, 10),
        currency="JPY",
        country="JP",
        fee=700,
    )
    # A failed charge and a free trial's 0 charge: no sale, no customer.
    pay(ebook, "erin@example.com", 9900, 900, utc(2026, 3, 3), status=PaymentStatus.FAILED)
    pay(plan, "frank@example.com", 0, 0, utc(2026, 3, 2))
    # Refunds: Bob's in full, 3300 of Alice's March 11000 (tax part 3300 × 1000 / 11000 = 300),
    # one of January's executed at 00:10 local April 1st (outside), one that failed.
    refund(bob, 5500, utc(2026, 3, 20))
    refund(alice, 3300, utc(2026, 3, 5))
    refund(january, 1100, utc(2026, 3, 31, 15, 10))
    refund(january, 500, utc(2026, 3, 6), status=RefundStatus.FAILED)

    # Subscriptions (USD, pre-tax price per period → MRR):
    subscribe(
        plan, "s1@example.com", period="monthly", pretax=1000, tax=100, created_at=utc(2026, 1, 10)
    )  # 1000
    subscribe(
        plan, "s2@example.com", period="yearly", pretax=12000, tax=1200, created_at=utc(2026, 3, 5)
    )  # 1000, new
    subscribe(
        plan,
        "s3@example.com",
        period="weekly",
        pretax=1000,
        created_at=utc(2026, 2, 1),
        status=SubscriptionStatus.CANCELED,
        ended_at=utc(2026, 3, 15, 3),
    )  # 4330, churned
    # Changed plan in March from monthly 500 to quarterly 3000: counts at its current price.
    subscribe(
        plan, "s4@example.com", period="quarterly", pretax=3000, created_at=utc(2026, 2, 10)
    )  # 1000
    subscribe(
        plan,
        "s5@example.com",
        period="monthly",
        pretax=2000,
        created_at=utc(2026, 3, 2),
        trial_end_at=utc(2026, 3, 9),
    )  # trial converted: 2000, new
    subscribe(
        plan,
        "s6@example.com",
        period="monthly",
        pretax=2000,
        created_at=utc(2026, 3, 3),
        trial_end_at=utc(2026, 3, 10),
        status=SubscriptionStatus.CANCELED,
        ended_at=utc(2026, 3, 10),
    )  # trial not converted
    subscribe(
        plan,
        "s7@example.com",
        period="monthly",
        pretax=2000,
        created_at=utc(2026, 3, 25),
        trial_end_at=utc(2026, 4, 8),
        status=SubscriptionStatus.TRIALING,
    )
    subscribe(
        plan,
        "s8@example.com",
        period="monthly",
        pretax=2000,
        created_at=utc(2026, 3, 6),
        status=SubscriptionStatus.PENDING,
    )
    # Another store's rows never count.
    other = StoreFactory(timezone="Asia/Tokyo", default_currency="USD")
    pay(product(other), "alice@example.com", 99900, 0, utc(2026, 3, 10))
    if request.param == "raw":
        yield store, ebook, manga
        return
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert tasks.roll_up_analytics() > 60  # both stores, January 15th to today
        assert AnalyticsDay.objects.filter(store=store, day=date(2026, 3, 10)).exists()
        yield store, ebook, manga


def test_summary(shop):
    store, _, _ = shop
    s = metrics.summary(Scope(store, ENV, MARCH))
    # USD: Alice 11000 + Bob 5500; JPY 12000 = 100.00 USD.
    assert s.gross == Amount({"JPY": 12000, "USD": 16500}, "USD", 26500)
    assert s.tax == Amount({"JPY": 2000, "USD": 1500}, "USD", 1500 + 1667)  # 2000 JPY = 16.67
    assert s.refunds == Amount({"USD": 8800}, "USD", 8800)
    assert s.refunds_tax == Amount({"USD": 800}, "USD", 800)  # 500 + 300
    # USD 16500 − 1500 − (8800 − 800) = 7000; JPY 12000 − 2000 = 10000 (= 8333 cents).
    assert s.net == Amount({"JPY": 10000, "USD": 7000}, "USD", 7000 + 8333)
    # 700 JPY = 5.8333 USD → 583.
    assert s.fee == Amount({"JPY": 700, "USD": 900}, "USD", 1483)
    assert s.sales == 3
    # 16500 / 2 = 8250; 26500 / 3 = 8833.3.
    assert s.average_order == Amount({"JPY": 12000, "USD": 8250}, "USD", 8833)
    assert (s.customers, s.new_customers, s.repeat_customers) == (3, 2, 1)
    # To the window's end: USD 27500 − 2500 − (8800 − 800) = 17000, JPY 10000 (8333 cents);
    # 3 customers (Alice, Bob, Dave).
    assert s.ltv == Amount({"JPY": 3333, "USD": 5667}, "USD", 8444)
    assert s.mrr == Amount({"USD": 5000}, "USD", 5000)  # 1000 + 1000 + 1000 + 2000
    assert s.arr == Amount({"USD": 60000}, "USD", 60000)
    assert (s.active_subscriptions_at_start, s.active_subscriptions) == (3, 4)
    assert (s.new_subscriptions, s.churned_subscriptions) == (2, 1)
    assert s.churn_rate == Decimal("0.3333")
    assert (s.trials_started, s.trials_ended, s.trials_converted) == (3, 2, 1)
    assert s.trial_conversion == Decimal("0.5000")


def test_one_product(shop):
    store, ebook, manga = shop
    s = metrics.summary(Scope(store, ENV, MARCH, product_id=manga.pk))
    assert s.gross == Amount({"JPY": 12000}, "USD", 10000)
    assert (s.sales, s.customers, s.new_customers, s.active_subscriptions) == (1, 1, 1, 0)
    assert s.refunds.by_currency == {}


def test_local_midnight_edges(shop):
    store, _, _ = shop
    first = Window.of_days(date(2026, 3, 1), date(2026, 3, 1), TOKYO)
    assert metrics.summary(Scope(store, ENV, first)).gross.by_currency == {"USD": 11000}
    april = Window.of_days(date(2026, 4, 1), date(2026, 4, 1), TOKYO)
    s = metrics.summary(Scope(store, ENV, april))
    assert s.gross.by_currency == {"USD": 2200}
    assert s.refunds.by_currency == {"USD": 1100}


def test_series_by_day_and_week(shop):
    store, _, _ = shop
    days = metrics.series(Scope(store, ENV, MARCH), Granularity.DAY)
    assert len(days) == 31
    by_day = {p.start: p for p in days}
    assert by_day[date(2026, 3, 1)].gross.by_currency == {"USD": 11000}
    assert by_day[date(2026, 3, 31)].gross.by_currency == {"USD": 5500}
    assert by_day[date(2026, 3, 10)].gross == Amount({"JPY": 12000}, "USD", 10000)
    assert by_day[date(2026, 3, 20)].refunds.by_currency == {"USD": 5500}
    # March 20th: nothing sold, Bob's 5500 refunded in full: net −(5500 − 500).
    assert by_day[date(2026, 3, 20)].net.by_currency == {"USD": -5000}
    assert by_day[date(2026, 3, 2)].sales == 0  # Frank's 0 charge
    assert by_day[date(2026, 3, 2)].gross.by_currency == {}
    assert sum(p.new_customers for p in days) == 2
    # MRR at each day's end: S1 1000 + S3 4330 + S4 1000 until S2 (March 5th), S5 (9th) ...
    assert by_day[date(2026, 3, 1)].mrr.total == 6330
    assert by_day[date(2026, 3, 14)].mrr.total == 1000 + 1000 + 4330 + 1000 + 2000
    assert by_day[date(2026, 3, 15)].mrr.total == 5000  # S3 ended at noon local
    assert days[-1].mrr == metrics.summary(Scope(store, ENV, MARCH)).mrr
    weeks = metrics.series(Scope(store, ENV, MARCH), Granularity.WEEK)
    assert [p.label for p in weeks] == [
        "2026-02-23",
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
        "2026-03-23",
        "2026-03-30",
    ]
    assert weeks[0].gross.by_currency == {"USD": 11000}
    assert weeks[-1].gross.by_currency == {"USD": 5500}
    month = metrics.series(Scope(store, ENV, MARCH), Granularity.MONTH)
    assert len(month) == 1 and month[0].label == "2026-03"
    assert month[0].gross.total == 26500 and month[0].net.total == 7000 + 8333
    assert month[0].new_customers == 2 and month[0].sales == 3


def test_geography_products_and_tax(shop):
    store, ebook, manga = shop
    scope = Scope(store, ENV, MARCH)
    geo = metrics.geography(scope)
    assert [(r.country, r.gross.total, r.sales, r.customers) for r in geo] == [
        ("US", 11000, 1, 1),
        ("JP", 10000, 1, 1),
        ("DE", 5500, 1, 1),
    ]
    top = metrics.top_products(scope, 10)
    assert [(r.name, r.gross.total, r.sales) for r in top] == [
        ("E-Book", 16500, 2),
        ("Manga", 10000, 1),
    ]
    assert [r.name for r in metrics.top_products(scope, 1)] == ["E-Book"]
    tax = {r.country: r.tax for r in metrics.tax_by_country(scope)}
    assert tax["US"] == Amount({"USD": 700}, "USD", 700)  # 1000 − 300 refunded
    assert tax["DE"] == Amount({}, "USD", 0)  # 500 − 500
    assert tax["JP"] == Amount({"JPY": 2000}, "USD", 1667)


def test_a_missing_rate_leaves_the_total_unknown(shop):
    store, _, _ = shop
    rates.ExchangeRate.objects.filter(currency="JPY").delete()
    s = metrics.summary(Scope(store, ENV, MARCH))
    assert s.gross == Amount({"JPY": 12000, "USD": 16500}, "USD", None)
    assert s.mrr.total == 5000


def test_change_against_the_previous_period():
    assert metrics.change(125, 100) == Decimal("0.2500")
    assert metrics.change(Amount({}, "USD", 50), Amount({}, "USD", 200)) == Decimal("-0.7500")
    assert metrics.change(10, -20) == Decimal("1.5000")
    assert metrics.change(5, 0) is None
    assert metrics.change(None, 3) is None
    assert MARCH.previous() == Window.of_days(date(2026, 1, 29), date(2026, 2, 28), TOKYO)


def test_a_constant_number_of_statements(shop):
    store, _, _ = shop
    counts = set()
    for days in (1, 7, 90, 730):
        window = Window.last_days(days, TOKYO, utc(2026, 3, 31, 12))
        with CaptureQueriesContext(connection) as summary_queries:
            metrics.summary(Scope(store, ENV, window))
        with CaptureQueriesContext(connection) as series_queries:
            metrics.series(Scope(store, ENV, window), Granularity.DAY)
        counts.add((len(summary_queries), len(series_queries)))
    assert len(counts) == 1
    summary_count, series_count = counts.pop()
    # Rolled up, the customer figures take 8 of the summary's (seal, touched days, the buyers'
    # tables and the raw corrections) and 5 of the series'.
    assert summary_count <= 25 and series_count <= 16
