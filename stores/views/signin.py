"""Signing in to the dashboard: the sign-in page (an emailed magic link, or a configured social
provider) and the magic link itself."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as auth_login
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from stores import forms
from stores.auth import magic_link_consume, magic_link_request, safe_next
from stores.dashboard import page

SOCIAL_PROVIDERS = (("google", "Google"), ("github", "GitHub"))


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
    # The login's signal has the device check run on this response (stores.middleware).
    return redirect(safe_next(request, next_url) or "dashboard:home")
