"""Catalog foundation: products with immutable versions and a per-environment pointer/status.

The catalog issue adds the actions, groups and pages on top of these models.
"""

from django.db import models

from pancake.models import BaseModel


class ProductKind(models.TextChoices):
    ONETIME = "onetime"
    SUBSCRIPTION = "subscription"


class ProductStatus(models.TextChoices):
    ACTIVE = "active"
    INACTIVE = "inactive"


class BillingPeriod(models.TextChoices):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


class Product(BaseModel):
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="products")
    kind = models.CharField(max_length=16, choices=ProductKind.choices)
    slug = models.SlugField(max_length=80)
    test_version = models.ForeignKey(
        "products.ProductVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    test_status = models.CharField(
        max_length=16, choices=ProductStatus.choices, default=ProductStatus.ACTIVE
    )
    prod_version = models.ForeignKey(
        "products.ProductVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    prod_status = models.CharField(
        max_length=16, choices=ProductStatus.choices, default=ProductStatus.INACTIVE
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "slug"], name="product_slug_unique_per_store")
        ]

    def __str__(self) -> str:
        return self.slug


class ProductVersion(BaseModel):
    """Never edited: a change to a product writes a new version."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=64)
    description = models.TextField(null=True, blank=True)
    # {"USD": {"amount": 2900, "taxCategory": "saas", "taxIncluded": false}} — minor units.
    prices = models.JSONField(default=dict)
    media = models.JSONField(default=list, blank=True)
    success_url = models.URLField(max_length=2000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    billing_period = models.CharField(
        max_length=16, choices=BillingPeriod.choices, null=True, blank=True
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "number"], name="product_version_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"
