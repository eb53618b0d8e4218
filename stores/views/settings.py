"""A store's settings, one page per section (details with deletion, notifications, checkout
branding) under a sub-navigation, so saving one section never drops unsaved edits in another;
each page's form is saved through ``stores.services`` and the confirmation shows beside the
button that saved it. Members see them read-only. The old single page's URL opens the first
section."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pancake.api.errors import PancakeError
from stores import forms, selectors, services
from stores.context_processors import STORE_SESSION_KEY
from stores.dashboard import (
    dashboard_actor,
    page,
    show_error,
    store_context,
    store_page,
)
from stores.models import Role

SECTIONS = {
    "details": "dashboard:settings-details",
    "notifications": "dashboard:settings-notifications",
    "branding": "dashboard:settings-branding",
}


def _settings_page(
    request, store, section: str, *, status: int = 200, section_errors=None, **bound
):
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
        section=section,
        saved=status == 200 and request.GET.get("saved") == section,
    )
    return page(request, "dashboard/settings.html", context, status)


def _saved(store, section: str):
    """Back to the section's page after a save: its confirmation shows beside its button."""
    return redirect(reverse(SECTIONS[section], args=[store.pk]) + f"?saved={section}#{section}")


@store_page
@require_http_methods(["GET"])
def store_settings(request, store):
    """The single settings page of before: its first section now."""
    return redirect(SECTIONS["details"], store.pk)


def _save_settings_section(
    request, store, form, *, changes, message: str, fragment: str, slot: str
):
    """One settings form: GET shows its page; valid input goes to ``store_update``; a refusal
    shows on the form with the service's status; success returns to the section's page with
    the confirmation beside its button (and in the page's messages)."""
    if request.method == "GET":
        return _settings_page(request, store, fragment)
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
            return _saved(store, fragment)
    return _settings_page(request, store, fragment, status=status, **{slot: form})


@store_page
@require_http_methods(["GET", "POST"])
def settings_store(request, store):
    return _save_settings_section(
        request,
        store,
        forms.StoreSettingsForm(request.POST or None, store=store),
        changes=lambda form: form.service_kwargs(),
        message=_("Store settings saved."),
        fragment="details",
        slot="store_form",
    )


@store_page
@require_http_methods(["GET", "POST"])
def settings_notifications(request, store):
    return _save_settings_section(
        request,
        store,
        forms.NotificationSettingsForm(request.POST or None, store=store),
        changes=lambda form: {"notification_settings": form.settings_patch()},
        message=_("Notification settings saved."),
        fragment="notifications",
        slot="notifications_form",
    )


@store_page
@require_http_methods(["GET", "POST"])
def settings_branding(request, store):
    return _save_settings_section(
        request,
        store,
        forms.BrandingForm(request.POST or None, store=store),
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
            request, store, "branding", status=exc.status, section_errors={"branding": str(exc)}
        )
    messages.success(request, _("Checkout branding reset to the default."))
    return _saved(store, "branding")


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
    return _settings_page(request, store, "details", status=status, delete_form=form)
