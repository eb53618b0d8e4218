"""Renewals, trials and dunning driven through time: real time moved by time-machine and the
beat task run as it runs in production."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command

from billing.models import PaymentStatus, SubscriptionStatus
from billing.providers import test_processor
from pancake.models import OutboxEvent
from tests.factories import ProductFactory
from tests.subscriptions.helpers import at, beat, charges, refresh, subscribe, utc

pytestmark = pytest.mark.django_db(transaction=False)
DECLINES_OFF_SESSION = "4000000000000341"


def events_of(order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=order.pk)
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )


def test_monthly_on_the_31st_keeps_its_day_across_february(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 31, 10)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.current_period_end == utc(2027, 2, 28, 10)
    with at(utc(2027, 2, 28, 10, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert (sub.period_number, sub.current_period_start, sub.current_period_end) == (
        2,
        utc(2027, 2, 28, 10),
        utc(2027, 3, 31, 10),
    )
    with at(utc(2027, 3, 31, 10, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.current_period_end == utc(2027, 4, 30, 10)
    paid = charges(sub)
    assert [p.period_number for p in paid] == [1, 2, 3]
    assert [p.amount for p in paid] == [999, 999, 999]
    assert events_of(order).count("subscription.renewed") == 2


def test_trial_then_first_charge_then_three_renewals(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, trial=True)
    with at(utc(2027, 3, 1, 12)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks, trial=True)
    assert sub.status == SubscriptionStatus.TRIALING
    assert sub.trial_end_at == utc(2027, 3, 8, 12)
    assert sub.period_number == 0
    with at(utc(2027, 3, 8, 11)):
        beat(django_capture_on_commit_callbacks)  # the trial-ending reminder only
    assert refresh(sub).status == SubscriptionStatus.TRIALING
    assert charges(refresh(sub)) == [] or all(p.amount == 0 for p in charges(sub))
    with at(utc(2027, 3, 8, 12, 0, 30)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.ACTIVE
    assert (sub.period_number, sub.anchor_at) == (1, utc(2027, 3, 8, 12))
    for month in (4, 5, 6):
        with at(utc(2027, month, 8, 12, 5)):
            beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.period_number == 4
    assert sub.current_period_end == utc(2027, 7, 8, 12)
    renewals = [p for p in charges(sub) if p.purpose == "renewal"]
    assert [p.period_number for p in renewals] == [1, 2, 3, 4]
    types = events_of(order)
    assert "subscription.trial_ending" in types
    assert types.count("subscription.payment_succeeded") == 4


def test_declined_renewal_through_every_retry_to_canceled(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, trial=True)
    with at(utc(2027, 5, 1)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks, trial=True,
                               card=DECLINES_OFF_SESSION)  # fmt: skip
    end = sub.trial_end_at
    with at(end + timedelta(minutes=1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.PAST_DUE
    assert sub.next_retry_at == end + timedelta(days=1)
    for day, expected in ((1, SubscriptionStatus.PAST_DUE), (3, SubscriptionStatus.PAST_DUE),
                          (7, SubscriptionStatus.CANCELED)):  # fmt: skip
        with at(end + timedelta(days=day, minutes=1)):
            beat(django_capture_on_commit_callbacks)
        assert refresh(sub).status == expected
    failed = charges(sub, PaymentStatus.FAILED)
    assert [(p.period_number, p.attempt) for p in failed] == [(1, 0), (1, 1), (1, 2), (1, 3)]
    assert charges(sub) == [] or all(p.purpose == "first" for p in charges(sub))
    types = events_of(order)
    assert types.count("subscription.past_due") == 1
    # The last try's failure and the cancellation are one transaction at one frozen instant:
    # the same created_at, so their order between themselves is not the query's to tell.
    assert sorted(types[-2:]) == ["subscription.canceled", "subscription.payment_failed"]
    assert types.count("subscription.canceled") == 1
    order.refresh_from_db()
    assert order.status == "canceled"


def test_recovery_on_the_second_retry(api, store, django_capture_on_commit_callbacks):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 10)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
    test_processor.card_set_off_session_outcome(sub.method_token, "card_declined")
    with at(utc(2027, 2, 10, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    with at(utc(2027, 2, 11, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    assert refresh(sub).status == SubscriptionStatus.PAST_DUE
    test_processor.card_set_off_session_outcome(sub.method_token, "succeed")
    with at(utc(2027, 2, 13, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.ACTIVE
    assert (sub.period_number, sub.current_period_start) == (2, utc(2027, 2, 10))
    assert sub.current_period_end == utc(2027, 3, 10)
    assert "subscription.recovered" in events_of(order)
    paid = [p for p in charges(sub) if p.purpose == "renewal"]
    assert [(p.period_number, p.attempt) for p in paid] == [(2, 2)]


@pytest.mark.django_db(transaction=True)  # the command manages its connections as a process
def test_the_periodic_command_renews_without_celery_beat(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 5)):
        _order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
    with at(utc(2027, 2, 5, 0, 1)), django_capture_on_commit_callbacks(execute=True):
        call_command("periodic", "--once")
    sub = refresh(sub)
    assert sub.period_number == 2
    assert [p.period_number for p in charges(sub) if p.purpose == "renewal"] == [2]
