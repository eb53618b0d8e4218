"""Payment providers: ``get_provider(environment)`` is the only way in.

``test`` always uses the built-in test processor. ``prod`` uses the real provider named by the
``PAYMENT_PROVIDER_PROD`` setting; without one, every payment is refused with a 502 rather than
silently faked. ``live_payments_available()`` says ahead of time whether ``prod`` can take
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
]

# Real providers, by the name ``PAYMENT_PROVIDER_PROD`` selects. The hook for Stripe (the official
# ``stripe`` library): add "stripe": "billing.providers.stripe.StripeProvider" with a
# class implementing ``PaymentProvider``, configured from its own settings. A provider class may
# define ``is_configured()`` (a classmethod or staticmethod, no instance needed): False while its
# own settings are missing (Stripe: its keys), so ``live_payments_available`` says no.
PROD_PROVIDERS: dict[str, str] = {}
# The built-in test processor, always the provider of the test environment.
TEST_PROVIDER = "billing.providers.test_processor.TestProcessor"


def get_provider(environment: str) -> PaymentProvider:
    if environment == Environment.TEST:
        return import_string(TEST_PROVIDER)()
    if environment == Environment.PROD:
        name = getattr(settings, "PAYMENT_PROVIDER_PROD", "") or ""
        if not name:
            raise ProviderFailed("No payment provider is configured for production", layer="order")
        path = PROD_PROVIDERS.get(name)
        if path is None:
            raise ProviderFailed(f"Payment provider {name!r} is not available", layer="order")
        return import_string(path)()
    raise ValueError(f"Unknown environment: {environment!r}")


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
