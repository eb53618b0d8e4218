"""Changing plan from the portal: the self-service groups' other plans, priced in the
subscription's currency; choosing one makes a plan-change session through
``plan_changes.propose`` (as ``checkout/create-session`` with ``originOrderId`` does for a
buyer's token) and leads to its confirmation page, whose result links back to the portal; the
buyer's refusals by their code; another buyer's subscription is a 404."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import Payment, PaymentStatus, PlanChange, Subscription, SubscriptionStatus
from checkout.models import CheckoutSession
from pancake.api import ids
from pancake.models import OutboxEvent
from tests.factories import ProductFactory
from tests.portal.conftest import ALICE, BOB, purchase, sign_in
from tests.subscriptions.helpers import at, utc

pytestmark = pytest.mark.django_db


def plan(store, name, amount, currency="USD"):
    return ProductFactory(
        store=store,
        subscription=True,
        name=name,
        billing_period="monthly",
        prices={currency: {"amount": amount, "taxCategory": "saas"}},
    )


@pytest.fixture
def basic(store):
    return plan(store, "Basic", 999)


@pytest.fixture
def pro(store):
    return plan(store, "Pro", 2999)


@pytest.fixture
def elsewhere(store):
    """A subscription product of the same store in no group with Basic."""
    return plan(store, "Enterprise", 9999)


def group(api, store, products, **rules):
    body = {
        "storeId": ids.encode("STO", store.pk),
        "name": "Plans",
        "rules": rules,
        "productIds": [ids.encode("PROD", p.pk) for p in products],
    }
    api.call("subscription-product-group/create-group", body)


def subscribe(api, product, capture, email=ALICE) -> Subscription:
    payment = purchase(api, product, capture, email, subscription=True)
    return Subscription.objects.get(order_id=payment.order_id)


def change_url(store, order_id):
    return reverse("portal:subscription-change", args=[store.slug, order_id])


def subscriptions_page(client, store) -> str:
    return client.get(reverse("portal:subscriptions", args=[store.slug])).content.decode()


def test_the_plans_of_a_self_service_group_are_listed_in_the_subscription_currency(
    api, store, client, basic, pro, elsewhere, capture
):
    group(api, store, [basic, pro], selfServicePlanChange=True)
    subscription = subscribe(api, basic, capture)
    sign_in(client, store, ALICE)
    assert "data-change-plan" in subscriptions_page(client, store)
    page = client.get(change_url(store, subscription.order_id)).content.decode()
    assert f'data-plan="{pro.pk}"' in page
    assert "$29.99 / month" in page
    assert f'data-plan="{basic.pk}"' not in page  # its own plan
    assert "Enterprise" not in page  # not in the group
    german = client.get(change_url(store, subscription.order_id) + "?lang=de").content.decode()
    assert "Tarif wechseln" in german and "29,99" in german


def test_no_plans_without_self_service(api, store, client, basic, pro, capture):
    group(api, store, [basic, pro], selfServicePlanChange=False)
    subscription = subscribe(api, basic, capture)
    sign_in(client, store, ALICE)
    assert "data-change-plan" not in subscriptions_page(client, store)
    page = client.get(change_url(store, subscription.order_id)).content.decode()
    assert "data-plan=" not in page
    assert "no other plans" in page
    # Posting the plan anyway is refused by the service, shown by its code.
    response = client.post(change_url(store, subscription.order_id), {"product": str(pro.pk)})
    assert response.status_code == 400
    assert "Plan changes are not available for this subscription" in response.content.decode()
    assert not CheckoutSession.objects.filter(origin_order_id=subscription.order_id).exists()


def test_a_plan_outside_the_group_is_refused(api, store, client, basic, pro, elsewhere, capture):
    group(api, store, [basic, pro], selfServicePlanChange=True)
    subscription = subscribe(api, basic, capture)
    sign_in(client, store, ALICE)
    response = client.post(change_url(store, subscription.order_id), {"product": str(elsewhere.pk)})
    assert response.status_code == 400
    assert "You cannot change to this plan" in response.content.decode()
    german = client.post(
        change_url(store, subscription.order_id) + "?lang=de", {"product": str(elsewhere.pk)}
    ).content.decode()
    assert "Zu diesem Tarif kannst du nicht wechseln" in german
    assert client.post(change_url(store, subscription.order_id), {}).status_code == 400
    assert not PlanChange.objects.exists()


def test_a_canceled_subscription_cannot_change(api, store, client, basic, pro, capture):
    group(api, store, [basic, pro], selfServicePlanChange=True)
    subscription = subscribe(api, basic, capture)
    Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.CANCELED)
    sign_in(client, store, ALICE)
    assert "data-change-plan" not in subscriptions_page(client, store)
    response = client.post(change_url(store, subscription.order_id), {"product": str(pro.pk)})
    assert response.status_code == 400
    assert "Only an active or past-due subscription can change its plan" in (
        response.content.decode()
    )
    assert not PlanChange.objects.exists()


def test_choosing_an_upgrade_leads_to_the_confirmation_and_confirming_charges_it(
    api, store, basic, pro, capture
):
    group(api, store, [basic, pro], selfServicePlanChange=True)
    with at(utc(2027, 1, 1)):
        subscription = subscribe(api, basic, capture)
    with at(utc(2027, 1, 16)):
        client = sign_in(Client(), store, ALICE)
        response = client.post(change_url(store, subscription.order_id), {"product": str(pro.pk)})
        assert response.status_code == 302
        path = urlsplit(response["Location"]).path
        session = CheckoutSession.objects.get(origin_order_id=subscription.order_id)
        assert path == f"/store/{store.slug}/change/{session.pk}"
        assert (session.created_via, session.version_id, session.amount) == (
            "buyer_token",
            pro.test_version_id,
            2999,
        )
        # The confirmation page (the SDK's flow from here on) links back to the portal.
        page = Client().get(path).content.decode()
        assert "Pro" in page and "Due today" in page
        with capture(execute=True):
            confirmed = Client().post(path)
        assert confirmed.status_code == 303
        result = Client().get(path).content.decode()
    assert "Your plan has been changed" in result
    assert f"/store/{store.slug}/portal/subscriptions" in result
    subscription.refresh_from_db()
    assert (subscription.product_id, subscription.total) == (pro.pk, 2999)
    [charge] = Payment.objects.filter(subscription=subscription, purpose="plan_change")
    # Half of January left (16 of 31 days): (2999 - 999) × 16/31, rounded half up.
    assert (charge.status, charge.amount) == (PaymentStatus.SUCCEEDED, 1032)
    assert PlanChange.objects.get().status == "applied"
    assert OutboxEvent.objects.filter(
        aggregate_id=subscription.order_id, event_type="subscription.plan_changed"
    ).exists()


def test_another_buyers_subscription_is_not_found(api, store, client, basic, pro, capture):
    group(api, store, [basic, pro], selfServicePlanChange=True)
    bobs = subscribe(api, basic, capture, email=BOB)
    subscribe(api, basic, capture)  # Alice has one of her own
    sign_in(client, store, ALICE)
    assert client.get(change_url(store, bobs.order_id)).status_code == 404
    response = client.post(change_url(store, bobs.order_id), {"product": str(pro.pk)})
    assert response.status_code == 404
    assert not CheckoutSession.objects.filter(origin_order_id=bobs.order_id).exists()
