"""Plan changes: a plan-change session (``checkout/create-session`` with ``originOrderId``)
confirmed on its page or through ``subscription-order/change-product``; proration to the
second on the subscription's clock, the upgrade's charge made once, downgrades at the period's
end, the buyer's three refusals, and the shared-trial rule of product groups."""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import Client

from billing.models import Payment, PaymentStatus, PlanChange, SubscriptionStatus
from billing.providers import test_processor
from checkout.models import CheckoutSession
from pancake.api import ids
from pancake.models import OutboxEvent
from products.models import ProductGroup
from tests.factories import ProductFactory
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
