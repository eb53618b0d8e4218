"""The rollups never change an answer: on random histories (charges, late charges, refunds,
subscriptions started, canceled and changed, days passing) the figures read through the rollups
equal the raw computation, whether the rollup task ran never, once or many times; the task is
idempotent, follows a timezone change, and is safe to run concurrently (PostgreSQL)."""

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.db.models import Count, F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import rates
from billing.analytics import metrics, rollups
from billing.analytics.metrics import Scope
from billing.analytics.periods import Granularity, Window, store_zone
from billing.models import (
    ANY_COUNTRY,
    AnalyticsBuyer,
    AnalyticsBuyerCount,
    AnalyticsBuyerDay,
    AnalyticsBuyerGap,
    AnalyticsDay,
    AnalyticsSeal,
    Subscription,
    SubscriptionStatus,
)
from tests.analytics.builders import ENV, pay, product, refund, subscribe
from tests.factories import StoreFactory

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "eurofxref-test.xml"
START = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
EMAILS = ["a@example.com", "B@example.com", "b@example.com", "c@example.com"]

charge = st.tuples(
    st.just("charge"),
    st.sampled_from(EMAILS),
    st.integers(0, 50000),
    st.sampled_from(["USD", "JPY"]),
    st.sampled_from(["US", "JP", "DE"]),
    st.integers(0, 72),  # hours back: > 0 is a late charge (paid then, written now)
)
refund_op = st.tuples(st.just("refund"), st.integers(0, 30), st.integers(1, 100))
subscribe_op = st.tuples(
    st.just("subscribe"),
    st.sampled_from(["weekly", "monthly", "quarterly", "yearly"]),
    st.integers(100, 9000),
    st.booleans(),  # with a trial
)
cancel_op = st.tuples(st.just("cancel"), st.integers(0, 10))
change_op = st.tuples(st.just("change"), st.integers(0, 10), st.integers(100, 9000))
wait_op = st.tuples(st.just("wait"), st.integers(1, 60))  # hours
roll_op = st.tuples(st.just("roll"))
operations = st.lists(
    st.one_of(charge, refund_op, subscribe_op, cancel_op, change_op, wait_op, roll_op),
    min_size=1,
    max_size=10,
)


def _figures(store, now, source, *, full, products=()):
    tz = store_zone(store.timezone)
    out = []
    today = now.astimezone(tz).date()
    # Windows reaching now (customers by their last charge) and one ended yesterday (customers
    # counted distinct over the buyers' days).
    windows = [
        Window.of_days(date(2026, 4, 25), today + timedelta(days=1), tz),
        Window.of_days(date(2026, 4, 25), today - timedelta(days=1), tz),
    ]
    if full:
        windows += [Window.last_days(1, tz, now), Window.last_days(3, tz, now)]
    scopes = [Scope(store, ENV, window) for window in windows]
    # The product filter: the figures of one product's buyers only.
    scopes += [Scope(store, ENV, window, product_id=p.pk) for window in windows for p in products]
    for scope in scopes:
        out.append(metrics.summary(scope, source=source))
        out.append(metrics.series(scope, Granularity.DAY, source=source))
        # The pages' reader shares statements between the two windows and the series: the
        # same figures as the readers called one by one.
        previous = Scope(scope.store, scope.environment, scope.window.previous(), scope.product_id)
        assert metrics.overview(scope, Granularity.DAY, source=source) == metrics.Overview(
            out[-2], metrics.summary(previous, source=source), out[-1]
        )
        if full:
            out.append(metrics.series(scope, Granularity.WEEK, source=source))
            out.append(metrics.geography(scope, source=source))
            out.append(metrics.top_products(scope, 5, source=source))
            out.append(metrics.tax_by_country(scope, source=source))
    return out


def _assert_same(store, now, *, full=False, products=()):
    rolled = _figures(store, now, "rollups", full=full, products=products)
    assert rolled == _figures(store, now, "raw", full=full, products=products)


def _tables(store):
    """Every rollup row of the store, in a stable order."""
    return [
        list(model.objects.filter(store=store).order_by("pk").values())
        for model in (
            AnalyticsDay,
            AnalyticsBuyer,
            AnalyticsBuyerCount,
            AnalyticsBuyerDay,
            AnalyticsBuyerGap,
        )
    ]


@pytest.mark.django_db
@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations, zone=st.sampled_from(["Asia/Tokyo", "UTC", "America/New_York"]))
def test_rollups_equal_the_raw_figures(ops, zone):
    rates.refresh(FIXTURE.as_uri())
    with time_machine.travel(START, tick=False) as clock:
        store = StoreFactory(timezone=zone, default_currency="USD")
        books = {"USD": product(store, "Book"), "JPY": product(store, "Hon", currency="JPY")}
        plan = product(store, "Plan")
        payments, subs = [], []
        for op in ops:
            now = datetime.now(UTC)
            if op[0] == "charge":
                _, email, amount, currency, country, back = op
                payments.append(
                    pay(
                        books[currency],
                        email,
                        amount,
                        amount // 11,
                        now - timedelta(hours=back),
                        currency=currency,
                        country=country,
                        fee=amount // 20,
                    )
                )
            elif op[0] == "refund" and payments:
                _, index, percent = op
                p = payments[index % len(payments)]
                p.refresh_from_db()
                left = p.amount - p.refunded_amount
                if left > 0:
                    refund(p, max(1, left * percent // 100), now)
            elif op[0] == "subscribe":
                _, period, pretax, trial = op
                subs.append(
                    subscribe(
                        plan,
                        f"s{len(subs)}@example.com",
                        period=period,
                        pretax=pretax,
                        tax=pretax // 10,
                        created_at=now,
                        trial_end_at=now + timedelta(days=2) if trial else None,
                        status=SubscriptionStatus.TRIALING if trial else SubscriptionStatus.ACTIVE,
                    )
                )
            elif op[0] == "cancel" and subs:
                sub = subs[op[1] % len(subs)]
                Subscription.objects.filter(pk=sub.pk).update(
                    status=SubscriptionStatus.CANCELED, ended_at=now, updated_at=now
                )
            elif op[0] == "change" and subs:
                _, index, pretax = op
                Subscription.objects.filter(pk=subs[index % len(subs)].pk).update(
                    subtotal=pretax, tax_amount=pretax // 10, total=pretax + pretax // 10
                )
            elif op[0] == "wait":
                clock.shift(timedelta(hours=op[1]))
                # A trial that has ended converts (the renewal task's part, by hand here).
                Subscription.objects.filter(
                    store=store,
                    status=SubscriptionStatus.TRIALING,
                    trial_end_at__lte=datetime.now(UTC),
                ).update(status=SubscriptionStatus.ACTIVE)
            elif op[0] == "roll":
                rollups.roll_up(store, ENV)
                _assert_same(store, datetime.now(UTC), full=True, products=[books["USD"]])
            _assert_same(store, datetime.now(UTC))
        # And after the task ran, twice, with time enough for every write to be settled.
        clock.shift(timedelta(hours=1))
        rollups.roll_up(store, ENV)
        rows = _tables(store)
        rollups.roll_up(store, ENV)
        assert _tables(store) == rows
        _assert_same(store, datetime.now(UTC), full=True, products=list(books.values()))


@pytest.fixture
def history(db):
    rates.refresh(FIXTURE.as_uri())
    with time_machine.travel(START, tick=False) as clock:
        store = StoreFactory(timezone="Asia/Tokyo", default_currency="USD")
        book = product(store, "Book")
        for n in range(6):
            pay(book, f"b{n}@example.com", 1000 * (n + 1), 100, datetime.now(UTC))
            clock.shift(timedelta(hours=20))
        clock.shift(timedelta(hours=2))
        yield store, book, clock


def test_the_task_is_idempotent_and_seals_finished_days(history):
    store, book, clock = history
    now = datetime.now(UTC)
    first = rollups.roll_up(store, ENV)
    assert first == 5  # local days May 1st-5th; today (May 6th, 07:00 JST) stays raw
    seal = AnalyticsSeal.objects.get(store=store)
    assert seal.sealed_through == datetime(2026, 5, 5, 15, 0, tzinfo=UTC)  # May 6th 00:00 JST
    rows = sorted(AnalyticsDay.objects.filter(store=store).values_list("day", "gross"))
    # Charges every 20 hours from 19:00 JST May 1st: 15:00 on the 2nd, 11:00 on the 3rd,
    # 07:00 on the 4th, 03:00 and 23:00 on the 5th.
    assert rows == [
        (date(2026, 5, 1), 1000),
        (date(2026, 5, 2), 2000),
        (date(2026, 5, 3), 3000),
        (date(2026, 5, 4), 4000),
        (date(2026, 5, 5), 5000 + 6000),
    ]
    assert rollups.roll_up(store, ENV) == 0
    assert AnalyticsDay.objects.filter(store=store).count() == len(rows)
    window = Window.of_days(date(2026, 5, 1), date(2026, 5, 6), store_zone("Asia/Tokyo"))
    assert metrics.summary(Scope(store, ENV, window)).gross.total == 21000
    # The window's days all come from the rollups now: no payment is read.
    AnalyticsDay.objects.filter(store=store, day=date(2026, 5, 3)).update(gross=0)
    assert metrics.summary(Scope(store, ENV, window)).gross.total == 18000
    assert metrics.summary(Scope(store, ENV, window), source="raw").gross.total == 21000
    AnalyticsDay.objects.filter(store=store, day=date(2026, 5, 3)).update(gross=3000)
    # A late write (a charge paid on May 2nd, written now) is read raw until the next run.
    pay(book, "late@example.com", 700, 0, datetime(2026, 5, 2, 3, tzinfo=UTC))
    assert metrics.summary(Scope(store, ENV, window)).gross.total == 21700
    clock.shift(timedelta(hours=1))
    assert rollups.roll_up(store, ENV) == 1
    assert metrics.summary(Scope(store, ENV, window)).gross.total == 21700
    assert now < datetime.now(UTC)


def test_a_timezone_change_rebuilds_the_store(history):
    store, _, _ = history
    rollups.roll_up(store, ENV)
    store.timezone = "America/New_York"
    store.save(update_fields=["timezone"])
    tz = store_zone("America/New_York")
    window = Window.of_days(date(2026, 4, 30), date(2026, 5, 5), tz)
    before = metrics.series(Scope(store, ENV, window), Granularity.DAY)
    assert before == metrics.series(Scope(store, ENV, window), Granularity.DAY, source="raw")
    b2 = AnalyticsBuyer.objects.filter(
        store=store, product_key="", country=ANY_COUNTRY, email="b2@example.com"
    )
    assert b2.get().first_day == date(2026, 5, 3)  # 02:00 UTC May 3rd is 11:00 in Tokyo
    rollups.roll_up(store, ENV)
    assert AnalyticsSeal.objects.get(store=store).timezone == "America/New_York"
    assert b2.get().first_day == date(2026, 5, 2)  # ... and 22:00 on May 2nd in New York
    assert AnalyticsBuyerDay.objects.filter(store=store, email="b2@example.com").get(
        product_key=""
    ).day == date(2026, 5, 2)
    assert metrics.series(Scope(store, ENV, window), Granularity.DAY) == before
    # 10:00 UTC May 1st is 06:00 in New York: the first charge is on May 1st there too.
    assert before[1].gross.total == 1000


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_leave_one_row_per_key():
    """Four runs at once on PostgreSQL (the seal row's lock and the upserts); SQLite serializes
    writers, so there the runs go one after another and must agree just the same."""
    rates.refresh(FIXTURE.as_uri())
    with time_machine.travel(START, tick=False) as clock:
        store = StoreFactory(timezone="UTC", default_currency="USD")
        book = product(store, "Book")
        for n in range(4):
            pay(book, f"b{n}@example.com", 1000, 0, datetime.now(UTC))
            clock.shift(timedelta(days=1))
    now = START + timedelta(days=5)
    errors = []

    def run():
        try:
            rollups.roll_up(store, ENV, now=now)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for _ in range(4):
            rollups.roll_up(store, ENV, now=now)
    assert errors == []
    assert AnalyticsSeal.objects.filter(store=store).count() == 1
    assert sorted(AnalyticsDay.objects.filter(store=store).values_list("day", "gross")) == [
        (date(2026, 5, 1), 1000),
        (date(2026, 5, 2), 1000),
        (date(2026, 5, 3), 1000),
        (date(2026, 5, 4), 1000),
    ]
    # One buyer row per buyer and key (any product, the book), one buyer-day row each too.
    buyers = AnalyticsBuyer.objects.filter(store=store, country=ANY_COUNTRY)
    assert sorted(buyers.values_list("email", "first_day")) == [
        (f"b{n}@example.com", date(2026, 5, 1 + n)) for n in range(4) for _ in range(2)
    ]
    assert AnalyticsBuyerDay.objects.filter(store=store).count() == 8


def _customers(store, window, source="rollups", product_id=None):
    scope = Scope(store, ENV, window, product_id=product_id)
    figures = metrics.summary(scope, source=source)
    return (
        figures.customers,
        figures.new_customers,
        figures.repeat_customers,
        [p.new_customers for p in metrics.series(scope, Granularity.DAY, source=source)],
        {row.country: row.customers for row in metrics.geography(scope, source=source)},
    )


def test_the_buyer_tables_count_customers_exactly(history):
    """Buyers b0-b5 paid once each, on May 1st-5th (JST; b4 and b5 both on the 5th)."""
    store, book, clock = history
    tz = store_zone("Asia/Tokyo")
    rollups.roll_up(store, ENV)
    firsts = sorted(
        AnalyticsBuyer.objects.filter(store=store, product_key="", country=ANY_COUNTRY).values_list(
            "email", "first_day"
        )
    )
    assert firsts == [
        ("b0@example.com", date(2026, 5, 1)),
        ("b1@example.com", date(2026, 5, 2)),
        ("b2@example.com", date(2026, 5, 3)),
        ("b3@example.com", date(2026, 5, 4)),
        ("b4@example.com", date(2026, 5, 5)),
        ("b5@example.com", date(2026, 5, 5)),
    ]
    # The same per product (the book's buyers are all of them), and one buyer-day each.
    assert AnalyticsBuyer.objects.filter(store=store, product_key=str(book.pk)).count() == 6
    # Per billing country too, for any product: b0-b5 all in the US.
    assert AnalyticsBuyer.objects.filter(store=store, product_key="", country="US").count() == 6
    assert AnalyticsBuyerDay.objects.filter(store=store).count() == 12

    # Today (May 6th): b0 buys again, b2 buys a pen; written late: a new buyer who paid on
    # May 2nd from Japan, and b5 (in capitals) who had paid on May 1st (08:00 JST).
    pen = product(store, "Pen")
    now = datetime.now(UTC)
    pay(book, "b0@example.com", 500, 0, now)
    pay(pen, "b2@example.com", 300, 0, now)
    pay(book, "late@example.com", 700, 0, datetime(2026, 5, 2, 3, tzinfo=UTC), country="JP")
    pay(book, "B5@Example.com", 900, 0, datetime(2026, 4, 30, 23, tzinfo=UTC))
    pay(book, "free@example.com", 0, 0, now)  # a charge of 0 makes no customer
    window = Window.of_days(date(2026, 5, 2), date(2026, 5, 6), tz)
    # In the window: b0-b5 and late (7); new: b1-b4 and late (b0 and b5 first paid May 1st).
    expected = (7, 5, 2, [2, 1, 1, 1, 0], {"US": 6, "JP": 1})
    assert _customers(store, window, "raw") == expected
    assert _customers(store, window) == expected
    ended = Window.of_days(date(2026, 5, 2), date(2026, 5, 5), tz)
    assert _customers(store, ended) == (6, 5, 1, [2, 1, 1, 1], {"US": 5, "JP": 1})
    pen_only = (1, 1, 0, [0, 0, 0, 0, 1], {"US": 1})
    assert _customers(store, window, "raw", pen.pk) == pen_only
    assert _customers(store, window, product_id=pen.pk) == pen_only
    clock.shift(timedelta(hours=1))
    rollups.roll_up(store, ENV)
    assert AnalyticsBuyer.objects.get(
        store=store, product_key="", country=ANY_COUNTRY, email="b5@example.com"
    ).first_day == date(2026, 5, 1)
    assert _customers(store, window) == expected
    assert _customers(store, window, product_id=pen.pk) == pen_only
    # Lifetime value: net revenue to the window's end (21,000 - 600 tax + 2,400) over its 7
    # customers to date: 22,800 / 7 = 3,257.14.
    scope = Scope(store, ENV, window)
    assert metrics.summary(scope).ltv == metrics.summary(scope, source="raw").ltv
    assert metrics.summary(scope).ltv.by_currency == {"USD": 3257}

    # The per-day counts equal the buyers' first and last days.
    every = AnalyticsBuyerCount.objects.filter(store=store, product_key="")
    counts = every.filter(country=ANY_COUNTRY)
    buyers = AnalyticsBuyer.objects.filter(store=store, product_key="")
    for column, field in (("first_day", "firsts"), ("last_day", "lasts")):
        by_day = buyers.values("country", column).annotate(n=Count("id"))
        assert {(c, d): n for c, d, n in every.values_list("country", "day", field) if n} == {
            (row["country"], row[column]): row["n"] for row in by_day
        }

    # The sealed figures are read from the counts: a count changed by hand shows (b2's first
    # charge moved from May 3rd to May 4th).
    counts.filter(day=date(2026, 5, 3)).update(firsts=F("firsts") - 1)
    counts.filter(day=date(2026, 5, 4)).update(firsts=F("firsts") + 1)
    assert _customers(store, window)[3] == [2, 0, 2, 1, 0]
    # A window reaching now counts its customers by their last charge (b3's: May 4th) ...
    counts.filter(day=date(2026, 5, 4)).update(lasts=F("lasts") - 1)
    counts.filter(day=date(2026, 5, 1)).update(lasts=F("lasts") + 1)
    assert _customers(store, window)[0] == 6
    # ... one that ended by the first and last days too (b3 now last paid before it) ...
    ended = Window.of_days(date(2026, 5, 2), date(2026, 5, 5), tz)
    # May 2nd-5th: b1-b5 and late; new: b1-b4 and late.
    assert _customers(store, ended, "raw") == (6, 5, 1, [2, 1, 1, 1], {"US": 5, "JP": 1})
    assert _customers(store, ended)[0] == 5
    # ... less the buyers who paid before it and after it but not in it (a gap spanning it).
    gaps = AnalyticsBuyerGap.objects.filter(store=store, product_key="")
    # b5 paid on May 1st and 5th (a gap inside it); the others on one sealed day each.
    assert list(gaps.values_list("after_day", "before_day", "n")) == [
        (date(2026, 5, 1), date(2026, 5, 5), 1)
    ]
    gaps.create(
        store=store, environment=ENV, after_day=date(2026, 5, 1), before_day=date(2026, 5, 6), n=1
    )
    assert _customers(store, ended)[0] == 4
    # The countries of a window reaching now, by the last day in each country.
    us = every.filter(country="US")
    us.filter(day=date(2026, 5, 4)).update(lasts=F("lasts") - 1)
    us.filter(day=date(2026, 5, 1)).update(lasts=F("lasts") + 1)
    assert _customers(store, window)[4] == {"US": 5, "JP": 1}
    assert _customers(store, window, "raw") == expected
