"""Chargebacks: the merchant's email when a buyer's bank opens a dispute on a payment.

A provider's dispute notification (Stripe's ``charge.dispute.created``) flags the payment and
emits the internal ``payment.disputed`` event (``billing.services.notification_apply``, exactly
once). Its consumers: the notification center (``stores.notifications``) and this email to the
store's owners and admins, in English like the other merchant notices, both behind the store's
``notifyChargeback`` switch. Sent like the other emails: the outbox relay hands a commit's events
to ``billing.tasks.queue_dispute_emails``, which queues one task; each email goes out at most once
(``pancake.emails.send_once``, keyed by the outbox event)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from billing import emails as order_emails
from billing.models import Payment
from checkout.models import Order
from pancake.api import ids
from pancake.emails import MERCHANT, send_once
from pancake.models import Environment, OutboxEvent
from stores.selectors import store_alert_recipients

PAYMENT_DISPUTED = "payment.disputed"


def event_ids_to_email(events) -> list[str]:
    """The dispute events of a commit (``[event_id, event_type, subject_id]`` each)."""
    return [str(event_id) for event_id, kind, _subject in events if kind == PAYMENT_DISPUTED]


def dispute_emails_send(*, event_id: str) -> int:
    """Send the merchant's chargeback email of one event; safe to run twice. Returns how many
    this call sent."""
    try:
        pk = uuid.UUID(str(event_id))
    except ValueError:
        return 0
    event = OutboxEvent.objects.select_related("store").filter(pk=pk).first()
    if event is None or event.event_type != PAYMENT_DISPUTED:
        return 0
    store = event.store
    if not store.notifications["notifyChargeback"]:
        return 0
    payment = Payment.objects.filter(pk=event.subject_id).first()
    order = Order.objects.select_related("version").filter(pk=event.aggregate_id).first()
    if payment is None or order is None:
        return 0
    with translation.override("en"):
        subject, text, html = _render(event, order, payment)
    sent = 0
    for address in store_alert_recipients(store):
        sent += send_once(
            store=store,
            environment=event.environment,
            event_type=event.event_type,
            event_id=str(event.pk),
            recipient_type=MERCHANT,
            to=address,
            subject=subject,
            text=text,
            html=html,
        )
    return sent


def _render(event: OutboxEvent, order: Order, payment: Payment) -> tuple[str, str, str]:
    data = event.data or {}
    amount = data.get("disputedAmount")
    store = event.store
    context = {
        "store_name": store.name,
        "test_mode": event.environment == Environment.TEST,
        "order_number": ids.encode("ORD", order.pk),
        "product_name": order.version.name,
        "buyer_email": order.buyer_email,
        "charged": order_emails.money(payment.amount, payment.currency),
        "disputed": order_emails.money(
            amount if isinstance(amount, int) else payment.amount, payment.currency
        ),
        "reason": payment.dispute_reason or data.get("reason") or "",
        "date": order_emails.long_date(payment.disputed_at or event.created_at, store),
        "dashboard_url": settings.BASE_URL
        + reverse("dashboard:payment", args=[order.store_id, payment.pk]),
    }
    subject = order_emails.subject_line(
        event.environment,
        f"Chargeback: {context['disputed']} on {context['product_name']} — {store.name}",
    )
    text, html = order_emails.render("merchant_chargeback", {**context, "subject": subject})
    return subject, text, html
