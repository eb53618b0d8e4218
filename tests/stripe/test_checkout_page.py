"""The hosted checkout's step 2 with Stripe, server side, against localstripe: the page
(``checkout:stripe-pay``: our branded page, its Content-Security-Policy letting Stripe.js in, the
intent's client secret for the script, the buyer's language), the card's confirmation
(``checkout:stripe-confirm``: paid at once, 3-D Secure handed to Stripe.js, a decline in the
buyer's language, bad input as 4xx) and the buyer's return (the order paid by a re-check of the
intent, before any webhook). tests/browser/test_stripe_checkout.py drives the same page in
chromium."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from billing import services as billing_services
from billing.models import Payment, PaymentMethodUpdate, ProviderEvent, Subscription
from billing.subscriptions import payment_methods
from checkout.models import OrderStatus
from pancake.api.actor import Actor
from tests.factories import ProductFactory
from tests.helpers import buy
from tests.localstripe import PUBLISHABLE_KEY
from tests.stripe import helpers as h

US = {"country": "US", "isBusiness": False, "state": "OR", "postcode": "97201"}

pytestmark = pytest.mark.usefixtures("stripe_settings")


@pytest.fixture
def placed(api, store) -> Payment:
    """A one-time order of 29.00 USD, its payment a PaymentIntent waiting for a card."""
    return buy(api, ProductFactory(store=store), currency="USD", billing=US)


def page_url(payment: Payment) -> str:
    return reverse("checkout:stripe-pay", args=[payment.pk])


def confirm(payment: Payment, body, client=None, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return (client or Client()).post(
        reverse("checkout:stripe-confirm", args=[payment.pk]),
        data=data,
        content_type="application/json",
        **extra,
    )


def config_of(response) -> dict:
    html = response.content.decode()
    match = re.search(r'<script id="stripe-config" type="application/json">(.*?)</script>', html)
    assert match, "the page has no Stripe configuration"
    return json.loads(match.group(1))


def test_the_page_mounts_stripe_js_in_our_checkout(placed, localstripe):
    response = Client().get(page_url(placed))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<script src="{localstripe.js_url}"></script>' in html
    assert 'src="/static/js/stripe-checkout.js"' in html
    assert '<label id="stripe-card-label" for="stripe-card">Card details</label>' in html
    assert "Pay $29.00" in html
    assert "Test Mode - No real charges will be made" in html
    config = config_of(response)
    intent = h.api().v1.payment_intents.retrieve(placed.provider_payment_id)
    assert config["clientSecret"] == intent.client_secret
    assert config["key"] == PUBLISHABLE_KEY
    assert config["kind"] == "payment"
    session = placed.order.session
    assert (
        config["returnUrl"] == f"/store/{session.store.slug}/checkout/{session.pk}?status=succeeded"
    )
    assert config["confirmUrl"] == f"/checkout/stripe/{placed.pk}/confirm"
    # Stripe.js (here localstripe's) may load and call its API; nothing else is let in.
    policy = response["Content-Security-Policy"]
    assert f"script-src 'self' {localstripe.url};" in policy
    assert f"connect-src 'self' {localstripe.url};" in policy
    assert f"frame-src {localstripe.url};" in policy
    assert "default-src 'self';" in policy
    assert "no-store" in response["Cache-Control"]


def test_with_stripe_s_own_stripe_js_the_policy_names_stripe(placed, settings):
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    policy = Client().get(page_url(placed))["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com;" in policy
    assert "frame-src https://hooks.stripe.com https://js.stripe.com;" in policy
    assert f"connect-src 'self' {settings.STRIPE_API_BASE} https://js.stripe.com;" in policy


def test_the_page_speaks_the_buyer_s_language(placed):
    response = Client().get(page_url(placed) + "?lang=de", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "de"
    html = response.content.decode()
    assert "Kartendaten" in html
    config = config_of(response)
    assert config["locale"] == "de"
    with translation.override("de"):
        assert config["messages"]["declines"]["card_declined"] == gettext("Your card was declined.")
    assert config["messages"]["declines"]["card_declined"] != "Your card was declined."


def test_a_trial_page_saves_the_card_with_a_setup_intent(api, store):
    plan = ProductFactory(store=store, subscription=True, metadata={"trialDays": 14})
    payment = buy(
        api, plan, currency="USD", billing=US, subscription=True, session={"withTrial": True}
    )
    response = Client().get(page_url(payment))
    assert response.status_code == 200
    config = config_of(response)
    assert config["kind"] == "setup"
    assert config["clientSecret"].startswith("seti_")
    html = response.content.decode()
    assert "Save card and start trial" in html
    assert "Nothing is charged today." in html


def test_unknown_attempts_and_other_providers_payments_are_404(placed, settings):
    assert Client().get(reverse("checkout:stripe-pay", args=[uuid.uuid4()])).status_code == 404
    Payment.objects.filter(pk=placed.pk).update(provider="test")
    assert Client().get(page_url(placed)).status_code == 404
    assert confirm(placed, {"paymentMethod": "pm_x"}).status_code == 404


def test_a_card_pays_at_once_before_any_webhook(placed):
    response = confirm(placed, {"paymentMethod": h.payment_method()})
    assert response.status_code == 200, response.content
    session = placed.order.session
    assert response.json() == {
        "status": "succeeded",
        "returnUrl": f"/store/{session.store.slug}/checkout/{session.pk}?status=succeeded",
    }
    placed.refresh_from_db()
    assert placed.status == "succeeded"
    assert placed.order.status == OrderStatus.COMPLETED
    assert placed.payment_method_details["last4"] == "4242"
    # The re-check is the webhook's event: one record, whichever comes first.
    assert list(ProviderEvent.objects.values_list("event_id", flat=True)) == [
        f"{placed.provider_payment_id}:succeeded"
    ]
    # Paid: the page sends the buyer to the order's page.
    again = Client().get(page_url(placed))
    assert again.status_code == 302
    assert again["Location"] == f"/store/{session.store.slug}/checkout/{session.pk}"


def test_3d_secure_is_handed_to_stripe_js(placed):
    response = confirm(placed, {"paymentMethod": h.payment_method("4000002760003184")})
    intent = h.api().v1.payment_intents.retrieve(placed.provider_payment_id)
    assert response.json() == {"status": "requires_action", "clientSecret": intent.client_secret}
    placed.refresh_from_db()
    assert placed.status == "pending"


@pytest.mark.parametrize("language", ["de", "ja"])
def test_a_decline_is_answered_in_the_buyer_s_language(placed, language):
    client = Client()
    client.get(page_url(placed) + f"?lang={language}")  # the choice is remembered for the page
    response = confirm(placed, {"paymentMethod": h.payment_method("4000000000000341")}, client)
    assert response.status_code == 200
    with translation.override(language):
        declined = gettext("Your card was declined.")
    assert declined != "Your card was declined."
    assert response.json() == {"status": "failed", "code": "card_declined", "message": declined}
    assert Payment.objects.get(pk=placed.pk).order.status == OrderStatus.PENDING
    # Another card on the same page pays the same order.
    assert confirm(placed, {"paymentMethod": h.payment_method()}, client).json()["status"] == (
        "succeeded"
    )
    assert Payment.objects.get(pk=placed.pk).status == "succeeded"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Invalid JSON body"),
        ({}, "Missing required field: paymentMethod"),
        ({"paymentMethod": 42}, "Missing required field: paymentMethod"),
        ({"paymentMethod": "tok_visa"}, "Invalid payment method"),
    ],
)
def test_bad_input_is_a_400_in_the_envelope(placed, body, message):
    response = confirm(placed, body)
    assert response.status_code == 400
    assert response.json()["data"] is None
    assert message in response.json()["errors"][0]["message"]


def test_the_confirmation_needs_the_page_s_csrf_token(placed):
    client = Client(enforce_csrf_checks=True)
    method = h.payment_method()
    assert confirm(placed, {"paymentMethod": method}, client).status_code == 403
    client.get(page_url(placed))
    token = client.cookies["csrftoken"].value
    response = confirm(placed, {"paymentMethod": method}, client, HTTP_X_CSRFTOKEN=token)
    assert response.json()["status"] == "succeeded"


def test_back_from_the_page_the_order_is_paid_by_asking_stripe(placed):
    assert h.pay(placed.pk)["status"] == "succeeded"  # paid in the browser, no webhook yet
    session = placed.order.session
    url = reverse("checkout:page", args=[session.store.slug, session.pk])
    response = Client().get(url + "?status=succeeded")
    assert response.status_code == 200
    assert "Thank you for your order!" in response.content.decode()
    placed.refresh_from_db()
    assert (placed.status, placed.order.status) == ("succeeded", OrderStatus.COMPLETED)


def test_a_card_replacement_is_saved_on_the_same_page_then_back_to_the_portal(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    first = buy(api, plan, currency="USD", billing=US, subscription=True)
    assert h.pay(first.pk)["status"] == "succeeded"
    with django_capture_on_commit_callbacks(execute=True):
        billing_services.provider_payment_sync(environment="test", attempt_id=str(first.pk))
    subscription = Subscription.objects.get(order_id=first.order_id)
    old_token = subscription.method_token
    url = payment_methods.method_update_start(
        actor=Actor(kind="merchant", environment="test", merchant=api.merchant),
        order_id=first.order_id,
        return_url="http://testserver/portal/back?done=card",
        language="ja",
    )
    update = PaymentMethodUpdate.objects.get(subscription=subscription)
    assert url.endswith(f"/checkout/stripe/{update.pk}/")
    response = Client().get(reverse("checkout:stripe-pay", args=[update.pk]))
    assert response.status_code == 200
    assert response["Content-Language"] == "ja"  # the language the portal asked for
    config = config_of(response)
    assert config["kind"] == "setup"
    assert config["returnUrl"] == f"/checkout/stripe/{update.pk}/?status=succeeded"
    html = response.content.decode()
    with translation.override("ja"):
        assert gettext("Replace card") in html
        assert gettext("Save card") in html

    h.save_card(update.provider_payment_id, "5555555555554444")  # confirmCardSetup
    with django_capture_on_commit_callbacks(execute=True):
        back = Client().get(config["returnUrl"])
    assert back.status_code == 302
    assert back["Location"] == (
        "http://testserver/portal/back?done=card"
        f"&payment={update.provider_payment_id}&status=succeeded"
    )
    update.refresh_from_db()
    subscription.refresh_from_db()
    assert update.status == PaymentMethodUpdate.Status.SUCCEEDED
    assert subscription.method_token != old_token
    assert subscription.method_token.startswith("cus_")


@pytest.mark.parametrize(("dark", "text"), [(False, "#111827"), (True, "#FFFFFF")])
def test_the_card_element_is_drawn_in_the_store_s_theme(api, store, dark, text):
    payment = buy(
        api, ProductFactory(store=store), currency="USD", billing=US, session={"darkMode": dark}
    )
    response = Client().get(page_url(payment))
    assert ("checkout--dark" in response.content.decode()) is dark
    style = config_of(response)["style"]
    assert style["base"]["color"] == text
    assert style["base"]["::placeholder"]["color"].startswith("#")


def test_cards_tried_on_one_payment_are_limited(placed):
    method = h.payment_method("4000000000000341")
    for _ in range(10):
        assert confirm(placed, {"paymentMethod": method}).json()["status"] == "failed"
    response = confirm(placed, {"paymentMethod": h.payment_method()})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Payment.objects.get(pk=placed.pk).status != "succeeded"
