"""Read-only admin for support staff: payments, refund tickets and refunds (money shown formatted
in its currency), with the action "Retry a failed refund", which calls
``billing.refunds.services.refund_retry``; invoices and credit notes (issued documents never
change; support staff may render a PDF again); and the test processor's state (the processor
writes it, nobody edits it)."""

from django.contrib import admin, messages
from django.utils.html import format_html

from billing.invoices import services as invoice_services
from billing.models import (
    ExchangeRate,
    Invoice,
    Payment,
    Refund,
    RefundTicket,
    RefundTicketStatus,
    RefundTicketVersion,
    TestProcessorCard,
    TestProcessorPayment,
    TestProcessorRefund,
)
from billing.refunds import services as refund_services
from pancake.api.errors import PancakeError
from pancake.money import format_money


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TestProcessorCard)
class TestProcessorCardAdmin(ReadOnlyAdmin):
    list_display = ("id", "brand", "last4", "exp_month", "exp_year", "off_session_outcome")
    list_filter = ("brand", "off_session_outcome")


@admin.register(TestProcessorPayment)
class TestProcessorPaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "attempt_id",
        "amount",
        "currency",
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
    list_display = ("attempt_id", "payment", "amount", "currency", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("attempt_id",)


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


class RefundTicketVersionInline(admin.TabularInline):
    model = RefundTicketVersion
    extra = 0
    can_delete = False
    fields = ("number", "reason", "requested_amount", "currency", "previous_reject_reason")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ("id", "amount", "currency", "status", "failure_code", "failure_message", "created_at")
    readonly_fields = fields
    fk_name = "ticket"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
    inlines = (RefundTicketVersionInline, RefundInline)
    actions = ("retry_failed_refund",)

    @admin.display(description="Requested", ordering="requested_amount")
    def requested_display(self, obj: RefundTicket) -> str:
        return _money(obj.requested_amount, obj.currency)

    @admin.display(description="Approved")
    def approved_display(self, obj: RefundTicket) -> str:
        return _money(obj.approved_amount, obj.currency)

    @admin.display(description="Customer email", ordering="order__buyer_email")
    def buyer_email(self, obj: RefundTicket) -> str:
        return obj.order.buyer_email

    @admin.action(description="Retry a failed refund")
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
        "total",
        "currency",
        "issued_at",
        "pdf_rendered_at",
    )
    list_filter = ("kind", "environment", "year")
    search_fields = ("number", "buyer__email")
    list_select_related = ("store",)
    readonly_fields = ("pdf_file",)
    actions = ["rerender_pdf"]

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

    @admin.action(description="Re-render the PDF")
    def rerender_pdf(self, request, queryset):
        done = invoice_services.invoices_rerender(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{done} PDF(s) rendered again.", messages.SUCCESS)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    """Support staff correct a rate here (units of the currency per euro); the next successful
    daily fetch replaces it (docs/analytics.md)."""

    list_display = ("currency", "per_eur", "rate_date", "source", "updated_at")
    search_fields = ("currency",)
    ordering = ("currency",)
