"""The hosted checkout page. This first cut shows what the session froze (product, price,
trial, expiry); the store's branding, the details and payment steps come with the rest of the
checkout issue."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone

from checkout.models import CheckoutSession, SessionStatus


def session_page(request, store_slug, session_id):
    session = (
        CheckoutSession.objects.select_related("store", "version")
        .filter(pk=session_id, store__slug=store_slug, store__deleted_at__isnull=True)
        .first()
    )
    if session is None:
        raise Http404("Checkout session not found")
    expired = session.status == SessionStatus.EXPIRED or session.expires_at <= timezone.now()
    context = {
        "session": session,
        "store": session.store,
        "version": session.version,
        "platform_name": settings.PLATFORM_NAME,
        "is_test": session.environment == "test",
        "expired": expired,
        "used": session.status == SessionStatus.COMPLETED,
    }
    status = 410 if expired or context["used"] else 200
    return render(request, "checkout/session.html", context, status=status)
