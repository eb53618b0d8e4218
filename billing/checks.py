"""``manage.py check`` for the payment providers' settings: an unknown provider name, the test
processor named for production, or Stripe without its keys is an error, named with the missing
settings (never their values)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register

from billing.providers import PROD_PROVIDERS, TEST_PROVIDERS

# What the stripe provider needs (checked here without importing the ``stripe`` library).
STRIPE_SETTINGS = ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")


def missing_settings() -> list[str]:
    """The Stripe settings that are not set (names only, never values)."""
    return [name for name in STRIPE_SETTINGS if not getattr(settings, name, "")]


@register()
def payment_providers(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    chosen = {
        "PAYMENT_PROVIDER_TEST": (getattr(settings, "PAYMENT_PROVIDER_TEST", ""), TEST_PROVIDERS),
        "PAYMENT_PROVIDER_PROD": (getattr(settings, "PAYMENT_PROVIDER_PROD", ""), PROD_PROVIDERS),
    }
    for setting, (name, known) in chosen.items():
        if name and name not in known:
            errors.append(
                Error(
                    f"{setting} is {name!r}: expected one of {', '.join(sorted(known))}",
                    hint="Production takes real providers only (stripe).",
                    id="billing.E001",
                )
            )
    if "stripe" in (name for name, _known in chosen.values()):
        missing = missing_settings()
        if missing:
            errors.append(
                Error(
                    "The stripe payment provider is chosen but "
                    + ", ".join(missing)
                    + (" is" if len(missing) == 1 else " are")
                    + " not set",
                    hint="Set them from the Stripe dashboard (docs/stripe.md).",
                    id="billing.E002",
                )
            )
    return errors
