"""What every portal page shares: the store from the URL, the signed-in buyer (a portal session
from the cookie, scoped to the portal's path), the page's language (the checkout's seven) and
the store's checkout branding, and the response headers of a private page."""

from __future__ import annotations

import functools

from django.conf import settings
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation

from checkout import languages
from checkout.views import LANGUAGE_NAMES
from pancake.api.errors import NotFound
from pancake.models import Environment
from portal import links, services
from stores import branding
from stores.selectors import store_for_slug

COOKIE = "pancake_portal"
LANGUAGE_COOKIE = "pancake_portal_lang"


def portal_path(store) -> str:
    """The portal's root path: the session and language cookies are scoped to it."""
    return reverse("portal:home", args=[store.slug])


def store_or_404(store_slug: str):
    store = store_for_slug(store_slug)
    if store is None:
        raise Http404("Store not found")
    return store


def page_language(request) -> tuple[str, bool]:
    """(language, chosen on the page now): ``?lang=``, else the portal's language cookie, else
    the browser's Accept-Language."""
    chosen = request.GET.get("lang") or request.POST.get("lang")
    if chosen in languages.CHECKOUT_LANGUAGES:
        return chosen, True
    remembered = request.COOKIES.get(LANGUAGE_COOKIE)
    if remembered in languages.CHECKOUT_LANGUAGES:
        return remembered, False
    return languages.from_request(request), False


def request_environment(request) -> str:
    """The environment a signed-out page (the sign-in form) is for: ``?env=test``, else prod."""
    value = request.GET.get("env") or request.POST.get("env")
    return Environment.TEST if value == Environment.TEST else Environment.PROD


def _csp(style_hash: str) -> str:
    """The page's policy. ``form-action`` also governs where a form's redirect leads: "Replace
    card" and a plan change lead to the provider's and the checkout's pages (the base URL)."""
    return (
        "default-src 'self'; img-src 'self' data: https: http:; "
        f"style-src 'self' 'sha256-{style_hash}'; script-src 'self'; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'; form-action 'self' " + settings.BASE_URL
    )


def render_page(
    request,
    store,
    template: str,
    context: dict | None = None,
    *,
    environment: str,
    session=None,
    status: int = 200,
):
    language, chosen = page_language(request)
    name, values, logo = branding.store_look(store)
    css = branding.theme_css(values, name, "body.checkout")
    css_hash = branding.css_hash(css)
    base = {
        "store": store,
        "portal": session,
        "environment": environment,
        "is_test": environment == Environment.TEST,
        "env_query": "env=test" if environment == Environment.TEST else "",
        "language": language,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in languages.CHECKOUT_LANGUAGES],
        "page_url": request.path,
        "theme_name": name,
        "brand_css": css,
        "logo": logo,
        "platform_name": settings.PLATFORM_NAME,
        "home_url": portal_path(store),
    }
    with translation.override(languages.to_django(language)):
        response = render(request, template, {**base, **(context or {})}, status=status)
        response["Content-Language"] = languages.to_django(language)
    response["Content-Security-Policy"] = _csp(css_hash)
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    if chosen:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=365 * 86400,
            path=portal_path(store),
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def set_session_cookie(response, store, token: str) -> None:
    """The portal session's cookie: HttpOnly, SameSite=Lax, only sent under the portal's
    path, gone when the browser closes (the server ends it after 30 idle minutes anyway)."""
    response.set_cookie(
        COOKIE,
        token,
        path=portal_path(store),
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def signed_in(view):
    """A page for a signed-in buyer: ``view(request, store, session, actor, **kwargs)``. Signed
    out (or expired), the buyer is sent to the sign-in page; an id the buyer does not own is a
    404 (the access functions decide)."""

    @functools.wraps(view)
    def wrapper(request, store_slug, **kwargs):
        store = store_or_404(store_slug)
        token = request.COOKIES.get(COOKIE)
        session = services.session_resume(store=store, token=token)
        if session is None:
            environment = services.session_environment(
                store=store, token=token
            ) or request_environment(request)
            response = HttpResponseRedirect(links.home_url(store, environment))
            if COOKIE in request.COOKIES:
                response.delete_cookie(COOKIE, path=portal_path(store))
            return response
        actor = services.buyer_actor(session)
        try:
            return view(request, store, session, actor, **kwargs)
        except NotFound:
            raise Http404("Not found") from None

    return wrapper
