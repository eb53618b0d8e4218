"""Run localstripe (the fake Stripe server the Stripe tests talk to) with the few things of the
real Stripe API that its 1.15 release lacks and Pancake relies on. Started as a script by
``tests/localstripe.py``: ``python tests/localstripe_server.py --port N --from-scratch``.

What is added, each one the behaviour Stripe documents:

- ``Idempotency-Key``: a POST repeated with the same key (and API key) answers the first
  response again instead of acting twice (Stripe keeps keys for 24 hours).
- PaymentIntents take ``setup_future_usage`` (a succeeded intent then attaches its payment
  method to its customer), ``description`` and ``receipt_email``; confirming takes
  ``off_session``, ``use_stripe_sdk`` and ``payment_method`` (set on the intent before it is
  confirmed).
- A refund sends ``charge.refunded``; listing the refunds of an intent never charged answers an
  empty list.
- Nothing is written to ``/tmp/localstripe.pickle``: each server keeps its state in memory, so
  several test runs on one machine do not share (or corrupt) one file.
"""

from __future__ import annotations

import functools

from aiohttp import web
from localstripe import resources
from localstripe.resources import Charge, Event, PaymentIntent, PaymentMethod, Refund
from localstripe.webhooks import schedule_webhook

resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

_EXTRA_INTENT_FIELDS = ("setup_future_usage", "description", "receipt_email")
_original_intent_init = PaymentIntent.__init__


@functools.wraps(_original_intent_init)
def _intent_init(self, *args, **kwargs):
    extra = {name: kwargs.pop(name, None) for name in _EXTRA_INTENT_FIELDS}
    _original_intent_init(self, *args, **kwargs)
    for name, value in extra.items():
        setattr(self, name, value)


PaymentIntent.__init__ = _intent_init

_original_on_success = PaymentIntent._on_success


def _intent_on_success(self):
    if getattr(self, "setup_future_usage", None) and self.customer and self.payment_method:
        PaymentMethod._api_retrieve(self.payment_method).customer = self.customer
    _original_on_success(self)


PaymentIntent._on_success = _intent_on_success

_original_confirm = PaymentIntent._api_confirm.__func__


def _intent_confirm(cls, id, payment_method=None, off_session=None, use_stripe_sdk=None, **kwargs):
    if payment_method is not None:
        PaymentMethod._api_retrieve(payment_method)  # 404 when unknown
        obj = cls._api_retrieve(id)
        if obj.status in ("requires_payment_method", "requires_confirmation"):
            obj.payment_method = payment_method
            obj.latest_charge = None
    return _original_confirm(cls, id, **kwargs)


PaymentIntent._api_confirm = classmethod(_intent_confirm)
# localstripe listed its routes' functions when it was imported: point the route at ours.
resources.extra_apis[:] = [
    (
        method,
        url,
        PaymentIntent._api_confirm
        if url.endswith("/confirm") and "payment_intents" in url
        else func,
    )
    for method, url, func in resources.extra_apis
]

_original_refund_init = Refund.__init__


@functools.wraps(_original_refund_init)
def _refund_init(self, *args, **kwargs):
    _original_refund_init(self, *args, **kwargs)
    schedule_webhook(Event("charge.refunded", Charge._api_retrieve(self.charge)))


Refund.__init__ = _refund_init

_original_refund_list = Refund._api_list_all.__func__


def _refund_list(cls, url, payment_intent=None, **kwargs):
    # Stripe lists no refunds for an intent that was never charged (localstripe fails on it).
    if (
        payment_intent is not None
        and PaymentIntent._api_retrieve(payment_intent).latest_charge is None
    ):
        return resources.List(url)
    return _original_refund_list(cls, url, payment_intent=payment_intent, **kwargs)


Refund._api_list_all = classmethod(_refund_list)

# The routes are built when the server module is imported: patch first, import after.
from localstripe import server  # noqa: E402

_seen: dict[tuple[str, str, str], tuple[int, bytes]] = {}


@web.middleware
async def idempotency_middleware(request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    slot = (request.headers.get("Authorization", ""), request.path, key)
    if slot in _seen:
        status, body = _seen[slot]
        return web.Response(
            status=status,
            body=body,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    try:
        response = await handler(request)
    except web.HTTPException:
        raise
    if isinstance(response, web.Response) and response.status < 500:
        _seen[slot] = (response.status, response.body)
    return response


@web.middleware
async def error_to_response_middleware(request, handler):
    # localstripe's own error middleware sits outside ours: turn its errors into responses
    # here so that a declined request is remembered under its idempotency key like Stripe's.
    try:
        return await handler(request)
    except resources.UserError as exc:
        return exc.to_response()


server.app.middlewares.append(idempotency_middleware)
server.app.middlewares.append(error_to_response_middleware)

if __name__ == "__main__":
    server.start()
