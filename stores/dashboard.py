"""What every app's dashboard pages share: the page response with its Content-Security-Policy,
the signed-in merchant as an ``Actor``, the ``store_page`` decorator that turns a store id in the
URL into the store (404 unless the caller is an active member), the context every store page
starts from, and the way a service's refusal is shown on a form.

Dashboard views are thin adapters: they parse a form, call one service or selector and render.
Services authorise and raise ``PancakeError``s carrying the input ``field`` they are about and a
stable ``code``; the views put the message beside the form's matching input (``show_error``) and
answer with the error's status, never reading the message text.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from pancake.api.actor import Actor, merchant_actor
from pancake.api.errors import PancakeError
from stores import notifications, selectors
from stores.context_processors import STORE_SESSION_KEY, current_environment
from stores.models import Role

# Pages load only this origin's static files; the policy keeps it that way.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'"
)


def page(request, template: str, context: dict | None = None, status: int = 200, *, headers=None):
    """Render a dashboard template with the dashboard's Content-Security-Policy (a page may
    replace it, or add any header, through ``headers``)."""
    response = render(request, template, context or {}, status=status)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def dashboard_actor(request) -> Actor:
    """The signed-in merchant acting in the environment chosen in the header."""
    return merchant_actor(request.user, current_environment(request))


def show_error(form, exc: PancakeError) -> int:
    """Show a service's refusal on ``form`` and return the status the page answers with.

    The message goes beside the form's field for ``exc.field`` (the service's input name, as the
    API spells it: ``"supportEmail"``, ``"notificationSettings.notifyNewOrders"``), as the form's
    ``service_fields`` maps it; an error about any other input, or about none, goes above the
    form."""
    fields = getattr(form, "service_fields", {})
    form.add_error(fields.get(exc.field) if exc.field else None, exc.message)
    return exc.status


def redirect_to(name: str, *args, fragment: str = ""):
    """A redirect to the named URL, to ``#fragment`` in it if given."""
    return redirect(reverse(name, args=args) + (f"#{fragment}" if fragment else ""))


def store_page(view):
    """Signed-in merchants only; ``store_id`` becomes the store (404 unless an active member),
    which is remembered as the current store. The store carries the caller's ``caller_role``."""

    @login_required
    @wraps(view)
    def wrapper(request, store_id, *args, **kwargs):
        try:
            store = selectors.access_store(dashboard_actor(request), store_id)
        except PancakeError:
            raise Http404("Store not found") from None
        if request.session.get(STORE_SESSION_KEY) != str(store.pk):
            request.session[STORE_SESSION_KEY] = str(store.pk)  # written only when it changes
        return view(request, store, *args, **kwargs)

    return wrapper


def store_context(request, store, nav: str, **extra) -> dict:
    """The context every store page starts from: the store, the caller's role and what it
    allows them to see, the highlighted navigation entry and the current environment."""
    role = store.caller_role
    return {
        "store": store,
        "nav": nav,
        "role": role,
        "can_manage": selectors.has_role(role, Role.ADMIN),
        "is_owner": role == Role.OWNER,
        "environment": current_environment(request),
        # The header's bell, counted only when a page shows it (templates call callables).
        "notifications_unread": lambda: notifications.unread_count(
            store, request.user, role, current_environment(request)
        ),
        **extra,
    }


def confirm_page(request, store, nav: str, **context):
    """The confirmation step of a destructive action (``title``, ``message``, ``button``,
    ``cancel_url``); the form on it POSTs back to the same URL."""
    return page(request, "dashboard/confirm.html", store_context(request, store, nav, **context))


def base_url(request) -> str:
    """This site's address as the merchant's browser sees it (for the SDK snippets)."""
    return request.build_absolute_uri("/").rstrip("/")
