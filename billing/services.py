"""Billing writes: payments, and provider notifications applied exactly once.

Billing owns ``Payment`` and ``ProviderEvent`` (and the webhook tables, in ``billing.webhooks``).
Orders and sessions belong to checkout: billing changes them only through
``checkout.services`` (``order_create``, ``order_mark_paid``, ``order_cancel``, ``lock_order``).
Locks are taken in one order everywhere: the order, then its payments.
"""

from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing import disputes, events
from billing.fees import platform_fee
from billing.invoices import services as invoices
from billing.models import Payment, PaymentStatus, ProviderEvent, StripeIntent
from billing.providers import HostedPayment, Notification, get_provider, provider_name
from billing.selectors import payment_retryable
from billing.subscriptions import lifecycle, payment_methods, plan_changes, renewals
from checkout import presenters
from checkout import services as checkout_services
from checkout.models import CheckoutSession, Order, OrderKind, OrderStatus
from checkout.trials import first_charge
from pancake.api import prepared
from pancake.api.actor import Actor
from pancake.api.errors import Conflict, NotFound
from pancake.models import Environment
from pancake.outbox import emit
from stores import branding

logger = logging.getLogger(__name__)

# Payments charged off-session (``charge_saved``): their outcome is the charge's answer.
OFF_SESSION_PURPOSES = (renewals.RENEWAL, plan_changes.PLAN_CHANGE)
# Internal (not one of the SDK's webhook events): a chargeback opened on a payment.
PAYMENT_DISPUTED = disputes.PAYMENT_DISPUTED


def lock_payment(payment_id) -> Payment:
    return Payment.objects.select_for_update().get(pk=payment_id)


# --- an order's first payment --------------------------------------------------------------------


def order_place(
    *,
    actor: Actor | None,
    kind: str,
    session_id: uuid.UUID,
    billing_detail=None,
    buyer_email: str | None = None,
    buyer_ip: str | None = None,
    buyer_ip_country: str | None = None,
    success_url: str | None = None,
    language: str | None = None,
) -> tuple[Order, str]:
    """Place an order and open its first payment: checkout's order for the session
    (``checkout.services.order_create``), its pending payment, and the provider's hosted page,
    all in one transaction; returns the order and that page's URL. A provider failure (502)
    rolls all of it back, so the caller may simply retry.

    A session that already has an unpaid order (a second call, a buyer back from a decline)
    answers that order's payment page again; one that cannot be paid any more is 409. The
    arguments are ``order_create``'s."""
    # No savepoint of its own: an action's transaction already wraps it.
    with transaction.atomic(savepoint=False):
        order, created = checkout_services.order_create(
            actor=actor,
            kind=kind,
            session_id=session_id,
            billing_detail=billing_detail,
            buyer_email=buyer_email,
            buyer_ip=buyer_ip,
            buyer_ip_country=buyer_ip_country,
            success_url=success_url,
            language=language,
        )
        if not created:
            payment = payment_retryable(order)
            if payment is None:
                raise Conflict(checkout_services.SESSION_INVALID, layer="order")
            return order, payment_page_url(payment, order)
        amount, tax_amount = first_charge(order.session, order.total, order.tax_amount)
        _payment, url = payment_start(order=order, amount=amount, tax_amount=tax_amount)
    return order, url


def payment_start(*, order: Order, amount: int, tax_amount: int) -> tuple[Payment, str]:
    """A new pending payment of ``amount`` for ``order`` and the provider's hosted page for it
    (its id is the provider's idempotency key). The row is written after the provider answered,
    in the caller's transaction: one INSERT, and a provider failure leaves nothing."""
    session = order.session
    provider = get_provider(order.environment)
    payment = Payment(
        id=uuid.uuid4(),
        order=order,
        store_id=order.store_id,
        environment=order.environment,
        product_id=order.product_id,
        amount=amount,
        tax_amount=tax_amount,
        currency=order.currency,
        provider=provider.name,
        billing_detail=order.billing_detail,
        order_merchant_external_id=session.order_merchant_external_id,
    )
    hosted = _hosted_payment(payment, order)
    payment.provider_payment_id = hosted.provider_payment_id
    prepared.insert(payment)  # save(force_insert=True), compiled once
    return payment, hosted.url


def payment_page_url(payment: Payment, order: Order | None = None) -> str:
    """The provider's page for an unpaid payment (the same page again: same attempt id)."""
    return _hosted_payment(payment, order or payment.order).url


def _hosted_payment(payment: Payment, order: Order) -> HostedPayment:
    """The provider's hosted page for ``payment``, in the buyer's checkout language, showing
    the order's lines and the store's checkout look."""
    session = order.session
    language = session.checkout_language or "en"
    display = presenters.provider_display(order, payment.amount, language)
    display["branding"] = _provider_branding(session)
    return get_provider(payment.environment).create_payment(
        attempt_id=str(payment.pk),
        amount=payment.amount,
        currency=payment.currency,
        description=session.version.name,
        return_url=checkout_services.checkout_url(session),
        save_method=order.kind == OrderKind.SUBSCRIPTION,
        metadata={"orderId": str(order.pk), "paymentId": str(payment.pk)},
        locale=language,
        display=display,
    )


def _provider_branding(session: CheckoutSession) -> dict:
    """The store's checkout look for the provider's page, as a provider's branding options take
    it (Stripe Checkout: brand colour, logo, shape): the theme step 1 shows (the session's
    ``darkMode`` over the store's default), its colours and radius in the ``checkoutSettings``
    keys, the logo (the store's own without a theme logo) and the store's name. The provider
    checks every value again before it goes into a page."""
    name, values, logo = branding.store_look(session.store, session.dark_mode)
    return {
        "theme": name,
        **{key: values.get(key) for key in branding.THEME_KEYS if key != "checkoutLogo"},
        "logo": logo,
        "storeName": session.store.name,
    }


def order_cancel(*, actor: Actor, order_id: uuid.UUID) -> Order:
    """Cancel a pending one-time order (``checkout.services.order_cancel`` decides who may and
    when) and void its pending payment, in one transaction; the order is locked first."""
    with transaction.atomic():
        order = checkout_services.order_cancel(actor=actor, order_id=order_id)
        Payment.objects.filter(order=order, status=PaymentStatus.PENDING).update(
            status=PaymentStatus.FAILED, failure_code="canceled", updated_at=timezone.now()
        )
    return order


# --- provider notifications ----------------------------------------------------------------------


def notification_receive(*, environment: str, headers: dict, body: bytes) -> Payment | None:
    """Verify a provider notification and apply it once (``notification_apply``)."""
    provider = get_provider(environment)
    notification = provider.parse_notification(headers=headers, body=body)
    return notification_apply(provider.name, notification)


def stripe_webhook_receive(*, headers: dict, body: bytes) -> Payment | None:
    """A Stripe webhook (``POST /providers/stripe/webhook``): verified with the webhook secret,
    then applied once like any provider notification. One Stripe account may serve both
    environments: the payment the event is about has its own. 404 when no environment uses
    Stripe."""
    environments = [
        env for env in (Environment.PROD, Environment.TEST) if provider_name(env) == "stripe"
    ]
    if not environments:
        raise NotFound("Stripe is not enabled")
    provider = get_provider(environments[0])
    notification = provider.parse_notification(headers=headers, body=body)
    return notification_apply(provider.name, notification)


def provider_payment_sync(*, environment: str, attempt_id: str) -> Payment | None:
    """Ask the provider for the outcome of an attempt's hosted payment and apply it once (the
    return page's re-check, when the webhook has not arrived yet: the same event id as the
    webhook's, so whichever comes second changes nothing). Providers without a way to ask
    (the test processor delivers in-process) answer nothing."""
    provider = get_provider(environment)
    ask = getattr(provider, "intent_notification", None)
    notification = ask(attempt_id) if ask is not None else None
    if notification is None:
        return None
    return notification_apply(provider.name, notification)


def notification_apply(provider_name: str, notification: Notification) -> Payment | None:
    """Apply a verified notification once: the (provider, event id) row is written
    in the same transaction, so a redelivery changes nothing. Moves the payment to succeeded or
    failed; a success marks the order paid (``checkout.services.order_mark_paid``). Locks the
    order, then the payment. Emits the order's events (``order.completed``,
    ``subscription.activated`` …), whose consumers send the webhooks and the emails. A success
    freezes the platform's fee on the payment and issues its invoice in the same transaction
    (``billing.invoices.services.invoice_issue``; a trial's zero payment gets none). A
    notification of a subscription's method update (no payment has its id) replaces the
    subscription's saved method (``billing.subscriptions.payment_methods``), once too. A
    notification about an off-session charge (a renewal, a plan change) is recorded only: the
    charge's answer is its outcome, applied by the engine that charged. A dispute
    (chargeback) flags the payment and emits ``payment.disputed`` (the merchant's notification);
    a refund the provider reports is recorded (refunds are applied when Pancake makes them)."""
    with transaction.atomic():
        found = (
            Payment.objects.filter(
                provider=provider_name, provider_payment_id=notification.provider_payment_id
            )
            .only("pk", "order_id", "purpose")
            .first()
            if notification.provider_payment_id
            else None
        )
        if not _first_delivery(provider_name, notification.event_id, found):
            return found  # applied before
        if notification.kind == "ignored":
            return found
        if (
            notification.kind == "payment"
            and found is not None
            and found.purpose in OFF_SESSION_PURPOSES
        ):
            # An off-session charge's outcome is the charge's answer, recorded by the renewal
            # engine or the plan change (a webhook about it may arrive before or after): the
            # provider's event about it is recorded, nothing more.
            return found
        if notification.kind in ("refund", "dispute"):
            if found is None:
                logger.warning(
                    "%s %s: no payment %s",
                    provider_name,
                    notification.kind,
                    notification.provider_payment_id,
                )
                return None
            order = checkout_services.lock_order(found.order_id)
            payment = lock_payment(found.pk)
            payment.order = order
            if notification.kind == "dispute":
                _dispute(payment, notification)
            elif (
                notification.refunded_amount or 0
            ) > payment.refunded_amount + payment.refunding_amount:
                logger.warning(
                    "%s payment %s: refunded %s at the provider, %s in Pancake",
                    provider_name,
                    payment.pk,
                    notification.refunded_amount,
                    payment.refunded_amount,
                )
            return payment
        if found is None:  # a subscription's new payment method being saved, or nothing
            update_id = payment_methods.update_for_notification(
                provider_name, notification.provider_payment_id
            )
            if update_id is not None:
                payment_methods.method_update_apply(update_id, notification)
            return None
        order = checkout_services.lock_order(found.order_id)
        payment = lock_payment(found.pk)
        payment.order = order
        if payment.status not in (
            PaymentStatus.PENDING,
            PaymentStatus.PROCESSING,
            PaymentStatus.FAILED,
        ):
            return payment
        _apply(payment, notification)
        subscription = None
        if payment.status == PaymentStatus.SUCCEEDED:
            was_pending = order.status == OrderStatus.PENDING
            checkout_services.order_mark_paid(order=order, paid_at=payment.paid_at)
            if was_pending and order.kind == OrderKind.SUBSCRIPTION:
                subscription = lifecycle.start(order=order, payment=payment)
            invoices.invoice_issue(payment, subscription=subscription)
        _emit_payment_events(payment, subscription)
    return payment


def _dispute(payment: Payment, notification: Notification) -> None:
    """Flag the locked payment as disputed (once: a second dispute of it keeps the first) and
    emit ``payment.disputed``, which notifies the merchant (``notifyChargeback``)."""
    if payment.dispute_id:
        return
    payment.dispute_id = (notification.dispute_id or "")[:100]
    payment.dispute_reason = (notification.dispute_reason or "")[:64]
    payment.disputed_at = timezone.now()
    payment.save(update_fields=["dispute_id", "dispute_reason", "disputed_at", "updated_at"])
    order = payment.order
    data = events.event_data(order=order, payment=payment)
    data["reason"] = payment.dispute_reason
    data["disputedAmount"] = (
        notification.amount if notification.amount is not None else payment.amount
    )
    emit(
        store_id=order.store_id,
        environment=order.environment,
        event_type=PAYMENT_DISPUTED,
        subject_id=payment.pk,
        aggregate_id=order.pk,
        data=data,
    )


def _first_delivery(provider: str, event_id: str, payment: Payment | None) -> bool:
    """Record the provider's event; False when it was recorded before (a redelivery)."""
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(provider=provider, event_id=event_id, payment=payment)
    except IntegrityError:
        return False
    return True


def _apply(payment: Payment, notification) -> None:
    """The notification's outcome on the locked payment row: method details, and succeeded
    (with the saved method's token) or failed (with the provider's reason)."""
    if notification.method is not None:
        payment.payment_method = notification.method.type
        payment.payment_method_details = notification.method.as_dict()
    if notification.status == "succeeded":
        payment.status = PaymentStatus.SUCCEEDED
        payment.paid_at = timezone.now()
        payment.failure_code = payment.failure_message = ""
        payment.method_token = notification.method_token or payment.method_token
        payment.fee_amount = platform_fee(payment.amount, payment.currency)
    else:
        payment.status = PaymentStatus.FAILED
        payment.failure_code = notification.failure_code or ""
        payment.failure_message = (notification.failure_message or "")[:255]
    payment.save()


def _emit_payment_events(payment: Payment, subscription=None) -> None:
    """Events of a first payment, in the order they happened: the subscription's activation
    before its payment; ``payment.failed`` is internal (the SDK's 14 have no one-time failure)."""
    order = payment.order
    if payment.status == PaymentStatus.SUCCEEDED:
        if order.kind == OrderKind.ONETIME:
            types = ["order.completed"]
        else:
            types = ["subscription.activated"]
            if payment.amount > 0:
                types.append("subscription.payment_succeeded")
    else:
        types = ["payment.failed"]
    data = events.event_data(order=order, payment=payment, subscription=subscription)
    for event_type in types:
        emit(
            store_id=order.store_id,
            environment=order.environment,
            event_type=event_type,
            subject_id=payment.pk,
            aggregate_id=order.pk,
            data=data,
        )


def test_processor_notification_receive(*, headers: dict, body: bytes) -> Payment | None:
    """The built-in test processor delivers in-process (settings.TEST_PROCESSOR_NOTIFICATION_
    HANDLER): the same verification and exactly-once path as a provider's webhook."""
    return notification_receive(environment="test", headers=headers, body=body)


test_processor_notification_receive.__test__ = False  # not a pytest test, despite its name


# --- Stripe's step-2 page ------------------------------------------------------------------------


def stripe_page_data(attempt_id) -> dict:
    """What the Stripe step-2 page (``checkout:stripe-pay``) needs for an attempt: the
    publishable key, Stripe.js's address, the intent's client secret and kind (``payment``:
    ``confirmCardPayment``; ``setup``: ``confirmCardSetup``), amount, currency, return URL,
    language and display (``billing.providers.stripe.StripeProvider.page_data``). 404 for an
    attempt that has no Stripe intent."""
    environment = (
        StripeIntent.objects.filter(attempt_id=str(attempt_id))
        .values_list("environment", flat=True)
        .first()
    )
    provider = get_provider(environment) if environment else None
    if provider is None or provider.name != "stripe":
        raise NotFound("Payment not found")
    return provider.page_data(str(attempt_id))


def stripe_confirm(attempt_id, payment_method_id: str) -> dict:
    """Confirm the attempt's PaymentIntent with the PaymentMethod the page made (server-side
    confirmation); ``{"status", "clientSecret", "failureCode", "failureMessage"}``."""
    environment = (
        StripeIntent.objects.filter(attempt_id=str(attempt_id))
        .values_list("environment", flat=True)
        .first()
    )
    provider = get_provider(environment) if environment else None
    if provider is None or provider.name != "stripe":
        raise NotFound("Payment not found")
    return provider.confirm_with_method(str(attempt_id), payment_method_id)
