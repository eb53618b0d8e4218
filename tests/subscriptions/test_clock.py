"""Test clocks through the API: ``subscription-order/advance-test-clock`` moves one test-mode
subscription's clock and runs every step that falls due on the way, in time order, as the beat
task would; the events carry the simulated time."""

from __future__ import annotations

import json

import pytest

from billing.models import PaymentStatus, SubscriptionStatus
from billing.providers import test_processor
from pancake.api import ids
from pancake.api.fields import format_timestamp
from pancake.models import OutboxEvent
from tests.factories import ProductFactory, make_api_key
from tests.helpers import ApiClient
from tests.subscriptions.helpers import at, charges, order_id, refresh, subscribe, utc

pytestmark = pytest.mark.django_db


def advance(api, order, when, expect=200, **headers):
    body = {"orderId": order_id(order), "advanceTo": format_timestamp(when)}
    return api.call("subscription-order/advance-test-clock", body, headers or None, expect)


def test_a_trial_runs_to_its_first_charge_and_three_renewals_on_the_clock(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, trial=True)
    with at(utc(2027, 1, 1, 8)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks, trial=True)
        with django_capture_on_commit_callbacks(execute=True):
            data = advance(api, order, utc(2027, 5, 1, 9))["data"]
    assert data == {
        "orderId": order_id(order),
        "status": "active",
        "clockTime": "2027-05-01T09:00:00.000Z",
        "currentPeriodStart": "2027-04-08T08:00:00.000Z",
        "currentPeriodEnd": "2027-05-08T08:00:00.000Z",
        "periodNumber": 4,
    }
    sub = refresh(sub)
    assert [p.period_number for p in charges(sub) if p.purpose == "renewal"] == [1, 2, 3, 4]
    renewed = OutboxEvent.objects.filter(aggregate_id=order.pk, event_type="subscription.renewed")
    # Each step's event carries the simulated time it ran at.
    assert sorted(e.occurred_at for e in renewed) == [
        utc(2027, 1, 8, 8), utc(2027, 2, 8, 8), utc(2027, 3, 8, 8), utc(2027, 4, 8, 8)
    ]  # fmt: skip
    reminder = OutboxEvent.objects.get(
        aggregate_id=order.pk, event_type="subscription.trial_ending"
    )
    assert reminder.occurred_at == utc(2027, 1, 5, 8)


def test_the_clock_runs_dunning_to_the_end(api, store, django_capture_on_commit_callbacks):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
        test_processor.card_set_off_session_outcome(sub.method_token, "card_declined")
        data = advance(api, order, utc(2027, 2, 2))["data"]
        assert data["status"] == "past_due"
        data = advance(api, order, utc(2027, 3, 1))["data"]
    assert data["status"] == "canceled"
    failed = charges(refresh(sub), PaymentStatus.FAILED)
    assert [(p.period_number, p.attempt) for p in failed] == [(2, 0), (2, 1), (2, 2), (2, 3)]
    order.refresh_from_db()
    assert order.status == "canceled"


def test_the_clock_never_goes_back_and_moves_at_most_two_years(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 1)):
        order, _sub = subscribe(api, plan, django_capture_on_commit_callbacks)
        advance(api, order, utc(2027, 1, 20))
        earlier = advance(api, order, utc(2027, 1, 19), expect=400)["errors"][0]
        assert earlier["message"] == "advanceTo must be later than the subscription's clock time"
        too_far = advance(api, order, utc(2029, 2, 1), expect=400)["errors"][0]
        assert "at most 2 years" in too_far["message"]


def test_test_clocks_are_refused_in_prod(api, store, key_pool, django_capture_on_commit_callbacks):
    plan = ProductFactory(store=store, subscription=True)
    make_api_key(api.merchant, key_pool[1], environment="prod")
    prod_api = ApiClient(api.merchant, key_pool[1])
    with at(utc(2027, 1, 1)):
        order, _sub = subscribe(api, plan, django_capture_on_commit_callbacks)
        error = advance(prod_api, order, utc(2027, 2, 1), 403)["errors"][0]
    assert error["message"] == "Test clocks are available in test mode only"


def test_webhook_timestamps_follow_the_clock(
    api, store, receiver, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    api.call("store/add-webhook", {"storeId": ids.encode("STO", store.pk),
             "channel": "http", "url": receiver.url, "testMode": True,
             "events": ["subscription.renewed"]})  # fmt: skip
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, plan, django_capture_on_commit_callbacks)
        with django_capture_on_commit_callbacks(execute=True):
            advance(api, order, utc(2027, 2, 2))
    (request,) = receiver.requests
    payload = json.loads(request["body"])
    assert payload["eventType"] == "subscription.renewed"
    assert payload["timestamp"] == "2027-02-01T00:00:00.000Z"
    assert payload["data"]["periodNumber"] == 2
    assert payload["data"]["currentPeriodStart"] == "2027-02-01T00:00:00.000Z"
    assert refresh(sub).status == SubscriptionStatus.ACTIVE
