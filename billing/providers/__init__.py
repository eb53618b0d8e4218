"""Payment providers: ``get_provider(environment)`` is the only way in.

Each environment's provider is named by a setting: ``PAYMENT_PROVIDER_TEST`` (default
``test_processor``, the built-in one) and ``PAYMENT_PROVIDER_PROD`` (default none). ``stripe``
may serve either. Production takes real providers only: without one (or with the test
processor named), every payment is refused with a 502 rather than silently faked.
``billing.checks`` reports a misconfiguration (an unknown name, Stripe without its keys) at
``manage.py check``. ``live_payments_available()`` says ahead of time whether ``prod`` can take
payments, so the dashboard and the live checkout can say so before anyone types a card.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from billing.providers.base import (
    ChargeResult,
    HostedPayment,
    InvalidNotification,
    Notification,
    PaymentMethodInfo,
    PaymentProvider,
    ProviderTimeout,
    RefundResult,
)
from pancake.api.errors import ProviderFailed
from pancake.models import Environment

__all__ = [
    "ChargeResult",
    "HostedPayment",
    "InvalidNotification",
    "Notification",
    "PaymentMethodInfo",
    "PaymentProvider",
    "ProviderTimeout",
    "RefundResult",
    "get_provider",
    "live_payments_available",
    "provider_name",
]

# Real providers, by the name ``PAYMENT_PROVIDER_PROD`` / ``PAYMENT_PROVIDER_TEST`` selects: each
# a class implementing ``PaymentProvider``, configured from its own settings. A class with
# ``per_environment = True`` is constructed with the environment it serves
# (``cls(environment=...)``), others without arguments. A provider class may define
# ``is_configured()`` (a classmethod or staticmethod, no instance needed): False while its own
# settings are missing (Stripe: its keys), so ``live_payments_available`` says no.
PROD_PROVIDERS: dict[str, str] = {"stripe": "billing.providers.stripe.StripeProvider"}
# The built-in test processor: the test environment's default, never production's.
TEST_PROVIDER = "billing.providers.test_processor.TestProcessor"
TEST_PROVIDERS: dict[str, str] = {"test_processor": TEST_PROVIDER, **PROD_PROVIDERS}
# What the stripe provider needs (checked without importing the ``stripe`` library).
STRIPE_SETTINGS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")


def stripe_missing_settings() -> list[str]:
    """The Stripe settings that are not set (names only, never values)."""
    return [name for name in STRIPE_SETTINGS if not getattr(settings, name, "")]


def provider_name(environment: str) -> str:
    """The provider setting of ``environment`` (``""``: none)."""
    if environment == Environment.TEST:
        return getattr(settings, "PAYMENT_PROVIDER_TEST", "") or "test_processor"
    if environment == Environment.PROD:
        return getattr(settings, "PAYMENT_PROVIDER_PROD", "") or ""
    raise ValueError(f"Unknown environment: {environment!r}")


def get_provider(environment: str) -> PaymentProvider:
    name = provider_name(environment)
    if environment == Environment.TEST:
        path = TEST_PROVIDERS.get(name)
    else:
        if not name:
            raise ProviderFailed("No payment provider is configured for production", layer="order")
        path = PROD_PROVIDERS.get(name)
    if path is None:
        raise ProviderFailed(f"Payment provider {name!r} is not available", layer="order")
    provider_class = import_string(path)
    if getattr(provider_class, "per_environment", False):
        return provider_class(environment=environment)
    return provider_class()


def live_payments_available() -> bool:
    """Whether this deployment can take real payments: ``PAYMENT_PROVIDER_PROD`` names a real
    provider and that provider's own ``is_configured()`` (when it has one) says its settings are
    complete. The test processor never counts. Until this is True, the dashboard shows a banner
    in Live mode and live checkout pages and purchase links tell buyers that the store can't
    accept payments yet, instead of showing a form that would end in a 502."""
    name = getattr(settings, "PAYMENT_PROVIDER_PROD", "") or ""
    path = PROD_PROVIDERS.get(name) if name else None
    if path is None:
        return False
    configured = getattr(import_string(path), "is_configured", None)
    return bool(configured()) if callable(configured) else True
