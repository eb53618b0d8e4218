"""Cancel and reactivate through the API, as the SDK calls them (``orders.cancelSubscription``
with the merchant's key, ``customer(token).cancelSubscription`` and
``.reactivateSubscription`` with the buyer's token): each transition, its answer, its event and
what time then does to the subscription."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.test import Client

from billing.models import PaymentStatus, SubscriptionStatus
from billing.providers import test_processor
from checkout.models import Order
from pancake.api import ids
from pancake.models import OutboxEvent
from tests.factories import ProductFactory
from tests.helpers import buy
from tests.subscriptions.helpers import at, beat, charges, order_id, refresh, subscribe, utc

pytestmark = pytest.mark.django_db(transaction=False)

CANCEL = "subscription-order/cancel-order"
REACTIVATE = "subscription-order/reactivate-order"
UNPAID = "Subscription with an unpaid balance cannot be reactivated"
NOT_CANCELING = "Only a canceling subscription can be reactivated"
START = utc(2027, 1, 31, 10)
PERIOD_END = utc(2027, 2, 28, 10)
PERIOD_END_TEXT = "2027-02-28T10:00:00.000Z"


@pytest.fixture
def plan(store):
    return ProductFactory(store=store, subscription=True)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def active(api, plan, capture):
    """An active monthly subscription paid on START (period 1 ends PERIOD_END)."""
    with at(START):
        return subscribe(api, plan, capture)


def events_of(order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=order.pk)
        .order_by("created_at", "id")
        .values_list("event_type", flat=True)
    )


def last_event(order, event_type) -> OutboxEvent:
    return (
        OutboxEvent.objects.filter(aggregate_id=order.pk, event_type=event_type)
        .order_by("-created_at")
        .first()
    )


def token_for(api, store, buyer="buyer@example.com") -> str:
    body = {"storeId": ids.encode("STO", store.pk), "buyerIdentity": buyer}
    return api.call("auth/issue-session-token", body)["data"]["token"]


def as_buyer(token, action, body, environment="test"):
    """A call as the SDK's ``client.customer(token, { environment })`` sends it."""
    return Client().post(
        f"/v1/actions/{action}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_ENVIRONMENT=environment,
    )


def error_of(response, status) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["data"] is None
    return body["errors"][0]


# --- cancel ----------------------------------------------------------------------------------


def test_a_pending_subscription_is_canceled_at_once(api, plan, capture):
    with at(START):
        payment = buy(api, plan, currency="USD", subscription=True)
        with capture(execute=True):
            body = api.call(CANCEL, {"orderId": order_id(payment.order)})
    assert body == {
        "data": {"orderId": order_id(payment.order), "status": "canceled", "currentPeriodEnd": None}
    }
    order = Order.objects.get(pk=payment.order_id)
    assert (order.status, order.canceled_at) == ("canceled", START)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED  # its checkout can no longer be paid
    assert events_of(order) == ["subscription.canceled"]
    # Canceled is final: canceling again and reactivating are 400s.
    assert error_of(api.post(CANCEL, {"orderId": order_id(order)}), 400)["message"] == (
        "Subscription is already canceled"
    )
    assert error_of(api.post(REACTIVATE, {"orderId": order_id(order)}), 400) == {
        "message": NOT_CANCELING,
        "layer": "order",
    }


def test_an_active_subscription_runs_to_its_period_end_then_is_canceled(api, active, capture):
    order, subscription = active
    with at(utc(2027, 2, 10, 8)), capture(execute=True):
        body = api.call(CANCEL, {"orderId": order_id(order)})
    assert body == {
        "data": {
            "orderId": order_id(order),
            "status": "canceling",
            "currentPeriodEnd": PERIOD_END_TEXT,
        }
    }
    subscription = refresh(subscription)
    assert subscription.status == SubscriptionStatus.CANCELING
    assert (subscription.canceled_at, subscription.cancel_at) == (utc(2027, 2, 10, 8), PERIOD_END)
    order.refresh_from_db()
    assert (order.status, order.canceled_at) == ("canceling", utc(2027, 2, 10, 8))
    event = last_event(order, "subscription.canceling")
    assert event.data["currentPeriodEnd"] == PERIOD_END_TEXT
    assert event.data["canceledAt"] == "2027-02-10T08:00:00.000Z"
    assert event.data["orderStatus"] == "canceling"

    # Canceling again answers as it is, and changes nothing.
    with at(utc(2027, 2, 11)):
        again = api.call(CANCEL, {"orderId": order_id(order)})
    assert again["data"] == body["data"]
    assert events_of(order).count("subscription.canceling") == 1

    with at(PERIOD_END - timedelta(minutes=1)):
        beat(capture)
    assert refresh(subscription).status == SubscriptionStatus.CANCELING
    with at(PERIOD_END + timedelta(minutes=1)):
        beat(capture)
    subscription = refresh(subscription)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert subscription.ended_at == PERIOD_END  # when the period ran out, not when the beat ran
    order.refresh_from_db()
    assert order.status == "canceled"
    assert [p.period_number for p in charges(subscription)] == [1]  # period 2 never charged
    assert events_of(order)[-1] == "subscription.canceled"
    assert last_event(order, "subscription.canceled").data["orderStatus"] == "canceled"
    assert error_of(api.post(REACTIVATE, {"orderId": order_id(order)}), 400)["message"] == (
        NOT_CANCELING
    )


def test_a_trialing_subscription_ends_at_the_trial_end_without_a_charge(api, store, capture):
    plan = ProductFactory(store=store, trial=True)
    with at(START):
        order, subscription = subscribe(api, plan, capture, trial=True)
    trial_end = subscription.trial_end_at
    with at(START + timedelta(days=2)):
        body = api.call(CANCEL, {"orderId": order_id(order)})
    assert body["data"] == {
        "orderId": order_id(order),
        "status": "canceling",
        "currentPeriodEnd": "2027-02-07T10:00:00.000Z",
    }
    assert trial_end == utc(2027, 2, 7, 10)
    with at(trial_end + timedelta(minutes=1)):
        beat(capture)
    subscription = refresh(subscription)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert [p.purpose for p in charges(subscription)] == ["first"]  # the trial's, nothing after


def test_a_past_due_subscription_stops_its_retries_and_cannot_be_reactivated(api, active, capture):
    order, subscription = active
    test_processor.card_set_off_session_outcome(subscription.method_token, "card_declined")
    with at(PERIOD_END + timedelta(minutes=1)):
        beat(capture)
    subscription = refresh(subscription)
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert len(charges(subscription, PaymentStatus.FAILED)) == 1

    with at(PERIOD_END + timedelta(hours=5)), capture(execute=True):
        body = api.call(CANCEL, {"orderId": order_id(order)})
    assert body["data"] == {
        "orderId": order_id(order),
        "status": "canceling",
        # It ends when its retries would have ended (the last one 7 days after the period end).
        "currentPeriodEnd": "2027-03-07T10:00:00.000Z",
    }
    subscription = refresh(subscription)
    assert (subscription.status, subscription.next_retry_at) == ("canceling", None)
    assert "subscription.canceling" in events_of(order)

    with at(PERIOD_END + timedelta(days=1, hours=6)):
        response = api.post(REACTIVATE, {"orderId": order_id(order)})
    assert error_of(response, 400) == {"message": UNPAID, "layer": "order"}
    assert refresh(subscription).status == SubscriptionStatus.CANCELING

    # The retries (days 1, 3 and 7 after the period's end) never run: no more charge tries.
    for day in (1, 3, 6):
        with at(PERIOD_END + timedelta(days=day, minutes=5)):
            beat(capture)
        assert refresh(subscription).status == SubscriptionStatus.CANCELING
    with at(PERIOD_END + timedelta(days=7, minutes=5)):
        beat(capture)
    subscription = refresh(subscription)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert len(charges(subscription, PaymentStatus.FAILED)) == 1
    assert [p.period_number for p in charges(subscription)] == [1]
    assert events_of(order)[-1] == "subscription.canceled"


# --- reactivate ------------------------------------------------------------------------------


def test_reactivating_a_canceling_subscription_makes_it_active_and_it_renews(api, active, capture):
    order, subscription = active
    with at(utc(2027, 2, 10)):
        api.call(CANCEL, {"orderId": order_id(order)})
    with at(utc(2027, 2, 12)), capture(execute=True):
        body = api.call(REACTIVATE, {"orderId": order_id(order)})
    assert body == {"data": {"orderId": order_id(order), "status": "active"}}
    subscription = refresh(subscription)
    assert subscription.status == SubscriptionStatus.ACTIVE
    assert subscription.canceled_at is subscription.cancel_at is None
    order.refresh_from_db()
    assert (order.status, order.canceled_at) == ("active", None)
    event = last_event(order, "subscription.uncanceled")
    assert event.data["orderStatus"] == "active" and "canceledAt" not in event.data

    with at(PERIOD_END + timedelta(minutes=1)):
        beat(capture)
    subscription = refresh(subscription)
    assert (subscription.status, subscription.period_number) == ("active", 2)
    assert [p.period_number for p in charges(subscription)] == [1, 2]


def test_reactivating_what_is_not_canceling_is_a_400(api, plan, active):
    order, _ = active
    assert error_of(api.post(REACTIVATE, {"orderId": order_id(order)}), 400) == {
        "message": NOT_CANCELING,
        "layer": "order",
    }
    pending = buy(api, plan, currency="USD", subscription=True).order
    assert error_of(api.post(REACTIVATE, {"orderId": order_id(pending)}), 400) == {
        "message": NOT_CANCELING,
        "layer": "order",
    }
    assert events_of(order).count("subscription.uncanceled") == 0


def test_a_trial_canceled_and_reactivated_goes_back_to_its_trial(api, store, capture):
    plan = ProductFactory(store=store, trial=True)
    with at(START):
        order, subscription = subscribe(api, plan, capture, trial=True)
        api.call(CANCEL, {"orderId": order_id(order)})
        body = api.call(REACTIVATE, {"orderId": order_id(order)})
    # Nothing has been paid for a period yet: the trial goes on, and ends with its first charge.
    assert body["data"] == {"orderId": order_id(order), "status": "trialing"}
    with at(subscription.trial_end_at + timedelta(minutes=1)):
        beat(capture)
    assert refresh(subscription).status == SubscriptionStatus.ACTIVE


def test_reactivate_checks_the_product_name_when_sent(api, active):
    order, _ = active
    api.call(CANCEL, {"orderId": order_id(order)})
    response = api.post(REACTIVATE, {"orderId": order_id(order), "productName": "Basic"})
    assert error_of(response, 400)["message"] == (
        "productName does not match the subscription's product"
    )
    body = api.call(REACTIVATE, {"orderId": order_id(order), "productName": "Pro Plan"})
    assert body["data"]["status"] == "active"


# --- who may, and which ids ------------------------------------------------------------------


def test_the_buyer_cancels_and_reactivates_their_own_subscription(api, store, active):
    order, subscription = active
    token = token_for(api, store, "Buyer@Example.com")
    response = as_buyer(token, CANCEL, {"orderId": order_id(order)})
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {
        "orderId": order_id(order),
        "status": "canceling",
        "currentPeriodEnd": PERIOD_END_TEXT,
    }
    response = as_buyer(token, REACTIVATE, {"orderId": order_id(order)})
    assert response.status_code == 200, response.content
    assert response.json() == {"data": {"orderId": order_id(order), "status": "active"}}
    assert refresh(subscription).status == SubscriptionStatus.ACTIVE


def test_another_buyers_or_another_merchants_order_is_a_404(api, make_api, store, active):
    order, subscription = active
    body = {"orderId": order_id(order)}
    someone = token_for(api, store, "someone@example.com")
    for action in (CANCEL, REACTIVATE):
        assert error_of(as_buyer(someone, action, body), 404) == {
            "message": "Order not found",
            "layer": "order",
        }
    stranger = make_api("stranger@example.com")
    assert error_of(stranger.post(CANCEL, body), 404)["message"] == "Order not found"
    unknown = {"orderId": ids.encode("ORD", uuid.uuid4())}
    assert error_of(api.post(CANCEL, unknown), 404)["message"] == "Order not found"
    # The buyer's token of the wrong environment is refused before anything is looked up.
    mine = token_for(api, store)
    assert error_of(as_buyer(mine, CANCEL, body, environment="prod"), 400)["message"] == (
        "Environment mismatch between request and session"
    )
    assert refresh(subscription).status == SubscriptionStatus.ACTIVE


def test_a_store_member_may_not_cancel(api, make_api, member_of, store, active):
    order, subscription = active
    member = make_api("member@example.com")
    member_of(store, member.merchant, "member")
    response = member.post(CANCEL, {"orderId": order_id(order)})
    assert error_of(response, 403)["message"] == "Insufficient permissions"
    assert refresh(subscription).status == SubscriptionStatus.ACTIVE


def test_both_api_versions_take_both_id_forms_and_answer_in_their_own(api, active):
    order, _ = active
    short, long = order_id(order), str(order.pk)
    docs = {"HTTP_PANCAKE_VERSION": "2026-01-15"}
    # The SDK's version (the key's default): a UUID in, the short id out.
    assert api.call(CANCEL, {"orderId": long})["data"]["orderId"] == short
    # The documentation pages' version: the short id in, the UUID out.
    assert api.call(REACTIVATE, {"orderId": short}, docs)["data"] == {
        "orderId": long,
        "status": "active",
    }
    body = api.call(CANCEL, {"orderId": long.replace("-", "").upper()}, docs)["data"]
    assert (body["orderId"], body["currentPeriodEnd"]) == (long, PERIOD_END_TEXT)
    wrong = api.post(CANCEL, {"orderId": ids.encode("PAY", order.pk)})
    assert error_of(wrong, 400)["message"] == "Invalid orderId: expected ORD_ prefix, got PAY_"
    missing = api.post(REACTIVATE, {})
    assert error_of(missing, 400)["message"] == "Missing required field: orderId"


def test_a_canceling_period_that_ran_out_cannot_be_reactivated_before_the_beat_ends_it(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(PERIOD_END - timedelta(days=28)):
        order, _subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
        api.call(CANCEL, {"orderId": order_id(order)})
    with at(PERIOD_END + timedelta(seconds=1)):  # the period is over; no beat has run yet
        response = api.post(REACTIVATE, {"orderId": order_id(order)})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == (
        "Only a canceling subscription can be reactivated"
    )
