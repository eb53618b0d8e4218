"""The admin's building blocks for every app (docs/admin.md), and the platform's own tables.

- ``AuditedAdmin``: each change a staff member saves, deletes or makes with an action is
  recorded in the audit trail (``pancake.audit``) with the values before and after.
- ``ReadOnlyAdmin``: frozen records and rows only the platform writes (payments, invoices,
  events, deliveries...): viewable, never added, changed or deleted here.
- ``money``: a list column or read-only field showing an amount in its currency.
- ``audited_action``: an admin action whose rows are recorded before and after it ran.
- Each action names the custom permission it needs (``permissions=[...]``), checked by a
  ``has_<name>_permission`` method built with ``permission_check``; the staff groups
  (``pancake.staff_groups``) hand those permissions out."""

from __future__ import annotations

from functools import wraps

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.db import models, transaction

from pancake import audit
from pancake.models import EmailDelivery, IdempotencyKey, OutboxEvent
from pancake.money import format_money


def money(amount_field: str, label: str, currency_field: str = "currency"):
    """A display of ``amount_field`` formatted in the row's currency (``currency_field``, which
    may follow relations with ``__``); ``—`` when empty."""

    @admin.display(description=label, ordering=amount_field)
    def show(self, obj) -> str:
        amount = getattr(obj, amount_field)
        currency = obj
        for name in currency_field.split("__"):  # "subscription__currency": through a relation
            currency = getattr(currency, name)
        if amount is None or not currency:
            return "—"
        return format_money(amount, currency)

    show.__name__ = f"{amount_field}_display"
    return show


def permission_check(perm: str):
    """A ``has_<name>_permission`` method: the user holds ``perm`` ("app.codename")."""

    def check(self, request) -> bool:
        return request.user.has_perm(perm)

    return check


def audited_action(func):
    """Wrap an admin action: the selected rows are read before and after it ran, and each row it
    changed gets an audit entry naming the action (models recorded on every save,
    ``pancake.audit.register``, already get theirs from the save itself)."""

    @wraps(func)
    def run(self, request, queryset):
        model = self.model
        pks = list(queryset.values_list("pk", flat=True))
        before = {row.pk: row for row in model._default_manager.filter(pk__in=pks)}
        result = func(self, request, model._default_manager.filter(pk__in=pks))
        if not audit.is_registered(model):
            after = {row.pk: row for row in model._default_manager.filter(pk__in=pks)}
            for pk in pks:
                old, new = before.get(pk), after.get(pk)
                if old is None:
                    continue
                audit.record(
                    new or old,
                    action=LogEntry.Action.UPDATE if new is not None else LogEntry.Action.DELETE,
                    before=old,
                    after=new,
                )
        return result

    return run


class AuditedAdmin(admin.ModelAdmin):
    """Staff edits recorded with their values before and after (a model recorded on every save
    is left to its own entries)."""

    # Addresses typed without a scheme are https ones (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request, obj, form, change):
        if audit.is_registered(type(obj)):
            return super().save_model(request, obj, form, change)
        with transaction.atomic():
            before = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
            super().save_model(request, obj, form, change)
            audit.record(
                obj,
                action=LogEntry.Action.UPDATE if change else LogEntry.Action.CREATE,
                before=before,
                after=obj,
            )

    def delete_model(self, request, obj):
        if audit.is_registered(type(obj)):
            return super().delete_model(request, obj)
        with transaction.atomic():
            audit.record(obj, action=LogEntry.Action.DELETE, before=obj, after=None)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if audit.is_registered(queryset.model):
            return super().delete_queryset(request, queryset)
        with transaction.atomic():
            for obj in queryset:
                audit.record(obj, action=LogEntry.Action.DELETE, before=obj, after=None)
            super().delete_queryset(request, queryset)


class ReadOnlyAdmin(AuditedAdmin):
    """Viewable only: nobody adds, changes or deletes these rows here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


# --- the platform's tables ------------------------------------------------------------------------


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdmin):
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
    # The stored response may hold what the API answered (a checkout URL, a buyer token).
    exclude = ("response_body", "request_hash")
    show_full_result_count = False


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    """Business events as written (frozen): what webhooks, emails and notifications are made
    from."""

    list_display = (
        "event_type",
        "store",
        "environment",
        "subject_id",
        "created_at",
        "dispatched_at",
    )
    list_filter = ("environment", "event_type", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("=id", "=subject_id", "=aggregate_id", "event_type", "store__name")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    """Transactional emails sent (the address, subject and outcome; not the body)."""

    list_display = (
        "subject",
        "to_address",
        "recipient_type",
        "store",
        "environment",
        "status",
        "attempt_count",
        "created_at",
    )
    list_filter = ("status", "recipient_type", "environment", "event_type")
    search_fields = ("to_address", "subject", "event_id", "store__name")
    list_select_related = ("store",)
    date_hierarchy = "created_at"
    show_full_result_count = False


# --- the audit trail ------------------------------------------------------------------------------

admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditEntryAdmin(LogEntryAdmin):
    """auditlog's view of the trail (read only), searched by what our merchants have (an email,
    no first or last name), with where each change came from."""

    list_display = ["created", "resource_url", "action", "msg_short", "user_url", "remote_addr"]
    search_fields = ["object_repr", "=object_pk", "actor_email", "actor__email", "=remote_addr"]
    readonly_fields = [*LogEntryAdmin.readonly_fields, "remote_addr", "additional_data"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "resource_url", "cid"]}),
        ("Changes", {"fields": ["action", "msg"]}),
        ("From", {"fields": ["remote_addr", "additional_data"]}),
    ]
    show_full_result_count = False
