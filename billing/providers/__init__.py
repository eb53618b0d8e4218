"""Payment providers: ``get_provider(environment)`` is the only way in.

Each environment's provider is named by a setting: ``PAYMENT_PROVIDER_TEST`` (default
``test_processor``, the built-in one) and ``PAYMENT_PROVIDER_PROD`` (default none). ``stripe``
may serve either. Production takes real providers only: without one (or with the test
processor named), every payment is refused with a 502 rather than silently faked.
``billing.checks`` reports a misconfiguration (an unknown name, Stripe without its keys) at
``manage.py check``.
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
    "provider_name",
]

# Real providers, by the name ``PAYMENT_PROVIDER_PROD`` / ``PAYMENT_PROVIDER_TEST`` selects: each
# a class implementing ``PaymentProvider``, configured from its own settings, constructed with the
# environment it serves.
PROD_PROVIDERS: dict[str, str] = {"stripe": "billing.providers.stripe.StripeProvider"}
# The built-in test processor: the test environment's default, never production's.
TEST_PROVIDER = "billing.providers.test_processor.TestProcessor"
TEST_PROVIDERS: dict[str, str] = {"test_processor": TEST_PROVIDER, **PROD_PROVIDERS}


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
    if path == TEST_PROVIDER:
        return import_string(path)()
    return import_string(path)(environment=environment)
