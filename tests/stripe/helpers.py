"""Helpers of the Stripe tests: what the buyer's browser does with Stripe.js on the step-2 page
(a PaymentMethod from a test card, then the server-side confirmation), the events localstripe
made, and Stripe's webhook signature (the v1 HMAC-SHA256 of ``"<t>.<body>"``, as Stripe documents
it and localstripe sends it) for delivering them to ``POST /providers/stripe/webhook``."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.test import Client

from billing import services as billing_services
from billing.providers import stripe as stripe_provider
from tests.localstripe import WEBHOOK_SECRET

WEBHOOK_PATH = "/providers/stripe/webhook"


def api():
    """A Stripe client on the configured (localstripe) server, for the tests' own calls."""
    return stripe_provider.client()


def payment_method(number: str = "4242424242424242") -> str:
    """A card PaymentMethod, as Stripe.js's card element makes one (test cards only)."""
    method = api().v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2040, "cvc": "123"},
        }
    )
    return method.id


def pay(attempt_id, number: str = "4242424242424242") -> dict:
    """The buyer pays the attempt's PaymentIntent on the step-2 page."""
    return billing_services.stripe_confirm(attempt_id, payment_method(number))


def save_card(intent_id: str, number: str = "4242424242424242") -> None:
    """The buyer saves a card on a SetupIntent (``confirmCardSetup``)."""
    api().v1.setup_intents.confirm(intent_id, params={"payment_method": payment_method(number)})


def events(event_type: str) -> list[dict]:
    """localstripe's events of a type, newest first, as the JSON it would post."""
    listed = api().v1.events.list(params={"type": event_type, "limit": 100})
    return [event.to_dict() for event in listed.data]


def body_of(event: dict) -> bytes:
    return json.dumps(event, indent=2, sort_keys=True).encode()


def signature(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = b"%d.%s" % (timestamp, body)
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliver(event: dict | bytes, *, secret: str = WEBHOOK_SECRET, header: str | None = None):
    """POST an event to the webhook endpoint, signed like Stripe signs it."""
    body = event if isinstance(event, bytes) else body_of(event)
    sig = signature(body, secret) if header is None else header
    extra = {"HTTP_STRIPE_SIGNATURE": sig} if sig else {}
    return Client().post(WEBHOOK_PATH, data=body, content_type="application/json", **extra)


def dispute_event(charge_id: str, intent_id: str, amount: int, currency: str) -> dict:
    """A ``charge.dispute.created`` event (localstripe has no disputes), shaped as Stripe's."""
    now = int(time.time())
    return {
        "id": f"evt_dispute_{charge_id}",
        "object": "event",
        "type": "charge.dispute.created",
        "created": now,
        "livemode": False,
        "data": {
            "object": {
                "id": f"dp_{charge_id[3:]}",
                "object": "dispute",
                "amount": amount,
                "currency": currency.lower(),
                "charge": charge_id,
                "payment_intent": intent_id,
                "reason": "fraudulent",
                "status": "needs_response",
                "created": now,
            }
        },
    }
