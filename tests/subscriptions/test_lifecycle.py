"""Cancel, reactivate, pause and resume, driven through time with the beat task: what happens at
the period's end, what is charged and what is not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from billing.models import PaymentStatus, SubscriptionStatus
from billing.providers import test_processor
from billing.subscriptions import lifecycle
from pancake.api.actor import merchant_actor
from pancake.models import OutboxEvent
from tests.factories import ProductFactory
from tests.helpers import buy
from tests.subscriptions.helpers import US, at, beat, charges, order_id, refresh, subscribe, utc

pytestmark = pytest.mark.django_db


def renewals_of(sub):
    return [p for p in charges(sub) if p.purpose == "renewal"]


def events_of(order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=order.pk)
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )


def test_cancel_at_period_end_then_canceled_and_never_charged(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 15)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 20)):
        data = api.call("subscription-order/cancel-order", {"orderId": order_id(order)})["data"]
    assert data == {
        "orderId": order_id(order),
        "status": "canceling",
        "currentPeriodEnd": "2027-02-15T00:00:00.000Z",
    }
    with at(utc(2027, 2, 14)):
        beat(django_capture_on_commit_callbacks)
    assert refresh(sub).status == SubscriptionStatus.CANCELING
    with at(utc(2027, 2, 15, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.CANCELED
    assert sub.ended_at == utc(2027, 2, 15) and sub.due_at is None
    assert renewals_of(sub) == []
    order.refresh_from_db()
    assert order.status == "canceled" and order.canceled_at == utc(2027, 1, 20)
    assert events_of(order)[-2:] == ["subscription.canceling", "subscription.canceled"]


def test_cancel_then_reactivate_then_the_renewal_runs(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 3, 1)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
    with at(utc(2027, 3, 10)):
        api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
        data = api.call("subscription-order/reactivate-order", {"orderId": order_id(order)})
    assert data["data"] == {"orderId": order_id(order), "status": "active"}
    sub = refresh(sub)
    assert (sub.cancel_at_period_end, sub.canceled_at, sub.cancel_at) == (False, None, None)
    with at(utc(2027, 4, 1, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.ACTIVE and sub.period_number == 2
    assert [p.amount for p in renewals_of(sub)] == [999]
    assert "subscription.uncanceled" in events_of(order)


def test_canceled_while_past_due_cannot_be_reactivated(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 3, 1)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
    test_processor.card_set_off_session_outcome(sub.method_token, "card_declined")
    with at(utc(2027, 4, 1, 0, 1)):
        beat(django_capture_on_commit_callbacks)
        assert refresh(sub).status == SubscriptionStatus.PAST_DUE
        api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
        error = api.call(
            "subscription-order/reactivate-order", {"orderId": order_id(order)}, expect=400
        )["errors"][0]
    assert error["message"] == "Subscription with an unpaid balance cannot be reactivated"
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.CANCELING and sub.next_retry_at is None
    with at(utc(2027, 4, 2, 0, 1)):  # dunning stopped: no retry on day 1
        beat(django_capture_on_commit_callbacks)
    assert len(charges(sub, PaymentStatus.FAILED)) == 1
    with at(utc(2027, 4, 8, 0, 1)):  # the dunning window has closed
        beat(django_capture_on_commit_callbacks)
    assert refresh(sub).status == SubscriptionStatus.CANCELED


def test_pause_stops_charges_and_resume_gives_back_the_rest_of_the_period(
    api, store, merchant, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    actor = merchant_actor(merchant, "test")
    with at(utc(2027, 5, 1)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
    with at(utc(2027, 5, 21)):  # 11 days of the period left
        lifecycle.pause(actor=actor, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "paused" and refresh(sub).due_at is None
    with at(utc(2027, 7, 1)):
        beat(django_capture_on_commit_callbacks)
    assert renewals_of(refresh(sub)) == []
    with at(utc(2027, 7, 10)):
        lifecycle.resume(actor=actor, order_id=order.pk)
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.ACTIVE
    assert sub.current_period_end == utc(2027, 7, 21)  # now + the 11 days left
    with at(utc(2027, 7, 21, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.period_number == 2
    assert (sub.current_period_start, sub.current_period_end) == (
        utc(2027, 7, 21), utc(2027, 8, 21)
    )  # fmt: skip
    assert [p.period_number for p in renewals_of(sub)] == [2]


def test_merchant_cancels_now(api, store, merchant, django_capture_on_commit_callbacks):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 5, 1)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
    with at(utc(2027, 5, 3)):
        lifecycle.cancel_now(actor=merchant_actor(merchant, "test"), order_id=order.pk)
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.CANCELED and sub.ended_at == utc(2027, 5, 3)
    with at(utc(2027, 6, 1) + timedelta(minutes=1)):
        beat(django_capture_on_commit_callbacks)
    assert renewals_of(refresh(sub)) == []
    assert events_of(order)[-1] == "subscription.canceled"


def test_a_subscription_order_never_paid_expires_with_its_checkout(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 5, 1)):
        payment = buy(api, plan, currency="USD", billing=US, subscription=True,
                      session={"expiresInSeconds": 3600})  # fmt: skip
    with at(utc(2027, 5, 1, 0, 59)):
        beat(django_capture_on_commit_callbacks)
    payment.order.refresh_from_db()
    assert payment.order.status == "pending"
    with at(utc(2027, 5, 1, 1, 1)):
        beat(django_capture_on_commit_callbacks)
    payment.order.refresh_from_db()
    payment.refresh_from_db()
    assert payment.order.status == "expired"
    assert (payment.status, payment.failure_code) == ("failed", "expired")
