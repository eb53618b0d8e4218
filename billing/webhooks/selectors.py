"""Reads of webhook endpoints and deliveries, and the access functions: ``access_webhook_endpoint``
and ``access_webhook_delivery`` are the only way from a caller's id to one of them. Absent, in a
deleted store, in a store the caller is not an active member of, or not in the store (or
environment) the caller names: the same 404; a role below ``min_role``: 403.

The dashboard's lists are scoped to one store and cost the same number of queries whatever the
page size (the delivery row carries its own URL, attempt count and last response code)."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from billing.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from pancake.api.actor import Actor
from pancake.api.errors import NotFound
from stores.models import Role
from stores.selectors import access_store

LAYER = "store"

# The reason endpoints.endpoint_update gives when the merchant disables an endpoint (the
# platform, disabling one after its last retry failed, gives the failure: attempts._disable).
MERCHANT_DISABLED = "Disabled by the merchant"


def endpoints_for(store, environment: str) -> QuerySet[WebhookEndpoint]:
    """The store's endpoints of one environment, oldest first."""
    return WebhookEndpoint.objects.filter(store=store, environment=environment).order_by(
        "created_at", "id"
    )


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


def attempts_of(delivery: WebhookDelivery) -> list[WebhookAttempt]:
    """Every attempt of a delivery, in order."""
    return list(delivery.attempts.order_by("number", "created_at"))


def _in_scope(row, store_id: uuid.UUID | None, environment: str | None) -> bool:
    return (store_id is None or row.store_id == store_id) and (
        environment is None or row.environment == environment
    )


def access_webhook_endpoint(
    actor: Actor,
    endpoint_id: uuid.UUID,
    *,
    min_role: str = Role.MEMBER,
    store_id: uuid.UUID | None = None,
    environment: str | None = None,
) -> WebhookEndpoint:
    """The endpoint, if the caller holds ``min_role`` in its store (and it is in ``store_id``
    and ``environment`` when given): 404 "Webhook not found" otherwise, 403 for a lower role.
    Its ``store`` carries the caller's ``caller_role``."""
    endpoint = (
        WebhookEndpoint.objects.select_related("store")
        .filter(pk=endpoint_id, store__deleted_at__isnull=True)
        .first()
    )
    if endpoint is None or not _in_scope(endpoint, store_id, environment):
        raise NotFound("Webhook not found", layer=LAYER)
    try:
        endpoint.store = access_store(actor, endpoint.store_id, min_role=min_role)
    except NotFound:
        raise NotFound("Webhook not found", layer=LAYER) from None
    return endpoint


def access_webhook_delivery(
    actor: Actor,
    delivery_id: uuid.UUID,
    *,
    min_role: str = Role.MEMBER,
    store_id: uuid.UUID | None = None,
    environment: str | None = None,
) -> WebhookDelivery:
    """The delivery with its endpoint (None once removed), if the caller holds ``min_role`` in
    its store (and it is in ``store_id`` and ``environment`` when given): 404 "Delivery not
    found" otherwise, 403 for a lower role."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or not _in_scope(delivery, store_id, environment):
        raise NotFound("Delivery not found", layer=LAYER)
    try:
        access_store(actor, delivery.store_id, min_role=min_role)
    except NotFound:
        raise NotFound("Delivery not found", layer=LAYER) from None
    return delivery
