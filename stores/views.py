"""Merchant dashboard pages (SPEC 4 and 13): sign-in, onboarding, store home, settings, team and
developers. Views are thin adapters: parse a form, call one service or selector, render.

A store the merchant cannot see answers 404, whatever the reason (``access_store``). Services
enforce roles; their PancakeErrors are shown inline beside the form, with their status code.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from pancake.api import ids
from pancake.api.errors import NotFound, PancakeError
from pancake.api.versions import LATEST
from pancake.models import Environment
from stores import forms, selectors, services
from stores.auth import magic_link_consume, magic_link_request, safe_next
from stores.context_processors import (
    ENVIRONMENT_SESSION_KEY,
    STORE_SESSION_KEY,
    current_environment,
)
from stores.dashboard import (
    CONTENT_SECURITY_POLICY,
    base_url,
    confirm_page,
    dashboard_actor,
    page,
    redirect_to,
    show_error,
    store_context,
    store_page,
)
from stores.models import MembershipStatus, Role

SOCIAL_PROVIDERS = (("google", "Google"), ("github", "GitHub"))


# --- sign-in -------------------------------------------------------------------------------------


def _social_providers() -> list[dict]:
    configured = getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}) or {}
    return [{"id": key, "name": name} for key, name in SOCIAL_PROVIDERS if key in configured]


@require_http_methods(["GET", "POST"])
def login(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next")) or ""
    if request.user.is_authenticated:
        return redirect(next_url or "dashboard:home")
    form = forms.LoginForm(request.POST or None, initial={"next": next_url})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            # The same page whether or not the address has an account (no enumeration).
            magic_link_request(email=form.cleaned_data["email"], next_url=next_url)
            return page(request, "dashboard/login_sent.html", {"email": form.cleaned_data["email"]})
        status = 400
    context = {"form": form, "next": next_url, "social_providers": _social_providers()}
    return page(request, "dashboard/login.html", context, status)


@require_http_methods(["GET", "POST"])
def magic_link(request, token):
    # GET only shows a button: mail scanners that open links must not burn the single use.
    # (No "no-referrer" policy here: Chrome would then send "Origin: null" with the POST and
    # fail the CSRF origin check. The project's "same-origin" policy keeps the token in-house.)
    no_store = {"Cache-Control": "no-store"}
    if request.method == "GET":
        return page(request, "dashboard/magic_link.html", headers=no_store)
    result = magic_link_consume(token)
    if result is None:
        return page(request, "dashboard/magic_link_invalid.html", status=400, headers=no_store)
    merchant, next_url = result
    auth_login(request, merchant, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(safe_next(request, next_url) or "dashboard:home")


# --- home, environment, onboarding ------------------------------------------------------------


def home(request):
    if not request.user.is_authenticated:
        return redirect("dashboard:login")
    stores = list(selectors.active_stores_for(request.user))
    if not stores:
        return redirect("dashboard:onboarding")
    wanted = request.session.get(STORE_SESSION_KEY)
    store = next((s for s in stores if str(s.pk) == wanted), stores[0])
    return redirect("dashboard:store", store_id=store.pk)


@login_required
@require_POST
def set_environment(request):
    environment = request.POST.get("environment")
    if environment in Environment.values:
        request.session[ENVIRONMENT_SESSION_KEY] = environment
    return redirect(safe_next(request, request.POST.get("next")) or "dashboard:home")


@login_required
def switch_store(request):
    value = request.GET.get("store", "")
    if value == "new":
        return redirect("dashboard:onboarding")
    try:
        store_id = uuid.UUID(value)
    except ValueError:
        return redirect("dashboard:home")
    return redirect("dashboard:store", store_id=store_id)


@login_required
@require_http_methods(["GET", "POST"])
def onboarding(request):
    form = forms.OnboardingForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                store = services.store_create(merchant=request.user, **form.cleaned_data)
            except PancakeError as exc:
                status = show_error(form, exc)
            else:
                request.session[STORE_SESSION_KEY] = str(store.pk)
                messages.success(
                    request, _("Your store “%(name)s” is ready.") % {"name": store.name}
                )
                return redirect("dashboard:store", store_id=store.pk)
        else:
            status = 400
    has_stores = selectors.active_stores_for(request.user).exists()
    return page(
        request, "dashboard/onboarding.html", {"form": form, "has_stores": has_stores}, status
    )


@store_page
def store_home(request, store):
    members = list(selectors.store_members(store))
    context = store_context(
        request,
        store,
        "home",
        member_count=sum(1 for m in members if m.status == MembershipStatus.ACTIVE),
        invited_count=sum(1 for m in members if m.status == MembershipStatus.INVITED),
        key_count=selectors.api_keys_for(request.user).count(),
    )
    return page(request, "dashboard/store_home.html", context)


# --- store settings ------------------------------------------------------------------------------


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


# --- team ----------------------------------------------------------------------------------------


def _team_page(request, store, *, status: int = 200, error: str = "", **bound):
    role = store.caller_role
    members = list(selectors.store_members(store))
    rows = []
    for membership in members:
        is_self = membership.merchant_id == request.user.pk
        target_is_owner = membership.role == Role.OWNER
        rows.append(
            {
                "membership": membership,
                "is_self": is_self,
                "can_change_role": role == Role.OWNER and not target_is_owner,
                "can_remove": not is_self
                and not target_is_owner
                and (role == Role.OWNER or (role == Role.ADMIN and membership.role == Role.MEMBER)),
            }
        )
    candidates = [
        m for m in members if m.role != Role.OWNER and m.status == MembershipStatus.ACTIVE
    ]
    invite_form = bound.get("invite_form") or forms.InviteForm()
    transfer_form = bound.get("transfer_form")
    if transfer_form is None and role == Role.OWNER and candidates:
        transfer_form = forms.TransferOwnershipForm(candidates=candidates)
    context = store_context(
        request,
        store,
        "team",
        rows=rows,
        invite_form=invite_form,
        transfer_form=transfer_form,
        role_choices=forms.RoleForm.base_fields["role"].choices,
        error=error,
    )
    return page(request, "dashboard/team.html", context, status)


@store_page
@require_http_methods(["GET", "POST"])
def team(request, store):
    if request.method == "GET":
        return _team_page(request, store)
    form = forms.InviteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            membership = services.member_add(
                actor=dashboard_actor(request),
                store_id=store.pk,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except PancakeError as exc:
            status = show_error(form, exc)
        else:
            messages.success(
                request, _("Invitation sent to %(email)s.") % {"email": membership.merchant.email}
            )
            return redirect_to("dashboard:team", store.pk)
    return _team_page(request, store, status=status, invite_form=form)


@store_page
@require_POST
def team_role(request, store, merchant_id):
    form = forms.RoleForm(request.POST)
    if not form.is_valid():
        return _team_page(request, store, status=400, error=_("Choose admin or member."))
    try:
        membership = services.member_update_role(
            actor=dashboard_actor(request),
            store_id=store.pk,
            merchant_id=merchant_id,
            role=form.cleaned_data["role"],
        )
    except PancakeError as exc:
        return _team_page(request, store, status=exc.status, error=str(exc))
    messages.success(
        request,
        _("%(email)s is now %(role)s.")
        % {"email": membership.merchant.email, "role": membership.get_role_display()},
    )
    return redirect_to("dashboard:team", store.pk)


@store_page
@require_http_methods(["GET", "POST"])
def team_remove(request, store, merchant_id):
    membership = next(
        (m for m in selectors.store_members(store) if m.merchant_id == merchant_id), None
    )
    if membership is None:
        raise Http404("Not a member")
    email = membership.merchant.email
    if request.method == "GET":
        invited = membership.status == MembershipStatus.INVITED
        return confirm_page(
            request,
            store,
            "team",
            title=_("Cancel the invitation?") if invited else _("Remove this member?"),
            message=(
                _("%(email)s will no longer be able to join %(store)s with their invitation.")
                if invited
                else _("%(email)s will lose access to %(store)s at once.")
            )
            % {"email": email, "store": store.name},
            button=_("Cancel invitation") if invited else _("Remove member"),
            cancel_url=reverse("dashboard:team", args=[store.pk]),
        )
    try:
        services.member_remove(
            actor=dashboard_actor(request), store_id=store.pk, merchant_id=merchant_id
        )
    except PancakeError as exc:
        return _team_page(request, store, status=exc.status, error=str(exc))
    messages.success(request, _("%(email)s was removed from the store.") % {"email": email})
    return redirect_to("dashboard:team", store.pk)


@store_page
@require_http_methods(["GET", "POST"])
def team_leave(request, store):
    if request.method == "GET":
        return confirm_page(
            request,
            store,
            "team",
            title=_("Leave this store?"),
            message=_("You will lose access to %(store)s until someone invites you again.")
            % {"store": store.name},
            button=_("Leave store"),
            cancel_url=reverse("dashboard:team", args=[store.pk]),
        )
    try:
        services.member_remove(
            actor=dashboard_actor(request), store_id=store.pk, merchant_id=request.user.pk
        )
    except PancakeError as exc:
        return _team_page(request, store, status=exc.status, error=str(exc))
    request.session.pop(STORE_SESSION_KEY, None)
    messages.success(request, _("You left %(store)s.") % {"store": store.name})
    return redirect("dashboard:home")


@store_page
@require_POST
def team_transfer(request, store):
    candidates = [
        m
        for m in selectors.store_members(store)
        if m.role != Role.OWNER and m.status == MembershipStatus.ACTIVE
    ]
    form = forms.TransferOwnershipForm(request.POST, candidates=candidates)
    status = 400
    if form.is_valid():
        try:
            membership = services.ownership_transfer(
                actor=dashboard_actor(request),
                store_id=store.pk,
                merchant_id=uuid.UUID(form.cleaned_data["merchant"]),
            )
        except PancakeError as exc:
            status = show_error(form, exc)
        else:
            messages.success(
                request,
                _("%(email)s now owns %(store)s. You are an admin.")
                % {"email": membership.merchant.email, "store": store.name},
            )
            return redirect_to("dashboard:team", store.pk)
    return _team_page(request, store, status=status, transfer_form=form)


def invite_accept(request, token):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    membership = selectors.invitation_for_token(token)
    if membership is None:
        return page(request, "dashboard/invite_invalid.html", status=400)
    error, status = "", 200
    if request.method == "POST":
        try:
            membership = services.member_accept(merchant=request.user, token=token)
        except PancakeError as exc:
            error, status = str(exc), exc.status
        else:
            request.session[STORE_SESSION_KEY] = str(membership.store_id)
            messages.success(request, _("Welcome to %(store)s.") % {"store": membership.store.name})
            return redirect("dashboard:store", store_id=membership.store_id)
    context = {
        "membership": membership,
        "token": token,
        "error": error,
        "wrong_account": membership.merchant_id != request.user.pk,
        "already_member": membership.merchant_id == request.user.pk
        and membership.status == MembershipStatus.ACTIVE,
    }
    return page(request, "dashboard/invite.html", context, status)


# --- developers: API keys ----------------------------------------------------------------------


def _developers_page(request, store, *, status: int = 200, error: str = "", form=None):
    merchant = request.user
    keys = list(selectors.api_keys_for(merchant))
    form = form or forms.ApiKeyForm(
        initial={"environment": current_environment(request), "api_version": LATEST}
    )
    context = store_context(
        request,
        store,
        "developers",
        merchant_id=merchant.short_id,
        store_short_id=ids.encode("STO", store.pk),
        base_url=base_url(request),
        keys=keys,
        key_rows=[
            (
                key,
                forms.ApiKeyVersionForm(
                    initial={"api_version": key.api_version}, prefix=str(key.pk)
                ),
            )
            for key in keys
        ],
        form=form,
        error=error,
        new_key=request.GET.get("new", ""),
    )
    return page(request, "dashboard/developers.html", context, status)


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@store_page
@require_http_methods(["GET", "POST"])
def developers(request, store):
    if request.method == "GET":
        return _developers_page(request, store)
    form = forms.ApiKeyForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            key = services.api_key_create(
                merchant=request.user,
                name=data["name"],
                environment=data["environment"],
                public_key_pem=data["public_key"],
                api_version=data["api_version"],
            )
        except PancakeError as exc:
            form.add_error("public_key" if "public key" in str(exc).lower() else None, str(exc))
            status = exc.status
        else:
            message = _("API key “%(name)s” created.") % {"name": key.name}
            if _wants_json(request):
                return JsonResponse(
                    {
                        "key": {
                            "id": str(key.pk),
                            "name": key.name,
                            "environment": key.environment,
                            "apiVersion": key.api_version,
                        },
                        "message": message,
                    },
                    status=201,
                )
            messages.success(request, message)
            return redirect_to("dashboard:developers", store.pk, fragment="keys")
    if _wants_json(request):
        return JsonResponse({"errors": form.errors.get_json_data()}, status=status)
    return _developers_page(request, store, status=status, form=form)


@store_page
@require_POST
def api_key_version(request, store, key_id):
    form = forms.ApiKeyVersionForm(request.POST, prefix=str(key_id))
    if not form.is_valid():
        return _developers_page(request, store, status=400, error=_("Choose an API version."))
    try:
        key = services.api_key_update_version(
            merchant=request.user, key_id=key_id, api_version=form.cleaned_data["api_version"]
        )
    except PancakeError as exc:
        return _developers_page(request, store, status=exc.status, error=str(exc))
    messages.success(
        request,
        _("“%(name)s” now uses API version %(version)s.")
        % {"name": key.name, "version": key.api_version},
    )
    return redirect_to("dashboard:developers", store.pk, fragment="keys")


@store_page
@require_http_methods(["GET", "POST"])
def api_key_delete(request, store, key_id):
    key = selectors.api_keys_for(request.user).filter(pk=key_id).first()
    if key is None:
        raise Http404("API key not found")
    if request.method == "GET":
        return confirm_page(
            request,
            store,
            "developers",
            title=_("Delete this API key?"),
            message=_(
                "Requests signed with “%(name)s” (%(environment)s) will fail at once. "
                "This cannot be undone."
            )
            % {"name": key.name, "environment": key.get_environment_display()},
            button=_("Delete API key"),
            cancel_url=reverse("dashboard:developers", args=[store.pk]),
        )
    try:
        services.api_key_delete(merchant=request.user, key_id=key.pk)
    except NotFound:
        raise Http404("API key not found") from None
    messages.success(request, _("API key “%(name)s” deleted.") % {"name": key.name})
    return redirect_to("dashboard:developers", store.pk, fragment="keys")


# --- developers: GraphiQL ------------------------------------------------------------------------


@store_page
@require_http_methods(["GET", "POST"])
def graphiql(request, store):
    """GET: the GraphiQL explorer (every asset served from this origin). POST: a GraphQL
    request as the signed-in merchant in the current environment, CSRF-protected; the same
    schema and execution as ``/v1/graphql``."""
    if request.method == "POST":
        from pancake.graphql.views import session_view

        return session_view(request, dashboard_actor(request))
    context = store_context(
        request,
        store,
        "developers",
        endpoint=reverse("dashboard:graphiql", args=[store.pk]),
        default_query="{\n  stores {\n    id\n    name\n  }\n}\n",
        style_nonce=(nonce := secrets.token_urlsafe(18)),
    )
    # The explorer's dialogs add one <style> element (see static/js/graphiql.js): allowed by
    # this response's nonce, nothing else inline.
    policy = f"{CONTENT_SECURITY_POLICY}; style-src 'self' 'nonce-{nonce}'"
    return page(
        request, "dashboard/graphiql.html", context, headers={"Content-Security-Policy": policy}
    )
