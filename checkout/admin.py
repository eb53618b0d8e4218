"""Checkout sessions and orders for support staff (read only, money formatted in its currency).
The action "Expire the session" (``checkout.services.session_expire_by_staff``, permission
``checkout.can_expire_checkout_session``) ends an open session early."""

from django.contrib import admin, messages

from checkout import services
from checkout.models import CheckoutSession, Order
from pancake.admin import ReadOnlyAdmin, audited_action, money, permission_check
from pancake.api.errors import PancakeError


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "store",
        "environment",
        "status",
        "amount_display",
        "buyer_email",
        "created_at",
        "expires_at",
    )
    list_filter = ("status", "environment", "kind", "currency", "created_via")
    search_fields = ("=id", "buyer_email", "order_merchant_external_id", "store__name")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    amount_display = money("amount", "Amount")
    trial_display = money("trial_amount", "Trial amount")
    readonly_fields = ("amount_display", "trial_display")
    exclude = ("amount", "trial_amount")
    actions = ("expire",)

    has_expire_checkout_session_permission = permission_check(
        "checkout.can_expire_checkout_session"
    )

    @admin.action(description="Expire the session", permissions=["expire_checkout_session"])
    @audited_action
    def expire(self, request, queryset):
        done, refused = [], []
        for session_id in queryset.values_list("pk", flat=True):
            try:
                services.session_expire_by_staff(session_id=session_id)
            except PancakeError as exc:
                refused.append(f"{session_id}: {exc.message}")
            else:
                done.append(str(session_id))
        if done:
            self.message_user(request, "Expired: " + ", ".join(done), messages.SUCCESS)
        if refused:
            self.message_user(request, "Not expired: " + "; ".join(refused), messages.WARNING)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "store",
        "environment",
        "kind",
        "status",
        "total_display",
        "buyer_email",
        "created_at",
    )
    list_filter = ("status", "kind", "environment", "currency", "reverse_charge")
    search_fields = ("=id", "buyer_email", "order_merchant_external_id", "=session__id")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    subtotal_display = money("subtotal", "Subtotal")
    tax_display = money("tax_amount", "Tax")
    total_display = money("total", "Total")
    readonly_fields = ("subtotal_display", "tax_display", "total_display")
    exclude = ("subtotal", "tax_amount", "total")
