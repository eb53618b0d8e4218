"""The dashboard's "send test event": a sample event of a chosen type to one endpoint, marked as
a test in the log (not in the payload: the receiver sees a normal event of its type, with
made-up ids). It is attempted and retried like any delivery, but waits for no earlier event,
goes even to a disabled endpoint, and never disables one by failing."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from billing.models import WebhookDelivery
from billing.webhooks import payload, queue
from billing.webhooks.payload import EVENT_TYPES
from billing.webhooks.selectors import access_webhook_endpoint
from pancake.api.actor import Actor
from pancake.api.errors import InvalidInput
from pancake.api.fields import format_timestamp
from stores.models import Role


def send_test(
    *, actor: Actor, endpoint_id: uuid.UUID, event_type: str = "order.completed"
) -> WebhookDelivery:
    """A sample ``event_type`` event to one endpoint, marked as a test in the log. Owners and
    admins of its store only (``access_webhook_endpoint``); an unknown event type is refused
    (field ``eventType``). No lock: it only adds a delivery, queued once this commits."""
    endpoint = access_webhook_endpoint(actor, endpoint_id, min_role=Role.ADMIN)
    if event_type not in EVENT_TYPES:
        raise InvalidInput(f"Invalid eventType: {event_type!r}", layer="store", field="eventType")
    delivery_id, subject, order = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    now = timezone.now()
    data = {
        "orderId": str(order),
        "orderStatus": "completed",
        "buyerEmail": "buyer@example.com",
        "currency": "USD",
        "billingDetail": {"country": "US", "isBusiness": False, "state": "CA"},
        "amount": 2900,
        "taxAmount": 0,
        "taxRate": "0",
        "subtotal": 2900,
        "total": 2900,
        "chargedAmount": 2900,
        "listPrice": {"total": 2900, "subtotal": 2900, "taxAmount": 0},
        "productName": "Test event",
        "paymentId": str(subject),
        "paymentStatus": "succeeded",
        "paymentMethod": "card",
        "paymentLast4": "4242",
        "paymentDate": format_timestamp(now),
        "billingPeriod": "monthly",
    }
    body = payload.render(
        delivery_id=delivery_id,
        event_type=event_type,
        subject_id=subject,
        store=endpoint.store,
        environment=endpoint.environment,
        created_at=now,
        data=data,
        version=endpoint.api_version,
    )
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            id=delivery_id,
            endpoint=endpoint,
            store_id=endpoint.store_id,
            environment=endpoint.environment,
            event_type=event_type,
            subject_id=subject,
            aggregate_id=order,
            channel=endpoint.channel,
            url=endpoint.url,
            body=body,
            is_test=True,
            next_attempt_at=now,
        )
        queue.kick([delivery.pk])
    return delivery
