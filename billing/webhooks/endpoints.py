"""Webhook endpoints: the SDK's ``store/add-webhook|update-webhook|remove-webhook``,
``store/update-store``'s ``webhookSettings`` (each environment's default http endpoint), and the
dashboard's enable/disable. Owners and admins manage them; at most 20 per store (both
environments)."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from billing.models import WebhookChannel, WebhookEndpoint
from billing.webhooks import attempts, urls
from billing.webhooks.payload import ALIASES, EVENT_TYPES
from billing.webhooks.selectors import access_webhook_endpoint
from pancake.api import versions
from pancake.api.actor import Actor
from pancake.api.errors import Conflict, InvalidInput, NotFound
from stores.models import Role
from stores.selectors import access_store
from stores.services import lock_store

MAX_PER_STORE = 20
LAYER = "store"
UNSET = object()
# Chat channels post a short message to the service's incoming-webhook URL.
CHANNELS = tuple(WebhookChannel.values)


def _bad(message: str, field: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(message, layer=LAYER, field=field, code=code)


def check_events(events, *, field: str = "events") -> list[str]:
    """The event types, de-duplicated, with the alias ``subscription.updated`` mapped (an empty
    list: none); refusals name ``field``, the input the list came in."""
    if events is None:
        return []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise _bad("Invalid events: expected a list of event types", field)
    out: list[str] = []
    for event in events:
        event = ALIASES.get(event, event)
        if event not in EVENT_TYPES:
            raise _bad(f"Invalid events: unknown event type {event!r}", field)
        if event not in out:
            out.append(event)
    return out


def _secret(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 200:
        raise _bad("Invalid secret: expected text of at most 200 characters", "secret")
    return value


def lock_webhook_endpoint(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The endpoint's row, locked for the rest of the transaction (404 if it went meanwhile)."""
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound("Webhook not found", layer=LAYER)
    return endpoint


def _locked_for_change(actor: Actor, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """The endpoint, if the caller may change it (owner or admin of its store), locked."""
    endpoint = access_webhook_endpoint(actor, endpoint_id, min_role=Role.ADMIN)
    return lock_webhook_endpoint(endpoint.pk)


def _check_room(store_id: uuid.UUID) -> None:
    if WebhookEndpoint.objects.filter(store_id=store_id).count() >= MAX_PER_STORE:
        raise Conflict(
            f"A store can have at most {MAX_PER_STORE} webhooks", layer=LAYER, code="limit_reached"
        )


def endpoint_add(
    *,
    actor: Actor,
    store_id: uuid.UUID,
    channel: str,
    url: str,
    events=None,
    test_mode: bool = False,
    secret=None,
    api_version: str | None = None,
) -> WebhookEndpoint:
    """Add an endpoint to a store, in its test or prod environment. Owners and admins only; at
    most MAX_PER_STORE per store (both environments), counted and created under the store's row
    lock so that racing adds never make one more."""
    if channel not in CHANNELS:
        raise _bad("Unsupported channel", "channel", code="unsupported")
    environment = "test" if test_mode else "prod"
    url = urls.check_url(url, environment)
    events = check_events(events)
    version = api_version or actor.api_version or versions.LATEST
    if version not in versions.SUPPORTED:
        raise _bad(f"Invalid apiVersion: {version!r}", "apiVersion")
    with transaction.atomic():
        access_store(actor, store_id, min_role=Role.ADMIN)
        lock_store(store_id)  # counts and creates under the store's lock: never 21
        _check_room(store_id)
        return WebhookEndpoint.objects.create(
            store_id=store_id,
            environment=environment,
            channel=channel,
            url=url,
            events=events,
            secret=_secret(secret),
            api_version=version,
        )


def endpoint_update(
    *,
    actor: Actor,
    endpoint_id: uuid.UUID,
    url=UNSET,
    events=UNSET,
    secret=UNSET,
    api_version=UNSET,
    enabled=UNSET,
) -> WebhookEndpoint:
    """Partial update by an owner or admin, under the endpoint's row lock; channel and
    environment never change. Re-enabling queues what waited while it was disabled."""
    with transaction.atomic():
        endpoint = _locked_for_change(actor, endpoint_id)
        fields = ["updated_at"]
        if url is not UNSET:
            endpoint.url = urls.check_url(url, endpoint.environment)
            fields.append("url")
        if events is not UNSET:
            endpoint.events = check_events(events)
            fields.append("events")
        if secret is not UNSET:
            endpoint.secret = _secret(secret)
            fields.append("secret")
        if api_version is not UNSET:
            if api_version not in versions.SUPPORTED:
                raise _bad(f"Invalid apiVersion: {api_version!r}", "apiVersion")
            endpoint.api_version = api_version
            fields.append("api_version")
        reenabled = False
        if enabled is not UNSET and bool(enabled) != endpoint.enabled:
            endpoint.enabled = bool(enabled)
            reenabled = endpoint.enabled
            endpoint.disabled_at = None if endpoint.enabled else timezone.now()
            endpoint.disabled_reason = "" if endpoint.enabled else "Disabled by the merchant"
            fields += ["enabled", "disabled_at", "disabled_reason"]
        endpoint.save(update_fields=fields)
        if reenabled:
            attempts.release_held(endpoint)
    return endpoint


def endpoint_remove(*, actor: Actor, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """Hard delete by an owner or admin, under the endpoint's row lock; the deliveries stay in
    the log with the URL they went to. Returns the endpoint as it was."""
    with transaction.atomic():
        endpoint = _locked_for_change(actor, endpoint_id)
        snapshot = WebhookEndpoint(
            **{f.attname: getattr(endpoint, f.attname) for f in endpoint._meta.concrete_fields}
        )
        endpoint.delete()
    return snapshot


def default_endpoints_set(*, actor: Actor, store_id: uuid.UUID, settings: dict) -> list[str]:
    """``store/update-store``'s ``webhookSettings`` (``testWebhookUrl``, ``prodWebhookUrl``,
    ``testEvents``, ``prodEvents``): each environment's default http endpoint, made, changed or
    (empty URL) removed. Returns the keys it ignored."""
    if not isinstance(settings, dict):
        raise _bad("Invalid webhookSettings: expected an object", "webhookSettings")
    known = {"testWebhookUrl", "prodWebhookUrl", "testEvents", "prodEvents"}
    ignored = sorted(set(settings) - known)
    with transaction.atomic():
        access_store(actor, store_id, min_role=Role.ADMIN)
        lock_store(store_id)
        for environment in ("test", "prod"):
            url_key, events_key = f"{environment}WebhookUrl", f"{environment}Events"
            if url_key not in settings and events_key not in settings:
                continue
            current = WebhookEndpoint.objects.filter(
                store_id=store_id, environment=environment, is_default=True
            ).first()
            url = settings.get(url_key, current.url if current else None)
            if not url:
                if current is not None:
                    current.delete()
                continue
            url = urls.check_url(url, environment, field=f"webhookSettings.{url_key}")
            events = (
                check_events(settings[events_key], field=f"webhookSettings.{events_key}")
                if events_key in settings
                else (current.events if current else list(EVENT_TYPES))
            )
            if current is None:
                _check_room(store_id)
                WebhookEndpoint.objects.create(
                    store_id=store_id,
                    environment=environment,
                    channel=WebhookChannel.HTTP,
                    url=url,
                    events=events,
                    api_version=actor.api_version or versions.LATEST,
                    is_default=True,
                )
            else:
                current.url, current.events = url, events
                current.save(update_fields=["url", "events", "updated_at"])
    return ignored


def webhook_settings(store) -> dict:
    """The store's ``webhookSettings`` as the store's output shows it (from its default
    endpoints)."""
    out = {"testWebhookUrl": None, "prodWebhookUrl": None, "testEvents": [], "prodEvents": []}
    for endpoint in WebhookEndpoint.objects.filter(store=store, is_default=True):
        out[f"{endpoint.environment}WebhookUrl"] = endpoint.url
        out[f"{endpoint.environment}Events"] = endpoint.events
    return out
