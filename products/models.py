"""Catalog: products with immutable versions, a version pointer and a status per environment,
and subscription product groups."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pancake.models import BaseModel, Environment


class ProductKind(models.TextChoices):
    ONETIME = "onetime", _("One-time")
    SUBSCRIPTION = "subscription", _("Subscription")


class ProductStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Inactive")


class BillingPeriod(models.TextChoices):
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    YEARLY = "yearly", _("Yearly")


class TaxCategory(models.TextChoices):
    DIGITAL_GOODS = "digital_goods", _("Digital goods")
    SAAS = "saas", _("SaaS")
    SOFTWARE = "software", _("Software")
    EBOOK = "ebook", _("E-book")
    ONLINE_COURSE = "online_course", _("Online course")
    CONSULTING = "consulting", _("Consulting")
    PROFESSIONAL_SERVICE = "professional_service", _("Professional service")


class Product(BaseModel):
    """The stable identity of something sold. Its content lives in versions; each environment
    points at one version and has its own status."""

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
            models.UniqueConstraint(fields=["store", "slug"], name="product_slug_unique_per_store"),
            models.CheckConstraint(
                condition=Q(prod_status="inactive") | Q(prod_version__isnull=False),
                name="product_active_in_prod_needs_a_prod_version",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "kind", "created_at"], name="product_store_kind_idx")
        ]

    def __str__(self) -> str:
        return self.slug

    def version_for(self, environment: str):
        return self.prod_version if environment == Environment.PROD else self.test_version

    def status_for(self, environment: str) -> str:
        return self.prod_status if environment == Environment.PROD else self.test_status


class ProductVersion(BaseModel):
    """Never edited: a change to a product writes a new version. Orders, sessions and
    subscriptions point at the version they were sold from."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=64)
    description = models.TextField(null=True, blank=True)
    description_html = models.TextField(blank=True, default="")
    # {"USD": {"amount": 2900, "taxCategory": "saas", "taxIncluded": false}} in minor units;
    # subscription prices may add "trialAmount".
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

    @property
    def trial_days(self) -> int | None:
        days = (self.metadata or {}).get("trialDays")
        return days if isinstance(days, int) and not isinstance(days, bool) and days > 0 else None


class ProductGroup(BaseModel):
    """The plans a subscriber may switch between. Groups belong to one environment; publishing a
    test group upserts its prod copy (``source``)."""

    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, related_name="product_groups"
    )
    environment = models.CharField(max_length=8, choices=Environment.choices)
    name = models.CharField(max_length=100)
    description = models.TextField(null=True, blank=True)
    shared_trial = models.BooleanField(default=False)
    self_service_plan_change = models.BooleanField(default=False)
    source = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="published_copy"
    )

    class Meta:
        indexes = [models.Index(fields=["store", "environment"], name="group_store_env_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def product_ids(self) -> list:
        return [m.product_id for m in self.memberships.all()]

    @property
    def listed_product_ids(self) -> list:
        """The members in order; a deleted group's snapshot keeps the list it had."""
        snapshot = getattr(self, "snapshot_product_ids", None)
        return snapshot if snapshot is not None else self.product_ids


class ProductGroupMembership(models.Model):
    """A product's place in a group; ``position`` keeps the order the merchant gave."""

    id = models.BigAutoField(primary_key=True)
    group = models.ForeignKey(ProductGroup, on_delete=models.CASCADE, related_name="memberships")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="group_memberships")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["group", "product"], name="group_product_unique")
        ]

    def __str__(self) -> str:
        return f"{self.product_id} in {self.group_id}"
