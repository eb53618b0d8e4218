"""The official, unmodified @waffo/pancake-ts 0.25.0 and a subscription's whole life on a live
server: the merchant's ``orders.cancelSubscription``, the buyer's
``customer(token).cancelSubscription`` and ``.reactivateSubscription`` (the token from
``auth.issueSessionToken`` for the buyer's email), the documented 400 for an unpaid balance as
the SDK's error, the subscription fields of ``graphql.query``, and ``verifyWebhook`` on every
subscription event a receiver got (activated, payment_succeeded, renewed, canceling,
uncanceled, past_due, recovered, canceled), with each payload's subscription fields as the SDK
declares them. Time is driven by the subscription's test clock
(``subscription-order/advance-test-clock``, a signed API-key call)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from billing import services as billing_services
from billing.models import Subscription
from billing.providers import test_processor
from billing.webhooks import keys
from pancake.api import ids
from pancake.api.fields import format_timestamp
from products.services import product_create
from stores.services import store_create
from tests.helpers import ApiClient, buy, pay
from tests.sdk.helpers import run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

BUYER = "buyer@example.com"  # the buyer of tests.helpers.buy
US = {"country": "US", "isBusiness": False, "state": "OR"}  # Oregon: no sales tax
UNPAID = "Subscription with an unpaid balance cannot be reactivated"
EVENTS = [
    "subscription.activated",
    "subscription.payment_succeeded",
    "subscription.renewed",
    "subscription.recovered",
    "subscription.canceling",
    "subscription.uncanceled",
    "subscription.canceled",
    "subscription.past_due",
]
SUBSCRIPTION_BLOCK = {"billingPeriod", "currentPeriodStart", "currentPeriodEnd", "canceledAt"}

# The buyer's session, as a merchant's backend hands it to their front end.
BUYER_SESSION = """
const orderId = process.env.ORDER_ID;
const { token } = await client.auth.issueSessionToken({
  storeId: process.env.STORE_ID, buyerIdentity: process.env.BUYER,
});
const buyer = client.customer(token, { environment: "test" });
"""

CANCEL_AND_UNDO = (
    BUYER_SESSION
    + """
out.canceled = await buyer.cancelSubscription({ orderId });
out.whileCanceling = await client.graphql.query({
  query: `query ($id: ID!) { subscriptionOrder(id: $id) {
    status canceledAt cancelAt currentPeriodEnd nextCharge { at }
  } }`,
  variables: { id: orderId },
});
out.reactivated = await buyer.reactivateSubscription({ orderId });
out.again = await failure(() => buyer.reactivateSubscription({ orderId }));
out.mine = await buyer.graphql.query({
  query: "query { subscriptionOrders { id status periodNumber nextCharge { at amount } } }",
});
out.merchant = await client.graphql.query({
  query: `query ($id: ID!) { subscriptionOrder(id: $id) {
    id status billingPeriod currentPeriodStart currentPeriodEnd periodNumber testClockTime
    nextCharge { at amount currency periodNumber }
    payments { id status periodNumber snapshotAmountDetails { total phase } }
  } }`,
  variables: { id: orderId },
});
"""
)

CANCEL_PAST_DUE = (
    BUYER_SESSION
    + """
out.pastDue = await client.graphql.query({
  query: `query ($s: String!) {
    subscriptionOrders(filter: { status: { eq: $s } }) { id status nextCharge { at } }
    subscriptionOrdersCount(filter: { status: { eq: $s } })
  }`,
  variables: { s: "past_due" },
});
out.canceled = await client.orders.cancelSubscription({ orderId });
out.unpaid = await failure(() => buyer.reactivateSubscription({ orderId }));
out.cancelAgain = await client.orders.cancelSubscription({ orderId });
"""
)

VERIFY = """
const { verifyWebhook } = await import("@waffo/pancake-ts");
const publicKey = process.env.PUBLIC_KEY_PEM;
out.events = JSON.parse(process.env.DELIVERIES).map((d) => {
  try {
    return { accepted: true, event: verifyWebhook(d.body, d.signature, { publicKey }) };
  } catch (e) {
    return { accepted: false, message: e.message };
  }
});
const first = JSON.parse(process.env.DELIVERIES)[0];
try {
  verifyWebhook(first.body.replace("buyer@", "eve@"), first.signature, { publicKey });
  out.tampered = "accepted";
} catch (e) {
  out.tampered = e.message;
}
"""


def _advance(api, order_id: str, to) -> dict:
    """The test clock moved to ``to`` (the subscription's clock), as a signed API-key call."""
    body = {"orderId": order_id, "advanceTo": format_timestamp(to)}
    return api.call("subscription-order/advance-test-clock", body)["data"]


def _subscription(order) -> Subscription:
    return Subscription.objects.get(order_id=order.pk)


def test_the_sdk_cancels_and_reactivates_and_verifies_every_subscription_event(
    live_server, merchant_key, receiver
):
    merchant, key = merchant_key
    api = ApiClient(merchant, key)
    store = store_create(merchant=merchant, name="Subscription Store")
    plan = product_create(
        store=store,
        kind="subscription",
        name="Pro Plan",
        billing_period="monthly",
        prices={"USD": {"amount": 999, "taxCategory": "saas"}},
    )
    store_id = ids.encode("STO", store.pk)
    api.call(
        "store/add-webhook",
        {
            "storeId": store_id,
            "channel": "http",
            "url": receiver.url,
            "events": EVENTS,
            "testMode": True,
        },
    )

    # The buyer pays on the checkout: the subscription starts (period 1).
    payment = buy(api, plan, currency="USD", billing=US, subscription=True)
    notification = pay(payment)
    billing_services.test_processor_notification_receive(
        headers=dict(notification.headers), body=notification.body
    )
    order = payment.order
    order_id = ids.encode("ORD", order.pk)
    subscription = _subscription(order)
    assert (subscription.status, order.buyer_email) == ("active", BUYER)
    env = {
        **sdk_env(merchant, key, live_server),
        "STORE_ID": store_id,
        "ORDER_ID": order_id,
        "BUYER": BUYER,
    }

    # Period 1 ends: the renewal is paid (period 2).
    end_1 = subscription.current_period_end
    clock = _advance(api, order_id, end_1 + timedelta(hours=1))
    assert (clock["status"], clock["periodNumber"]) == ("active", 2)
    end_2 = _subscription(order).current_period_end

    # The buyer cancels, looks, and changes their mind.
    out = run_sdk(CANCEL_AND_UNDO, env)
    assert out["canceled"] == {
        "orderId": order_id,
        "status": "canceling",
        "currentPeriodEnd": format_timestamp(end_2),
    }
    seen = out["whileCanceling"]["data"]["subscriptionOrder"]
    assert seen["status"] == "canceling" and seen["nextCharge"] is None
    assert seen["cancelAt"] == seen["currentPeriodEnd"] == format_timestamp(end_2)
    assert seen["canceledAt"] >= clock["clockTime"]  # the subscription's clock, not real time
    assert out["reactivated"] == {"orderId": order_id, "status": "active"}
    again = out["again"]
    assert again["rejected"] and again["isWaffoPancakeError"] and again["status"] == 400
    assert again["errors"] == [
        {"message": "Only a canceling subscription can be reactivated", "layer": "order"}
    ]
    mine = out["mine"]["data"]["subscriptionOrders"]
    assert mine == [
        {
            "id": order_id,
            "status": "active",
            "periodNumber": 2,
            "nextCharge": {"at": format_timestamp(end_2), "amount": "9.99"},
        }
    ]
    detail = out["merchant"]["data"]["subscriptionOrder"]
    assert detail["testClockTime"] >= clock["clockTime"]
    assert (detail["currentPeriodStart"], detail["currentPeriodEnd"]) == (
        format_timestamp(end_1),
        format_timestamp(end_2),
    )
    assert detail["nextCharge"] == {
        "at": format_timestamp(end_2),
        "amount": "9.99",
        "currency": "USD",
        "periodNumber": 3,
    }
    assert [(p["periodNumber"], p["status"]) for p in detail["payments"]] == [
        (1, "succeeded"),
        (2, "succeeded"),
    ]

    # Period 2's renewal is declined: past due; the first retry, a day later, goes through.
    test_processor.card_set_off_session_outcome(subscription.method_token, "card_declined")
    clock = _advance(api, order_id, end_2 + timedelta(hours=1))
    assert clock["status"] == "past_due"
    test_processor.card_set_off_session_outcome(subscription.method_token, "succeed")
    clock = _advance(api, order_id, end_2 + timedelta(days=1, hours=1))
    assert (clock["status"], clock["periodNumber"]) == ("active", 3)
    end_3 = _subscription(order).current_period_end

    # Period 3's renewal is declined too; the merchant cancels the past-due subscription, which
    # leaves a balance unpaid: the buyer cannot reactivate it.
    test_processor.card_set_off_session_outcome(subscription.method_token, "card_declined")
    clock = _advance(api, order_id, end_3 + timedelta(hours=1))
    assert clock["status"] == "past_due"
    out = run_sdk(CANCEL_PAST_DUE, env)
    past_due = out["pastDue"]["data"]
    assert past_due["subscriptionOrdersCount"] == 1
    assert past_due["subscriptionOrders"] == [
        {
            "id": order_id,
            "status": "past_due",
            "nextCharge": {"at": format_timestamp(end_3 + timedelta(days=1))},
        }
    ]
    assert out["canceled"] == {
        "orderId": order_id,
        "status": "canceling",
        # It ends when its retries would have ended: 7 days after the unpaid period's start.
        "currentPeriodEnd": format_timestamp(end_3 + timedelta(days=7)),
    }
    unpaid = out["unpaid"]
    assert unpaid["rejected"] and unpaid["isWaffoPancakeError"]
    assert (unpaid["name"], unpaid["status"], unpaid["message"]) == (
        "WaffoPancakeError",
        400,
        UNPAID,
    )
    assert unpaid["errors"] == [{"message": UNPAID, "layer": "order"}]
    assert out["cancelAgain"]["status"] == "canceling"

    # No retry runs any more; a week after the period's end it is canceled.
    clock = _advance(api, order_id, end_3 + timedelta(days=7, hours=1))
    assert clock["status"] == "canceled"

    # Every delivery the receiver got passes the SDK's verifyWebhook with our public key.
    deliveries = [
        {"body": r["body"], "signature": r["headers"]["X-Waffo-Signature"]}
        for r in receiver.requests
    ]
    out = run_sdk(
        VERIFY,
        {
            **env,
            "DELIVERIES": json.dumps(deliveries),
            "PUBLIC_KEY_PEM": keys.public_pem("test"),
        },
    )
    assert out["tampered"] == "Invalid webhook signature (custom key)"
    assert all(v["accepted"] for v in out["events"]), out["events"]
    events = [v["event"] for v in out["events"]]
    assert [e["eventType"] for e in events] == [
        "subscription.activated",
        "subscription.payment_succeeded",
        "subscription.payment_succeeded",
        "subscription.renewed",
        "subscription.canceling",
        "subscription.uncanceled",
        "subscription.past_due",
        "subscription.payment_succeeded",
        "subscription.recovered",
        "subscription.past_due",
        "subscription.canceling",
        "subscription.canceled",
    ]
    for event in events:
        data = event["data"]
        assert event["storeId"] == store_id and event["mode"] == "test"
        assert event["event"] == event["eventType"]
        assert (data["orderId"], data["buyerEmail"], data["currency"]) == (order_id, BUYER, "USD")
        assert data["productName"] == "Pro Plan"
        assert (data["amount"], data["taxAmount"]) == ("9.99", "0.00")
        kind = event["eventType"]
        if kind == "subscription.payment_succeeded":
            # The payment's event: no order status and no subscription block, but its period.
            assert not (SUBSCRIPTION_BLOCK | {"orderStatus", "planPrice"}) & set(data), data
            assert event["eventId"] == data["paymentId"] and data["paymentId"].startswith("PAY_")
            assert (data["chargedAmount"], data["paymentStatus"]) == ("9.99", "succeeded")
            assert data["paymentLast4"] == "4242" and data["listPrice"]["total"] == "9.99"
            continue
        assert data["billingPeriod"] == "monthly"
        assert data["currentPeriodStart"].endswith("Z") and data["currentPeriodEnd"].endswith("Z")
        assert data["currentPeriodStart"] < data["currentPeriodEnd"]
        assert "paymentId" not in data
        if kind in ("subscription.activated", "subscription.renewed", "subscription.recovered"):
            assert event["eventId"].startswith("PAY_") and "planPrice" not in data
            assert data["listPrice"]["total"] == "9.99"
        else:
            assert event["eventId"] == order_id and "listPrice" not in data
            assert data["planPrice"] == {
                "total": "9.99",
                "subtotal": "9.99",
                "taxAmount": "0.00",
                "taxRate": 0.0,
            }
        if kind in ("subscription.canceling", "subscription.canceled"):
            assert data["canceledAt"].endswith("Z")
        else:
            assert "canceledAt" not in data

    by_kind: dict[str, list[dict]] = {}
    for event in events:
        by_kind.setdefault(event["eventType"], []).append(event["data"])
    assert [d["periodNumber"] for d in by_kind["subscription.payment_succeeded"]] == [1, 2, 3]
    assert [d["orderStatus"] for d in by_kind["subscription.activated"]] == ["active"]
    assert by_kind["subscription.activated"][0]["periodNumber"] == 1
    renewed = by_kind["subscription.renewed"][0]
    assert (renewed["orderStatus"], renewed["periodNumber"]) == ("active", 2)
    assert (renewed["currentPeriodStart"], renewed["currentPeriodEnd"]) == (
        format_timestamp(end_1),
        format_timestamp(end_2),
    )
    recovered = by_kind["subscription.recovered"][0]
    assert (recovered["orderStatus"], recovered["periodNumber"]) == ("active", 3)
    assert recovered["currentPeriodEnd"] == format_timestamp(end_3)
    assert [d["orderStatus"] for d in by_kind["subscription.past_due"]] == ["past_due"] * 2
    assert [d["orderStatus"] for d in by_kind["subscription.canceling"]] == ["canceling"] * 2
    assert by_kind["subscription.uncanceled"][0]["orderStatus"] == "active"
    canceled = by_kind["subscription.canceled"][0]
    assert (canceled["orderStatus"], canceled["periodNumber"]) == ("canceled", 3)
    assert canceled["currentPeriodEnd"] == format_timestamp(end_3)
    # The steps the test clock ran carry its (simulated) time as their timestamp.
    renewal = next(e for e in events if e["eventType"] == "subscription.renewed")
    assert renewal["timestamp"] == format_timestamp(end_1)
