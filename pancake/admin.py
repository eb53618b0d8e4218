from django.contrib import admin

from pancake.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = (
        "path",
        "key",
        "principal",
        "environment",
        "state",
        "response_status",
        "created_at",
    )
    list_filter = ("state", "environment")
    search_fields = ("key", "path", "principal")
    readonly_fields = [f.name for f in IdempotencyKey._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
