"""The notification center's page (filters, keyset pages, mark one or all read) and the bell's
unread count as JSON for the header's small polling script (docs/notifications.md)."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pancake.api.errors import NotFound
from stores import notifications
from stores.context_processors import current_environment
from stores.dashboard import page, store_context, store_page
from stores.models import NotificationKind

NAV = "notifications"
K = NotificationKind

# The dashboard page each kind links to (its object's, else the developers page).
LINKS = {
    K.PAYMENT: "dashboard:payment",
    K.PAYMENT_FAILED: "dashboard:payment",
    K.REFUND_REQUEST: "dashboard:refund-ticket",
    K.SUBSCRIPTION: "dashboard:subscription",
    K.CANCELLATION: "dashboard:subscription",
}


def _link(store, notification) -> str:
    name = LINKS.get(notification.kind)
    if name and notification.object_id:
        return reverse(name, args=[store.pk, notification.object_id])
    if notification.kind in (K.API_KEY_CREATED, K.API_KEY_DELETED):
        return reverse("dashboard:developers", args=[store.pk])
    return ""


def _keyset(value: str) -> tuple[datetime, uuid.UUID] | None:
    """The ``after`` parameter: ``<ISO time>_<id>`` (a bad one is a 404, as a missing page)."""
    if not value:
        return None
    at, _sep, pk = value.rpartition("_")
    try:
        parsed = datetime.fromisoformat(at)
        return parsed, uuid.UUID(pk)
    except ValueError:
        raise Http404("No such page") from None


def _kind(value: str) -> str:
    """The page's kind filter (an unknown kind: no filter, as the list shows everything)."""
    return value if value in K.values else ""


@require_GET
@store_page
def notification_list(request, store):
    environment = current_environment(request)
    kind = _kind(request.GET.get("kind", ""))
    unread_only = request.GET.get("unread") == "1"
    rows, next_key = notifications.page_of(
        store,
        request.user,
        store.caller_role,
        environment,
        kind=kind,
        unread_only=unread_only,
        after=_keyset(request.GET.get("after", "")),
    )
    for row in rows:
        row.link = _link(store, row)
    filters = {"kind": kind} if kind else {}
    if unread_only:
        filters["unread"] = "1"
    next_query = None
    if next_key is not None:
        at, pk = next_key
        next_query = "?" + urlencode({**filters, "after": f"{at.isoformat()}_{pk}"})
    context = store_context(
        request,
        store,
        NAV,
        notifications=rows,
        kinds=K.choices,
        kind=kind,
        unread_only=unread_only,
        filtered=bool(filters),
        next_query=next_query,
        first_query="?" + urlencode(filters) if request.GET.get("after") else None,
        back_query="?" + urlencode(filters) if filters else "",
    )
    return page(request, "dashboard/notifications.html", context)


def _back(request, store):
    """Back to the list with the filters it had (only ours: never an outside address)."""
    query = {key: request.POST[key] for key in ("kind", "unread") if request.POST.get(key)}
    url = reverse("dashboard:notifications", args=[store.pk])
    return redirect(url + ("?" + urlencode(query) if query else ""))


@require_POST
@store_page
def notification_read(request, store, notification_id):
    try:
        notifications.mark_read(
            store, request.user, store.caller_role, current_environment(request), notification_id
        )
    except NotFound:
        raise Http404("Notification not found") from None
    return _back(request, store)


@require_POST
@store_page
def notifications_read_all(request, store):
    """Marks read what the page shows: with a kind filter, only that kind ("unread only" shows
    the unread ones, which are exactly those marked)."""
    kind = _kind(request.POST.get("kind", ""))
    count = notifications.mark_all_read(
        store, request.user, store.caller_role, current_environment(request), kind=kind
    )
    if count and kind:
        messages.success(
            request,
            _("All “%(kind)s” notifications are marked read.") % {"kind": K(kind).label},
        )
    elif count:
        messages.success(request, _("All notifications are marked read."))
    return _back(request, store)


@require_GET
@store_page
def notifications_count(request, store):
    """The bell's count, for the header's script: ``{"unread": n, "label": "n"}``."""
    count = notifications.unread_count(
        store, request.user, store.caller_role, current_environment(request)
    )
    response = JsonResponse({"unread": count, "label": bell_label(count)})
    response.headers["Cache-Control"] = "no-store"
    return response


def bell_label(count: int) -> str:
    return "99+" if count >= notifications.UNREAD_CAP else str(count)
