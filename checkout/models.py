"""Checkout sessions and the orders made from them. A session freezes the product version, the
price and the currency a buyer is offered; an order is created from a session."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from pancake.models import BaseModel, Environment


class SessionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    COMPLETED = "completed", _("Completed")
    EXPIRED = "expired", _("Expired")


class CheckoutSession(BaseModel):
    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, related_name="checkout_sessions"
    )
    environment = models.CharField(max_length=8, choices=Environment.choices)
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "products.ProductVersion", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16)  # the product's kind when the session was made
    currency = models.CharField(max_length=3)
    # The frozen price, in minor units of ``currency``.
    amount = models.BigIntegerField()
    tax_category = models.CharField(max_length=32)
    tax_included = models.BooleanField(default=False)
    price_overridden = models.BooleanField(default=False)
    trial_days = models.PositiveIntegerField(null=True, blank=True)
    trial_amount = models.BigIntegerField(null=True, blank=True)
    with_trial = models.BooleanField(null=True, blank=True)
    buyer_email = models.EmailField(null=True, blank=True)
    buyer_identity = models.CharField(max_length=320, null=True, blank=True)
    billing_detail = models.JSONField(null=True, blank=True)
    success_url = models.URLField(max_length=2000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    dark_mode = models.BooleanField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True, default="")
    checkout_language = models.CharField(max_length=8, blank=True, default="")
    payment_methods = models.JSONField(default=list)
    order_merchant_external_id = models.CharField(
        max_length=128, null=True, blank=True, db_index=True
    )
    created_via = models.CharField(max_length=16)  # "api_key" | "store_slug" | "buyer_token"
    # Plan-change mode: the subscription order whose plan this session changes (the product,
    # version and price above are the new plan's), when it takes effect ("" = by price: an
    # upgrade at once, anything else at the period end) and the merchant's override of the
    # prorated charge or credit (minor units, tax included).
    origin_order = models.ForeignKey(
        "checkout.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    change_timing = models.CharField(max_length=16, blank=True, default="")
    change_amount = models.BigIntegerField(null=True, blank=True)
    change_credit_amount = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=SessionStatus.choices, default=SessionStatus.OPEN
    )
    expires_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("can_expire_checkout_session", "Can expire a checkout session")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="session_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(trial_amount__isnull=True) | Q(trial_amount__gte=0),
                name="session_trial_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=(Q(change_amount__isnull=True) | Q(change_amount__gte=0))
                & (Q(change_credit_amount__isnull=True) | Q(change_credit_amount__gte=0))
                & (Q(change_amount__isnull=True) | Q(change_credit_amount__isnull=True)),
                name="session_change_amount_one_not_negative",
            ),
        ]
        indexes = [
            models.Index(
                fields=["store", "environment", "created_at"], name="session_store_env_idx"
            )
        ]

    def __str__(self) -> str:
        return f"checkout {self.pk} ({self.status})"

    @property
    def is_plan_change(self) -> bool:
        return self.origin_order_id is not None

    def order_exists(self) -> bool:
        return Order.objects.filter(session_id=self.pk).exists()


class OrderKind(models.TextChoices):
    ONETIME = "onetime", _("One-time")
    SUBSCRIPTION = "subscription", _("Subscription")


class OrderStatus(models.TextChoices):
    """One-time orders: pending → completed | canceled. Subscription orders carry their
    subscription's status (billing's ``SubscriptionStatus``, the same eight values)."""

    PENDING = "pending", _("Pending")
    COMPLETED = "completed", _("Completed")
    CANCELED = "canceled", _("Canceled")
    ACTIVE = "active", _("Active")
    TRIALING = "trialing", _("Trialing")
    PAST_DUE = "past_due", _("Past due")
    CANCELING = "canceling", _("Canceling")
    EXPIRED = "expired", _("Expired")
    PAUSED = "paused", _("Paused")


class Order(BaseModel):
    """What a buyer bought from one checkout session: the frozen price, the tax it was charged
    and the evidence it was taxed on. One order per session (a constraint, not a hope)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="orders")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    session = models.OneToOneField(CheckoutSession, on_delete=models.PROTECT, related_name="order")
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "products.ProductVersion", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=OrderKind.choices)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING
    )
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField()
    tax_amount = models.BigIntegerField()
    total = models.BigIntegerField()
    tax_rate = models.DecimalField(max_digits=8, decimal_places=6)
    tax_name = models.CharField(max_length=40, blank=True, default="")
    reverse_charge = models.BooleanField(default=False)
    tax_evidence = models.JSONField(default=dict)
    buyer_email = models.EmailField()
    buyer_identity = models.CharField(max_length=320, null=True, blank=True)
    billing_detail = models.JSONField()
    buyer_ip = models.GenericIPAddressField(null=True, blank=True)
    success_url = models.URLField(max_length=2000, null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    order_merchant_external_id = models.CharField(
        max_length=128, null=True, blank=True, db_index=True
    )
    with_trial = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0) & Q(tax_amount__gte=0) & Q(total__gte=0),
                name="order_amounts_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["store", "environment", "created_at"], name="order_store_env_idx"),
            # A customer's orders (the Customers pages: their first and latest order, their
            # orders, payments and subscriptions by email).
            models.Index(
                fields=["store", "environment", "buyer_email", "created_at"],
                name="order_store_env_email_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.pk} ({self.status})"
