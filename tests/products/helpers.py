"""Shared bodies and row readers for the catalog tests."""

from __future__ import annotations

import uuid

from pancake.api import ids
from products.models import Product, ProductGroup, ProductVersion
from tests.api.helpers import assert_ok, short

ONETIME = "onetime-product"
SUBSCRIPTION = "subscription-product"
GROUP = "subscription-product-group"
KINDS = {ONETIME: "onetime", SUBSCRIPTION: "subscription"}
OLD = "2026-01-15"  # the documentation pages: UUIDs and integer amounts
NEW = "2026-09-23"  # the SDK's: short ids and display strings
OLD_VERSION = {"HTTP_PANCAKE_VERSION": OLD}

# Every content field set, for each kind.
FULL_ONETIME = {
    "name": "E-Book",
    "description": "Complete **guide**",
    "prices": {
        "USD": {"amount": "29.00", "taxCategory": "ebook"},
        "JPY": {"amount": "4500", "taxCategory": "ebook", "taxIncluded": True},
    },
    "media": [{"type": "image", "url": "https://example.com/cover.jpg", "alt": "Cover"}],
    "successUrl": "https://example.com/thanks",
    "metadata": {"sku": "ebook-001"},
}
FULL_SUBSCRIPTION = {
    "name": "Pro Plan",
    "billingPeriod": "monthly",
    "description": "All features",
    "prices": {"USD": {"amount": "9.99", "taxCategory": "saas", "trialAmount": "1.00"}},
    "media": [{"type": "video", "url": "https://example.com/tour.mp4"}],
    "successUrl": "https://example.com/welcome",
    "metadata": {"trialDays": 7, "tier": "pro"},
}
FULL = {ONETIME: FULL_ONETIME, SUBSCRIPTION: FULL_SUBSCRIPTION}


def product_body(prefix: str, store, **fields) -> dict:
    """A valid create body for either kind; ``fields`` override or add (None removes)."""
    body = {"storeId": short("STO", store.pk), "name": "E-Book"}
    if prefix == SUBSCRIPTION:
        body.update(
            name="Pro Plan",
            billingPeriod="monthly",
            prices={"USD": {"amount": "9.99", "taxCategory": "saas"}},
        )
    else:
        body["prices"] = {"USD": {"amount": "29.00", "taxCategory": "ebook"}}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not None}


def create_product(api, prefix: str, store, headers: dict | None = None, **fields) -> dict:
    """Create through the API; answers ``data.product``."""
    response = api.post(f"{prefix}/create-product", product_body(prefix, store, **fields), headers)
    return assert_ok(response)["data"]["product"]


def update_product(api, prefix: str, product_id, headers: dict | None = None, **fields) -> dict:
    response = api.post(f"{prefix}/update-product", {"id": product_id, **fields}, headers)
    return assert_ok(response)["data"]["product"]


def publish(api, prefix: str, product_id) -> dict:
    return assert_ok(api.post(f"{prefix}/publish-product", {"id": product_id}))["data"]["product"]


def set_status(api, prefix: str, product_id, status: str) -> dict:
    response = api.post(f"{prefix}/update-status", {"id": product_id, "status": status})
    return assert_ok(response)["data"]["product"]


def product_uuid(product_id: str) -> uuid.UUID:
    return ids.parse_id(product_id, "PROD")


def product_row(data_or_id) -> Product:
    product_id = data_or_id["id"] if isinstance(data_or_id, dict) else data_or_id
    return Product.objects.get(pk=product_uuid(product_id))


def version_numbers(product: Product) -> list[int]:
    return list(product.versions.order_by("number").values_list("number", flat=True))


def version_snapshot(version_id) -> dict:
    """Every column of a version row, as stored."""
    return ProductVersion.objects.filter(pk=version_id).values().get()


def group_row(group_id: str) -> ProductGroup:
    return ProductGroup.objects.get(pk=uuid.UUID(group_id))


def member_ids(group: ProductGroup) -> list[uuid.UUID]:
    return list(group.memberships.order_by("position").values_list("product_id", flat=True))


def create_group(api, store, headers: dict | None = None, **fields) -> dict:
    body = {"storeId": short("STO", store.pk), "name": "Pro Plans", **fields}
    response = api.post(f"{GROUP}/create-group", body, headers)
    return assert_ok(response)["data"]["group"]
