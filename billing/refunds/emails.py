"""Refund emails: the buyer's "your refund is on its way" (in their checkout language, the
store's branding) and the merchant's notice (English, to the store's owner and admins), each gated
by its switch in the store's notification settings (``emailRefundSucceeded``,
``notifyRefundSucceeded``); and the buyer's "your refund request was declined" with the
merchant's reason, which goes with the same switch as the refund email.

Sent like the other emails: the outbox relay hands a commit's events to
``billing.tasks.queue_refund_emails``, which queues one task; each email goes out at most once
(``pancake.emails.send_once``, keyed by the outbox event)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from billing import emails as order_emails
from billing.invoices.links import refund_credit_note_url
from billing.models import RefundTicket
from checkout import languages
from checkout.models import Order
from pancake.api import ids
from pancake.emails import BUYER, MERCHANT, send_once
from pancake.models import Environment, OutboxEvent
from stores.selectors import store_alert_recipients

SUCCEEDED = "refund.succeeded"
REJECTED = "refund_ticket.rejected"
EMAIL_EVENTS = frozenset({SUCCEEDED, REJECTED})


def event_ids_to_email(events) -> list[str]:
    """The events of a commit (``[event_id, event_type, subject_id]`` each) that send a refund
    email, in event order."""
    return [str(event_id) for event_id, kind, _subject in events if kind in EMAIL_EVENTS]


def refund_emails_send(*, event_id: str) -> int:
    """Send the emails of one refund event; safe to run twice. Returns how many this call sent."""
    try:
        pk = uuid.UUID(str(event_id))
    except ValueError:
        return 0
    event = OutboxEvent.objects.select_related("store").filter(pk=pk).first()
    if event is None or event.event_type not in EMAIL_EVENTS:
        return 0
    order = Order.objects.select_related("session", "version").filter(pk=event.aggregate_id).first()
    if order is None:
        return 0
    store = event.store
    switches = store.notifications
    sent = 0
    if switches["emailRefundSucceeded"]:
        session = order.session
        with translation.override(languages.to_django(session.checkout_language)):
            subject, text, html = _render_buyer(event, order)
        sent += _send(event, BUYER, order.buyer_email, subject, text, html)
    if event.event_type == SUCCEEDED and switches["notifyRefundSucceeded"]:
        with translation.override("en"):
            subject, text, html = _render_merchant(event, order)
        for address in store_alert_recipients(store):
            sent += _send(event, MERCHANT, address, subject, text, html)
    return sent


def _send(event, recipient_type: str, to: str, subject: str, text: str, html: str) -> int:
    return send_once(
        store=event.store,
        environment=event.environment,
        event_type=event.event_type,
        event_id=str(event.pk),
        recipient_type=recipient_type,
        to=to,
        subject=subject,
        text=text,
        html=html,
    )


def _context(event, order: Order) -> dict:
    store = event.store
    return {
        "platform_name": settings.PLATFORM_NAME,
        "store": store,
        "store_name": store.name,
        "support_email": store.support_email,
        "brand_color": order_emails.brand_color(store),
        "test_mode": event.environment == Environment.TEST,
        "order_number": ids.encode("ORD", order.pk),
        "product_name": order.version.name,
        "buyer_email": order.buyer_email,
        "date": order_emails.long_date(event.created_at, store),
    }


def _render_buyer(event, order: Order) -> tuple[str, str, str]:
    context = _context(event, order)
    data = event.data or {}
    if event.event_type == SUCCEEDED:
        context.update(
            refunded=order_emails.money(int(data["refundedAmount"]), data["currency"]),
            original=order_emails.money(int(data["originalChargedAmount"]), data["currency"]),
            reason=data.get("refundReason") or "",
            credit_note_url=refund_credit_note_url(event.subject_id),
        )
        subject = order_emails.subject_line(
            event.environment,
            _("Your refund from %(store)s") % {"store": context["store_name"]},
        )
        template = "refund_succeeded"
    else:
        ticket = RefundTicket.objects.filter(pk=event.subject_id).first()
        context.update(
            requested=order_emails.money(int(data["requestedAmount"]), data["currency"]),
            reject_reason=(ticket.reject_reason if ticket else data.get("rejectReason")) or "",
        )
        subject = order_emails.subject_line(
            event.environment,
            _("Your refund request to %(store)s") % {"store": context["store_name"]},
        )
        template = "refund_rejected"
    text, html = order_emails.render(template, {**context, "subject": subject})
    return subject, text, html


def _render_merchant(event, order: Order) -> tuple[str, str, str]:
    context = _context(event, order)
    data = event.data or {}
    refunded = order_emails.money(int(data["refundedAmount"]), data["currency"])
    context.update(
        headline=f"Refund sent: {refunded}",
        rows=[
            ("Product", context["product_name"]),
            ("Customer", order.buyer_email),
            ("Order", context["order_number"]),
            ("Refunded", refunded),
            ("Reason", data.get("refundReason") or ""),
        ],
        dashboard_url=settings.BASE_URL + reverse("dashboard:store", args=[order.store_id]),
    )
    subject = order_emails.subject_line(
        event.environment, f"Refund sent: {refunded} — {context['product_name']}"
    )
    text, html = order_emails.render("merchant_subscription", {**context, "subject": subject})
    return subject, text, html
