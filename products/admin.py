"""The catalog for support staff: products (their versions inline, frozen: the catalog writes a
new version for every change), versions on their own, and product groups."""

from django.contrib import admin

from pancake.admin import AuditedAdmin, ReadOnlyAdmin, ReadOnlyInline
from products.models import Product, ProductGroup, ProductGroupMembership, ProductVersion


class ProductVersionInline(ReadOnlyInline):
    model = ProductVersion
    fields = ("number", "name", "prices", "billing_period", "created_at")
    readonly_fields = fields


@admin.register(Product)
class ProductAdmin(AuditedAdmin):
    list_display = ("slug", "store", "kind", "test_status", "prod_status", "created_at")
    list_filter = ("kind", "test_status", "prod_status")
    search_fields = ("slug", "store__name", "versions__name", "=id")
    readonly_fields = ("id", "created_at", "updated_at", "test_version", "prod_version")
    list_select_related = ("store",)
    inlines = [ProductVersionInline]


@admin.register(ProductVersion)
class ProductVersionAdmin(ReadOnlyAdmin):
    """A version is frozen once written: sessions, orders and subscriptions point at it."""

    list_display = ("product", "number", "name", "billing_period", "created_at")
    list_filter = ("billing_period",)
    search_fields = ("name", "=product__id", "product__slug")
    list_select_related = ("product",)
    show_full_result_count = False


class GroupMembershipInline(ReadOnlyInline):
    model = ProductGroupMembership
    fields = ("product", "position")
    readonly_fields = fields
    show_change_link = False


@admin.register(ProductGroup)
class ProductGroupAdmin(ReadOnlyAdmin):
    list_display = ("name", "store", "environment", "shared_trial", "self_service_plan_change")
    list_filter = ("environment", "shared_trial", "self_service_plan_change")
    search_fields = ("name", "store__name", "=id")
    list_select_related = ("store",)
    inlines = (GroupMembershipInline,)


@admin.register(ProductGroupMembership)
class ProductGroupMembershipAdmin(ReadOnlyAdmin):
    list_display = ("group", "product", "position")
    search_fields = ("group__name", "product__slug")
    list_select_related = ("group", "product")
