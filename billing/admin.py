"""Read-only admin for support staff (money shown formatted in its currency): payments, refund
tickets and refunds, with the action "Retry a failed refund" (``refund_retry``); subscriptions
and plan changes; invoices and credit notes (issued documents never change; "Re-render the PDF"
renders one again); webhook endpoints, deliveries (the action "Resend", ``resend_by_staff``) and
attempts; provider events; the analytics rollups; and the test processor's state (the processor
writes it, nobody edits it). Payouts are the one thing support staff write here: they record a
payout (pending) and mark it paid with the action "Mark paid" (``payout_mark_paid``; no money
moves). Each action needs its permission (``billing.can_*``, pancake/staff_groups.py)."""

from django.contrib import admin, messages
from django.utils.html import format_html

from billing.finance import services as finance_services
from billing.invoices import services as invoice_services
from billing.models import (
    AnalyticsBuyer,
    AnalyticsBuyerCount,
    AnalyticsBuyerDay,
    AnalyticsBuyerGap,
    AnalyticsDay,
    AnalyticsSeal,
    ExchangeRate,
    Invoice,
    InvoiceSequence,
    Payment,
    PaymentMethodUpdate,
    Payout,
    PlanChange,
    ProviderEvent,
    Refund,
    RefundTicket,
    RefundTicketStatus,
    RefundTicketVersion,
    StripeIntent,
    Subscription,
    TestProcessorCard,
    TestProcessorPayment,
    TestProcessorRefund,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSigningKey,
)
from billing.refunds import services as refund_services
from billing.webhooks import attempts as webhook_attempts
from pancake.admin import (
    AuditedAdmin,
    ReadOnlyAdmin,
    ReadOnlyInline,
    audited_action,
    money,
    permission_check,
)
from pancake.api.errors import PancakeError
from pancake.money import format_money


@admin.register(TestProcessorCard)
class TestProcessorCardAdmin(ReadOnlyAdmin):
    list_display = ("id", "brand", "last4", "exp_month", "exp_year", "off_session_outcome")
    list_filter = ("brand", "off_session_outcome")


@admin.register(TestProcessorPayment)
class TestProcessorPaymentAdmin(ReadOnlyAdmin):
    amount_display = money("amount", "Amount")
    readonly_fields = ("amount_display",)
    exclude = ("amount",)
    list_display = (
        "attempt_id",
        "amount_display",
        "status",
        "off_session",
        "method_brand",
        "method_last4",
        "created_at",
    )
    list_filter = ("status", "off_session", "currency")
    search_fields = ("attempt_id",)


@admin.register(TestProcessorRefund)
class TestProcessorRefundAdmin(ReadOnlyAdmin):
    amount_display = money("amount", "Amount")
    readonly_fields = ("amount_display",)
    exclude = ("amount",)
    list_display = ("attempt_id", "payment", "amount_display", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("attempt_id",)


@admin.register(StripeIntent)
class StripeIntentAdmin(ReadOnlyAdmin):
    """The Stripe intent of each attempt (the provider writes it; nobody edits it). The
    intent's client secret is never stored."""

    amount_display = money("amount", "Amount")
    readonly_fields = ("amount_display",)
    exclude = ("amount",)
    list_display = (
        "attempt_id",
        "kind",
        "intent_id",
        "customer_id",
        "amount_display",
        "environment",
        "created_at",
    )
    list_filter = ("kind", "environment", "currency")
    search_fields = ("attempt_id", "intent_id", "customer_id")


def _money(amount: int | None, currency: str) -> str:
    return "—" if amount is None else format_money(amount, currency)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "store",
        "environment",
        "status",
        "amount_display",
        "refunded_display",
        "fee_display",
        "buyer_email",
        "created_at",
    )
    list_filter = ("status", "environment", "provider", "currency")
    search_fields = (
        "=id",
        "=order__id",
        "=provider_payment_id",
        "order_merchant_external_id",
        "order__buyer_email",
    )
    list_select_related = ("store", "order")
    date_hierarchy = "created_at"
    show_full_result_count = False  # a million payments: no COUNT(*) of the whole table
    readonly_fields = ("amount_display", "tax_display", "refunded_display", "fee_display")
    # Money only formatted; the saved method's provider token is never shown.
    exclude = (
        "amount",
        "tax_amount",
        "refunded_amount",
        "refunding_amount",
        "fee_amount",
        "method_token",
    )

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Payment) -> str:
        return _money(obj.amount, obj.currency)

    @admin.display(description="Tax")
    def tax_display(self, obj: Payment) -> str:
        return _money(obj.tax_amount, obj.currency)

    @admin.display(description="Refunded")
    def refunded_display(self, obj: Payment) -> str:
        return _money(obj.refunded_amount, obj.currency)

    @admin.display(description="Platform fee")
    def fee_display(self, obj: Payment) -> str:
        return _money(obj.fee_amount, obj.currency)

    @admin.display(description="Customer email", ordering="order__buyer_email")
    def buyer_email(self, obj: Payment) -> str:
        return obj.order.buyer_email


class RefundTicketVersionInline(ReadOnlyInline):
    model = RefundTicketVersion
    requested_display = money("requested_amount", "Requested")
    fields = ("number", "reason", "requested_display", "previous_reject_reason")
    readonly_fields = fields


class RefundInline(ReadOnlyInline):
    model = Refund
    amount_display = money("amount", "Amount")
    fields = ("id", "amount_display", "status", "failure_code", "failure_message", "created_at")
    readonly_fields = fields
    fk_name = "ticket"


@admin.register(RefundTicket)
class RefundTicketAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "store",
        "environment",
        "status",
        "requested_display",
        "approved_display",
        "submitter_type",
        "buyer_email",
        "created_at",
    )
    list_filter = ("status", "environment", "submitter_type", "currency")
    search_fields = (
        "=id",
        "=payment__id",
        "=order__id",
        "refund_ticket_merchant_external_id",
        "order__buyer_email",
        "reason",
    )
    list_select_related = ("store", "order")
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = ("requested_display", "approved_display")
    exclude = ("requested_amount", "approved_amount")
    inlines = (RefundTicketVersionInline, RefundInline)
    actions = ("retry_failed_refund",)

    has_retry_refund_permission = permission_check("billing.can_retry_refund")

    @admin.display(description="Requested", ordering="requested_amount")
    def requested_display(self, obj: RefundTicket) -> str:
        return _money(obj.requested_amount, obj.currency)

    @admin.display(description="Approved")
    def approved_display(self, obj: RefundTicket) -> str:
        return _money(obj.approved_amount, obj.currency)

    @admin.display(description="Customer email", ordering="order__buyer_email")
    def buyer_email(self, obj: RefundTicket) -> str:
        return obj.order.buyer_email

    @admin.action(description="Retry a failed refund", permissions=["retry_refund"])
    @audited_action
    def retry_failed_refund(self, request, queryset):
        """Each selected failed ticket's refund tried again (``refund_retry``); a ticket that
        is not failed is named and left alone."""
        retried, refused = [], []
        for ticket_id in queryset.values_list("pk", flat=True):
            try:
                ticket = refund_services.refund_retry(ticket_id=ticket_id)
            except PancakeError as exc:
                refused.append(f"{ticket_id}: {exc.message}")
            else:
                retried.append(f"{ticket.pk} ({RefundTicketStatus(ticket.status).label})")
        if retried:
            self.message_user(request, "Retried: " + ", ".join(retried), messages.SUCCESS)
        if refused:
            self.message_user(request, "Not retried: " + "; ".join(refused), messages.WARNING)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "store",
        "environment",
        "status",
        "amount_display",
        "provider",
        "failure_code",
        "created_at",
    )
    list_filter = ("status", "environment", "provider", "currency")
    search_fields = ("=id", "=ticket__id", "=payment__id", "provider_refund_id")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    readonly_fields = ("amount_display",)
    exclude = ("amount",)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Refund) -> str:
        return _money(obj.amount, obj.currency)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "kind",
        "environment",
        "store",
        "buyer_email",
        "total_display",
        "issued_at",
        "pdf_rendered_at",
    )
    list_filter = ("kind", "environment", "year", "currency")
    search_fields = ("number", "buyer__email", "=payment__id", "=order__id")
    list_select_related = ("store",)
    subtotal_display = money("subtotal", "Subtotal")
    tax_display = money("tax_amount", "Tax")
    total_display = money("total", "Total")
    readonly_fields = ("subtotal_display", "tax_display", "total_display", "pdf_file")
    exclude = ("pdf",)
    date_hierarchy = "issued_at"
    show_full_result_count = False
    actions = ["rerender_pdf"]

    has_rerender_invoice_permission = permission_check("billing.can_rerender_invoice")

    @admin.display(description="Buyer email")
    def buyer_email(self, obj: Invoice) -> str:
        return (obj.buyer or {}).get("email", "")

    @admin.display(description="PDF")
    def pdf_file(self, obj: Invoice) -> str:
        """Where the PDF is stored and its SHA-256 (the files are served only through the
        dashboard and the buyer's signed link, never from the storage's own URL)."""
        if not obj.pdf:
            return "not rendered yet"
        return format_html("{}<br><code>{}</code>", obj.pdf.name, obj.pdf_sha256)

    @admin.action(description="Re-render the PDF", permissions=["rerender_invoice"])
    @audited_action
    def rerender_pdf(self, request, queryset):
        done = invoice_services.invoices_rerender(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} PDF(s) rendered again.", messages.SUCCESS)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(AuditedAdmin):
    """Support staff correct a rate here (units of the currency per euro); the next successful
    daily fetch replaces it (docs/analytics.md)."""

    list_display = ("currency", "per_eur", "rate_date", "source", "updated_at")
    search_fields = ("currency",)
    ordering = ("currency",)


@admin.register(Payout)
class PayoutAdmin(AuditedAdmin):
    """Staff record a payout (pending); once recorded, its amount and store no longer change
    here: "Mark paid" is the only step left."""

    list_display = (
        "id",
        "store",
        "environment",
        "amount_display",
        "status",
        "paid_at",
        "reference",
    )
    list_filter = ("status", "environment", "currency")
    search_fields = ("store__name", "reference", "=id")
    list_select_related = ("store",)
    fields = (
        "store",
        "environment",
        "amount",
        "currency",
        "period_start",
        "period_end",
        "reference",
        "status",
        "paid_at",
    )
    actions = ("mark_paid",)
    raw_id_fields = ("store",)
    amount_display = money("amount", "Amount")

    has_mark_payout_paid_permission = permission_check("billing.can_mark_payout_paid")

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("status", "paid_at")
        return (
            "store",
            "environment",
            "amount_display",
            "period_start",
            "period_end",
            "status",
            "paid_at",
        )

    def get_fields(self, request, obj=None):
        if obj is None:
            return self.fields
        return tuple(
            "amount_display" if f == "amount" else f for f in self.fields if f != "currency"
        )

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Mark paid", permissions=["mark_payout_paid"])
    @audited_action
    def mark_paid(self, request, queryset):
        n = sum(
            finance_services.payout_mark_paid(payout_id=payout_id)
            for payout_id in queryset.values_list("pk", flat=True)
        )
        self.message_user(request, f"{n} payout(s) marked paid.", messages.SUCCESS)


# --- subscriptions -------------------------------------------------------------------------------


class PlanChangeInline(ReadOnlyInline):
    model = PlanChange
    fk_name = "subscription"
    fields = ("status", "timing", "to_product", "effective_at", "applied_at", "created_at")
    readonly_fields = fields


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "store",
        "environment",
        "status",
        "billing_period",
        "total_display",
        "current_period_end",
        "created_at",
    )
    list_filter = ("status", "environment", "billing_period", "currency", "cancel_at_period_end")
    search_fields = ("=id", "=order__id", "order__buyer_email", "store__name")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    price_display = money("price_amount", "List price")
    subtotal_display = money("subtotal", "Subtotal")
    tax_display = money("tax_amount", "Tax")
    total_display = money("total", "Charge per period")
    credit_display = money("credit_balance", "Credit balance")
    readonly_fields = (
        "price_display",
        "subtotal_display",
        "tax_display",
        "total_display",
        "credit_display",
    )
    exclude = (
        "price_amount",
        "subtotal",
        "tax_amount",
        "total",
        "credit_balance",
        "method_token",
    )
    inlines = (PlanChangeInline,)


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdmin):
    list_display = ("id", "subscription", "status", "timing", "effective_at", "applied_at")
    list_filter = ("status", "timing")
    search_fields = ("=id", "=subscription__id")
    show_full_result_count = False
    price_display = money("price_amount", "List price", "subscription__currency")
    charge_display = money("charge_amount", "Charge", "subscription__currency")
    credit_display = money("credit_amount", "Credit", "subscription__currency")
    readonly_fields = ("price_display", "charge_display", "credit_display")
    exclude = ("price_amount", "charge_amount", "credit_amount")


@admin.register(PaymentMethodUpdate)
class PaymentMethodUpdateAdmin(ReadOnlyAdmin):
    list_display = ("subscription", "environment", "provider", "status", "applied_at", "created_at")
    list_filter = ("status", "environment", "provider")
    search_fields = ("=subscription__id", "provider_payment_id")
    show_full_result_count = False


# --- refunds and invoices ------------------------------------------------------------------------


@admin.register(RefundTicketVersion)
class RefundTicketVersionAdmin(ReadOnlyAdmin):
    """Each submission of a ticket, frozen (a resubmission writes a new version)."""

    list_display = ("ticket", "number", "requested_display", "created_at")
    search_fields = ("=ticket__id", "reason")
    requested_display = money("requested_amount", "Requested")
    readonly_fields = ("requested_display",)
    exclude = ("requested_amount",)
    show_full_result_count = False


@admin.register(InvoiceSequence)
class InvoiceSequenceAdmin(ReadOnlyAdmin):
    """The last invoice or credit note number given out per store, environment and year (written
    under lock by the invoicing; never edited: a gap or a repeat would break the sequence)."""

    list_display = ("store", "environment", "kind", "year", "last_number")
    list_filter = ("environment", "kind", "year")
    search_fields = ("store__name",)
    list_select_related = ("store",)


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdmin):
    """Provider notifications applied (each once)."""

    list_display = ("provider", "event_id", "payment", "received_at")
    list_filter = ("provider",)
    search_fields = ("event_id", "=payment__id")
    date_hierarchy = "received_at"
    show_full_result_count = False


# --- webhooks ------------------------------------------------------------------------------------


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    """A store's endpoints, as its team set them (changed in the dashboard or the API; the
    signing secret is never shown)."""

    list_display = ("url", "channel", "store", "environment", "enabled", "is_default", "created_at")
    list_filter = ("channel", "environment", "enabled", "is_default")
    search_fields = ("url", "store__name", "=id")
    list_select_related = ("store",)
    exclude = ("secret",)


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("number", "status_code", "succeeded", "duration_ms", "error", "created_at")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    """One event for one endpoint, its body frozen. "Resend" sends the same bytes again with a
    fresh round of retries."""

    list_display = (
        "event_type",
        "url",
        "store",
        "environment",
        "status",
        "attempt_count",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "environment", "channel", "is_test", "event_type")
    search_fields = ("=id", "=subject_id", "=aggregate_id", "url", "store__name")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (WebhookAttemptInline,)
    actions = ("resend",)

    has_resend_webhook_permission = permission_check("billing.can_resend_webhook")

    @admin.action(description="Resend", permissions=["resend_webhook"])
    @audited_action
    def resend(self, request, queryset):
        n = 0
        for delivery_id in queryset.values_list("pk", flat=True):
            webhook_attempts.resend_by_staff(delivery_id=delivery_id)
            n += 1
        self.message_user(request, f"{n} delivery(ies) queued again.", messages.SUCCESS)


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ("delivery", "number", "status_code", "succeeded", "duration_ms", "created_at")
    list_filter = ("succeeded",)
    search_fields = ("=delivery__id",)
    show_full_result_count = False


@admin.register(WebhookSigningKey)
class WebhookSigningKeyAdmin(ReadOnlyAdmin):
    """The platform's webhook public keys (the private key is never shown)."""

    list_display = ("environment", "created_at")
    fields = ("environment", "public_pem", "created_at")


# --- analytics rollups (rebuilt from payments and refunds; never edited) -------------------------


@admin.register(AnalyticsDay)
class AnalyticsDayAdmin(ReadOnlyAdmin):
    list_display = (
        "store",
        "environment",
        "day",
        "currency",
        "product_key",
        "country",
        "gross_display",
        "refunds_display",
        "sales",
    )
    list_filter = ("environment", "currency")
    search_fields = ("store__name", "=product_key")
    list_select_related = ("store",)
    date_hierarchy = "day"
    show_full_result_count = False
    gross_display = money("gross", "Gross")
    tax_display = money("tax", "Tax")
    fee_display = money("fee", "Fees")
    refunds_display = money("refunds", "Refunds")
    refunds_tax_display = money("refunds_tax", "Refunded tax")
    readonly_fields = (
        "gross_display",
        "tax_display",
        "fee_display",
        "refunds_display",
        "refunds_tax_display",
    )
    exclude = ("gross", "tax", "fee", "refunds", "refunds_tax")


@admin.register(AnalyticsSeal)
class AnalyticsSealAdmin(ReadOnlyAdmin):
    list_display = ("store", "environment", "timezone", "sealed_through", "computed_at")
    list_filter = ("environment",)
    search_fields = ("store__name",)
    list_select_related = ("store",)


@admin.register(AnalyticsBuyer)
class AnalyticsBuyerAdmin(ReadOnlyAdmin):
    list_display = ("email", "store", "environment", "product_key", "first_day", "last_day")
    list_filter = ("environment",)
    search_fields = ("email", "store__name")
    list_select_related = ("store",)
    show_full_result_count = False


@admin.register(AnalyticsBuyerDay)
class AnalyticsBuyerDayAdmin(ReadOnlyAdmin):
    list_display = ("email", "store", "environment", "product_key", "day", "country")
    list_filter = ("environment",)
    search_fields = ("email", "store__name")
    list_select_related = ("store",)
    show_full_result_count = False


@admin.register(AnalyticsBuyerCount)
class AnalyticsBuyerCountAdmin(ReadOnlyAdmin):
    list_display = ("store", "environment", "product_key", "country", "day", "firsts", "lasts")
    list_filter = ("environment",)
    search_fields = ("store__name", "=product_key")
    list_select_related = ("store",)
    date_hierarchy = "day"
    show_full_result_count = False


@admin.register(AnalyticsBuyerGap)
class AnalyticsBuyerGapAdmin(ReadOnlyAdmin):
    list_display = ("store", "environment", "product_key", "after_day", "before_day", "n")
    list_filter = ("environment",)
    search_fields = ("store__name", "=product_key")
    list_select_related = ("store",)
    show_full_result_count = False
