"""Billing models: payments, provider events, webhooks, and the built-in test processor's
server-side state, kept in the database so the hosted card page, workers and tests in other
processes all see it.

The test processor's rows hold only what a real provider would return about a card: brand,
last 4 digits and expiry. Never the full number or the CVC.
"""

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from pancake.models import BaseModel, Environment


class TestProcessorOutcome(models.TextChoices):
    """How a saved test card behaves when charged off-session later."""

    SUCCEED = "succeed"
    CARD_DECLINED = "card_declined"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    AUTHENTICATION_REQUIRED = "authentication_required"


class TestProcessorCard(BaseModel):
    """A saved card: the token a renewal charges again (its id is the method token)."""

    __test__ = False  # not a pytest class

    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4)
    exp_month = models.PositiveSmallIntegerField()
    exp_year = models.PositiveSmallIntegerField()
    off_session_outcome = models.CharField(
        max_length=32, choices=TestProcessorOutcome.choices, default=TestProcessorOutcome.SUCCEED
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(exp_month__gte=1, exp_month__lte=12),
                name="test_processor_card_exp_month_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.brand} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year})"


class TestProcessorPayment(BaseModel):
    """One payment, keyed by the caller's attempt id: a hosted payment the buyer completes on the
    card page, or an off-session charge of a saved card."""

    __test__ = False

    class Status(models.TextChoices):
        PENDING = "pending"
        REQUIRES_ACTION = "requires_action"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    class ThreeDS(models.TextChoices):
        NONE = ""
        APPROVE = "approve", "Succeeds when the buyer approves"
        FAIL = "fail", "Fails whatever the buyer does"

    attempt_id = models.CharField(max_length=100, unique=True)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    off_session = models.BooleanField(default=False)
    save_method = models.BooleanField(default=False)
    # The saved card this payment charged (off-session) or saved (hosted, save_method).
    card = models.ForeignKey(
        TestProcessorCard, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    method_type = models.CharField(max_length=20, blank=True, default="")
    method_brand = models.CharField(max_length=20, blank=True, default="")
    method_last4 = models.CharField(max_length=4, blank=True, default="")
    method_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    method_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # What the pending 3-D Secure step does, and how the saved card behaves off-session.
    three_ds = models.CharField(max_length=8, choices=ThreeDS.choices, blank=True, default="")
    pending_off_session_outcome = models.CharField(
        max_length=32, choices=TestProcessorOutcome.choices, blank=True, default=""
    )
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=255, blank=True, default="")
    description = models.CharField(max_length=500, blank=True, default="")
    return_url = models.URLField(max_length=2000, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # The hosted page's language and what it shows beside the card form (create_payment).
    locale = models.CharField(max_length=16, blank=True, default="")
    display = models.JSONField(default=dict, blank=True)
    # Bumped on every outcome, so each outcome is a new notification event and a redelivery of
    # the same outcome keeps its event id.
    event_seq = models.PositiveIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gte=0), name="test_processor_payment_amount_nonneg"
            ),
            models.CheckConstraint(
                condition=models.Q(refunded_amount__gte=0)
                & models.Q(refunded_amount__lte=models.F("amount")),
                name="test_processor_payment_refund_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.amount} {self.currency} ({self.status})"


class TestProcessorRefund(BaseModel):
    __test__ = False

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    attempt_id = models.CharField(max_length=100, unique=True)
    payment = models.ForeignKey(
        TestProcessorPayment, on_delete=models.PROTECT, related_name="refunds"
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=255, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.amount} {self.currency} ({self.status})"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    REFUNDED = "refunded", _("Refunded")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")


class Payment(BaseModel):
    """One charge. Its id is the provider's idempotency key for the attempt. Only the
    method's type, brand, last 4 and expiry are kept: never a card number or CVC."""

    order = models.ForeignKey("checkout.Order", on_delete=models.PROTECT, related_name="payments")
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="payments")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    amount = models.BigIntegerField()
    tax_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    provider = models.CharField(max_length=20)
    provider_payment_id = models.CharField(max_length=100, null=True, blank=True)
    payment_method = models.CharField(max_length=20, blank=True, default="")
    payment_method_details = models.JSONField(default=dict, blank=True)
    method_token = models.CharField(max_length=100, null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=255, blank=True, default="")
    billing_detail = models.JSONField(default=dict)
    refunded_amount = models.BigIntegerField(default=0)
    settlement_currency = models.CharField(max_length=3, blank=True, default="")
    settlement_amount = models.BigIntegerField(null=True, blank=True)
    order_merchant_external_id = models.CharField(
        max_length=128, null=True, blank=True, db_index=True
    )
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"], name="payment_unique_provider_payment"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=F("amount")),
                name="payment_refunds_within_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["store", "environment", "created_at"], name="payment_store_env_idx"
            )
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} ({self.status})"


class ProviderEvent(models.Model):
    """Each provider notification is applied once: its (provider, event id) is unique, and the row
    is written in the transaction that applies it."""

    id = models.BigAutoField(primary_key=True)
    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=200)
    received_at = models.DateTimeField(auto_now_add=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"


# --- webhooks ------------------------------------------------------------------------------------


class WebhookChannel(models.TextChoices):
    HTTP = "http", "HTTP"
    SLACK = "slack", "Slack"
    DISCORD = "discord", "Discord"
    TELEGRAM = "telegram", "Telegram"
    FEISHU = "feishu", "Feishu"


class WebhookEndpoint(BaseModel):
    """Where a store's events go, in one environment. Removing one is a hard delete: its
    deliveries keep the URL they were sent to."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="webhooks")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    channel = models.CharField(max_length=16, choices=WebhookChannel.choices)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=200, null=True, blank=True)
    api_version = models.CharField(max_length=10)
    # The store's default endpoint of the environment (store/update-store webhookSettings).
    is_default = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "environment"],
                condition=Q(is_default=True),
                name="webhook_one_default_per_environment",
            )
        ]
        indexes = [models.Index(fields=["store", "environment"], name="webhook_store_env_idx")]

    def __str__(self) -> str:
        return f"{self.channel} {self.url} ({self.environment})"


class WebhookDelivery(BaseModel):
    """One event for one endpoint. Its id is the payload's ``id`` (receivers dedupe on it) and
    ``body`` the exact bytes sent at every attempt, frozen when the delivery was made."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCESS = "success", _("Succeeded")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(
        "pancake.OutboxEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    event_type = models.CharField(max_length=64)
    # The business object (the payload's eventId) and the order or subscription it belongs to:
    # deliveries of one aggregate to one endpoint go out in the order they were made.
    subject_id = models.UUIDField()
    aggregate_id = models.UUIDField(db_index=True)
    channel = models.CharField(max_length=16, choices=WebhookChannel.choices)
    url = models.URLField(max_length=2000)
    body = models.TextField()
    is_test = models.BooleanField(default=False)  # "send test event" from the dashboard
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    # attempt_count when the current round of retries began (a manual resend starts a new one)
    retry_base = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A worker's claim: another worker leaves the row alone until this passes (a worker that dies
    # mid-delivery loses nothing: the sweep takes the row again after it).
    locked_until = models.DateTimeField(null=True, blank=True)
    last_attempted_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"],
                condition=Q(is_test=False),
                name="webhook_delivery_once_per_endpoint",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=WebhookChannel.values), name="webhook_delivery_channel"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.url} ({self.status})"


class WebhookAttempt(BaseModel):
    """One POST of a delivery: when, what came back (a bounded snippet), how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    signed_at_ms = models.BigIntegerField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_snippet = models.CharField(max_length=1000, blank=True, default="")
    error = models.CharField(max_length=500, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    succeeded = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="webhook_attempt_number")
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"


class WebhookSigningKey(BaseModel):
    """The platform's webhook key pair of one environment, made on first use. The private key is
    kept encrypted with a key derived from SECRET_KEY (or read from WEBHOOK_PRIVATE_KEY_FILE_*)."""

    environment = models.CharField(max_length=8, choices=Environment.choices, unique=True)
    public_pem = models.TextField()
    private_encrypted = models.TextField()

    def __str__(self) -> str:
        return f"webhook key ({self.environment})"
