"""Subscriptions on Stripe against localstripe: the first payment saves the card
(``setup_future_usage=off_session``), renewals are off-session PaymentIntents on it, a decline
leads to past due, a trial saves its card with a SetupIntent, and a charge whose answer was lost
is reconciled into one payment, not two."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
import stripe
from django.urls import reverse

from billing import services as billing_services
from billing.models import (
    Payment,
    PaymentMethodUpdate,
    PaymentStatus,
    Subscription,
    SubscriptionStatus,
)
from billing.providers import get_provider
from billing.providers import stripe as stripe_provider
from pancake.models import OutboxEvent
from portal import services as portal_services
from portal.views.base import COOKIE
from stores import auth as store_auth
from tests.factories import ProductFactory
from tests.helpers import buy
from tests.localstripe import PUBLISHABLE_KEY
from tests.stripe import helpers as h
from tests.subscriptions.helpers import at, beat, charges, refresh, utc

US = {"country": "US", "isBusiness": False, "state": "OR"}
DECLINES_LATER = "4000000000000341"  # localstripe: saves, but every charge is declined

pytestmark = pytest.mark.usefixtures("stripe_settings")


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def subscribe(api, store, capture, *, trial=False, card="4242424242424242"):
    plan = ProductFactory(store=store, subscription=True, trial=trial)
    session = {"withTrial": True} if trial else {}
    payment = buy(api, plan, currency="USD", billing=US, session=session, subscription=True)
    if trial:
        assert payment.provider_payment_id.startswith("seti_")
        h.save_card(payment.provider_payment_id, card)
    else:
        assert h.pay(payment.pk, card)["status"] == "succeeded"
    # The buyer back on our page: the re-check applies the outcome (the webhook would too).
    with capture(execute=True):
        billing_services.provider_payment_sync(environment="test", attempt_id=str(payment.pk))
    return Subscription.objects.get(order_id=payment.order_id), payment


def intents_of(customer: str) -> list:
    return [i for i in h.api().v1.payment_intents.list(params={"limit": 100}).data
            if i.customer == customer]  # fmt: skip


def test_the_first_payment_saves_the_card_and_a_renewal_charges_it_off_session(api, store, capture):
    with at(utc(2027, 1, 10)):
        sub, first = subscribe(api, store, capture)
    assert sub.status == SubscriptionStatus.ACTIVE
    intent = h.api().v1.payment_intents.retrieve(first.provider_payment_id)
    assert intent.setup_future_usage == "off_session"
    customer, method = sub.method_token.split(":")
    assert (customer, method) == (intent.customer, intent.payment_method)
    with at(utc(2027, 2, 10, 0, 1)):
        beat(capture)
    sub = refresh(sub)
    assert (sub.status, sub.period_number) == (SubscriptionStatus.ACTIVE, 2)
    (renewal,) = [p for p in charges(sub) if p.purpose == "renewal"]
    assert renewal.provider == "stripe" and renewal.provider_payment_id.startswith("pi_")
    assert renewal.payment_method_details["last4"] == "4242"
    charged = h.api().v1.payment_intents.retrieve(renewal.provider_payment_id)
    assert (charged.status, charged.amount, charged.customer) == (
        "succeeded",
        renewal.amount,
        customer,
    )
    assert charged.payment_method == method
    assert charged.metadata["paymentId"] == str(renewal.pk)
    assert len(intents_of(customer)) == 2  # the first payment and one renewal


def test_a_declined_renewal_makes_the_subscription_past_due(api, store, capture):
    with at(utc(2027, 5, 1)):
        sub, first = subscribe(api, store, capture, trial=True, card=DECLINES_LATER)
    assert sub.status == SubscriptionStatus.TRIALING
    assert sub.method_token.startswith("cus_")
    assert refresh(sub).payment_method_details["last4"] == "0341"
    with at(sub.trial_end_at + timedelta(minutes=1)):
        beat(capture)
    sub = refresh(sub)
    assert sub.status == SubscriptionStatus.PAST_DUE
    (failed,) = charges(sub, PaymentStatus.FAILED)
    assert failed.failure_code == "card_declined"
    assert failed.provider_payment_id.startswith("pi_")
    assert sub.next_retry_at == sub.trial_end_at + timedelta(days=1)
    # Stripe's webhook about the declined charge changes nothing more (the engine recorded it).
    outbox = OutboxEvent.objects.count()
    (event,) = [e for e in h.events("payment_intent.payment_failed")
                if e["data"]["object"]["id"] == failed.provider_payment_id]  # fmt: skip
    with capture(execute=True):
        assert h.deliver(event).status_code == 200
    assert OutboxEvent.objects.count() == outbox
    assert refresh(sub).status == SubscriptionStatus.PAST_DUE


class LosesAnAnswer(stripe.RequestsClient):
    """Sends the request, then loses Stripe's answer to the first confirm, as a timeout on the
    way back would: Stripe charged, we do not know it."""

    lost: list[str] = []

    def request(self, method, url, headers, post_data=None):
        answer = super().request(method, url, headers, post_data)
        if method == "post" and url.endswith("/confirm") and not LosesAnAnswer.lost:
            LosesAnAnswer.lost.append(url)
            raise stripe.APIConnectionError("Request timed out (lost by the test)")
        return answer


def test_a_charge_whose_answer_was_lost_is_reconciled_into_one_payment(
    api, store, capture, monkeypatch
):
    with at(utc(2027, 1, 10)):
        sub, _first = subscribe(api, store, capture)
    customer = sub.method_token.split(":")[0]
    LosesAnAnswer.lost = []
    monkeypatch.setattr(stripe_provider, "http_client", lambda: LosesAnAnswer(timeout=10))
    with at(utc(2027, 2, 10, 0, 1)):
        beat(capture)
    assert len(LosesAnAnswer.lost) == 1
    sub = refresh(sub)
    (processing,) = Payment.objects.filter(subscription=sub, status=PaymentStatus.PROCESSING)
    assert sub.period_number == 1  # not renewed yet: the outcome is unknown to us
    # Stripe did charge: the lost confirm went through.
    made = [
        i
        for i in intents_of(customer)
        if i.metadata.to_dict().get("paymentId") == str(processing.pk)
    ]
    assert [i.status for i in made] == ["succeeded"]
    # The next run (after RECONCILE_AFTER) asks again with the same row: it learns the outcome.
    with at(utc(2027, 2, 10, 0, 5)):
        beat(capture)
    sub = refresh(sub)
    assert (sub.status, sub.period_number) == (SubscriptionStatus.ACTIVE, 2)
    processing.refresh_from_db()
    assert processing.status == PaymentStatus.SUCCEEDED
    assert processing.provider_payment_id == made[0].id
    renewals = [i for i in intents_of(customer) if i.metadata.to_dict().get("purpose") == "renewal"]
    assert len(renewals) == 1  # one payment, not two
    succeeded = [c for c in h.api().v1.charges.list(params={"customer": customer}).data
                 if c.status == "succeeded"]  # fmt: skip
    assert len(succeeded) == 2  # the first payment and the one renewal


def test_replacing_the_card_saves_it_on_the_same_customer_with_a_setup_intent(
    api, store, capture, client
):
    with at(utc(2027, 1, 10)):
        sub, _first = subscribe(api, store, capture)
    customer, old_method = sub.method_token.split(":")
    token, _link = store_auth.link_issue(
        email="buyer@example.com", max_age=900, store=store, environment="test"
    )
    client.cookies[COOKIE] = portal_services.session_from_link(store=store, token=token)
    response = client.post(reverse("portal:subscription-card", args=[store.slug, sub.order_id]))
    assert response.status_code == 302
    path = urlsplit(response["Location"]).path
    assert path.startswith("/checkout/stripe/")
    attempt_id = path.rstrip("/").rsplit("/", 1)[-1]
    update = PaymentMethodUpdate.objects.get(pk=attempt_id)
    assert update.provider == "stripe" and update.provider_payment_id.startswith("seti_")
    setup = h.api().v1.setup_intents.retrieve(update.provider_payment_id)
    assert setup.customer == customer  # the subscription's customer, not a new one
    assert billing_services.stripe_page_data(attempt_id)["kind"] == "setup"
    h.save_card(update.provider_payment_id, "5555555555554444")
    with capture(execute=True):
        billing_services.provider_payment_sync(environment="test", attempt_id=attempt_id)
    sub = refresh(sub)
    new_customer, new_method = sub.method_token.split(":")
    assert new_customer == customer and new_method != old_method
    assert sub.payment_method_details["last4"] == "4444"
    update.refresh_from_db()
    assert update.status == "succeeded"
    with at(utc(2027, 2, 10, 0, 1)):
        beat(capture)
    (renewal,) = [p for p in charges(refresh(sub)) if p.purpose == "renewal"]
    assert h.api().v1.payment_intents.retrieve(renewal.provider_payment_id).payment_method == (
        new_method
    )


THREE_DS = "4000002760003184"  # localstripe: every confirm needs 3-D Secure


def test_a_3ds_card_on_the_page_needs_the_buyers_step_then_pays(api, store, capture, localstripe):
    payment = buy(api, ProductFactory(store=store), currency="USD", billing=US)
    answer = h.pay(payment.pk, THREE_DS)
    assert answer["status"] == "requires_action"
    with capture(execute=True):
        assert (
            billing_services.provider_payment_sync(environment="test", attempt_id=str(payment.pk))
            is None
        )  # no outcome yet
    # What Stripe.js's confirmCardPayment(clientSecret) does on localstripe: the buyer approves.
    intent_id = payment.provider_payment_id
    reply = requests.post(
        f"{localstripe.url}/v1/payment_intents/{intent_id}/_authenticate?success=true",
        json={"key": PUBLISHABLE_KEY, "client_secret": answer["clientSecret"]},
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    with capture(execute=True):
        synced = billing_services.provider_payment_sync(
            environment="test", attempt_id=str(payment.pk)
        )
    assert synced.status == PaymentStatus.SUCCEEDED


def test_an_off_session_charge_needing_3ds_requires_action(api, store, capture):
    with at(utc(2027, 1, 10)):
        sub, _first = subscribe(api, store, capture)
    customer = sub.method_token.split(":")[0]
    method = h.payment_method(THREE_DS)
    provider = get_provider("test")
    result = provider.charge_saved(
        attempt_id="charge-3ds", method_token=f"{customer}:{method}", amount=1000,
        currency="USD", metadata={},
    )  # fmt: skip
    assert (result.status, result.failure_code) == ("requires_action", "authentication_required")
    assert result.provider_payment_id.startswith("pi_")
    broken = provider.charge_saved(attempt_id="charge-x", method_token="tp_not_stripe",
                                   amount=1000, currency="USD", metadata={})  # fmt: skip
    assert (broken.status, broken.failure_code) == ("failed", "invalid_payment_method")


def test_a_buyer_with_a_saved_stripe_card_keeps_one_customer_for_later_orders(api, store, capture):
    with at(utc(2027, 1, 10)):
        sub, _first = subscribe(api, store, capture)
    customer = sub.method_token.split(":")[0]
    later = buy(api, ProductFactory(store=store), currency="USD", billing=US)
    assert h.api().v1.payment_intents.retrieve(later.provider_payment_id).customer == customer
    assert len(h.api().v1.customers.list(params={"limit": 100}).data) == 1
