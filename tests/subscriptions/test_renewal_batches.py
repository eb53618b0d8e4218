"""Renewals of a claimed batch: the batch's charges are committed as processing together, the
provider is called for each, the outcomes are recorded together. Each subscription is still
charged exactly once per period, whatever happens to the others of its batch, and the beat keeps
claiming while a backlog lasts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from billing import tasks
from billing.models import Payment, PaymentStatus, SubscriptionStatus, TestProcessorPayment
from billing.providers import test_processor
from pancake import bulk
from pancake.models import OutboxEvent
from tests.factories import ProductFactory
from tests.subscriptions.helpers import at, beat, order_id, refresh, subscribe, utc

pytestmark = pytest.mark.django_db(transaction=False)
SUBSCRIBED = utc(2027, 1, 10, 9)
RENEWS = utc(2027, 2, 10, 9, 1)


@pytest.fixture
def subscriptions(api, store, django_capture_on_commit_callbacks):
    """``make(n)``: n active monthly subscriptions of one plan, bought on SUBSCRIBED (or
    ``when``), whose upcoming-charge emails went out 3 days before the renewal, when the beat
    ran then: at the renewal, the charge is the only step due."""
    plan = ProductFactory(store=store, subscription=True)

    def make(n, when=SUBSCRIBED):
        with at(when):
            made = [subscribe(api, plan, django_capture_on_commit_callbacks)[1] for _ in range(n)]
        with at(when + timedelta(days=28, minutes=1)):  # 3 days before the period ends
            beat(django_capture_on_commit_callbacks)
        assert {refresh(sub).reminded_period for sub in made} == {1}
        return made

    return make


def renewal_payments(subscription) -> list[Payment]:
    return list(
        Payment.objects.filter(subscription=subscription, purpose="renewal").order_by("created_at")
    )


def provider_charges(payment) -> int:
    return TestProcessorPayment.objects.filter(attempt_id=str(payment.pk), off_session=True).count()


def renewal_events(subscription) -> list[OutboxEvent]:
    """The events about its renewal payments, oldest first."""
    return list(
        OutboxEvent.objects.filter(
            aggregate_id=subscription.order_id,
            subject_id__in=[payment.pk for payment in renewal_payments(subscription)],
        ).order_by("created_at", "pk")
    )


def assert_renewed_once(subscription):
    subscription = refresh(subscription)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.period_number == 2
    assert subscription.current_period_start == utc(2027, 2, 10, 9)
    assert subscription.current_period_end == utc(2027, 3, 10, 9)
    assert subscription.locked_until is None
    assert subscription.due_at == utc(2027, 3, 7, 9)  # the upcoming-charge email, 3 days before
    [payment] = renewal_payments(subscription)
    assert (payment.status, payment.period_number, payment.amount) == ("succeeded", 2, 999)
    assert payment.paid_at is not None
    assert payment.payment_method_details["last4"] == "4242"
    assert provider_charges(payment) == 1
    return subscription, payment


def test_a_batch_renews_each_subscription_once_with_its_two_events_in_order(
    subscriptions, django_capture_on_commit_callbacks
):
    subs = subscriptions(4)
    with at(RENEWS):
        assert beat(django_capture_on_commit_callbacks) == 4
    for sub in subs:
        sub, payment = assert_renewed_once(sub)
        events = {event.event_type: event for event in renewal_events(sub)}
        assert sorted(events) == ["subscription.payment_succeeded", "subscription.renewed"]
        paid, renewed = events["subscription.payment_succeeded"], events["subscription.renewed"]
        # (time stands still here: with a running clock the second is later, see test_outbox)
        assert paid.created_at <= renewed.created_at
        assert (paid.subject_id, renewed.subject_id) == (payment.pk, payment.pk)
        assert paid.data["periodNumber"] == renewed.data["periodNumber"] == 2
        assert paid.data["currentPeriodEnd"] == "2027-03-10T09:00:00.000Z"
        assert paid.dispatched_at is not None and renewed.dispatched_at is not None


def test_a_declined_card_in_a_batch_goes_into_dunning_and_the_others_renew(
    subscriptions, django_capture_on_commit_callbacks
):
    declined, *others = subscriptions(3)
    test_processor.card_set_off_session_outcome(declined.method_token, "card_declined")
    with at(RENEWS):
        beat(django_capture_on_commit_callbacks)
    for sub in others:
        assert_renewed_once(sub)
    declined = refresh(declined)
    assert declined.status == SubscriptionStatus.PAST_DUE
    assert declined.next_retry_at == utc(2027, 2, 11, 9)
    assert (declined.period_number, declined.locked_until) == (1, None)
    [failed] = renewal_payments(declined)
    assert (failed.status, failed.attempt, failed.failure_code) == ("failed", 0, "card_declined")
    declined.order.refresh_from_db()
    assert declined.order.status == "past_due"
    types = OutboxEvent.objects.filter(aggregate_id=declined.order_id).values_list(
        "event_type", flat=True
    )
    assert "subscription.past_due" in types and "subscription.renewed" not in types


@pytest.mark.parametrize("fault", ["timeout", "error"])
def test_a_charge_the_provider_did_not_answer_is_asked_again_with_the_same_key(
    fault, subscriptions, django_capture_on_commit_callbacks
):
    subs = subscriptions(3)
    test_processor.fail_next("charge_saved", kind=fault)  # the batch's first charge
    with at(RENEWS):
        beat(django_capture_on_commit_callbacks)
    waiting = [sub for sub in subs if refresh(sub).period_number == 1]
    assert len(waiting) == 1
    sub = refresh(waiting[0])
    [payment] = renewal_payments(sub)
    assert payment.status == PaymentStatus.PROCESSING
    assert provider_charges(payment) == (1 if fault == "timeout" else 0)
    assert sub.locked_until is None
    assert sub.due_at == RENEWS + timedelta(minutes=1)
    assert renewal_events(sub) == []
    with at(RENEWS + timedelta(seconds=30)):  # not yet
        assert beat(django_capture_on_commit_callbacks) == 0
    with at(RENEWS + timedelta(minutes=1, seconds=1)):
        beat(django_capture_on_commit_callbacks)
    for other in subs:
        assert_renewed_once(other)
    assert renewal_payments(sub) == [payment]  # the same try, its id the same key


def test_a_batch_whose_recording_fails_is_finished_one_by_one_without_charging_twice(
    subscriptions, django_capture_on_commit_callbacks, monkeypatch
):
    subs = subscriptions(3)
    update = bulk.update
    failures = []

    def fails_once(objs, fields):
        if not failures:
            failures.append(fields)
            raise DatabaseError("the database went away")
        return update(objs, fields)

    monkeypatch.setattr(bulk, "update", fails_once)
    with at(RENEWS):
        assert beat(django_capture_on_commit_callbacks) == 3
    assert failures
    for sub in subs:
        sub, _ = assert_renewed_once(sub)
        assert sorted(e.event_type for e in renewal_events(sub)) == [
            "subscription.payment_succeeded",
            "subscription.renewed",
        ]


def test_a_subscription_canceled_while_its_charge_is_made_runs_to_the_end_of_the_paid_period(
    api, subscriptions, django_capture_on_commit_callbacks, monkeypatch
):
    canceled, other = subscriptions(2)
    charge_saved = test_processor.TestProcessor.charge_saved

    def buyer_cancels_meanwhile(self, **kwargs):
        result = charge_saved(self, **kwargs)
        if kwargs["metadata"]["orderId"] == str(canceled.order_id):
            api.call("subscription-order/cancel-order", {"orderId": order_id(canceled.order)})
        return result

    monkeypatch.setattr(test_processor.TestProcessor, "charge_saved", buyer_cancels_meanwhile)
    with at(RENEWS):
        beat(django_capture_on_commit_callbacks)
    assert_renewed_once(other)
    canceled = refresh(canceled)
    assert canceled.status == SubscriptionStatus.CANCELING
    assert (canceled.period_number, canceled.cancel_at) == (2, utc(2027, 3, 10, 9))
    assert canceled.locked_until is None
    [payment] = renewal_payments(canceled)
    assert (payment.status, provider_charges(payment)) == ("succeeded", 1)
    assert [e.event_type for e in renewal_events(canceled)] == ["subscription.payment_succeeded"]


def test_a_batch_costs_the_same_statements_for_one_renewal_and_for_four(
    subscriptions, django_capture_on_commit_callbacks
):
    """Only the provider's own statements (the test processor keeps its state in the same
    database: two per charge) grow with the batch."""

    def statements(subs, when) -> tuple[int, int]:
        # The engine's statements only: the outbox's consumers (emails, webhooks) run in tasks
        # of their own after the commit, not counted here.
        with at(when), CaptureQueriesContext(connection) as ctx:
            with django_capture_on_commit_callbacks(execute=False):
                tasks.renew_subscriptions()
        assert {refresh(sub).period_number for sub in subs} == {2}
        sql = [q["sql"] for q in ctx.captured_queries]
        provider = [s for s in sql if "billing_testprocessor" in s]
        return len(sql) - len(provider), len(provider)

    one, one_provider = statements(subscriptions(1, when=utc(2027, 1, 5, 9)), utc(2027, 2, 5, 9, 1))
    four, four_provider = statements(subscriptions(4), RENEWS)
    assert one == four
    assert (one_provider, four_provider) == (2, 8)


def test_a_backlog_larger_than_the_beats_limit_is_claimed_by_its_continuation(
    subscriptions, django_capture_on_commit_callbacks
):
    subs = subscriptions(5)
    with at(RENEWS), django_capture_on_commit_callbacks(execute=True):
        # eager: each batch and the continuation run inside the call
        assert tasks.renew_subscriptions(batch=2, limit=2) == 2
    for sub in subs:
        assert_renewed_once(sub)
    assert cache.get(tasks.RENEWALS_CONTINUING) is None


def test_beat_leaves_the_claiming_to_a_queued_continuation(
    subscriptions, django_capture_on_commit_callbacks
):
    subs = subscriptions(2)
    try:
        with at(RENEWS), django_capture_on_commit_callbacks(execute=True):
            cache.set(tasks.RENEWALS_CONTINUING, True)
            assert tasks.renew_subscriptions() == 0
            assert {refresh(sub).period_number for sub in subs} == {1}
            assert tasks.renew_subscriptions(continued=True) == 2
    finally:
        cache.delete(tasks.RENEWALS_CONTINUING)
    assert cache.get(tasks.RENEWALS_CONTINUING) is None
    for sub in subs:
        assert_renewed_once(sub)
