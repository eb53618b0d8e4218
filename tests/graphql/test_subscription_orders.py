"""Subscription orders in GraphQL carry their subscription: the status it is in, its current
period and number, the trial's end, when a canceling one ends, the next charge it will try, a
plan change scheduled for the period's end and its (test) clock; the subscription-order filters
work on them, and a list costs the same SQL for 1 and 20 subscriptions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.providers import test_processor
from pancake.api import ids
from tests.factories import ProductFactory
from tests.graphql import seed
from tests.helpers import buy
from tests.subscriptions.helpers import at, beat, order_id, subscribe, utc

FIELDS = """
  id status billingPeriod canceledAt
  currentPeriodStart currentPeriodEnd periodNumber trialEndsAt cancelAt testClockTime
  nextCharge { at amount currency periodNumber }
  scheduledPlanChange {
    id productId productVersionId productName billingPeriod price { currency amount }
    taxCategory changeTiming effectiveAt createdAt
  }
  payments { status periodNumber snapshotAmountDetails { total phase } }
"""
ONE = "query ($id: ID!) { subscriptionOrder(id: $id) { " + FIELDS + " } }"
LIST = (
    "query ($f: SubscriptionOrderFilter) {"
    " subscriptionOrders(filter: $f, limit: 100) { " + FIELDS + " }"
    " subscriptionOrdersCount(filter: $f) }"
)
SUBSCRIPTION_FIELDS = (
    "currentPeriodStart",
    "currentPeriodEnd",
    "periodNumber",
    "trialEndsAt",
    "cancelAt",
    "nextCharge",
    "scheduledPlanChange",
)
T = "2027-01-31T10:00:00.000Z"


@pytest.fixture
def plan(store):
    return ProductFactory(store=store, subscription=True)


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def _one(data, order) -> dict:
    return data(ONE, {"id": order_id(order)})["subscriptionOrder"]


def _list(data, flt=None) -> list[dict]:
    got = data(LIST, {"f": flt})
    assert len(got["subscriptionOrders"]) == got["subscriptionOrdersCount"]
    return got["subscriptionOrders"]


def test_an_active_subscription_shows_its_period_and_the_renewal_to_come(api, plan, data, capture):
    with at(utc(2027, 1, 31, 10)):
        order, _ = subscribe(api, plan, capture)
        got = _one(data, order)
    assert got["status"] == "active" and got["billingPeriod"] == "monthly"
    assert (got["currentPeriodStart"], got["currentPeriodEnd"]) == (T, "2027-02-28T10:00:00.000Z")
    assert got["periodNumber"] == 1
    assert got["nextCharge"] == {
        "at": "2027-02-28T10:00:00.000Z",
        "amount": "9.99",
        "currency": "USD",
        "periodNumber": 2,
    }
    assert got["testClockTime"] == T
    assert got["trialEndsAt"] is got["cancelAt"] is got["canceledAt"] is None
    assert got["scheduledPlanChange"] is None
    assert got["payments"] == [
        {
            "status": "succeeded",
            "periodNumber": 1,
            "snapshotAmountDetails": {"total": "9.99", "phase": "regular"},
        }
    ]


def test_a_trial_shows_its_end_as_the_first_charge_then_its_renewals_are_regular(
    api, store, data, capture
):
    plan = ProductFactory(store=store, trial=True)
    with at(utc(2027, 1, 31, 10)):
        order, _ = subscribe(api, plan, capture, trial=True)
        got = _one(data, order)
    trial_end = "2027-02-07T10:00:00.000Z"
    assert got["status"] == "trialing"
    assert (got["trialEndsAt"], got["currentPeriodEnd"], got["periodNumber"]) == (
        trial_end,
        trial_end,
        0,
    )
    assert got["nextCharge"] == {
        "at": trial_end,
        "amount": "9.99",
        "currency": "USD",
        "periodNumber": 1,
    }
    assert [p["snapshotAmountDetails"]["phase"] for p in got["payments"]] == ["special"]

    with at(utc(2027, 2, 7, 10, 1)):
        beat(capture)
        got = _one(data, order)
    assert (got["status"], got["periodNumber"]) == ("active", 1)
    assert (got["currentPeriodStart"], got["currentPeriodEnd"]) == (
        trial_end,
        "2027-03-07T10:00:00.000Z",
    )
    assert got["trialEndsAt"] == trial_end
    assert [(p["periodNumber"], p["snapshotAmountDetails"]) for p in got["payments"]][1:] == [
        (1, {"total": "9.99", "phase": "regular"})
    ]
    assert got["payments"][0]["snapshotAmountDetails"]["phase"] == "special"


def test_a_canceling_subscription_shows_when_it_ends_and_no_next_charge(api, plan, data, capture):
    with at(utc(2027, 1, 31, 10)):
        order, _ = subscribe(api, plan, capture)
    with at(utc(2027, 2, 3, 9)):
        api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
        got = _one(data, order)
    assert got["status"] == "canceling"
    assert got["canceledAt"] == "2027-02-03T09:00:00.000Z"
    assert got["cancelAt"] == got["currentPeriodEnd"] == "2027-02-28T10:00:00.000Z"
    assert got["nextCharge"] is None
    assert [o["id"] for o in _list(data, {"status": {"eq": "canceling"}})] == [order_id(order)]

    with at(utc(2027, 2, 4)):
        api.call("subscription-order/reactivate-order", {"orderId": order_id(order)})
        got = _one(data, order)
    assert got["status"] == "active"
    assert got["canceledAt"] is got["cancelAt"] is None
    assert got["nextCharge"]["at"] == "2027-02-28T10:00:00.000Z"


def test_a_past_due_subscription_shows_its_next_retry(api, plan, data, capture):
    with at(utc(2027, 1, 31, 10)):
        order, subscription = subscribe(api, plan, capture)
    test_processor.card_set_off_session_outcome(subscription.method_token, "card_declined")
    with at(utc(2027, 2, 28, 10, 1)):
        beat(capture)
        got = _one(data, order)
    assert (got["status"], got["periodNumber"]) == ("past_due", 1)
    assert got["nextCharge"] == {
        "at": "2027-03-01T10:00:00.000Z",  # the first retry, a day after the period's end
        "amount": "9.99",
        "currency": "USD",
        "periodNumber": 2,
    }
    assert [(p["status"], p["periodNumber"]) for p in got["payments"]] == [
        ("succeeded", 1),
        ("failed", 2),
    ]
    assert [o["id"] for o in _list(data, {"status": {"eq": "past_due"}})] == [order_id(order)]
    assert _list(data, {"status": {"eq": "active"}}) == []


def test_a_test_clock_moves_the_subscriptions_time_and_its_periods(api, plan, data, capture):
    with at(utc(2027, 1, 31, 10)):
        order, _ = subscribe(api, plan, capture)
        with capture(execute=True):
            api.call(
                "subscription-order/advance-test-clock",
                {"orderId": order_id(order), "advanceTo": "2027-03-10T00:00:00Z"},
            )
        got = _one(data, order)
    assert got["testClockTime"] == "2027-03-10T00:00:00.000Z"
    assert (got["status"], got["periodNumber"]) == ("active", 2)
    assert (got["currentPeriodStart"], got["currentPeriodEnd"]) == (
        "2027-02-28T10:00:00.000Z",
        "2027-03-31T10:00:00.000Z",
    )
    assert got["nextCharge"]["at"] == "2027-03-31T10:00:00.000Z"
    # (both payments made at the same frozen real time: their order is the ids')
    assert sorted(p["periodNumber"] for p in got["payments"]) == [1, 2]


def test_an_unpaid_subscription_order_has_no_subscription_fields_yet(api, plan, data):
    with at(utc(2027, 1, 31, 10)):
        payment = buy(api, plan, currency="USD", subscription=True)
        got = _one(data, payment.order)
    assert got["status"] == "pending"
    assert all(got[name] is None for name in SUBSCRIPTION_FIELDS), got
    assert got["billingPeriod"] == "monthly"
    assert got["testClockTime"] == T  # test mode: real time, until the subscription starts


def test_in_prod_there_is_no_test_clock(make_api, member_of, store, data):
    product = seed.subscription(store)
    orders = seed.orders(store, product, 1, environment="prod")
    seed.subscriptions_of(orders, start=utc(2027, 1, 31, 10))
    prod = make_api(environment="prod")
    member_of(store, prod.merchant, "admin")
    got = data(ONE, {"id": ids.encode("ORD", orders[0].pk)}, client=prod)["subscriptionOrder"]
    assert got["testClockTime"] is None
    assert got["currentPeriodEnd"] == "2027-03-03T10:00:00.000Z"


def test_a_plan_change_scheduled_for_the_period_end_is_shown(store, data):
    product = seed.subscription(store)
    bigger = seed.subscription(store, name="Team Plan", amount=2999)
    orders = seed.orders(store, product, 2)
    subscription, _ = seed.subscriptions_of(orders, start=utc(2027, 1, 31, 10))
    change = seed.scheduled_change(subscription, bigger, amount=2999)
    by_id = {o["id"]: o for o in _list(data)}
    got = by_id[ids.encode("ORD", orders[0].pk)]["scheduledPlanChange"]
    assert got == {
        "id": str(change.pk),
        "productId": ids.encode("PROD", bigger.pk),
        "productVersionId": str(bigger.test_version_id),
        "productName": "Team Plan",
        "billingPeriod": "monthly",
        "price": {"currency": "USD", "amount": "29.99"},
        "taxCategory": "saas",
        "changeTiming": "next_period",
        "effectiveAt": "2027-03-03T10:00:00.000Z",
        "createdAt": got["createdAt"],
    }
    assert by_id[ids.encode("ORD", orders[1].pk)]["scheduledPlanChange"] is None
    assert _one(data, orders[0])["scheduledPlanChange"]["id"] == str(change.pk)


def test_the_subscription_filters_read_the_subscription(store, data):
    product = seed.subscription(store)
    early = seed.orders(store, product, 2)
    late = seed.orders(store, product, 1)
    seed.subscriptions_of(early, start=utc(2027, 1, 1))
    seed.subscriptions_of(late, start=utc(2027, 6, 1), period_number=4)
    pending = seed.orders(store, product, 1, status="pending")

    def ids_of(flt):
        return {o["id"] for o in _list(data, flt)}

    def enc(orders):
        return {ids.encode("ORD", o.pk) for o in orders}

    assert ids_of({"currentPeriodEnd": {"lt": "2027-03-01"}}) == enc(early)
    assert ids_of({"currentPeriodStart": {"gte": "2027-06-01T00:00:00Z"}}) == enc(late)
    assert ids_of({"periodNumber": {"gt": 1}}) == enc(late)
    assert ids_of({"status": {"eq": "pending"}}) == enc(pending)
    assert ids_of({"canceledAt": {"lt": "2030-01-01"}}) == set()


def _count(gql, query):
    gql("{ storesCount }")  # warm: the key was used a moment ago, no key-touch UPDATE
    with CaptureQueriesContext(connection) as ctx:
        body = gql(query, {"f": None})
    assert "errors" not in body, body
    return len(ctx.captured_queries), body["data"], [q["sql"] for q in ctx.captured_queries]


def test_subscription_orders_cost_the_same_for_1_and_20(gql, store):
    product = seed.subscription(store)
    bigger = seed.subscription(store, name="Team Plan", amount=2999)

    def add(n):
        subscriptions = seed.subscriptions_of(seed.orders(store, product, n))
        for subscription in subscriptions:
            seed.scheduled_change(subscription, bigger)

    add(1)
    small, data, statements = _count(gql, LIST)
    assert data["subscriptionOrders"][0]["scheduledPlanChange"]["productName"] == "Team Plan"
    add(19)
    seed.orders(store, product, 3, status="pending")  # no subscription yet
    large, data, _ = _count(gql, LIST)
    assert len(data["subscriptionOrders"]) == 23
    assert sum(o["scheduledPlanChange"] is not None for o in data["subscriptionOrders"]) == 20
    assert small == large, statements
    # key, count, the orders with their subscriptions joined, the plan changes, the payments
    assert large <= 6, statements


def test_a_next_charge_takes_the_credit_off(store, data):
    product = seed.subscription(store)
    orders = seed.orders(store, product, 1)
    seed.subscriptions_of(orders, start=utc(2027, 1, 31, 10), credit_balance=500)
    got = _one(data, orders[0])["nextCharge"]
    total = orders[0].total
    assert got["amount"] == f"{(total - 500) / 100:.2f}"
    assert got["at"] == (utc(2027, 1, 31, 10) + timedelta(days=31)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )


def test_subscriptions_is_the_pages_name_for_the_subscription_orders(store, data):
    product = seed.subscription(store)
    orders = seed.orders(store, product, 2)
    seed.subscriptions_of(orders[:1], start=utc(2027, 1, 31, 10))
    seed.orders(store, seed.onetime(store), 1)
    query = """query ($f: SubscriptionOrderFilter) {
      subscriptions(filter: $f) { id status currentPeriodEnd }
      subscriptionsCount(filter: $f)
      subscriptionOrders(filter: $f) { id status currentPeriodEnd }
    }"""
    got = data(query, {"f": None})
    assert got["subscriptions"] == got["subscriptionOrders"]
    assert got["subscriptionsCount"] == 2
    got = data(query, {"f": {"currentPeriodEnd": {"gt": "2027-01-01"}}})
    assert got["subscriptions"] == [
        {
            "id": ids.encode("ORD", orders[0].pk),
            "status": "active",
            "currentPeriodEnd": "2027-03-03T10:00:00.000Z",
        }
    ]
    assert got["subscriptionsCount"] == 1
