"""Billing models: payments, provider events, webhooks, and the built-in test processor's
server-side state, kept in the database so the hosted card page, workers and tests in other
processes all see it.

The test processor's rows hold only what a real provider would return about a card: brand,
last 4 digits and expiry. Never the full number or the CVC.
"""

from datetime import timedelta

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce
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


class StripeIntent(BaseModel):
    """What the Stripe provider keeps of one hosted payment (``billing.providers.stripe``): the
    Stripe PaymentIntent (or SetupIntent, to save a card without charging) made for our attempt
    id, stored when Stripe answered, so the attempt's page and every later call find that intent
    again instead of making another; and what the step-2 page shows beside the card element.
    Never a card number, a client secret or a key: those stay at Stripe."""

    class Kind(models.TextChoices):
        PAYMENT = "payment"
        SETUP = "setup"

    attempt_id = models.CharField(max_length=100, unique=True)
    environment = models.CharField(max_length=8, choices=Environment.choices)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    intent_id = models.CharField(max_length=100, unique=True)
    customer_id = models.CharField(max_length=100)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    save_method = models.BooleanField(default=False)
    return_url = models.URLField(max_length=2000, blank=True, default="")
    locale = models.CharField(max_length=16, blank=True, default="")
    display = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.intent_id}"


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
    # The product this charge paid for (the order's; a renewal or plan change: the plan's then),
    # kept on the payment so the payments list filters by product through its own index.
    product = models.ForeignKey(
        "products.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
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
    # Approved refunds not yet answered by the provider: held back from what is left to refund,
    # so two approvals racing on one payment can never refund more than was paid (the check
    # constraint below holds even if a lock were forgotten).
    refunding_amount = models.BigIntegerField(default=0)
    # The platform's fee on this charge, frozen when it succeeded (not returned on refunds).
    fee_amount = models.BigIntegerField(null=True, blank=True)
    settlement_currency = models.CharField(max_length=3, blank=True, default="")
    settlement_amount = models.BigIntegerField(null=True, blank=True)
    order_merchant_external_id = models.CharField(
        max_length=128, null=True, blank=True, db_index=True
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    # An off-session charge of a subscription (a renewal, a trial's end, a plan change): the
    # period it pays for and which try it is. The row is committed (processing) before the
    # provider is called, and its id is the provider's idempotency key.
    subscription = models.ForeignKey(
        "billing.Subscription",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="payments",
    )
    period_number = models.PositiveIntegerField(null=True, blank=True)
    attempt = models.PositiveSmallIntegerField(null=True, blank=True)
    purpose = models.CharField(max_length=16, blank=True, default="")
    # A chargeback the buyer's bank opened on this charge (the provider's dispute id, its
    # reason, when we learned of it); empty while there is none.
    dispute_id = models.CharField(max_length=100, blank=True, default="")
    dispute_reason = models.CharField(max_length=64, blank=True, default="")
    disputed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"], name="payment_unique_provider_payment"
            ),
            # Each try of a period's charge is one row ...
            models.UniqueConstraint(
                fields=["subscription", "purpose", "period_number", "attempt"],
                condition=Q(subscription__isnull=False),
                name="payment_subscription_attempt_once",
            ),
            # ... a period is paid for at most once ...
            models.UniqueConstraint(
                fields=["subscription", "period_number"],
                condition=Q(subscription__isnull=False, purpose="renewal")
                & Q(status__in=["succeeded", "refunded", "partially_refunded"]),
                name="payment_subscription_period_paid_once",
            ),
            # ... and a subscription has at most one charge in flight.
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(subscription__isnull=False) & Q(status="processing"),
                name="payment_subscription_one_in_flight",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0)
                & Q(refunded_amount__gte=0)
                & Q(refunded_amount__lte=F("amount")),
                name="payment_refunds_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunding_amount__gte=0)
                & Q(refunding_amount__lte=F("amount") - F("refunded_amount")),
                name="payment_refunding_within_amount",
            ),
        ]
        indexes = [
            models.Index(
                fields=["store", "environment", "created_at"], name="payment_store_env_idx"
            ),
            models.Index(
                fields=["store", "environment", "status", "created_at"],
                name="payment_store_status_idx",
            ),
            models.Index(
                fields=["store", "environment", "product", "created_at"],
                name="payment_store_product_idx",
            ),
            # The analytics: paid charges by time, and rows written since the rollups.
            models.Index(
                fields=["store", "environment", "paid_at"],
                name="payment_store_paid_idx",
                condition=Q(paid_at__isnull=False),
            ),
            models.Index(
                fields=["store", "environment", "updated_at"], name="payment_store_updated_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} ({self.status})"


class SubscriptionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    TRIALING = "trialing", _("Trialing")
    ACTIVE = "active", _("Active")
    PAST_DUE = "past_due", _("Past due")
    CANCELING = "canceling", _("Canceling")
    CANCELED = "canceled", _("Canceled")
    EXPIRED = "expired", _("Expired")
    PAUSED = "paused", _("Paused")


# MRR counts a period's pre-tax charge per month: weekly × 4.33, monthly × 1, quarterly ÷ 3,
# yearly ÷ 12; as whole numbers over MRR_SCALE (5196/1200 = 4.33, 400/1200 = 1/3 ...) so that
# the database sums them exactly. Another billing period counts as monthly.
MRR_SCALE = 1200
MRR_NUMERATORS = {"weekly": 5196, "monthly": 1200, "quarterly": 400, "yearly": 100}


class Subscription(BaseModel):
    """A subscription order's recurring side: what is charged each period, when, on which saved
    method, and where it stands. The order stays what buyers and the API name (``orderId``);
    its status mirrors this one's (``billing.subscriptions.lifecycle`` sets both).

    Time: every rule reads the subscription's clock, ``now + clock_offset``; the offset is zero
    except for a test-mode subscription whose test clock was advanced. ``due_at`` is the real
    time of the next step (renewal, retry, trial end, period end, reminder), indexed, so the
    beat task finds due rows without reading the others."""

    order = models.OneToOneField(
        "checkout.Order", on_delete=models.PROTECT, related_name="subscription"
    )
    store = models.ForeignKey(
        "stores.Store", on_delete=models.CASCADE, related_name="subscriptions"
    )
    environment = models.CharField(max_length=8, choices=Environment.choices)
    # The plan: the product and the version whose price is charged, frozen per period.
    product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(
        "products.ProductVersion", on_delete=models.PROTECT, related_name="+"
    )
    billing_period = models.CharField(max_length=16)
    currency = models.CharField(max_length=3)
    # The list price (as the catalog or priceSnapshot gave it) and the taxed charge of a period.
    price_amount = models.BigIntegerField()
    tax_category = models.CharField(max_length=32)
    tax_included = models.BooleanField(default=False)
    subtotal = models.BigIntegerField()
    tax_amount = models.BigIntegerField()
    total = models.BigIntegerField()
    tax_rate = models.DecimalField(max_digits=8, decimal_places=6)
    tax_name = models.CharField(max_length=40, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=SubscriptionStatus.choices, default=SubscriptionStatus.PENDING
    )
    # Periods count from the anchor (the first charge, or where a resume or a change of billing
    # period moved it): period n is [anchor + (n-1-k) periods, anchor + (n-k) periods) where k
    # is ``anchor_period``, the number of periods before the anchor. 0 while trialing.
    anchor_at = models.DateTimeField(null=True, blank=True)
    anchor_period = models.PositiveIntegerField(default=0)
    period_number = models.PositiveIntegerField(default=0)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    trial_end_at = models.DateTimeField(null=True, blank=True)
    # The saved method (the provider's token; type, brand, last 4, expiry only).
    provider = models.CharField(max_length=20)
    method_token = models.CharField(max_length=100, null=True, blank=True)
    payment_method = models.CharField(max_length=20, blank=True, default="")
    payment_method_details = models.JSONField(default=dict, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # When a canceling subscription ends (its period end; for one canceled while past due, the
    # end of its dunning window), and when it was canceled.
    cancel_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True, default="")
    paused_at = models.DateTimeField(null=True, blank=True)
    # Credit from a downgrade, taken off the next charges (minor units, tax included).
    credit_balance = models.BigIntegerField(default=0)
    # Dunning: failed tries of the current period's charge, and when the next one runs.
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    # Reminder emails already sent: the period number of the upcoming-charge email, the trial's.
    reminded_period = models.PositiveIntegerField(default=0)
    trial_reminded = models.BooleanField(default=False)
    # Test clocks (test mode only): the subscription's clock is real time plus this offset.
    clock_offset = models.DurationField(default=timedelta(0))
    # The real time of the next step, and a worker's claim on the row while it runs it.
    due_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    # Computed by the database, for the merchant's figures (billing/analytics): when it starts
    # counting towards MRR (after its trial), when it stops (ended, or paused), and its MRR.
    counting_from = models.GeneratedField(
        expression=Coalesce("trial_end_at", "created_at"),
        output_field=models.DateTimeField(),
        db_persist=True,
    )
    counting_until = models.GeneratedField(
        expression=Case(
            When(status=SubscriptionStatus.PAUSED, then=F("paused_at")), default=F("ended_at")
        ),
        output_field=models.DateTimeField(null=True),
        db_persist=True,
    )
    # Its MRR in 1/MRR_SCALE of a minor unit, a whole number (so sums of it are exact).
    period_mrr_scaled = models.GeneratedField(
        expression=(F("total") - F("tax_amount"))
        * Case(
            *(When(billing_period=p, then=Value(n)) for p, n in MRR_NUMERATORS.items()),
            default=Value(MRR_SCALE),
        ),
        output_field=models.BigIntegerField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0)
                & Q(tax_amount__gte=0)
                & Q(total__gte=0)
                & Q(price_amount__gte=0)
                & Q(credit_balance__gte=0),
                name="subscription_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__gte=F("current_period_start")),
                name="subscription_period_in_order",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"], name="subscription_due_idx", condition=Q(due_at__isnull=False)
            ),
            models.Index(
                fields=["store", "environment", "created_at"], name="subscription_store_env_idx"
            ),
            models.Index(fields=["store", "environment", "status"], name="subscription_status_idx"),
            # The MRR series: what began or stopped counting in a window.
            models.Index(
                fields=["store", "environment", "counting_from"], name="subscription_from_idx"
            ),
            models.Index(
                fields=["store", "environment", "counting_until"], name="subscription_until_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"subscription {self.pk} ({self.status})"


class PlanChangeTiming(models.TextChoices):
    IMMEDIATE = "immediate", _("Immediately")
    NEXT_PERIOD = "next_period", _("At the next period")


class PlanChange(BaseModel):
    """A change of a subscription's plan: proposed by a plan-change checkout session, then
    applied at once (with its prorated charge or credit), scheduled for the period end, or
    failed (the plan stays)."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        SCHEDULED = "scheduled", _("Scheduled")
        APPLIED = "applied", _("Applied")
        FAILED = "failed", _("Failed")
        CANCELED = "canceled", _("Canceled")

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="plan_changes"
    )
    session = models.OneToOneField(
        "checkout.CheckoutSession",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plan_change",
    )
    from_version = models.ForeignKey(
        "products.ProductVersion", on_delete=models.PROTECT, related_name="+"
    )
    to_product = models.ForeignKey("products.Product", on_delete=models.PROTECT, related_name="+")
    to_version = models.ForeignKey(
        "products.ProductVersion", on_delete=models.PROTECT, related_name="+"
    )
    timing = models.CharField(max_length=16, choices=PlanChangeTiming.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PROPOSED)
    # The new plan's list price and taxed charge per period.
    price_amount = models.BigIntegerField()
    tax_category = models.CharField(max_length=32)
    tax_included = models.BooleanField(default=False)
    # What applying it now charges or credits (tax included, minor units), from proration or
    # the merchant's changeAmount / changeCreditAmount.
    charge_amount = models.BigIntegerField(default=0)
    credit_amount = models.BigIntegerField(default=0)
    amount_overridden = models.BooleanField(default=False)
    effective_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    failure_message = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription"],
                condition=Q(status="scheduled"),
                name="plan_change_one_scheduled",
            ),
            models.CheckConstraint(
                condition=Q(charge_amount__gte=0) & Q(credit_amount__gte=0),
                name="plan_change_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"plan change {self.pk} ({self.status})"


# --- refunds -------------------------------------------------------------------------------------


class RefundTicketStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


# Tickets that still hold part of their payment: what is left to refund excludes them.
OPEN_TICKET_STATUSES = (
    RefundTicketStatus.PENDING,
    RefundTicketStatus.APPROVED,
    RefundTicketStatus.PROCESSING,
)
FINAL_TICKET_STATUSES = (
    RefundTicketStatus.REJECTED,
    RefundTicketStatus.SUCCEEDED,
    RefundTicketStatus.FAILED,
)


class SubmitterType(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    MERCHANT = "merchant", _("Merchant")


class RefundTicket(BaseModel):
    """A request to give back all or part of one payment: filed by the buyer (or by the merchant's
    server for them), reviewed by the merchant, then executed as a ``Refund``. A merchant's refund
    straight from a payment is a ticket approved at once. A rejected ticket can be resubmitted:
    each submission is a ``RefundTicketVersion``; the ticket carries the current one's values."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refund_tickets")
    order = models.ForeignKey("checkout.Order", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=16, choices=RefundTicketStatus.choices, default=RefundTicketStatus.PENDING
    )
    submitter_type = models.CharField(max_length=16, choices=SubmitterType.choices)
    # The merchant's id, or the buyer's identity (their email, or the merchant's id for them).
    submitter_id = models.CharField(max_length=320)
    reason = models.CharField(max_length=1000)
    requested_amount = models.BigIntegerField()
    approved_amount = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    metadata = models.JSONField(default=dict, blank=True)
    refund_ticket_merchant_external_id = models.CharField(
        max_length=128, null=True, blank=True, db_index=True
    )
    version_number = models.PositiveIntegerField(default=1)
    reviewer_id = models.CharField(max_length=64, null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=1000, blank=True, default="")
    reject_reason = models.CharField(max_length=1000, blank=True, default="")
    # A merchant refund may also end the subscription the payment belongs to.
    cancel_subscription = models.BooleanField(default=False)
    executed_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("can_retry_refund", "Can retry a failed refund")]
        constraints = [
            models.CheckConstraint(
                condition=Q(requested_amount__gt=0)
                & (
                    Q(approved_amount__isnull=True)
                    | (Q(approved_amount__gt=0) & Q(approved_amount__lte=F("requested_amount")))
                ),
                name="refund_ticket_amounts",
            ),
        ]
        indexes = [
            models.Index(
                fields=["store", "environment", "created_at"], name="refund_ticket_store_env_idx"
            ),
            models.Index(
                fields=["store", "environment", "status", "created_at"],
                name="refund_ticket_status_idx",
            ),
            models.Index(fields=["payment", "status"], name="refund_ticket_payment_idx"),
        ]

    def __str__(self) -> str:
        return f"refund ticket {self.pk} ({self.status})"

    @property
    def refund_amount(self) -> int:
        """What is (or was) refunded: the approved amount, else the requested one."""
        return self.approved_amount if self.approved_amount is not None else self.requested_amount


class RefundTicketVersion(BaseModel):
    """One submission of a ticket: the first, and one per resubmission after a rejection."""

    ticket = models.ForeignKey(RefundTicket, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    reason = models.CharField(max_length=1000)
    requested_amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    # Why the version before this one was rejected (empty on the first).
    previous_reject_reason = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "number"], name="refund_ticket_version_once")
        ]

    def __str__(self) -> str:
        return f"version {self.number} of {self.ticket_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Refund(BaseModel):
    """One execution of an approved ticket at the provider. Its id is the provider's idempotency
    key: committed (pending) before the provider is called, so a retried task asks for the same
    refund again and never refunds twice. Retrying a failed refund makes a new row."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    ticket = models.ForeignKey(RefundTicket, on_delete=models.PROTECT, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=16, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    provider = models.CharField(max_length=20)
    provider_refund_id = models.CharField(max_length=100, null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    failure_message = models.CharField(max_length=255, blank=True, default="")
    executed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            # A ticket is executed by at most one live refund.
            models.UniqueConstraint(
                fields=["ticket"],
                condition=Q(status__in=["pending", "processing", "succeeded"]),
                name="refund_one_live_per_ticket",
            ),
        ]
        indexes = [
            models.Index(
                fields=["updated_at"],
                name="refund_unfinished_idx",
                condition=Q(status__in=["pending", "processing"]),
            ),
            models.Index(
                fields=["store", "environment", "created_at"], name="refund_store_env_idx"
            ),
            # The analytics: succeeded refunds by time, and rows written since the rollups.
            models.Index(
                fields=["store", "environment", "executed_at"],
                name="refund_store_executed_idx",
                condition=Q(status="succeeded"),
            ),
            models.Index(
                fields=["store", "environment", "updated_at"], name="refund_store_updated_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} ({self.status})"


# --- invoices and credit notes -------------------------------------------------------------------


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", _("Invoice")
    CREDIT_NOTE = "credit_note", _("Credit note")


class InvoiceSequence(models.Model):
    """The last number given out per store, environment, kind and year. Numbers are taken under
    this row's lock in the transaction that writes the document, so they are unique and leave no
    gap (a rolled-back transaction gives its number back)."""

    id = models.BigAutoField(primary_key=True)
    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    kind = models.CharField(max_length=16, choices=InvoiceKind.choices)
    year = models.PositiveSmallIntegerField()
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "environment", "kind", "year"], name="invoice_sequence_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.year} ({self.environment}): {self.last_number}"


class Invoice(BaseModel):
    """A tax document, frozen when issued: an invoice for a succeeded charge (written in the
    transaction of its success), or a credit note for a succeeded refund, referencing the
    invoice it corrects. Seller, buyer, lines and tax are copied in, so later edits to the store,
    the order or the catalog never change an issued document. The PDF is rendered from these
    fields alone, after commit, and stored."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    kind = models.CharField(max_length=16, choices=InvoiceKind.choices)
    number = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    sequence = models.PositiveIntegerField()
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="invoices")
    order = models.ForeignKey("checkout.Order", on_delete=models.PROTECT, related_name="+")
    refund = models.OneToOneField(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_note"
    )
    # A credit note's invoice.
    invoice = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="credit_notes"
    )
    issued_at = models.DateTimeField()
    language = models.CharField(max_length=16, default="en")
    currency = models.CharField(max_length=3)
    subtotal = models.BigIntegerField()
    tax_amount = models.BigIntegerField()
    total = models.BigIntegerField()
    seller = models.JSONField(default=dict)
    buyer = models.JSONField(default=dict)
    lines = models.JSONField(default=list)
    tax_lines = models.JSONField(default=list)
    # Why no tax was charged, when none was: "reverse_charge", "tax_exempt", or "".
    tax_note = models.CharField(max_length=32, blank=True, default="")
    pdf = models.FileField(upload_to="invoices/%Y/%m/", max_length=300, null=True, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, default="")
    pdf_rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        permissions = [("can_rerender_invoice", "Can render an invoice PDF again")]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "environment", "number"], name="invoice_number_once"
            ),
            models.UniqueConstraint(
                fields=["store", "environment", "kind", "year", "sequence"],
                name="invoice_sequence_number_once",
            ),
            models.UniqueConstraint(
                fields=["payment"],
                condition=Q(kind="invoice"),
                name="invoice_one_per_payment",
            ),
        ]
        indexes = [
            models.Index(
                fields=["store", "environment", "issued_at"], name="invoice_store_env_idx"
            ),
            models.Index(
                fields=["pdf_rendered_at"],
                name="invoice_unrendered_idx",
                condition=Q(pdf_rendered_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PaymentMethodUpdate(BaseModel):
    """A buyer replacing a subscription's saved method: a zero-amount payment on the provider's
    hosted page that saves the new method (``billing.subscriptions.payment_methods``). Its id
    is the provider's idempotency key; the provider's notification finds it by
    ``provider_payment_id`` and, once it succeeded, the subscription's method is replaced."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(
        "billing.Subscription", on_delete=models.CASCADE, related_name="method_updates"
    )
    environment = models.CharField(max_length=8, choices=Environment.choices)
    provider = models.CharField(max_length=20)
    provider_payment_id = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    payment_method = models.CharField(max_length=20, blank=True, default="")
    payment_method_details = models.JSONField(default=dict, blank=True)
    failure_code = models.CharField(max_length=64, blank=True, default="")
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "provider_payment_id"], name="method_update_provider_payment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id} {self.status}"


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
        permissions = [("can_resend_webhook", "Can resend a webhook delivery")]
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


class ExchangeRate(BaseModel):
    """How many units of ``currency`` one euro buys, from the daily euro reference rates
    (billing/rates.py). Any pair converts through the euro. Support staff may correct a rate in
    the admin; the next successful daily fetch overwrites it."""

    currency = models.CharField(max_length=3, unique=True)
    per_eur = models.DecimalField(max_digits=20, decimal_places=8)
    rate_date = models.DateField()
    source = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(per_eur__gt=0), name="exchange_rate_positive")
        ]

    def __str__(self) -> str:
        return f"1 EUR = {self.per_eur} {self.currency} ({self.rate_date})"


class AnalyticsDay(models.Model):
    """Additive counters of one store-local day (billing/analytics/rollups.py): the paid charges
    (by ``paid_at``) and the succeeded refunds (by ``executed_at``) of a store and environment,
    per currency, product and buyer country. Rebuilt by day from the payments and refunds;
    never edited by hand."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    day = models.DateField()
    currency = models.CharField(max_length=3)
    product_key = models.CharField(max_length=36, blank=True, default="")  # "" when none
    country = models.CharField(max_length=2, blank=True, default="")
    gross = models.BigIntegerField(default=0)
    tax = models.BigIntegerField(default=0)
    fee = models.BigIntegerField(default=0)
    sales = models.IntegerField(default=0)
    refunds = models.BigIntegerField(default=0)
    refunds_tax = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "environment", "day", "currency", "product_key", "country"],
                name="analytics_day_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.environment} {self.day} {self.currency}"


class AnalyticsSeal(models.Model):
    """How far a store's rollups go: every local day before ``sealed_through`` (a local
    midnight in ``timezone``) has its rows, computed from the rows as they were at
    ``computed_at``; anything written since is found by ``updated_at`` and read raw."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    timezone = models.CharField(max_length=64)
    sealed_through = models.DateTimeField(null=True, blank=True)  # null: nothing yet
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["store", "environment"], name="analytics_seal_once")
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.environment} sealed through {self.sealed_through}"


# ``country`` of the buyer tables when a row is about every billing country.
ANY_COUNTRY = "*"


class AnalyticsBuyer(models.Model):
    """A buyer's first and last paid charges (amount above 0) of a store and environment, by
    lower-cased email, for any product (``product_key`` "") and for each product bought, in any
    country (``country`` "*"), and, for any product, in each billing country ("" unknown): the
    per-day counts of ``AnalyticsBuyerCount`` follow from them. Kept by the rollup task for the
    charges before ``AnalyticsSeal.sealed_through`` (billing/analytics)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    product_key = models.CharField(max_length=36, blank=True, default="")  # "": any product
    country = models.CharField(max_length=2, default=ANY_COUNTRY)
    email = models.CharField(max_length=320)
    first_paid_at = models.DateTimeField()
    first_day = models.DateField()
    last_paid_at = models.DateTimeField()
    last_day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "environment", "product_key", "country", "email"],
                name="analytics_buyer_once",
            )
        ]
        indexes = [
            # The buyers paid since the seal are looked up by email.
            models.Index(fields=["store", "environment", "email"], name="analytics_buyer_email_idx")
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.environment} {self.email} {self.first_day}"


class AnalyticsBuyerCount(models.Model):
    """How many ``AnalyticsBuyer`` rows have their first (``firsts``) and their last
    (``lasts``) paid charge on a store-local day, per product ("" any) and country ("*" any):
    new customers, customers to date and the customers of a window reaching now (by country
    too) are sums over at most one row per day and country, whatever the number of buyers.
    Kept by the rollup task with ``AnalyticsBuyer``, in the same transaction
    (billing/analytics)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    product_key = models.CharField(max_length=36, blank=True, default="")  # "": any product
    country = models.CharField(max_length=2, default=ANY_COUNTRY)
    day = models.DateField()
    firsts = models.IntegerField(default=0)
    lasts = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "environment", "product_key", "country", "day"],
                name="analytics_buyer_count_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.environment} {self.day} +{self.firsts} -{self.lasts}"


class AnalyticsBuyerGap(models.Model):
    """How many times a buyer (any country) paid on ``after_day`` and next on ``before_day``,
    more than a day later, per product ("" any): the buyers of an ended window ``[s, e)`` are
    those first paid before ``e`` less those last paid before ``s`` (``AnalyticsBuyerCount``)
    less the gaps that span it (``after_day < s`` and ``before_day >= e``). Kept by the rollup
    task with ``AnalyticsBuyerDay`` (billing/analytics)."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    product_key = models.CharField(max_length=36, blank=True, default="")  # "": any product
    after_day = models.DateField()
    before_day = models.DateField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "environment", "product_key", "before_day", "after_day"],
                name="analytics_buyer_gap_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.environment} {self.after_day}..{self.before_day}: {self.n}"


class AnalyticsBuyerDay(models.Model):
    """A buyer (lower-cased email) who paid something (amount above 0) on a store-local day, for
    any product (``product_key`` "") and for each product, by the charge's billing country:
    distinct customers of a window are a COUNT(DISTINCT email) over its days. Rebuilt by day
    with the ``AnalyticsDay`` rows."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=8, choices=Environment.choices)
    product_key = models.CharField(max_length=36, blank=True, default="")  # "": any product
    day = models.DateField()
    email = models.CharField(max_length=320)
    country = models.CharField(max_length=2, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["store", "environment", "product_key", "day", "email", "country"],
                name="analytics_buyer_day_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.environment} {self.day} {self.email}"


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PAID = "paid", _("Paid")


class Payout(BaseModel):
    """A payout of a store's available balance in one currency, recorded by support staff in the
    admin (created pending, then "Mark paid" with the bank's reference). No money moves here:
    the record is what the Finance page subtracts from the available balance and lists."""

    store = models.ForeignKey("stores.Store", on_delete=models.CASCADE, related_name="payouts")
    environment = models.CharField(
        max_length=8, choices=Environment.choices, default=Environment.PROD
    )
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    period_start = models.DateField()
    period_end = models.DateField()
    status = models.CharField(
        max_length=8, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        permissions = [("can_mark_payout_paid", "Can mark a payout paid")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["store", "environment", "created_at"], name="payout_store_idx")
        ]

    def __str__(self) -> str:
        return f"payout {self.pk} ({self.status})"
