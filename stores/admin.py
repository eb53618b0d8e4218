"""Support staff's view of merchants, stores, teams, API keys, sign-in links, payout setups,
notifications and known devices. Every change made here is in the audit trail
(``pancake.admin.AuditedAdmin``). Actions: suspend or reactivate a store
(``stores.services.store_suspend`` / ``store_reactivate``, permission
``stores.can_suspend_store``)."""

from auditlog.models import LogEntry
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from pancake import audit
from pancake.admin import AuditedAdmin, ReadOnlyAdmin, audited_action, permission_check
from pancake.api import ratelimit
from pancake.api.errors import PancakeError
from stores import services
from stores.models import (
    ApiKey,
    BuyerSession,
    KnownDevice,
    MagicLink,
    Merchant,
    Notification,
    NotificationRead,
    PayoutSetup,
    Store,
    StoreMembership,
)


class MembershipInline(admin.TabularInline):
    model = StoreMembership
    fk_name = "store"
    extra = 0
    fields = ("merchant", "role", "status", "invited_by", "accepted_at", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("merchant", "invited_by")
    show_change_link = True


@admin.register(Merchant)
class MerchantAdmin(AuditedAdmin):
    list_display = (
        "email",
        "name",
        "short_id",
        "is_active",
        "is_staff",
        "date_joined",
        "last_login",
        "api_rate_limit",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "locale")
    search_fields = ("email", "name", "id")
    ordering = ("-date_joined",)
    readonly_fields = ("id", "short_id", "date_joined", "last_login", "updated_at")
    fieldsets = (
        (None, {"fields": ("id", "short_id", "email", "name", "locale")}),
        (
            _("Access"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("API"), {"fields": ("api_rate_limit",)}),
        (_("Dates"), {"fields": ("date_joined", "last_login", "updated_at")}),
    )
    filter_horizontal = ("groups", "user_permissions")
    actions = ("unlock_rate_limit",)

    has_unlock_rate_limit_permission = permission_check("stores.can_unlock_rate_limit")

    @admin.action(description=_("Unlock rate limit"), permissions=["unlock_rate_limit"])
    def unlock_rate_limit(self, request, queryset):
        """Refill the selected merchants' API rate-limit buckets (both environments) now."""
        count = 0
        for merchant in queryset:
            ratelimit.unlock_merchant(merchant.pk)
            self.log_change(request, merchant, "Unlocked the API rate limit.")
            count += 1
        self.message_user(
            request,
            ngettext(
                "Rate limit unlocked for %(count)d merchant.",
                "Rate limit unlocked for %(count)d merchants.",
                count,
            )
            % {"count": count},
        )

    @admin.display(description=_("Merchant ID"))
    def short_id(self, obj):
        return obj.short_id

    def save_related(self, request, form, formsets, change):
        """Groups and permissions are many-to-many: recorded here, after they are saved."""
        merchant = form.instance
        before = _access(merchant) if change else ([], [])
        super().save_related(request, form, formsets, change)
        after = _access(merchant)
        also = {
            name: [old, new]
            for name, old, new in zip(("groups", "user_permissions"), before, after, strict=True)
            if old != new
        }
        if also:
            audit.record(
                merchant, action=LogEntry.Action.UPDATE, before=None, after=None, also=also
            )


def _access(merchant: Merchant) -> tuple[list[str], list[str]]:
    return (
        sorted(merchant.groups.values_list("name", flat=True)),
        sorted(merchant.user_permissions.values_list("codename", flat=True)),
    )


@admin.register(Store)
class StoreAdmin(AuditedAdmin):
    list_display = (
        "name",
        "slug",
        "status",
        "default_currency",
        "country",
        "prod_enabled",
        "created_at",
        "deleted_at",
    )
    list_filter = ("status", "prod_enabled", "default_currency", "country", "deleted_at")
    search_fields = ("name", "slug", "id", "support_email", "memberships__merchant__email")
    readonly_fields = ("id", "created_by", "created_at", "updated_at")
    raw_id_fields = ("created_by",)
    date_hierarchy = "created_at"
    inlines = [MembershipInline]
    actions = ("suspend", "reactivate")

    has_suspend_permission = permission_check("stores.can_suspend_store")

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()

    @admin.action(description="Suspend the store", permissions=["suspend"])
    @audited_action
    def suspend(self, request, queryset):
        for store_id in queryset.values_list("pk", flat=True):
            services.store_suspend(store_id=store_id)
        self.message_user(request, "Suspended.", messages.SUCCESS)

    @admin.action(description="Reactivate the store", permissions=["suspend"])
    @audited_action
    def reactivate(self, request, queryset):
        done, refused = [], []
        for store in queryset.only("pk", "name"):
            try:
                services.store_reactivate(store_id=store.pk)
            except PancakeError as exc:
                refused.append(f"{store.name}: {exc.message}")
            else:
                done.append(store.name)
        if done:
            self.message_user(request, "Reactivated: " + ", ".join(done), messages.SUCCESS)
        if refused:
            self.message_user(request, "Not reactivated: " + "; ".join(refused), messages.WARNING)


@admin.register(StoreMembership)
class StoreMembershipAdmin(AuditedAdmin):
    list_display = ("store", "merchant", "role", "status", "accepted_at", "created_at")
    list_filter = ("role", "status")
    search_fields = ("store__name", "store__slug", "merchant__email")
    readonly_fields = ("id", "created_at", "updated_at")
    raw_id_fields = ("store", "merchant", "invited_by")
    list_select_related = ("store", "merchant")


@admin.register(ApiKey)
class ApiKeyAdmin(AuditedAdmin):
    list_display = ("name", "merchant", "environment", "api_version", "created_at", "last_used_at")
    list_filter = ("environment", "api_version")
    search_fields = ("name", "merchant__email", "fingerprint")
    readonly_fields = (
        "id",
        "merchant",
        "public_key_pem",
        "fingerprint",
        "last_used_at",
        "created_at",
        "updated_at",
    )
    list_select_related = ("merchant",)

    def has_add_permission(self, request):
        # Keys are made by their merchant in the dashboard; staff may only look or delete.
        return False


@admin.register(MagicLink)
class MagicLinkAdmin(AuditedAdmin):
    """Sign-in links without their token: only a hash is stored, and it is never shown."""

    list_display = ("email", "created_at", "expires_at", "used_at")
    list_filter = ("used_at", "created_at")
    search_fields = ("email",)
    fields = ("email", "created_at", "expires_at", "used_at", "next_url")
    readonly_fields = fields
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(BuyerSession)
class BuyerSessionAdmin(AuditedAdmin):
    list_display = (
        "buyer_identity",
        "store",
        "environment",
        "issued_at",
        "expires_at",
        "max_expires_at",
    )
    list_filter = ("environment",)
    search_fields = ("buyer_identity", "store__name", "store__slug", "id")
    readonly_fields = (
        "id",
        "issued_by",
        "store",
        "product_id",
        "buyer_identity",
        "environment",
        "issued_at",
        "expires_at",
        "max_expires_at",
    )
    list_select_related = ("store",)

    def has_add_permission(self, request):
        return False


@admin.register(PayoutSetup)
class PayoutSetupAdmin(ReadOnlyAdmin):
    """The three payout setup steps of a store, as its owner filled them (the verification code
    is never shown, only whether the email was verified)."""

    list_display = (
        "store",
        "contact_email",
        "email_verified_at",
        "account_last4",
        "account_set_at",
    )
    list_filter = (("email_verified_at", admin.EmptyFieldListFilter), "bank_country")
    search_fields = ("store__name", "contact_email", "account_holder")
    fields = (
        "store",
        "contact_email",
        "email_verified_at",
        "account_holder",
        "bank_country",
        "account_kind",
        "account_last4",
        "account_set_at",
        "created_at",
        "updated_at",
    )
    list_select_related = ("store",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("kind", "store", "environment", "recipient", "managers_only", "created_at")
    list_filter = ("kind", "environment", "managers_only")
    search_fields = ("store__name", "recipient__email", "=object_id", "=event_id")
    list_select_related = ("store", "recipient")
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(NotificationRead)
class NotificationReadAdmin(ReadOnlyAdmin):
    list_display = ("notification", "merchant", "read_at")
    search_fields = ("merchant__email",)
    list_select_related = ("notification", "merchant")
    show_full_result_count = False


@admin.register(KnownDevice)
class KnownDeviceAdmin(ReadOnlyAdmin):
    """Browsers a merchant signed in from (the device cookie's hash is never shown)."""

    list_display = ("merchant", "user_agent", "created_at", "last_seen_at")
    search_fields = ("merchant__email", "user_agent")
    fields = ("merchant", "user_agent", "created_at", "last_seen_at")
    list_select_related = ("merchant",)
