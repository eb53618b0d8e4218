"""Support staff's view of merchants, stores, teams, API keys and sign-in links.
Django's admin log records every change made here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from pancake.api import ratelimit
from stores.models import ApiKey, BuyerSession, MagicLink, Merchant, Store, StoreMembership


class MembershipInline(admin.TabularInline):
    model = StoreMembership
    fk_name = "store"
    extra = 0
    fields = ("merchant", "role", "status", "invited_by", "accepted_at", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("merchant", "invited_by")
    show_change_link = True


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
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

    @admin.action(description=_("Unlock rate limit"), permissions=("change",))
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


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
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

    def get_queryset(self, request):
        return super().get_queryset(request).distinct()


@admin.register(StoreMembership)
class StoreMembershipAdmin(admin.ModelAdmin):
    list_display = ("store", "merchant", "role", "status", "accepted_at", "created_at")
    list_filter = ("role", "status")
    search_fields = ("store__name", "store__slug", "merchant__email")
    readonly_fields = ("id", "created_at", "updated_at")
    raw_id_fields = ("store", "merchant", "invited_by")
    list_select_related = ("store", "merchant")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
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
class MagicLinkAdmin(admin.ModelAdmin):
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
class BuyerSessionAdmin(admin.ModelAdmin):
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
