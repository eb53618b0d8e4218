"""Transactional email, sent at most once per (event, recipient).

``send_once`` records an ``EmailDelivery`` row before it sends: the row's unique key (event type,
event id, recipient type, address) makes a retried or duplicated task find it and send nothing
twice. A crash between the claim and the send leaves the row ``pending``: at most once, never
twice. A failed send is recorded on the row and logged, never raised, so one bad address stops
none of the other emails. The subject goes through ``header_text``: stored text cannot break a
header.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.utils import timezone

from pancake.models import EmailDelivery
from pancake.text import header_text

logger = logging.getLogger(__name__)

BUYER = EmailDelivery.RecipientType.BUYER
MERCHANT = EmailDelivery.RecipientType.MERCHANT


def send_once(
    *,
    store,
    environment: str,
    event_type: str,
    event_id: str,
    recipient_type: str,
    to: str,
    subject: str,
    text: str,
    html: str,
) -> int:
    """Claim the (event, recipient) row, then send; 1 when this call sent the email, 0 when it
    was sent (or is being sent) already, or the backend refused it."""
    subject = header_text(subject)
    now = timezone.now()
    try:
        with transaction.atomic():
            delivery = EmailDelivery.objects.create(
                store=store,
                environment=environment,
                event_type=event_type,
                event_id=event_id,
                recipient_type=recipient_type,
                to_address=to,
                subject=subject[:255],
                attempt_count=1,
                last_attempted_at=now,
            )
    except IntegrityError:
        return 0
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception as exc:  # any backend error: record it, keep going
        logger.warning(
            "email %s (%s %s) to %s failed: %s",
            delivery.pk,
            event_type,
            event_id,
            recipient_type,
            exc,
        )
        delivery.status = EmailDelivery.Status.FAILED
        delivery.error_message = f"{type(exc).__name__}: {exc}"[:2000]
        delivery.save(update_fields=["status", "error_message", "updated_at"])
        return 0
    delivery.status = EmailDelivery.Status.SENT
    delivery.save(update_fields=["status", "updated_at"])
    return 1
