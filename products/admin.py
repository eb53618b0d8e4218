from django.contrib import admin

from products.models import Product, ProductVersion


class ProductVersionInline(admin.TabularInline):
    model = ProductVersion
    extra = 0
    can_delete = False
    fields = ("number", "name", "prices", "billing_period", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # versions are immutable; the catalog writes new ones


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("slug", "store", "kind", "test_status", "prod_status", "created_at")
    list_filter = ("kind", "test_status", "prod_status")
    search_fields = ("slug", "store__name", "versions__name")
    readonly_fields = ("id", "created_at", "updated_at", "test_version", "prod_version")
    inlines = [ProductVersionInline]
