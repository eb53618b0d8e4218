"""Replacing a subscription's card from the portal: the provider's own hosted page saves a new
card without charging (``payment_methods.method_update_start``); the provider's notification,
applied once, replaces the subscription's saved method; a past-due subscription is charged on
the new card at once (the renewal engine's retry) and recovers; only the buyer's own."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from billing.models import (
    Payment,
    PaymentMethodUpdate,
    PaymentStatus,
    ProviderEvent,
    Subscription,
    SubscriptionStatus,
)
from billing.providers import test_processor
from billing.subscriptions import renewals
from pancake.models import OutboxEvent
from tests.helpers import deliver
from tests.portal.conftest import ALICE, BOB, purchase, sign_in
from tests.subscriptions.helpers import at, beat, utc

pytestmark = pytest.mark.django_db

MASTERCARD = "5555555555554444"
VISA = "4242424242424242"


def subscribe(api, plan, capture, email=ALICE) -> Subscription:
    payment = purchase(api, plan, capture, email, subscription=True)
    return Subscription.objects.get(order_id=payment.order_id)


def card_url(store, order_id):
    return reverse("portal:subscription-card", args=[store.slug, order_id])


def replace_card(client, store, subscription, number, capture):
    """The buyer's "Replace card": the provider's page, a card typed there, its notification
    delivered; returns the notification (to deliver it again)."""
    response = client.post(card_url(store, subscription.order_id))
    assert response.status_code == 302
    path = urlsplit(response["Location"]).path
    assert path.startswith("/test-processor/pay/tp_")
    provider_payment_id = path.rstrip("/").rsplit("/", 1)[-1]
    update = PaymentMethodUpdate.objects.get(provider_payment_id=provider_payment_id)
    assert (update.subscription_id, update.status) == (subscription.pk, "pending")
    # The provider's page asks for nothing: a zero-amount payment that saves the card.
    hosted = test_processor.TestProcessorPayment.objects.get(attempt_id=str(update.pk))
    assert (hosted.amount, hosted.save_method) == (0, True)
    assert "Save card" in Client().get(path).content.decode()
    outcome = test_processor.submit_card(
        provider_payment_id=provider_payment_id,
        number=number,
        exp_month=12,
        exp_year=2040,
        cvc="123",
        name="Alice",
    )
    assert outcome.status == "succeeded"
    assert outcome.return_url.endswith("done=card")
    deliver(outcome.notification, capture)
    return outcome.notification


def events_of(subscription) -> list[str]:
    return list(
        OutboxEvent.objects.filter(aggregate_id=subscription.order_id)
        .order_by("created_at")
        .values_list("event_type", flat=True)
    )


def test_a_new_card_replaces_the_saved_one_and_the_next_renewal_uses_it(api, store, plan, capture):
    with at(utc(2027, 1, 1)):
        subscription = subscribe(api, plan, capture)
    old_token = subscription.method_token
    with at(utc(2027, 1, 10)):
        client = sign_in(Client(), store, ALICE)
        page = client.get(reverse("portal:subscriptions", args=[store.slug])).content.decode()
        assert "Visa ending in 4242" in page and "data-replace-card" in page
        replace_card(client, store, subscription, MASTERCARD, capture)
        subscription.refresh_from_db()
        assert subscription.method_token not in (None, old_token)
        assert (subscription.payment_method_details["brand"], subscription.status) == (
            "mastercard",
            SubscriptionStatus.ACTIVE,
        )
        assert subscription.payment_method_details["last4"] == "4444"
        # Nothing was charged for saving it.
        assert Payment.objects.filter(subscription=subscription).count() == 1
        back = client.get(
            reverse("portal:subscriptions", args=[store.slug]) + "?done=card&status=succeeded"
        ).content.decode()
        assert "Mastercard ending in 4444" in back
        assert "Your new card is saved" in back
        german = client.get(
            reverse("portal:subscriptions", args=[store.slug]) + "?lang=de"
        ).content.decode()
        assert "Karte ersetzen" in german
    # The old card would be declined from now on: the renewal is paid only if it uses the new.
    test_processor.card_set_off_session_outcome(old_token, "card_declined")
    with at(utc(2027, 2, 1, 0, 1)):
        beat(capture)
    subscription.refresh_from_db()
    renewal = Payment.objects.get(subscription=subscription, purpose="renewal")
    assert (renewal.status, renewal.method_token) == (
        PaymentStatus.SUCCEEDED,
        subscription.method_token,
    )
    assert renewal.payment_method_details["last4"] == "4444"
    assert (subscription.status, subscription.period_number) == (SubscriptionStatus.ACTIVE, 2)


def test_a_past_due_subscription_is_charged_on_the_new_card_at_once(api, store, plan, capture):
    with at(utc(2027, 1, 1)):
        subscription = subscribe(api, plan, capture)
    test_processor.card_set_off_session_outcome(subscription.method_token, "card_declined")
    with at(utc(2027, 2, 1, 0, 1)):
        beat(capture)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert subscription.next_retry_at == utc(2027, 2, 2)
    with at(utc(2027, 2, 1, 3)):
        client = sign_in(Client(), store, ALICE)
        page = client.get(reverse("portal:subscriptions", args=[store.slug])).content.decode()
        assert "Replace your card below" in page
        notification = replace_card(client, store, subscription, VISA, capture)
        subscription.refresh_from_db()
        assert (subscription.status, subscription.failed_attempts, subscription.period_number) == (
            SubscriptionStatus.ACTIVE,
            0,
            2,
        )
        assert subscription.next_retry_at is None
        renewals = list(
            Payment.objects.filter(subscription=subscription, purpose="renewal").order_by(
                "created_at"
            )
        )
        assert [(p.status, p.attempt) for p in renewals] == [
            (PaymentStatus.FAILED, 0),
            (PaymentStatus.SUCCEEDED, 1),
        ]
        assert renewals[1].method_token == subscription.method_token
        assert renewals[1].paid_at == utc(2027, 2, 1, 3)  # at once, not at the retry's date
        assert "subscription.recovered" in events_of(subscription)
        # The provider delivers the notification again: nothing happens twice.
        deliver(notification, capture)
        assert Payment.objects.filter(subscription=subscription, purpose="renewal").count() == 2
        assert events_of(subscription).count("subscription.recovered") == 1
        assert ProviderEvent.objects.filter(event_id=notification.event_id).count() == 1
        page = client.get(reverse("portal:subscriptions", args=[store.slug])).content.decode()
        assert "Visa ending in 4242" in page and "Replace your card below" not in page


def test_a_declined_card_on_the_providers_page_changes_nothing(api, store, plan, capture):
    subscription = subscribe(api, plan, capture)
    token = subscription.method_token
    client = sign_in(Client(), store, ALICE)
    response = client.post(card_url(store, subscription.order_id))
    provider_payment_id = urlsplit(response["Location"]).path.rstrip("/").rsplit("/", 1)[-1]
    outcome = test_processor.submit_card(
        provider_payment_id=provider_payment_id,
        number="4000000000000002",
        exp_month=12,
        exp_year=2040,
        cvc="123",
        name="Alice",
    )
    deliver(outcome.notification, capture)
    subscription.refresh_from_db()
    assert subscription.method_token == token
    assert PaymentMethodUpdate.objects.get().status == "failed"


def test_another_buyers_subscription_is_not_found(api, store, plan, capture):
    bobs = subscribe(api, plan, capture, email=BOB)
    subscribe(api, plan, capture)
    client = sign_in(Client(), store, ALICE)
    assert client.post(card_url(store, bobs.order_id)).status_code == 404
    assert not PaymentMethodUpdate.objects.exists()


def test_an_ended_subscription_cannot_replace_its_card(api, store, plan, capture):
    subscription = subscribe(api, plan, capture)
    Subscription.objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.CANCELED)
    client = sign_in(Client(), store, ALICE)
    page = client.get(reverse("portal:subscriptions", args=[store.slug])).content.decode()
    assert "data-replace-card" not in page
    response = client.post(card_url(store, subscription.order_id))
    assert response.status_code == 400
    assert "its card can no longer be replaced" in response.content.decode()
    assert not PaymentMethodUpdate.objects.exists()


def test_a_card_saved_while_a_renewal_on_the_old_one_is_in_flight_is_tried_at_once(
    api, store, plan, capture, monkeypatch
):
    """The renewal charges the old card; before the provider's decline comes back the buyer
    saves a new card. The decline then makes the next try due now, on the new card, not in a
    day: the engine charges it at once and the subscription recovers."""
    with at(utc(2027, 1, 1)):
        subscription = subscribe(api, plan, capture)
    old_token = subscription.method_token
    test_processor.card_set_off_session_outcome(old_token, "card_declined")
    real_charge = renewals.charge_off_session

    def charge_while_the_buyer_replaces_the_card(sub, payment):
        result = real_charge(sub, payment)  # the old card, declined
        if payment.method_token == old_token:  # meanwhile, the buyer's new card is saved
            client = sign_in(Client(), store, ALICE)  # a session of the moment
            replace_card(client, store, sub, VISA, capture)
        return result

    monkeypatch.setattr(renewals, "charge_off_session", charge_while_the_buyer_replaces_the_card)
    with at(utc(2027, 2, 1, 0, 1)):
        beat(capture)
    subscription.refresh_from_db()
    # The same run tried again at once, on the new card (without the rule: past due until
    # 2027-02-02).
    assert subscription.method_token != old_token
    assert (subscription.status, subscription.period_number) == (SubscriptionStatus.ACTIVE, 2)
    assert subscription.next_retry_at is None
    renewals_paid = Payment.objects.filter(subscription=subscription, purpose="renewal")
    assert sorted(renewals_paid.values_list("status", "method_token")) == sorted(
        [(PaymentStatus.FAILED, old_token), (PaymentStatus.SUCCEEDED, subscription.method_token)]
    )
    assert "subscription.recovered" in events_of(subscription)
