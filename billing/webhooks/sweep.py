"""The periodic safety net for deliveries (``billing.tasks.sweep_webhooks``, on Celery beat):
deliveries that are due or whose lease ran out (a lost message, a crashed worker) are queued
again. Events left undispatched are the outbox's sweep's (``pancake.outbox.sweep``). Safe to run
twice; receivers dedupe on the payload ``id``."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from billing.models import WebhookDelivery
from billing.webhooks import queue

Status = WebhookDelivery.Status


def sweep(*, limit: int = 500) -> dict:
    """Queue the deliveries that are due or whose lease ran out, oldest due first."""
    now = timezone.now()
    due = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    queue.send_now(due)
    return {"deliveries": len(due)}
