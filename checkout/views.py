"""The hosted checkout page. This first cut shows what the session froze (product, price,
trial, expiry); the store's branding, the details and payment steps come with the rest of the
checkout issue."""

from django.conf import settings
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from checkout import services
from checkout.models import CheckoutSession, SessionStatus
from pancake.api import auth, envelope
from pancake.api.errors import Forbidden, PancakeError

# The page's own script is its only script; nothing loads from another host.
CHECKOUT_CSP = (
    "default-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)


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
    response = render(request, "checkout/session.html", context, status=status)
    response["Content-Security-Policy"] = CHECKOUT_CSP
    response["Referrer-Policy"] = "no-referrer"  # the URL may carry a #token= fragment
    return response


@csrf_exempt  # authenticated by the buyer's Bearer token, never by a cookie
@require_POST
def bind_buyer(request, store_slug, session_id):
    """The page posts the ``#token=`` of an authenticated link here once, with Bearer and
    X-Environment; the token's buyer identity is bound to the session."""
    try:
        actor = auth.authenticate(request, request.body)
        if actor.kind != auth.BUYER:
            raise Forbidden("A buyer session token is required", layer="order")
        session = services.session_bind_buyer(
            session_id=session_id, store_slug=store_slug, actor=actor
        )
    except PancakeError as exc:
        return envelope.error_response(exc)
    return JsonResponse({"data": {"sessionId": str(session.pk), "bound": True}})


@csrf_exempt  # providers authenticate by signature
@require_POST
def provider_notification(request, environment):
    """Payment providers report outcomes here; each event is applied once."""
    from billing.services import notification_receive

    if environment not in ("test", "prod"):
        raise Http404("Unknown environment")
    try:
        notification_receive(
            environment=environment, headers=dict(request.headers), body=request.body
        )
    except PancakeError as exc:
        return envelope.error_response(exc)
    return JsonResponse({"data": {"received": True}})
