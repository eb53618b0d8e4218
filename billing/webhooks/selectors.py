"""Read-only queries behind the dashboard's webhook pages (SPEC 9, issue 11 items 1 and 5).

Every query is scoped to one store: another store's endpoint or delivery is simply not found.
The log queries cost the same number of queries whatever the page size (the delivery row carries
its own URL, attempt count and last response code; the detail prefetches its attempts)."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, QuerySet

from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# The reason endpoints.endpoint_update gives when the merchant disables an endpoint (the
# platform, disabling one after its last retry failed, gives the failure: attempts._disable).
MERCHANT_DISABLED = "Disabled by the merchant"


def endpoints_for(store, environment: str) -> QuerySet[WebhookEndpoint]:
    """The store's endpoints of one environment, oldest first."""
    return WebhookEndpoint.objects.filter(store=store, environment=environment).order_by(
        "created_at", "id"
    )


def endpoint_for(store, endpoint_id: uuid.UUID) -> WebhookEndpoint | None:
    """One of the store's endpoints (either environment), or None."""
    return WebhookEndpoint.objects.filter(store=store, pk=endpoint_id).first()


def disabled_after_failures(endpoints) -> list[WebhookEndpoint]:
    """Endpoints the platform turned off after a delivery failed every attempt."""
    return [
        e for e in endpoints if not e.enabled and e.disabled_reason not in ("", MERCHANT_DISABLED)
    ]


def deliveries_for(
    store,
    *,
    environment: str | None = None,
    endpoint: WebhookEndpoint | None = None,
    event_type: str | None = None,
    status: str | None = None,
) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first, without the bodies (the detail page shows those)."""
    queryset = WebhookDelivery.objects.filter(store=store)
    if endpoint is not None:
        queryset = queryset.filter(endpoint=endpoint)
    if environment:
        queryset = queryset.filter(environment=environment)
    if event_type:
        queryset = queryset.filter(event_type=event_type)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.defer("body").order_by("-created_at", "-id")


def delivery_for(store, delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """One of the store's deliveries with its endpoint and every attempt (in order), or None."""
    return (
        WebhookDelivery.objects.filter(store=store, pk=delivery_id)
        .select_related("endpoint")
        .prefetch_related(
            Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number", "created_at"))
        )
        .first()
    )
