"""URLs into the customer portal: a sign-in link's, and the subscription emails' "manage your
subscription" (the ``SUBSCRIPTION_MANAGE_URL`` setting names ``manage_subscription_url``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse

from pancake.models import Environment


def _query(environment: str | None = None, language: str | None = None) -> str:
    params = {}
    if environment == Environment.TEST:
        params["env"] = "test"
    if language and language != "en":
        params["lang"] = language
    return ("?" + urlencode(params)) if params else ""


def home_url(store, environment: str | None = None, language: str | None = None) -> str:
    """The portal's path for ``store`` (its sign-in page when signed out), test mode kept."""
    return reverse("portal:home", args=[store.slug]) + _query(environment, language)


def sign_in_url(store, token: str, language: str | None = None) -> str:
    """The absolute URL of a sign-in link (it shows a confirm button; the POST uses it)."""
    return (
        settings.BASE_URL
        + reverse("portal:sign-in-link", args=[store.slug, token])
        + _query(None, language)
    )


def manage_subscription_url(order) -> str:
    """The portal's subscriptions page for an order's buyer (they sign in first)."""
    return (
        settings.BASE_URL
        + reverse("portal:subscriptions", args=[order.store.slug])
        + _query(order.environment)
    )


def order_portal_url(order) -> str:
    """The portal's absolute URL for an order's buyer, in the order's environment (the
    receipts link it)."""
    return settings.BASE_URL + home_url(order.store, order.environment)
