"""Known devices for every way a merchant signs in (docs/notifications.md).

Every sign-in, whichever path made it (an emailed magic link, a social provider through
django-allauth, the admin's form), ends in ``django.contrib.auth.login``, which sends
``user_logged_in``. ``note_sign_in`` (connected when this module loads, which loading the
middleware chain does before any request) only marks the request; ``KnownDeviceMiddleware``
then runs the one known-device check on that request's response, where the browser's device
cookie can be read and set. A login without a response (``Client.force_login`` in tests) marks
a request no middleware sees, so it records nothing."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from stores import notifications

SIGNED_IN = "_pancake_signed_in"  # the request attribute: the merchant who signed in


@receiver(user_logged_in, dispatch_uid="stores.known_device")
def note_sign_in(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver: remember who signed in on this request."""
    if request is not None:
        setattr(request, SIGNED_IN, user)


def remember_device(request, response, merchant) -> None:
    """Sign-ins from a browser the merchant has not used before tell their stores' notification
    centers; the browser keeps a long-lived random cookie (only its hash is stored)."""
    token = notifications.device_sign_in(
        merchant,
        request.COOKIES.get(notifications.DEVICE_COOKIE),
        request.headers.get("User-Agent", ""),
    )
    response.set_cookie(
        notifications.DEVICE_COOKIE,
        token,
        max_age=notifications.DEVICE_COOKIE_MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


class KnownDeviceMiddleware:
    """Runs the known-device check on the response of a request that signed a merchant in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        merchant = getattr(request, SIGNED_IN, None)
        if merchant is not None and merchant.is_authenticated:
            remember_device(request, response, merchant)
        return response
