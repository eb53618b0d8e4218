"""Signing in to the portal: the email form, the emailed link (a confirm button first, so mail
scanners that open links do not use it up), a buyer session token exchanged for a portal
session, and signing out."""

from __future__ import annotations

from django import forms
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from pancake.api.ratelimit import client_ip
from portal import links, services
from portal.views import overview
from portal.views.base import (
    COOKIE,
    page_language,
    portal_path,
    render_page,
    request_environment,
    set_session_cookie,
    store_or_404,
)


class SignInForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        error_messages={
            "required": _("Enter your email address."),
            "invalid": _("Enter a valid email address."),
        },
    )


@never_cache
@require_http_methods(["GET", "HEAD"])
def home(request, store_slug):
    """The overview when signed in; else the sign-in form. ``?token=`` (a buyer session token)
    signs the buyer in and comes back here without it."""
    store = store_or_404(store_slug)
    token = request.GET.get("token")
    if token:
        cookie = services.session_from_buyer_token(store=store, token=token)
        if cookie is None:
            return _sign_in_page(request, store, expired=True, status=400)
        response = HttpResponseRedirect(portal_path(store))
        set_session_cookie(response, store, cookie)
        return response
    session = services.session_resume(store=store, token=request.COOKIES.get(COOKIE))
    if session is None:
        return _sign_in_page(request, store)
    return overview.overview(request, store, session, services.buyer_actor(session))


def _sign_in_page(request, store, *, form=None, expired=False, signed_out=False, status=200):
    environment = request_environment(request)
    return render_page(
        request,
        store,
        "portal/sign_in.html",
        {"form": form or SignInForm(), "expired": expired, "signed_out": signed_out},
        environment=environment,
        status=status,
    )


@never_cache
@require_POST
def sign_in(request, store_slug):
    """Ask for a link. The answer is the same whether or not the address bought here."""
    store = store_or_404(store_slug)
    form = SignInForm(request.POST)
    if not form.is_valid():
        return _sign_in_page(request, store, form=form, status=400)
    environment = request_environment(request)
    services.sign_in_request(
        store=store,
        environment=environment,
        email=form.cleaned_data["email"],
        ip=client_ip(request),
        language=page_language(request)[0],
    )
    return render_page(
        request,
        store,
        "portal/sign_in_sent.html",
        {"email": form.cleaned_data["email"]},
        environment=environment,
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in_link(request, store_slug, token):
    """GET shows one button; its POST uses the link (once) and opens a portal session."""
    store = store_or_404(store_slug)
    if request.method != "POST":
        return render_page(
            request,
            store,
            "portal/sign_in_confirm.html",
            {},
            environment=request_environment(request),
        )
    cookie = services.session_from_link(store=store, token=token)
    if cookie is None:
        return _sign_in_page(request, store, expired=True, status=400)
    response = HttpResponseRedirect(portal_path(store))
    set_session_cookie(response, store, cookie)
    return response


@never_cache
@require_POST
def sign_out(request, store_slug):
    store = store_or_404(store_slug)
    session = services.session_resume(store=store, token=request.COOKIES.get(COOKIE))
    environment = session.environment if session else request_environment(request)
    services.session_end(token=request.COOKIES.get(COOKIE))
    response = HttpResponseRedirect(links.home_url(store, environment))
    response.delete_cookie(COOKIE, path=portal_path(store))
    return response
