"""Where payment providers report outcomes: ``POST /providers/{environment}/notifications``, and
Stripe's webhooks at ``POST /providers/stripe/webhook``.

Providers authenticate by signature, not by cookie (CSRF-exempt). Each notification is verified
and applied exactly once (``billing.services.notification_receive``); a redelivery answers 200
and changes nothing, a bad signature is a 400 in the API's envelope."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import services
from pancake.api import envelope
from pancake.api.errors import PancakeError
from pancake.models import Environment


@csrf_exempt  # providers authenticate by signature
@require_POST
def notification(request, environment):
    if environment not in Environment.values:
        raise Http404("Unknown environment")
    try:
        services.notification_receive(
            environment=environment, headers=dict(request.headers), body=request.body
        )
    except PancakeError as exc:
        return envelope.error_response(exc)
    return JsonResponse({"data": {"received": True}})


@csrf_exempt  # Stripe signs its webhooks (Stripe-Signature, STRIPE_WEBHOOK_SECRET)
@require_POST
def stripe_webhook(request):
    try:
        services.stripe_webhook_receive(headers=dict(request.headers), body=request.body)
    except PancakeError as exc:
        return envelope.error_response(exc)
    return JsonResponse({"data": {"received": True}})
