"""Purchases with Stripe, end to end in chromium: the hosted checkout's step 2 is our page with
Stripe.js's card element, against localstripe (the fake Stripe server, and its fake Stripe.js at
``/js.stripe.com/v3/``, started by the tests: no network, no Stripe account). localstripe posts
its webhook events to the live server's ``/providers/stripe/webhook``.

The fake Stripe.js draws the card element as five plain inputs (placeholders ``number``,
``exp_month``, ``exp_year``, ``cvc``, ``postal_code``) and shows its 3-D Secure challenge as a
box with "Complete authentication" and "Fail authentication". Its cards: 4242… succeeds,
4000 0027 6000 3184 asks for 3-D Secure, 4000 0000 0000 0341 is saved but declined whenever it is
charged.

Covered: a one-time purchase; a subscription whose saved card renews off-session when the test
clock passes the period end; a trial saved with 0341 whose first charge is declined
(``past_due``), then the card replaced in the customer portal on the same page (the subscription
recovers); 3-D Secure completed and failed (the failure shown beside the card field in the
buyer's language, then another card pays); a partial refund through Stripe Refunds."""

import re
import time
from datetime import timedelta

import pytest
import stripe
from django.core import mail
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from billing.models import Payment, ProviderEvent, Subscription
from pancake.api import ids
from pancake.api.fields import format_timestamp
from tests.browser.axe import assert_accessible
from tests.browser.helpers import BUYER, fill_details, submit_details
from tests.browser.test_checkout_flow import Checkout, Seller, assert_fits_the_phone
from tests.localstripe import SECRET_KEY

pytestmark = pytest.mark.browser

STRIPE_PAGE = re.compile(r"/checkout/stripe/[0-9a-f-]{36}/$")
RETURNED = re.compile(r"/checkout/[0-9a-f-]{36}\?status=succeeded$")
VISA = "4242424242424242"
THREE_DS = "4000002760003184"
DECLINED_ON_CHARGE = "4000000000000341"
WEBHOOK_WAIT_SECONDS = 15


@pytest.fixture
def stripe_live(live, stripe_settings, localstripe, pages):
    """Stripe (localstripe) serving the test environment, its webhooks posted to the live
    server, and the browser pages allowed to load its Stripe.js and call it."""
    localstripe.register_webhook(live.url + "/providers/stripe/webhook")
    pages.allow(localstripe.url)
    return localstripe


@pytest.fixture
def seller(stripe_live, key_pool):
    return Seller(key_pool[0])


def stripe_client(server) -> stripe.StripeClient:
    return stripe.StripeClient(SECRET_KEY, base_addresses={"api": server.url})


def to_card_page(page, checkout: Checkout, **details):
    page.goto(checkout.url)
    fill_details(page, **details)
    submit_details(page)
    expect(page).to_have_url(STRIPE_PAGE)
    # The fake Stripe.js mounted its card inputs in our labelled card field.
    expect(page.locator("[data-stripe-card] input")).to_have_count(5)
    expect(page.locator("body")).to_have_attribute("data-stripe-state", "ready")


def type_card(page, number: str):
    card = page.locator("[data-stripe-card]")
    card.get_by_placeholder("number").fill(number)
    card.get_by_placeholder("exp_month").fill("12")
    card.get_by_placeholder("exp_year").fill("34")
    card.get_by_placeholder("cvc").fill("123")
    card.get_by_placeholder("postal_code").fill("94105")


def expect_paid(page, checkout: Checkout, heading="Thank you for your order!"):
    page.wait_for_url(RETURNED)
    assert page.url.startswith(checkout.url)
    expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
    order = checkout.order()
    expect(page.locator("[data-order-number]")).to_have_text(ids.encode("ORD", order.pk))
    return order


def wait_for(predicate, seconds=WEBHOOK_WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def webhook_delivered(server, event_type: str) -> bool:
    """localstripe logs each webhook it delivered with a 2xx answer."""
    log = server.log_path.read_text(errors="replace")
    return f'webhook "{event_type}" successfully delivered' in log


def advance_past_period_end(seller: Seller, subscription: Subscription, days_after=0):
    end = subscription.trial_end_at or subscription.current_period_end
    seller.api.call(
        "subscription-order/advance-test-clock",
        {
            "orderId": ids.encode("ORD", subscription.order_id),
            "advanceTo": format_timestamp(end + timedelta(days=days_after, minutes=5)),
        },
    )
    subscription.refresh_from_db()


# --- one-time purchases --------------------------------------------------------------------------


def test_a_one_time_purchase_with_the_card_element_then_a_partial_refund(
    pages, seller, stripe_live, live
):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    to_card_page(page, checkout)
    # Our page: the store's checkout with its summary, the test banner and our own labels.
    expect(page.get_by_text("Test Mode - No real charges will be made")).to_be_visible()
    expect(page.locator("[data-summary]").get_by_text("E-Book")).to_be_visible()
    expect(page.get_by_text("Card details", exact=True)).to_be_visible()
    assert "js.stripe.com/v3/" in page.locator("script[src*='js.stripe.com']").get_attribute("src")
    assert_fits_the_phone(page)
    assert_accessible(page, "Stripe payment page")
    type_card(page, VISA)
    page.get_by_role("button", name=re.compile(r"^Pay \$")).click()
    order = expect_paid(page, checkout)
    expect(page.get_by_text("Paid with Visa ending in 4242.")).to_be_visible()
    assert order.status == "completed"
    payment = checkout.payment()
    assert payment.provider == "stripe"
    assert payment.provider_payment_id.startswith("pi_")
    assert payment.status == "succeeded"
    assert (payment.payment_method_details["brand"], payment.payment_method_details["last4"]) == (
        "visa",
        "4242",
    )
    intent = stripe_client(stripe_live).v1.payment_intents.retrieve(payment.provider_payment_id)
    assert (intent.status, intent.amount) == ("succeeded", payment.amount)
    # Stripe's webhook arrives too, and is the same event as the re-check: applied once.
    wait_for(lambda: webhook_delivered(stripe_live, "payment_intent.succeeded"))
    assert ProviderEvent.objects.filter(provider="stripe", payment=payment).count() == 1
    assert Payment.objects.get(pk=payment.pk).status == "succeeded"

    # A partial refund through the API: a Stripe Refund of part of the PaymentIntent.
    seller.api.call(
        "payment/refund-payment",
        {
            "paymentId": ids.encode("PAY", payment.pk),
            "amount": {"amount": "9.00", "currency": "USD"},
            "reason": "Two chapters were missing",
        },
    )
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 900)
    refunds = stripe_client(stripe_live).v1.refunds.list()
    assert [(r.amount, r.status) for r in refunds.data] == [(900, "succeeded")]
    wait_for(lambda: webhook_delivered(stripe_live, "charge.refunded"))
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 900)


def test_3d_secure_completed_in_stripe_js_pays(pages, seller):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    to_card_page(page, checkout)
    type_card(page, THREE_DS)
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.get_by_role("button", name="Complete authentication").click()
    expect_paid(page, checkout)
    payment = checkout.payment()
    assert (payment.status, payment.payment_method_details["last4"]) == ("succeeded", "3184")


def test_a_failed_3d_secure_step_and_a_decline_show_beside_the_card_in_japanese(pages, seller):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    to_card_page(page, checkout)
    # The buyer switches the page to Japanese: the card element comes back in the new language.
    page.get_by_label("Language").select_option("ja")
    page.get_by_role("button", name="Change language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("body")).to_have_attribute("data-stripe-state", "ready")
    error = page.locator("#stripe-card-error")
    with translation.override("ja"):
        authentication_failed = gettext("The card's 3-D Secure authentication failed.")
        declined = gettext("Your card was declined.")
    assert authentication_failed != "The card's 3-D Secure authentication failed."
    assert declined != "Your card was declined."
    pay_button = page.locator("[data-stripe-submit]")

    type_card(page, THREE_DS)
    pay_button.click()
    page.get_by_role("button", name="Fail authentication").click()
    expect(error).to_have_text(authentication_failed)
    expect(page.locator("[data-stripe-card]")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_url(re.compile(r"/checkout/stripe/[0-9a-f-]{36}/\?lang=ja$"))

    type_card(page, DECLINED_ON_CHARGE)
    pay_button.click()
    expect(error).to_have_text(declined)
    expect(pay_button).to_be_enabled()
    assert checkout.order().status == "pending"

    # Another card on the same page pays the same order.
    type_card(page, VISA)
    pay_button.click()
    page.wait_for_url(RETURNED)
    expect(page.locator("[data-order-number]")).to_be_visible()
    order = checkout.order()
    assert order.status == "completed"
    assert Payment.objects.filter(order=order).count() == 1
    assert checkout.payment().payment_method_details["last4"] == "4242"


# --- subscriptions -------------------------------------------------------------------------------


def test_a_subscription_saves_the_card_and_renews_off_session(pages, seller, stripe_live):
    checkout = seller.open_session(seller.plan())
    page = pages.new()
    to_card_page(page, checkout)
    type_card(page, VISA)
    page.get_by_role("button", name=re.compile(r"^Pay \$")).click()
    order = expect_paid(page, checkout, heading="Your subscription is active")
    assert order.status == "active"
    subscription = Subscription.objects.get(order=order)
    assert subscription.status == "active"
    customer, _sep, method = subscription.method_token.partition(":")
    assert customer.startswith("cus_") and method

    advance_past_period_end(seller, subscription)
    assert (subscription.status, subscription.period_number) == ("active", 2)
    renewal = Payment.objects.get(subscription=subscription, purpose="renewal")
    assert (renewal.status, renewal.provider) == ("succeeded", "stripe")
    intent = stripe_client(stripe_live).v1.payment_intents.retrieve(renewal.provider_payment_id)
    assert (intent.status, intent.amount) == ("succeeded", renewal.amount)
    assert intent.customer == customer


def test_a_trial_card_declined_at_the_first_charge_then_replaced_in_the_portal(
    pages, seller, stripe_live
):
    checkout = seller.open_session(seller.plan(), withTrial=True)
    page = pages.new()
    to_card_page(page, checkout)
    expect(page.get_by_text("Nothing is charged today.")).to_be_visible()
    type_card(page, DECLINED_ON_CHARGE)
    page.get_by_role("button", name="Save card and start trial").click()
    order = expect_paid(page, checkout, heading="Your trial has started")
    subscription = Subscription.objects.get(order=order)
    assert subscription.status == "trialing"
    assert subscription.method_token.startswith("cus_")
    first = checkout.payment()
    assert (first.amount, first.status, first.provider_payment_id[:5]) == (0, "succeeded", "seti_")

    advance_past_period_end(seller, subscription)
    assert subscription.status == "past_due"
    declined = Payment.objects.get(subscription=subscription, purpose="renewal")
    assert (declined.status, declined.failure_code) == ("failed", "card_declined")
    assert any(message.to == [BUYER] for message in mail.outbox)

    # The buyer replaces the card in the portal, on the same Stripe page (a SetupIntent): the
    # unpaid period is charged on the new card at once and the subscription recovers.
    link = seller.api.call(
        "customer/create-portal-link",
        {"storeId": ids.encode("STO", seller.store.pk), "buyerEmail": BUYER},
    )["data"]["url"]
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Customer portal").get_by_role(
        "link", name="Subscriptions"
    ).click()
    row = page.locator(f'[data-subscription="{order.pk}"]')
    expect(row.locator("[data-subscription-status]")).to_have_text("Past due")
    row.get_by_role("button", name="Replace card").click()
    expect(page).to_have_url(STRIPE_PAGE)
    expect(page.get_by_role("heading", name="Replace card", level=1)).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-stripe-state", "ready")
    type_card(page, VISA)
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("status")).to_contain_text("Your new card is saved")
    row = page.locator(f'[data-subscription="{order.pk}"]')
    expect(row.locator("[data-subscription-status]")).to_have_text("Active")
    subscription.refresh_from_db()
    assert subscription.status == "active"
    charges = Payment.objects.filter(subscription=subscription, purpose="renewal")
    assert sorted(charges.values_list("status", flat=True)) == ["failed", "succeeded"]
