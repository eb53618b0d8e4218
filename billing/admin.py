"""Read-only admin for the test processor's state: the processor writes it, nobody edits it."""

from django.contrib import admin

from billing.models import TestProcessorCard, TestProcessorPayment, TestProcessorRefund


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
