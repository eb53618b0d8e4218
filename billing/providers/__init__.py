"""Payment providers: ``get_provider(environment)`` is the only way in.

``test`` always uses the built-in test processor. ``prod`` uses the real provider named by the
``PAYMENT_PROVIDER_PROD`` setting; without one, every payment is refused with a 502 rather than
silently faked.
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
]

# Real providers, by the name ``PAYMENT_PROVIDER_PROD`` selects. The hook for Stripe (the official
# ``stripe`` library): add "stripe": "billing.providers.stripe.StripeProvider" with a
# class implementing ``PaymentProvider``, configured from its own settings.
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
