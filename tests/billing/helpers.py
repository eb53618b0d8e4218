"""Helpers of the webhook tests: the SDK's signature check, adding an endpoint through the SDK's
action, emitting events, and pointing this process's Celery app at another broker. The receiver
on 127.0.0.1 is ``tests.helpers.Receiver`` (the ``receiver`` fixture)."""

from __future__ import annotations

import base64
import uuid

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.db import transaction

from billing.webhooks import fanout, keys
from pancake.celery import app as celery_app
from pancake.outbox import emit


def add_webhook(api, store_id, url, **body):
    payload = {"storeId": store_id, "channel": "http", "url": url, "testMode": True, **body}
    return api.call("store/add-webhook", payload)["data"]["webhook"]


def verify(environment: str, header: str, body: str) -> int:
    """What the SDK's verifyWebhook does, with our public key."""
    parts = dict(part.split("=", 1) for part in header.split(","))
    public = serialization.load_pem_public_key(keys.public_pem(environment).encode())
    public.verify(
        base64.b64decode(parts["v1"]),
        f"{parts['t']}.{body}".encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )
    return int(parts["t"])


def fire(store, event_type="order.completed", aggregate=None, data=None, environment="test"):
    aggregate = aggregate or uuid.uuid4()
    base = {
        "orderId": str(aggregate),
        "orderStatus": "completed",
        "buyerEmail": "buyer@example.com",
        "currency": "EUR",
        "amount": 10000,
        "taxAmount": 1900,
        "taxRate": "0.19",
        "subtotal": 10000,
        "total": 11900,
        "chargedAmount": 11900,
        "productName": "E-Book",
        "paymentId": str(uuid.uuid4()),
    }
    with transaction.atomic():
        return emit(
            store_id=store.pk,
            environment=environment,
            event_type=event_type,
            subject_id=uuid.uuid4(),
            aggregate_id=aggregate,
            data={**base, **(data or {})},
        )


def emit_for(store, order, event_type):
    return emit(
        store_id=store.pk,
        environment="test",
        event_type=event_type,
        subject_id=uuid.uuid4(),
        aggregate_id=order,
        data={"orderId": str(order), "currency": "USD"},
    )


def fan_out(event, *, from_sweep: bool = False):
    """The webhook fan-out of one event, as the outbox's relay (or, ``from_sweep``, its sweep)
    hands it over; the ids of the deliveries made."""
    return fanout.consume(
        [[str(event.pk), event.event_type, str(event.subject_id)]], from_sweep=from_sweep
    )


def use_broker(url: str) -> None:
    """Point this process's Celery app at another broker: forget the cached pools (kombu keeps
    them per URL and hands the same one back when we return to a URL)."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
