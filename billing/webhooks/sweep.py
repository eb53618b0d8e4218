"""The periodic safety net (``billing.tasks.sweep_webhooks``, on Celery beat): events not fanned
out (Redis was down at commit, a worker crashed), and deliveries that are due or whose lease ran
out. Each step re-reads its rows and is safe to run twice; receivers dedupe on the payload
``id``."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from billing.models import WebhookDelivery
from billing.webhooks import fanout, queue
from pancake.models import OutboxEvent

Status = WebhookDelivery.Status


def sweep(*, limit: int = 500) -> dict:
    """Fan out events left behind and send deliveries that are due or whose lease ran out."""
    now = timezone.now()
    grace = now - timedelta(seconds=float(getattr(settings, "WEBHOOK_SWEEP_GRACE_SECONDS", 10)))
    events = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=grace)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    for start in range(0, len(events), 100):
        batch = events[start : start + 100]
        fanout.fan_out_left_behind(batch)
    due = list(
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    queue.send_now(due)
    return {"events": len(events), "deliveries": len(due)}
