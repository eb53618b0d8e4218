"""Catalog writes. The catalog issue adds updates, publishing and groups."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.utils.text import slugify

from products.models import Product, ProductKind, ProductVersion
from stores.models import Store


def _unique_product_slug(store: Store, name: str) -> str:
    base = slugify(name)[:60] or "product"
    slug = base
    while Product.objects.filter(store=store, slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


def product_create(
    *,
    store: Store,
    kind: str,
    name: str,
    prices: dict,
    description: str | None = None,
    billing_period: str | None = None,
    metadata: dict | None = None,
) -> Product:
    """Create a product with its first version; it lives in test until published."""
    if kind == ProductKind.SUBSCRIPTION and not billing_period:
        raise ValueError("subscription products need a billing period")
    with transaction.atomic():
        product = Product.objects.create(
            store=store, kind=kind, slug=_unique_product_slug(store, name)
        )
        version = ProductVersion.objects.create(
            product=product,
            number=1,
            name=name,
            description=description,
            prices=prices,
            billing_period=billing_period,
            metadata=metadata or {},
        )
        product.test_version = version
        product.save(update_fields=["test_version", "updated_at"])
    return product
