"""The Stripe provider: the ``PaymentProvider`` interface on the official ``stripe`` library
(``stripe.StripeClient``, API version ``STRIPE_API_VERSION``). docs/stripe.md has the design.

- ``create_payment``: a Stripe Customer for the buyer (the subscription's or an earlier payment's
  when one exists) and a PaymentIntent for the amount (``setup_future_usage=off_session`` when
  the method is kept for renewals), or a SetupIntent when nothing is charged (a trial, a card
  replacement). The intent is recorded in a ``StripeIntent`` row under our attempt id, so the
  attempt's page and every retry find it again. The URL answered is our own step-2 page
  (``checkout:stripe-pay``), which mounts Stripe.js's card element; ``page_data`` gives it the
  intent's client secret and the publishable key.
- ``charge_saved``: an off-session PaymentIntent on the saved PaymentMethod, made in two steps:
  create (recorded at once), then confirm. Money moves only on the confirm, and both carry an
  idempotency key from our attempt row, so a retry after a timeout finds the first intent (the
  recorded one, or Stripe's answer to the same key) and learns its outcome: one charge, not two.
- ``refund``: a Stripe Refund of all or part of the PaymentIntent.
- ``parse_notification``: a webhook verified with ``STRIPE_WEBHOOK_SECRET``. Event ids are derived
  from the outcome (``pi_…:succeeded``), not Stripe's event id, so a webhook and the return page's
  re-check (``intent_notification``) of the same outcome are one event for
  ``billing.services.notification_receive``'s exactly-once record.

Saved methods are kept as ``"<customer id>:<payment method id>"``. Keys and secrets never appear
in a log line, an error message or a repr: Stripe's own error texts (which may quote part of a
key) are not passed on, only their codes.
"""

from __future__ import annotations

import json
import logging
import uuid

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse

from billing.models import Payment, StripeIntent, Subscription
from billing.providers.base import (
    ChargeResult,
    HostedPayment,
    InvalidNotification,
    Notification,
    PaymentMethodInfo,
    ProviderTimeout,
    RefundResult,
)
from checkout.models import Order
from pancake.api.errors import InvalidInput, NotFound, ProviderFailed
from pancake.money import check_currency

logger = logging.getLogger(__name__)

NAME = "stripe"
# The API version every request names (the ``stripe`` release pinned in pyproject.toml is built
# for it); webhook endpoints in Stripe's dashboard should use the same.
STRIPE_API_VERSION = "2026-10-28.endive"
SIGNATURE_HEADER = "Stripe-Signature"
# The events to enable on the webhook endpoint; the two SetupIntent ones serve trials and card
# replacements (saving a card without a charge).
EVENTS = (
    "payment_intent.succeeded",
    "payment_intent.payment_failed",
    "charge.refunded",
    "charge.dispute.created",
    "setup_intent.succeeded",
    "setup_intent.setup_failed",
)
PAGE_URL_NAME = "checkout:stripe-pay"


def http_client() -> stripe.HTTPClient:
    """The HTTP client of every Stripe call (tests wrap it to lose an answer on the way)."""
    return stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)


# One client per configuration and process: its HTTP client keeps a connection pool per thread.
_clients: dict[tuple, stripe.StripeClient] = {}


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise ProviderFailed("Stripe is not configured", layer="order")
    base = settings.STRIPE_API_BASE
    key = (settings.STRIPE_SECRET_KEY, base, settings.STRIPE_TIMEOUT_SECONDS, http_client)
    found = _clients.get(key)
    if found is None:
        found = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            stripe_version=STRIPE_API_VERSION,
            base_addresses={"api": base, "connect": base, "files": base} if base else None,
            # Our callers retry with the same attempt id (and so the same idempotency keys).
            max_network_retries=0,
            http_client=http_client(),
        )
        if len(_clients) > 8:  # settings changed (tests): forget the old ones
            _clients.clear()
        _clients[key] = found
    return found


# -- errors --------------------------------------------------------------------------------------


def _failed(exc: stripe.StripeError, operation: str) -> ProviderFailed:
    """Our error for a Stripe error: a timeout or lost connection (the call may have happened:
    retry with the same attempt id), or a failure naming Stripe's code only."""
    if isinstance(exc, stripe.APIConnectionError):
        logger.warning("stripe: %s: no answer (%s)", operation, type(exc).__name__)
        return ProviderTimeout(f"Stripe did not answer ({operation})", layer="order")
    code = getattr(exc, "code", None) or type(exc).__name__
    logger.warning("stripe: %s failed: %s (HTTP %s)", operation, code, exc.http_status)
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return ProviderFailed("Stripe refused the configured API key", layer="order")
    return ProviderFailed(f"Stripe failed ({operation}: {code})", layer="order")


def _field(obj, name: str, default=None):
    if obj is None:
        return default
    try:
        value = obj[name]
    except (KeyError, TypeError, IndexError):
        return default
    return default if value is None else value


def _id(value) -> str | None:
    """An expandable field's id (Stripe sends an id or, expanded, the object)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return _field(value, "id")


# -- saved methods -------------------------------------------------------------------------------


def method_token(customer_id: str | None, payment_method_id: str | None) -> str | None:
    if not customer_id or not payment_method_id:
        return None
    return f"{customer_id}:{payment_method_id}"


def split_token(token: str) -> tuple[str, str] | None:
    customer, _sep, method = (token or "").partition(":")
    if not customer.startswith("cus_") or not method:
        return None
    return customer, method


def method_info(method) -> PaymentMethodInfo | None:
    """Type, brand, last 4 and expiry of a Stripe PaymentMethod (or legacy card) object."""
    if method is None:
        return None
    card = _field(method, "card")
    if card is None and _field(method, "object") == "card":
        card = method
    if card is None:
        return PaymentMethodInfo(type="card") if _field(method, "type") == "card" else None
    return PaymentMethodInfo(
        type="card",
        brand=(_field(card, "brand") or "").lower() or None,
        last4=_field(card, "last4"),
        exp_month=_field(card, "exp_month"),
        exp_year=_field(card, "exp_year"),
    )


# -- the provider --------------------------------------------------------------------------------


def _check_amount(amount: int, currency: str, *, allow_zero: bool) -> None:
    check_currency(currency)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise InvalidInput("Invalid amount: expected a whole number of minor units")
    if amount == 0 and not allow_zero:
        raise InvalidInput("Invalid amount: must be greater than 0")


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _stored(attempt_id: str) -> StripeIntent | None:
    return StripeIntent.objects.filter(attempt_id=attempt_id).first()


def _store(intent: StripeIntent) -> StripeIntent:
    """Record the intent of an attempt (a concurrent twin's row wins: it is the same intent)."""
    try:
        with transaction.atomic():
            intent.save(force_insert=True)
    except IntegrityError:
        return StripeIntent.objects.get(attempt_id=intent.attempt_id)
    return intent


class StripeProvider:
    """The ``PaymentProvider`` on Stripe, for one environment (test or prod)."""

    name = NAME

    def __init__(self, environment: str = "test"):
        self.environment = environment
        self._client: stripe.StripeClient | None = None

    def __repr__(self) -> str:
        return f"<StripeProvider {self.environment}>"

    @property
    def stripe(self) -> stripe.StripeClient:
        if self._client is None:
            self._client = client()
        return self._client

    # -- customers --

    def _customer(self, attempt_id: str, metadata: dict) -> str:
        """The buyer's Stripe Customer: the subscription's (a card replacement), an earlier
        Stripe payment's of the same buyer in the same store, or a new one (its idempotency key
        from the attempt)."""
        order = None
        order_id = _as_uuid((metadata or {}).get("orderId", ""))
        if order_id is not None:
            order = (
                Order.objects.filter(pk=order_id)
                .only("store_id", "environment", "buyer_email")
                .first()
            )
            token = (
                Subscription.objects.filter(order_id=order_id, provider=NAME)
                .values_list("method_token", flat=True)
                .first()
            )
            if token and split_token(token):
                return split_token(token)[0]
        if order is not None and order.buyer_email:
            # The buyer's orders through their (store, environment, buyer_email) index.
            orders = Order.objects.filter(
                store_id=order.store_id,
                environment=self.environment,
                buyer_email=order.buyer_email,
            ).values("pk")
            earlier = (
                Payment.objects.filter(
                    order_id__in=orders, provider=NAME, method_token__startswith="cus_"
                )
                .order_by("-created_at")
                .values_list("method_token", flat=True)
                .first()
            )
            if earlier and split_token(earlier):
                return split_token(earlier)[0]
        params = {"metadata": {"attemptId": attempt_id, "environment": self.environment}}
        if order is not None:
            params["email"] = order.buyer_email
            params["metadata"]["orderId"] = str(order.pk)
        try:
            customer = self.stripe.v1.customers.create(
                params=params, options={"idempotency_key": f"pancake-customer-{attempt_id}"}
            )
        except stripe.StripeError as exc:
            raise _failed(exc, "create_customer") from None
        return customer.id

    # -- hosted payments --

    def create_payment(
        self,
        *,
        attempt_id: str,
        amount: int,
        currency: str,
        description: str,
        return_url: str,
        save_method: bool,
        metadata: dict,
        locale: str = "en",
        display: dict | None = None,
    ) -> HostedPayment:
        _check_amount(amount, currency, allow_zero=save_method)
        stored = _stored(attempt_id)
        if stored is None:
            customer = self._customer(attempt_id, metadata)
            meta = {
                **{k: str(v) for k, v in (metadata or {}).items()},
                "attemptId": attempt_id,
                "environment": self.environment,
            }
            try:
                if amount == 0:
                    kind = StripeIntent.Kind.SETUP
                    intent = self.stripe.v1.setup_intents.create(
                        params={
                            "customer": customer,
                            "usage": "off_session",
                            "payment_method_types": ["card"],
                            "metadata": meta,
                        },
                        options={"idempotency_key": f"pancake-setup-{attempt_id}"},
                    )
                else:
                    kind = StripeIntent.Kind.PAYMENT
                    params = {
                        "amount": amount,
                        "currency": currency.lower(),
                        "customer": customer,
                        "payment_method_types": ["card"],
                        "description": description[:500],
                        "metadata": meta,
                    }
                    if save_method:
                        params["setup_future_usage"] = "off_session"
                    intent = self.stripe.v1.payment_intents.create(
                        params=params,
                        options={"idempotency_key": f"pancake-payment-{attempt_id}"},
                    )
            except stripe.StripeError as exc:
                raise _failed(exc, "create_payment") from None
            stored = _store(
                StripeIntent(
                    attempt_id=attempt_id,
                    environment=self.environment,
                    kind=kind,
                    intent_id=intent.id,
                    customer_id=customer,
                    amount=amount,
                    currency=currency,
                    save_method=save_method,
                    return_url=return_url,
                    locale=(locale or "")[:16],
                    display=display or {},
                )
            )
        elif (stored.amount, stored.currency, stored.save_method) != (
            amount,
            currency,
            save_method,
        ):
            raise ProviderFailed(
                f"Attempt {attempt_id} was already used for a different payment", layer="order"
            )
        return HostedPayment(provider_payment_id=stored.intent_id, url=page_url(attempt_id))

    # -- off-session charges --

    def charge_saved(
        self, *, attempt_id: str, method_token: str, amount: int, currency: str, metadata: dict
    ) -> ChargeResult:
        _check_amount(amount, currency, allow_zero=False)
        parts = split_token(method_token)
        if parts is None:
            return ChargeResult(
                status="failed",
                provider_payment_id="",
                failure_code="invalid_payment_method",
                failure_message="The saved payment method does not exist.",
            )
        customer, payment_method = parts
        stored = _stored(attempt_id)
        try:
            if stored is None:
                intent = self.stripe.v1.payment_intents.create(
                    params={
                        "amount": amount,
                        "currency": currency.lower(),
                        "customer": customer,
                        "payment_method": payment_method,
                        "payment_method_types": ["card"],
                        "metadata": {
                            **{k: str(v) for k, v in (metadata or {}).items()},
                            "attemptId": attempt_id,
                            "environment": self.environment,
                        },
                    },
                    options={"idempotency_key": f"pancake-charge-{attempt_id}"},
                )
                stored = _store(
                    StripeIntent(
                        attempt_id=attempt_id,
                        environment=self.environment,
                        kind=StripeIntent.Kind.PAYMENT,
                        intent_id=intent.id,
                        customer_id=customer,
                        amount=amount,
                        currency=currency,
                    )
                )
            if (stored.amount, stored.currency) != (amount, currency):
                raise ProviderFailed(
                    f"Attempt {attempt_id} was already used with a different amount",
                    layer="order",
                )
            # The recorded intent as it is now: a retry after a lost answer learns the outcome.
            intent = self.stripe.v1.payment_intents.retrieve(stored.intent_id)
            if intent.status == "requires_confirmation":
                try:
                    intent = self.stripe.v1.payment_intents.confirm(
                        stored.intent_id,
                        params={"off_session": True},
                        options={"idempotency_key": f"pancake-charge-{attempt_id}-confirm"},
                    )
                except stripe.CardError as exc:
                    return self._declined(stored.intent_id, exc)
        except stripe.StripeError as exc:
            raise _failed(exc, "charge_saved") from None
        return self._charge_result(intent)

    def _declined(self, intent_id: str, exc: stripe.CardError) -> ChargeResult:
        error = exc.error
        code = _field(error, "decline_code") or exc.code or "card_declined"
        status = "requires_action" if code == "authentication_required" else "failed"
        logger.info("stripe: off-session charge %s %s %s", intent_id, status, code)
        return ChargeResult(
            status=status,
            provider_payment_id=intent_id,
            failure_code=code,
            failure_message=(exc.user_message or "Your card was declined.")[:255],
        )

    def _charge_result(self, intent) -> ChargeResult:
        status = intent.status
        method = self._method(_field(intent, "payment_method"))
        if status == "succeeded":
            result = ChargeResult(status="succeeded", provider_payment_id=intent.id, method=method)
        elif status == "requires_action":
            result = ChargeResult(
                status="requires_action",
                provider_payment_id=intent.id,
                failure_code="authentication_required",
                failure_message="Your bank requires you to authenticate this payment.",
                method=method,
            )
        elif status == "processing":
            # Not decided yet (bank debits): the caller asks again with the same attempt id.
            raise ProviderTimeout("Stripe is still processing the charge", layer="order")
        else:
            error = _field(intent, "last_payment_error") or {}
            code = _field(error, "decline_code") or _field(error, "code") or "card_declined"
            result = ChargeResult(
                status="failed",
                provider_payment_id=intent.id,
                failure_code=code,
                failure_message=(_field(error, "message") or "Your card was declined.")[:255],
                method=method,
            )
        logger.info(
            "stripe: off-session charge %s %s %s",
            intent.id,
            result.status,
            result.failure_code or "",
        )
        return result

    def _method(self, payment_method) -> PaymentMethodInfo | None:
        if payment_method is None:
            return None
        if not isinstance(payment_method, str):
            return method_info(payment_method)
        try:
            return method_info(self.stripe.v1.payment_methods.retrieve(payment_method))
        except stripe.StripeError as exc:
            logger.warning("stripe: payment method %s: %s", payment_method, type(exc).__name__)
            return None

    # -- refunds --

    def refund(
        self, *, attempt_id: str, provider_payment_id: str, amount: int, currency: str
    ) -> RefundResult:
        _check_amount(amount, currency, allow_zero=False)
        try:
            # A refund whose answer was lost (a timeout) is found by our id: never a second one,
            # even once Stripe has forgotten the idempotency key (24 hours).
            refund = self._refund_made(attempt_id, provider_payment_id)
            if refund is None:
                refund = self.stripe.v1.refunds.create(
                    params={
                        "payment_intent": provider_payment_id,
                        "amount": amount,
                        "metadata": {"attemptId": attempt_id, "environment": self.environment},
                    },
                    options={"idempotency_key": f"pancake-refund-{attempt_id}"},
                )
        except stripe.InvalidRequestError as exc:
            code = exc.code or "refund_refused"
            logger.warning("stripe: refund %s refused: %s", attempt_id, code)
            return RefundResult(
                status="failed",
                provider_refund_id="",
                provider_payment_id=provider_payment_id,
                amount=amount,
                currency=currency,
                failure_code=code,
                failure_message="Stripe refused the refund.",
            )
        except stripe.StripeError as exc:
            raise _failed(exc, "refund") from None
        # A pending refund is accepted by Stripe (card refunds settle later): ours succeeded.
        failed = refund.status in ("failed", "canceled")
        return RefundResult(
            status="failed" if failed else "succeeded",
            provider_refund_id=refund.id,
            provider_payment_id=provider_payment_id,
            amount=refund.amount,
            currency=(refund.currency or currency).upper(),
            failure_code=(_field(refund, "failure_reason") or "refund_failed") if failed else None,
            failure_message="Stripe could not refund the payment." if failed else None,
        )

    def _refund_made(self, attempt_id: str, provider_payment_id: str):
        """The refund Stripe already made for ``attempt_id`` on the PaymentIntent, if any."""
        try:
            listed = self.stripe.v1.refunds.list(
                params={"payment_intent": provider_payment_id, "limit": 100}
            )
        except stripe.InvalidRequestError:
            return None  # an intent Stripe does not know: the create says why
        for refund in listed.data:
            metadata = _field(refund, "metadata") or {}
            if _field(metadata, "attemptId") == attempt_id:
                return refund
        return None

    # -- notifications --

    def parse_notification(self, *, headers: dict, body: bytes) -> Notification:
        signature = _header(headers, SIGNATURE_HEADER)
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not signature or not secret:
            raise InvalidNotification("Invalid notification signature")
        try:
            stripe.Webhook.construct_event(body, signature, secret)
        except stripe.SignatureVerificationError:
            raise InvalidNotification("Invalid notification signature") from None
        except ValueError:
            raise InvalidNotification("Invalid notification body") from None
        try:
            event = json.loads(body)
            return self._notification(event["id"], event["type"], event["data"]["object"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InvalidNotification("Invalid notification body") from exc

    def _notification(self, event_id: str, event_type: str, obj: dict) -> Notification:
        metadata = _field(obj, "metadata") or {}
        if event_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            return self._intent_notification(obj, event_id)
        if event_type in ("setup_intent.succeeded", "setup_intent.setup_failed"):
            return self._intent_notification(obj, event_id)
        if event_type == "charge.refunded":
            return Notification(
                event_id=f"{obj['id']}:refunded:{int(obj['amount_refunded'])}",
                provider_payment_id=_id(_field(obj, "payment_intent")) or "",
                status="succeeded",
                kind="refund",
                refunded_amount=int(obj["amount_refunded"]),
                amount=_field(obj, "amount"),
                currency=(_field(obj, "currency") or "").upper() or None,
                metadata=metadata,
            )
        if event_type == "charge.dispute.created":
            intent_id = _id(_field(obj, "payment_intent"))
            if not intent_id and _field(obj, "charge"):
                intent_id = self._intent_of_charge(_id(obj["charge"]))
            return Notification(
                event_id=f"{obj['id']}:created",
                provider_payment_id=intent_id or "",
                status="succeeded",
                kind="dispute",
                dispute_id=obj["id"],
                dispute_reason=(_field(obj, "reason") or "general")[:64],
                amount=_field(obj, "amount"),
                currency=(_field(obj, "currency") or "").upper() or None,
                metadata=metadata,
            )
        return Notification(
            event_id=event_id,
            provider_payment_id=_id(_field(obj, "id")) or "",
            status="succeeded",
            kind="ignored",
        )

    def _intent_of_charge(self, charge_id: str) -> str | None:
        try:
            return _id(self.stripe.v1.charges.retrieve(charge_id).payment_intent)
        except stripe.StripeError as exc:
            raise _failed(exc, "retrieve_charge") from None

    def _intent_notification(self, intent, fallback_event_id: str) -> Notification:
        """The notification of an intent's outcome (a PaymentIntent or a SetupIntent). Its event
        id names the outcome, so the webhook and a re-check of the same outcome are one event."""
        intent_id = intent["id"]
        status = intent["status"]
        setup = str(intent_id).startswith("seti_")
        metadata = _field(intent, "metadata") or {}
        payment_method = _field(intent, "payment_method")
        customer = _id(_field(intent, "customer"))
        if status == "succeeded":
            saves = setup or bool(_field(intent, "setup_future_usage"))
            return Notification(
                event_id=f"{intent_id}:succeeded",
                provider_payment_id=intent_id,
                status="succeeded",
                method=self._method(payment_method),
                method_token=method_token(customer, _id(payment_method)) if saves else None,
                attempt_id=metadata.get("attemptId"),
                amount=0 if setup else _field(intent, "amount"),
                currency=(_field(intent, "currency") or "").upper() or None,
                metadata=metadata,
            )
        error = _field(intent, "last_setup_error" if setup else "last_payment_error")
        if error is None and status not in ("requires_payment_method", "canceled"):
            raise InvalidNotification("The intent has no outcome yet")
        error = error or {}
        attempt = _id(_field(intent, "latest_charge")) or _field(error, "charge")
        return Notification(
            event_id=f"{intent_id}:failed:{attempt or fallback_event_id}",
            provider_payment_id=intent_id,
            status="failed",
            method=self._method(payment_method) if payment_method else None,
            failure_code=_field(error, "decline_code") or _field(error, "code") or "card_declined",
            failure_message=(_field(error, "message") or "Your payment failed.")[:255],
            attempt_id=metadata.get("attemptId"),
            amount=None if setup else _field(intent, "amount"),
            currency=(_field(intent, "currency") or "").upper() or None,
            metadata=metadata,
        )

    def intent_notification(self, attempt_id: str) -> Notification | None:
        """The outcome of an attempt's intent as Stripe has it now (the return page's re-check,
        when the webhook has not arrived yet); None while it has none."""
        stored = _stored(attempt_id)
        if stored is None:
            raise NotFound("Payment not found")
        try:
            if stored.kind == StripeIntent.Kind.SETUP:
                intent = self.stripe.v1.setup_intents.retrieve(stored.intent_id)
            else:
                intent = self.stripe.v1.payment_intents.retrieve(stored.intent_id)
        except stripe.StripeError as exc:
            raise _failed(exc, "retrieve_intent") from None
        data = intent.to_dict() if hasattr(intent, "to_dict") else dict(intent)
        if data["status"] != "succeeded" and not _field(
            data,
            "last_setup_error" if stored.kind == StripeIntent.Kind.SETUP else "last_payment_error",
        ):
            return None
        return self._intent_notification(data, f"{stored.intent_id}:check")

    # -- the step-2 page --

    def page_data(self, attempt_id: str) -> dict:
        """What the step-2 page needs to mount Stripe.js for the attempt: the publishable key,
        the intent's client secret (never stored by us), whether it pays or only saves the card
        (``confirmCardPayment`` or ``confirmCardSetup``), and what the page shows."""
        stored = _stored(attempt_id)
        if stored is None:
            raise NotFound("Payment not found")
        try:
            if stored.kind == StripeIntent.Kind.SETUP:
                intent = self.stripe.v1.setup_intents.retrieve(stored.intent_id)
            else:
                intent = self.stripe.v1.payment_intents.retrieve(stored.intent_id)
        except stripe.StripeError as exc:
            raise _failed(exc, "retrieve_intent") from None
        return {
            "publishableKey": settings.STRIPE_PUBLISHABLE_KEY,
            "jsUrl": settings.STRIPE_JS_URL,
            "clientSecret": intent.client_secret,
            "kind": stored.kind,
            "intentId": stored.intent_id,
            "status": intent.status,
            "amount": stored.amount,
            "currency": stored.currency,
            "returnUrl": stored.return_url,
            "locale": stored.locale,
            "display": stored.display,
            "environment": stored.environment,
        }

    def confirm_with_method(self, attempt_id: str, payment_method_id: str) -> dict:
        """Server-side confirmation of the attempt's PaymentIntent with a PaymentMethod the page
        made (Stripe's "finalize payments on the server" flow; the fake Stripe.js of localstripe
        cannot confirm a card payment by itself). Answers ``{"status", "clientSecret",
        "failureCode", "failureMessage"}``: ``requires_action`` means the page runs
        ``confirmCardPayment(clientSecret)`` for the 3-D Secure step."""
        stored = _stored(attempt_id)
        if stored is None or stored.kind != StripeIntent.Kind.PAYMENT:
            raise NotFound("Payment not found")
        if not isinstance(payment_method_id, str) or not payment_method_id.startswith(
            ("pm_", "card_")
        ):
            raise InvalidInput("Invalid payment method", field="paymentMethod")
        answer = {"failureCode": None, "failureMessage": None}
        try:
            # use_stripe_sdk: a 3-D Secure step comes back as a next action for Stripe.js.
            intent = self.stripe.v1.payment_intents.confirm(
                stored.intent_id,
                params={"payment_method": payment_method_id, "use_stripe_sdk": True},
            )
        except stripe.CardError as exc:
            error = exc.error
            intent = self.stripe.v1.payment_intents.retrieve(stored.intent_id)
            answer["failureCode"] = _field(error, "decline_code") or exc.code or "card_declined"
            answer["failureMessage"] = exc.user_message or "Your card was declined."
        except stripe.StripeError as exc:
            raise _failed(exc, "confirm") from None
        return {**answer, "status": intent.status, "clientSecret": intent.client_secret}


def page_url(attempt_id: str) -> str:
    return settings.BASE_URL + reverse(PAGE_URL_NAME, kwargs={"attempt_id": attempt_id})


def _header(headers: dict, name: str) -> str:
    wanted = {name.lower(), "http_" + name.lower().replace("-", "_")}
    for key, value in (headers or {}).items():
        if isinstance(key, str) and key.lower() in wanted:
            return str(value)
    return ""
