"""Customer portal sign-ins for support staff (read only; the link's token is never shown)."""

from django.contrib import admin

from pancake.admin import ReadOnlyAdmin
from portal.models import PortalSession


@admin.register(PortalSession)
class PortalSessionAdmin(ReadOnlyAdmin):
    list_display = (
        "buyer_identity",
        "store",
        "environment",
        "created_at",
        "expires_at",
        "ended_at",
    )
    list_filter = ("environment",)
    search_fields = ("buyer_identity", "store__name")
    fields = (
        "store",
        "environment",
        "buyer_identity",
        "return_url",
        "created_at",
        "expires_at",
        "ended_at",
    )
    list_select_related = ("store",)
    date_hierarchy = "created_at"
