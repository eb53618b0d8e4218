"""Plan changes: a plan-change session (``checkout/create-session`` with ``originOrderId``)
confirmed on its page or through ``subscription-order/change-product``; proration to the
second on the subscription's clock, the upgrade's charge made once, downgrades at the period's
end, the buyer's three refusals, and the shared-trial rule of product groups."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection
from django.test import Client

from billing.models import Payment, PaymentStatus, PlanChange, SubscriptionStatus
from billing.providers import test_processor
from billing.subscriptions import plan_changes
from checkout.models import CheckoutSession, Order
from pancake.api import ids
from pancake.models import OutboxEvent
from products.models import ProductGroup
from stores.models import Store
from tests.factories import ProductFactory
from tests.helpers import buy, deliver, pay
from tests.subscriptions.helpers import at, beat, charges, order_id, refresh, subscribe, utc

pytestmark = pytest.mark.django_db(transaction=False)

CREATE = "checkout/create-session"
NOT_YOURS = "Subscription order does not belong to this credential"
NOT_IN_GROUP = "Target plan is not in the same product group as the current plan"
NO_SELF_SERVICE = "Self-service plan change is not enabled for this product group"


def plan(store, name, amount, period="monthly", **extra):
    return ProductFactory(
        store=store,
        subscription=True,
        name=name,
        billing_period=period,
        prices={"USD": {"amount": amount, "taxCategory": "saas"}},
        **extra,
    )


@pytest.fixture
def basic(store):
    return plan(store, "Basic", 999)


@pytest.fixture
def pro(store):
    return plan(store, "Pro", 2999)


def pid(product) -> str:
    return ids.encode("PROD", product.pk)


def change_session(api, order, target, expect=200, **body):
    payload = {"originOrderId": order_id(order), "productId": pid(target), "currency": "USD"}
    return api.call(CREATE, {**payload, **body}, expect=expect)


def change_url(data) -> str:
    return urlsplit(data["data"]["checkoutUrl"]).path


def confirm(data, client=None):
    """POST the confirmation page, as the buyer's browser does."""
    return (client or Client()).post(change_url(data))


def events_of(order) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=order.pk)
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )


def plan_change_charges(subscription) -> list[Payment]:
    return list(Payment.objects.filter(subscription=subscription, purpose="plan_change"))


def group(api, store, products, **rules):
    body = {
        "storeId": ids.encode("STO", store.pk),
        "name": "Plans",
        "rules": rules,
        "productIds": [pid(p) for p in products],
    }
    api.call("subscription-product-group/create-group", body)
    return ProductGroup.objects.latest("created_at")


def buyer_token(api, store, identity="buyer@example.com") -> str:
    body = {"storeId": ids.encode("STO", store.pk), "buyerIdentity": identity}
    return api.call("auth/issue-session-token", body)["data"]["token"]


def as_buyer(token, action, body):
    return Client().post(
        f"/v1/actions/{action}",
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_ENVIRONMENT="test",
    )


# --- upgrades: charged at once, prorated to the second, exactly once ------------------------------


@pytest.mark.parametrize(
    "when, expected",
    [
        # 20 days 11:25:04 left of 31 days: 2000 × 1769104 / 2678400 = 1321.02 -> 1321
        (utc(2027, 1, 11, 12, 34, 56), 1321),
        # 3348 s left: exactly 2.5 cents -> rounded half up to 3
        (utc(2027, 1, 31, 23, 4, 12), 3),
    ],
)
def test_an_upgrade_charges_the_prorated_difference_at_once_to_the_minor_unit(
    api, store, basic, pro, django_capture_on_commit_callbacks, when, expected
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(when):
        data = change_session(api, order, pro)
        session = CheckoutSession.objects.get(pk=data["data"]["sessionId"])
        assert (session.origin_order_id, session.version_id, session.amount) == (
            order.pk,
            pro.test_version_id,
            2999,
        )
        assert data["data"]["checkoutUrl"].endswith(f"/store/{store.slug}/change/{session.pk}")
        with django_capture_on_commit_callbacks(execute=True):
            response = confirm(data)
    assert response.status_code == 303
    sub = refresh(sub)
    assert (sub.product_id, sub.version_id, sub.total, sub.price_amount) == (
        pro.pk,
        pro.test_version_id,
        2999,
        2999,
    )
    # The period is unchanged: the upgrade pays for the rest of it, the renewal for the next.
    assert (sub.current_period_start, sub.current_period_end) == (utc(2027, 1, 1), utc(2027, 2, 1))
    [payment] = plan_change_charges(sub)
    assert (payment.amount, payment.status, payment.period_number, payment.attempt) == (
        expected,
        PaymentStatus.SUCCEEDED,
        1,
        1,
    )
    assert payment.product_id == pro.pk  # what the charge paid for: the new plan
    change = PlanChange.objects.get()
    assert (change.status, change.timing, change.charge_amount, change.payment_id) == (
        "applied",
        "immediate",
        expected,
        payment.pk,
    )
    # (written at one frozen instant: their order is the transaction's, not created_at's)
    assert set(events_of(order)[-2:]) == {
        "subscription.payment_succeeded",
        "subscription.plan_changed",
    }
    with at(utc(2027, 2, 1, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    renewal = [p for p in charges(refresh(sub)) if p.purpose == "renewal"]
    assert [(p.period_number, p.amount) for p in renewal] == [(2, 2999)]


def test_confirming_twice_charges_once(api, store, basic, pro, django_capture_on_commit_callbacks):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 16)):
        data = change_session(api, order, pro)
        first = confirm(data)
        second = confirm(data)
        page = Client().get(change_url(data))
    assert first.status_code == 303
    assert second.status_code == 200
    assert "Your plan has been changed" in page.content.decode()
    assert len(plan_change_charges(sub)) == 1
    assert test_processor.TestProcessorPayment.objects.filter(off_session=True).count() == 1
    assert events_of(order).count("subscription.plan_changed") == 1


def test_a_declined_upgrade_leaves_the_plan(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    test_processor.card_set_off_session_outcome(sub.method_token, "card_declined")
    with at(utc(2027, 1, 16)):
        data = change_session(api, order, pro)
        assert confirm(data).status_code == 303
        page = Client().get(change_url(data))
    assert page.status_code == 402
    assert "Your plan was not changed" in page.content.decode()
    sub = refresh(sub)
    assert (sub.product_id, sub.total, sub.status) == (basic.pk, 999, SubscriptionStatus.ACTIVE)
    [payment] = plan_change_charges(sub)
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "card_declined")
    assert PlanChange.objects.get().status == "failed"
    types = events_of(order)
    assert types.count("subscription.plan_change_failed") == 1
    assert "subscription.plan_changed" not in types and "subscription.past_due" not in types


def test_a_provider_that_does_not_answer_is_asked_again_with_the_same_key(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 16)):
        data = change_session(api, order, pro)
        test_processor.fail_next("charge_saved", "timeout")
        assert confirm(data).status_code == 502
        [payment] = plan_change_charges(sub)
        assert payment.status == PaymentStatus.PROCESSING
        assert refresh(sub).product_id == basic.pk
        assert confirm(data).status_code == 303
    assert [p.status for p in plan_change_charges(sub)] == [PaymentStatus.SUCCEEDED]
    assert test_processor.TestProcessorPayment.objects.filter(off_session=True).count() == 1
    assert refresh(sub).product_id == pro.pk


def test_the_renewal_engine_settles_an_unanswered_upgrade_before_renewing(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 16)):
        data = change_session(api, order, pro)
        test_processor.fail_next("charge_saved", "error")
        assert confirm(data).status_code == 502
    with at(utc(2027, 2, 1, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert sub.product_id == pro.pk
    paid = charges(sub)
    assert [(p.purpose, p.amount) for p in paid[1:]] == [("plan_change", 1032), ("renewal", 2999)]


@pytest.mark.django_db(transaction=True)
def test_racing_confirms_charge_once(
    require_postgres, api, store, basic, pro, django_capture_on_commit_callbacks
):
    order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    data = change_session(api, order, pro)
    barrier = threading.Barrier(4)
    answers = []

    def post():
        try:
            barrier.wait()
            answers.append(confirm(data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 4 and set(answers) <= {200, 303}, answers
    [payment] = plan_change_charges(sub)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert test_processor.TestProcessorPayment.objects.filter(off_session=True).count() == 1
    assert refresh(sub).product_id == pro.pk
    assert events_of(order).count("subscription.plan_changed") == 1


# --- downgrades and the period's end -------------------------------------------------------------


def test_a_downgrade_waits_for_the_period_end_and_the_renewal_charges_the_new_price(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 3, 1)):
        order, sub = subscribe(api, pro, django_capture_on_commit_callbacks)
    with at(utc(2027, 3, 10)):
        data = change_session(api, order, basic)
        page = Client().get(change_url(data)).content.decode()
        assert "Basic" in page and "Pro" in page and "April 1, 2027" in page
        with django_capture_on_commit_callbacks(execute=True):
            assert confirm(data).status_code == 303
    change = PlanChange.objects.get()
    assert (change.status, change.timing, change.effective_at) == (
        "scheduled",
        "next_period",
        utc(2027, 4, 1),
    )
    assert refresh(sub).product_id == pro.pk  # until the period ends
    assert events_of(order)[-1] == "subscription.plan_change_scheduled"
    assert plan_change_charges(sub) == []
    # a ticking clock: the events' order is their creation order (a frozen one ties them)
    with time_machine.travel(utc(2027, 4, 1, 0, 1), tick=True):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert (sub.product_id, sub.total, sub.period_number) == (basic.pk, 999, 2)
    renewal = [p for p in charges(sub) if p.purpose == "renewal"]
    assert [(p.period_number, p.amount) for p in renewal] == [(2, 999)]
    assert PlanChange.objects.get().status == "applied"
    types = events_of(order)
    assert types.count("subscription.plan_changed") == 1
    assert types.index("subscription.plan_changed") < types.index("subscription.renewed")
    with at(utc(2027, 5, 1, 0, 1)):  # applied once: the next renewal is plain
        beat(django_capture_on_commit_callbacks)
    assert events_of(order).count("subscription.plan_changed") == 1


def test_a_new_scheduled_change_replaces_the_old_one(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    starter = plan(store, "Starter", 499)
    with at(utc(2027, 3, 1)):
        order, sub = subscribe(api, pro, django_capture_on_commit_callbacks)
    with at(utc(2027, 3, 10)):
        confirm(change_session(api, order, basic))
        confirm(change_session(api, order, starter))
    assert sorted(PlanChange.objects.values_list("to_product_id", "status")) == sorted(
        [(basic.pk, "canceled"), (starter.pk, "scheduled")]
    )
    with at(utc(2027, 4, 1, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    assert refresh(sub).product_id == starter.pk


def test_a_move_to_a_yearly_plan_counts_yearly_periods_from_the_period_end(
    api, store, basic, django_capture_on_commit_callbacks
):
    yearly = plan(store, "Basic yearly", 9900, period="yearly")
    with at(utc(2027, 1, 31, 9)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(utc(2027, 2, 5)):
        confirm(change_session(api, order, yearly, changeTiming="next_period"))
    with at(utc(2027, 2, 28, 9, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert (sub.billing_period, sub.period_number) == ("yearly", 2)
    assert (sub.current_period_start, sub.current_period_end) == (
        utc(2027, 2, 28, 9),
        utc(2028, 2, 28, 9),
    )
    with at(utc(2028, 2, 28, 9, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert (sub.period_number, sub.current_period_end) == (3, utc(2029, 2, 28, 9))
    renewal = [p for p in charges(sub) if p.purpose == "renewal"]
    assert [(p.period_number, p.amount) for p in renewal] == [(2, 9900), (3, 9900)]


def test_an_immediate_downgrade_credits_the_rest_of_the_period_against_the_next_charges(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, pro, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 16)):  # 16 of 31 days left: 2000 × 16 / 31 = 1032.26
        data = change_session(api, order, basic, changeTiming="immediate")
        assert confirm(data).status_code == 303
    sub = refresh(sub)
    assert (sub.product_id, sub.credit_balance) == (basic.pk, 1032)
    assert plan_change_charges(sub) == []
    with at(utc(2027, 2, 1, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    with at(utc(2027, 3, 1, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    renewal = [p for p in charges(refresh(sub)) if p.purpose == "renewal"]
    # 999 is covered by the credit; the rest (33) comes off the next one.
    assert [(p.period_number, p.amount) for p in renewal] == [(2, 0), (3, 966)]
    assert refresh(sub).credit_balance == 0


def test_a_trialing_subscription_changes_plan_for_nothing_and_its_first_charge_is_the_new_plan(
    api, store, pro, django_capture_on_commit_callbacks
):
    trial_basic = plan(store, "Basic trial", 999, metadata={"trialDays": 7})
    with at(utc(2027, 6, 1)):
        order, sub = subscribe(api, trial_basic, django_capture_on_commit_callbacks, trial=True)
    assert sub.status == SubscriptionStatus.TRIALING
    with at(utc(2027, 6, 3)):
        assert confirm(change_session(api, order, pro)).status_code == 303
    sub = refresh(sub)
    assert (sub.product_id, sub.status, sub.credit_balance) == (pro.pk, "trialing", 0)
    assert plan_change_charges(sub) == []
    with at(utc(2027, 6, 8, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    renewal = [p for p in charges(refresh(sub)) if p.purpose == "renewal"]
    assert [(p.period_number, p.amount) for p in renewal] == [(1, 2999)]


# --- the merchant's amounts and the session's checks --------------------------------------------


def test_change_amount_replaces_the_proration(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 20)):
        data = change_session(api, order, pro, changeAmount="5.00")
        page = Client().get(change_url(data)).content.decode()
        assert "Pay $5.00 and change plan" in page
        assert confirm(data).status_code == 303
    assert [p.amount for p in plan_change_charges(sub)] == [500]
    assert PlanChange.objects.get().amount_overridden


def test_change_credit_amount_credits_what_the_merchant_said(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, pro, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 20)):
        data = change_session(
            api, order, basic, changeTiming="immediate", changeCreditAmount="8.00"
        )
        assert confirm(data).status_code == 303
    sub = refresh(sub)
    assert (sub.product_id, sub.credit_balance) == (basic.pk, 800)
    assert plan_change_charges(sub) == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"changeAmount": "5.00", "changeCreditAmount": "1.00"}, "changeAmount"),
        ({"changeAmount": "5.001"}, "changeAmount"),
        ({"changeAmount": "5.00", "changeTiming": "next_period"}, "changeTiming"),
        ({"changeTiming": "tomorrow"}, "changeTiming"),
        ({"currency": "EUR"}, "currency"),
    ],
)
def test_bad_plan_change_options_are_400s(
    api, store, basic, pro, django_capture_on_commit_callbacks, body, field
):
    order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    response = change_session(api, order, pro, expect=400, **body)
    assert field in response["errors"][0]["message"]
    assert not CheckoutSession.objects.filter(origin_order__isnull=False).exists()
    assert not PlanChange.objects.exists()


def test_the_same_plan_a_canceled_subscription_and_another_stores_product_are_refused(
    api, store, basic, pro, make_api, django_capture_on_commit_callbacks
):
    order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    same = change_session(api, order, basic, expect=400)
    assert same["errors"][0]["message"] == "The subscription is already on this plan"
    other = make_api(email="other@example.com")
    other_store = other.call("store/create-store", {"name": "Other"})["data"]["store"]
    foreign = plan(Store.objects.get(pk=ids.parse_id(other_store["id"], "STO")), "X", 100)
    assert change_session(api, order, foreign, expect=404)["errors"][0]["layer"] == "product"
    assert change_session(other, order, pro, expect=404)["errors"][0]["message"] == (
        "Order not found"
    )
    api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
    canceled = change_session(api, order, pro, expect=400)
    assert "active, trialing or past-due" in canceled["errors"][0]["message"]


def test_a_store_slug_cannot_change_plans(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    order, _sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    response = Client().post(
        f"/v1/actions/{CREATE}",
        data={"originOrderId": order_id(order), "productId": pid(pro), "currency": "USD"},
        content_type="application/json",
        HTTP_X_STORE_SLUG=store.slug,
        HTTP_X_ENVIRONMENT="test",
    )
    assert response.status_code == 403
    assert not PlanChange.objects.exists()


def test_an_expired_or_used_session_shows_a_clear_page(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 2)):
        data = change_session(api, order, pro, expiresInSeconds=600)
    with at(utc(2027, 1, 2, 0, 11)):
        response = confirm(data)
        assert response.status_code == 410
        assert "This plan change link has expired" in response.content.decode()
    assert refresh(sub).product_id == basic.pk and plan_change_charges(sub) == []
    with at(utc(2027, 1, 3)):
        data = change_session(api, order, pro)
        confirm(data)
        checkout_page = Client().get(change_url(data).replace("/change/", "/checkout/"))
    assert checkout_page.status_code == 302 and checkout_page["Location"] == change_url(data)
    assert "Your plan has been changed" in Client().get(change_url(data)).content.decode()


@pytest.mark.parametrize(
    "lang, title", [("de", "Tarif wechseln"), ("ja", "プランの変更"), ("fr", "Changer de formule")]
)
def test_the_confirmation_page_speaks_the_sessions_language(
    api, store, basic, pro, django_capture_on_commit_callbacks, lang, title
):
    order, _sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    data = change_session(api, order, pro, language=lang)
    page = Client().get(change_url(data))
    assert page.status_code == 200
    assert title in page.content.decode()
    assert page["Content-Language"] == lang


def test_the_shortcut_makes_and_confirms_a_change_at_once(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 1, 1)):
        order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 16)):
        body = {"orderId": order_id(order), "targetProductId": pid(pro)}
        data = api.call("subscription-order/change-product", body)["data"]
    assert data == {
        "orderId": order_id(order),
        "status": "active",
        "productId": pid(pro),
        "planChangeStatus": "applied",
        "changeTiming": "immediate",
        "effectiveAt": "2027-01-16T00:00:00.000Z",
        "currency": "USD",
        "chargedAmount": "10.32",
        "creditAmount": "0.00",
        "failureReason": "",
        "currentPeriodEnd": "2027-02-01T00:00:00.000Z",
    }
    with at(utc(2027, 1, 17)):
        body = {"orderId": order_id(order), "targetProductId": pid(basic)}
        back = api.call("subscription-order/change-product", body)["data"]
    assert (back["planChangeStatus"], back["effectiveAt"]) == (
        "scheduled",
        "2027-02-01T00:00:00.000Z",
    )
    assert [p.amount for p in plan_change_charges(sub)] == [1032]


def test_the_shortcut_reports_a_declined_charge(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    test_processor.card_set_off_session_outcome(sub.method_token, "insufficient_funds")
    body = {"orderId": order_id(order), "targetProductId": pid(pro), "changeAmount": 700}
    data = api.call("subscription-order/change-product", body)["data"]
    assert (data["planChangeStatus"], data["productId"], data["chargedAmount"]) == (
        "failed",
        pid(basic),
        "7.00",
    )
    assert data["failureReason"]


# --- buyers: their own subscription, within a self-service group --------------------------------


def test_a_buyer_changes_their_own_plan_within_a_self_service_group(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    group(api, store, [basic, pro], selfServicePlanChange=True)
    token = buyer_token(api, store)
    body = {
        "originOrderId": order_id(order),
        "productId": pid(pro),
        "currency": "USD",
        "changeAmount": "0.01",
        "priceSnapshot": {"amount": "0.01", "taxCategory": "saas"},
        "orderMerchantExternalId": "X",
    }
    response = as_buyer(token, CREATE, body)
    assert response.status_code == 200, response.content
    payload = response.json()
    messages = [w["message"] for w in payload["warnings"]]
    assert messages == [
        "changeAmount ignored: it needs API key authentication",
        "priceSnapshot ignored: it needs API key authentication",
        "orderMerchantExternalId ignored: it needs API key authentication",
    ]
    session = CheckoutSession.objects.get(pk=payload["data"]["sessionId"])
    assert (session.amount, session.change_amount, session.created_via) == (
        2999,
        None,
        "buyer_token",
    )
    assert PlanChange.objects.get().timing == "immediate"


def test_a_buyer_gets_the_three_refusals(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    order, _sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    body = {"originOrderId": order_id(order), "productId": pid(pro), "currency": "USD"}

    def refusal(token) -> tuple[int, str]:
        response = as_buyer(token, CREATE, body)
        return response.status_code, response.json()["errors"][0]["message"]

    assert refusal(buyer_token(api, store, "someone-else@example.com")) == (403, NOT_YOURS)
    mine = buyer_token(api, store)
    assert refusal(mine) == (403, NOT_IN_GROUP)
    plans = group(api, store, [basic, pro])
    assert refusal(mine) == (403, NO_SELF_SERVICE)
    api.call(
        "subscription-product-group/update-group",
        {"id": str(plans.pk), "rules": {"selfServicePlanChange": True}},
    )
    assert as_buyer(mine, CREATE, body).status_code == 200
    assert (
        not CheckoutSession.objects.filter(created_via="buyer_token")
        .exclude(pk=PlanChange.objects.get().session_id)
        .exists()
    )


def test_a_buyer_token_for_another_buyer_cannot_bind_to_the_change_page(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    order, _sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    data = change_session(api, order, pro)
    bind = change_url(data).replace("/change/", "/checkout/") + "/buyer"

    def post(identity):
        return Client().post(
            bind,
            data="{}",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {buyer_token(api, store, identity)}",
            HTTP_X_ENVIRONMENT="test",
        )

    assert post("intruder@example.com").status_code == 403
    assert post("buyer@example.com").status_code == 200


# --- the group's shared trial -------------------------------------------------------------------


def test_a_second_trial_in_a_shared_trial_group_is_refused(
    api, store, django_capture_on_commit_callbacks
):
    first = plan(store, "Trial A", 999, metadata={"trialDays": 7})
    second = plan(store, "Trial B", 1999, metadata={"trialDays": 14})
    group(api, store, [first, second], sharedTrial=True)
    _order, sub = subscribe(api, first, django_capture_on_commit_callbacks, trial=True)
    assert sub.status == SubscriptionStatus.TRIALING

    # The buyer is known when the session is made: the session has no trial, and says so.
    response = api.post(
        CREATE,
        {
            "productId": pid(second),
            "currency": "USD",
            "withTrial": True,
            "buyerEmail": "Buyer@Example.com",
        },
    )
    assert response.status_code == 200
    assert response.json()["warnings"][0]["message"] == (
        "withTrial ignored: this buyer already had a trial in the product's group"
    )
    assert CheckoutSession.objects.get(pk=response.json()["data"]["sessionId"]).with_trial is False

    # Known only when the order is placed: the order has no trial; the first payment charges
    # the plan's price, and the subscription starts active.
    payment = buy(
        api,
        second,
        currency="USD",
        billing={"country": "US", "isBusiness": False, "state": "OR"},
        session={"withTrial": True},
        subscription=True,
    )
    assert (payment.amount, payment.order.with_trial) == (1999, False)
    deliver(pay(payment), django_capture_on_commit_callbacks)
    assert Order.objects.get(pk=payment.order_id).status == "active"


def test_the_create_order_action_warns_when_the_shared_trial_was_used(
    api, store, django_capture_on_commit_callbacks
):
    first = plan(store, "Trial A", 999, metadata={"trialDays": 7})
    second = plan(store, "Trial B", 1999, metadata={"trialDays": 14})
    group(api, store, [first, second], sharedTrial=True)
    subscribe(api, first, django_capture_on_commit_callbacks, trial=True)
    session_id = api.call(CREATE, {"productId": pid(second), "currency": "USD", "withTrial": True})[
        "data"
    ]["sessionId"]
    body = {
        "checkoutSessionId": session_id,
        "billingDetail": {"country": "US", "isBusiness": False, "state": "OR"},
        "buyerEmail": "buyer@example.com",
    }
    response = api.call("subscription-order/create-order", body)
    assert "already had a trial" in response["warnings"][0]["message"]
    # Someone else still gets the trial.
    other = api.call(CREATE, {"productId": pid(second), "currency": "USD", "withTrial": True})
    body = {
        **body,
        "checkoutSessionId": other["data"]["sessionId"],
        "buyerEmail": "new@example.com",
    }
    assert "warnings" not in api.call("subscription-order/create-order", body)


def test_without_the_shared_trial_rule_each_plan_has_its_trial(
    api, store, django_capture_on_commit_callbacks
):
    first = plan(store, "Trial A", 999, metadata={"trialDays": 7})
    second = plan(store, "Trial B", 1999, metadata={"trialDays": 14})
    group(api, store, [first, second], sharedTrial=False)
    subscribe(api, first, django_capture_on_commit_callbacks, trial=True)
    _order, sub = subscribe(api, second, django_capture_on_commit_callbacks, trial=True)
    assert sub.status == SubscriptionStatus.TRIALING


def test_apply_scheduled_waits_while_the_periods_charge_is_in_flight(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 3, 1)):
        order, sub = subscribe(api, pro, django_capture_on_commit_callbacks)
        confirm(change_session(api, order, basic))
    Payment.objects.create(
        order=order,
        store=store,
        environment="test",
        subscription=sub,
        purpose="renewal",
        period_number=2,
        attempt=0,
        amount=2999,
        tax_amount=0,
        currency="USD",
        provider="test_processor",
        billing_detail={},
        status=PaymentStatus.PROCESSING,
    )
    plan_changes.apply_scheduled(refresh(sub), utc(2027, 4, 1))
    assert refresh(sub).product_id == pro.pk
    assert PlanChange.objects.get().status == "scheduled"


def test_a_scheduled_change_of_a_subscription_that_ends_is_canceled(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    with at(utc(2027, 3, 1)):
        order, sub = subscribe(api, pro, django_capture_on_commit_callbacks)
    with at(utc(2027, 3, 10)):
        confirm(change_session(api, order, basic))
        api.call("subscription-order/cancel-order", {"orderId": order_id(order)})
    with at(utc(2027, 4, 1, 0, 1)):
        beat(django_capture_on_commit_callbacks)
    sub = refresh(sub)
    assert (sub.status, sub.product_id) == (SubscriptionStatus.CANCELED, pro.pk)
    assert PlanChange.objects.get().status == "canceled"
    assert "subscription.plan_changed" not in events_of(order)


def test_the_shortcut_retried_after_no_answer_resumes_the_same_charge(
    api, store, basic, pro, django_capture_on_commit_callbacks
):
    order, sub = subscribe(api, basic, django_capture_on_commit_callbacks)
    body = {"orderId": order_id(order), "targetProductId": pid(pro), "changeAmount": "4.00"}
    test_processor.fail_next("charge_saved", "timeout")
    failed = api.post("subscription-order/change-product", body)
    assert failed.status_code == 502
    data = api.call("subscription-order/change-product", body)["data"]
    assert (data["planChangeStatus"], data["chargedAmount"]) == ("applied", "4.00")
    assert [p.amount for p in plan_change_charges(sub)] == [400]
    assert test_processor.TestProcessorPayment.objects.filter(off_session=True).count() == 1
    assert PlanChange.objects.count() == 1
