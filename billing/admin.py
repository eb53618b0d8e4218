"""Read-only admin for the test processor's state (the processor writes it, nobody edits it)
and for invoices and credit notes (issued documents never change; support staff may render a
PDF again)."""

from django.contrib import admin, messages
from django.utils.html import format_html

from billing.invoices import services as invoice_services
from billing.models import (
    Invoice,
    TestProcessorCard,
    TestProcessorPayment,
    TestProcessorRefund,
)


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
