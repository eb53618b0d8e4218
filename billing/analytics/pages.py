"""What the Home and Analytics pages show besides the figures of ``billing.analytics.metrics``:
the getting-started checklist's state and the short lists of recent transactions and customers.
Each reader runs a fixed number of bounded SQL statements."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models.functions import Lower

from billing.analytics.metrics import PAID
from billing.models import Payment, WebhookEndpoint
from pancake.models import Environment
from products.models import Product
from stores.models import ApiKey

# How many recent payments are read to find the recent customers (their distinct buyers).
RECENT_CUSTOMERS_SCAN = 50


@dataclass(frozen=True)
class Checklist:
    product: bool  # a product exists
    test_purchase: bool  # a test payment went through
    settings: bool  # a support email, a logo or checkout branding
    developer: bool  # an API key of the merchant or a webhook endpoint of the store
    live: bool  # a product is published to Live

    @property
    def done(self) -> int:
        return sum((self.product, self.test_purchase, self.settings, self.developer, self.live))

    @property
    def complete(self) -> bool:
        return self.done == 5


def checklist(store, merchant) -> Checklist:
    """The getting-started steps, each ticked from what exists (five EXISTS queries)."""
    products = Product.objects.filter(store=store)
    return Checklist(
        product=products.exists(),
        test_purchase=Payment.objects.filter(
            store=store, environment=Environment.TEST, status__in=PAID
        ).exists(),
        settings=bool(store.support_email or store.logo or store.checkout_settings),
        developer=ApiKey.objects.filter(merchant=merchant).exists()
        or WebhookEndpoint.objects.filter(store=store).exists(),
        live=products.filter(prod_version__isnull=False).exists(),
    )


def recent_payments(store, environment: str, limit: int = 5) -> list[Payment]:
    """The latest payments that went through, newest first (one statement)."""
    return list(
        Payment.objects.filter(
            store=store, environment=environment, status__in=PAID, paid_at__isnull=False
        )
        .select_related("order")
        .order_by("-paid_at", "-pk")[:limit]
    )


@dataclass(frozen=True)
class RecentCustomer:
    email: str
    country: str
    paid_at: object


def recent_customers(store, environment: str, limit: int = 5) -> list[RecentCustomer]:
    """The buyers of the latest paid charges, newest first, each once (one bounded statement:
    the distinct buyers among the last ``RECENT_CUSTOMERS_SCAN`` charges)."""
    rows = (
        Payment.objects.filter(
            store=store,
            environment=environment,
            status__in=PAID,
            paid_at__isnull=False,
            amount__gt=0,
        )
        .annotate(email=Lower("order__buyer_email"))
        .order_by("-paid_at", "-pk")
        .values_list("email", "billing_detail", "paid_at")[:RECENT_CUSTOMERS_SCAN]
    )
    seen: dict[str, RecentCustomer] = {}
    for email, detail, paid_at in rows:
        if email and email not in seen:
            country = (detail or {}).get("country") or ""
            seen[email] = RecentCustomer(email, country, paid_at)
        if len(seen) == limit:
            break
    return list(seen.values())
