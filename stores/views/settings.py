"""A store's settings page: details, notifications, checkout branding and deletion, one form
each, saved through ``stores.services``. Members see it read-only."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pancake.api.errors import PancakeError
from stores import forms, selectors, services
from stores.context_processors import STORE_SESSION_KEY
from stores.dashboard import (
    dashboard_actor,
    page,
    redirect_to,
    show_error,
    store_context,
    store_page,
)
from stores.models import Role


def _settings_page(request, store, *, status: int = 200, section_errors=None, **bound):
    can_manage = selectors.has_role(store.caller_role, Role.ADMIN)
    store_form = bound.get("store_form") or forms.StoreSettingsForm(store=store)
    notifications_form = bound.get("notifications_form") or forms.NotificationSettingsForm(
        store=store
    )
    branding_form = bound.get("branding_form") or forms.BrandingForm(store=store)
    delete_form = bound.get("delete_form")
    if delete_form is None and store.caller_role == Role.OWNER:
        delete_form = forms.DeleteStoreForm(store=store)
    if not can_manage:
        for form in (store_form, notifications_form, branding_form):
            form.make_read_only()
    context = store_context(
        request,
        store,
        "settings",
        store_form=store_form,
        notifications_form=notifications_form,
        branding_form=branding_form,
        delete_form=delete_form,
        section_errors=section_errors or {},
        read_only=not can_manage,
    )
    return page(request, "dashboard/settings.html", context, status)


@store_page
@require_http_methods(["GET"])
def store_settings(request, store):
    return _settings_page(request, store)


def _save_settings_section(
    request, store, form, *, changes, message: str, fragment: str, slot: str
):
    """One settings form: valid input goes to ``store_update``; a refusal shows on the form
    with the service's status; success returns to the section with a message."""
    status = 400
    if form.is_valid():
        try:
            services.store_update(
                actor=dashboard_actor(request), store_id=store.pk, **changes(form)
            )
        except PancakeError as exc:
            status = show_error(form, exc)
        else:
            messages.success(request, message)
            return redirect_to("dashboard:settings", store.pk, fragment=fragment)
    return _settings_page(request, store, status=status, **{slot: form})


@store_page
@require_POST
def settings_store(request, store):
    return _save_settings_section(
        request,
        store,
        forms.StoreSettingsForm(request.POST, store=store),
        changes=lambda form: form.service_kwargs(),
        message=_("Store settings saved."),
        fragment="details",
        slot="store_form",
    )


@store_page
@require_POST
def settings_notifications(request, store):
    return _save_settings_section(
        request,
        store,
        forms.NotificationSettingsForm(request.POST, store=store),
        changes=lambda form: {"notification_settings": form.settings_patch()},
        message=_("Notification settings saved."),
        fragment="notifications",
        slot="notifications_form",
    )


@store_page
@require_POST
def settings_branding(request, store):
    return _save_settings_section(
        request,
        store,
        forms.BrandingForm(request.POST, store=store),
        changes=lambda form: {"checkout_settings": form.checkout_settings()},
        message=_("Checkout branding saved."),
        fragment="branding",
        slot="branding_form",
    )


@store_page
@require_POST
def settings_branding_reset(request, store):
    try:
        services.store_update(
            actor=dashboard_actor(request), store_id=store.pk, checkout_settings=None
        )
    except PancakeError as exc:
        return _settings_page(
            request, store, status=exc.status, section_errors={"branding": str(exc)}
        )
    messages.success(request, _("Checkout branding reset to the default."))
    return redirect_to("dashboard:settings", store.pk, fragment="branding")


@store_page
@require_POST
def settings_delete(request, store):
    form = forms.DeleteStoreForm(request.POST, store=store)
    status = 400
    if form.is_valid():
        try:
            services.store_delete(actor=dashboard_actor(request), store_id=store.pk)
        except PancakeError as exc:
            status = show_error(form, exc)
        else:
            request.session.pop(STORE_SESSION_KEY, None)
            messages.success(request, _("The store “%(name)s” was deleted.") % {"name": store.name})
            return redirect("dashboard:home")
    return _settings_page(request, store, status=status, delete_form=form)
