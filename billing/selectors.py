"""Billing reads. Payments are reached through their order (``checkout.selectors.access_order``
decides who may see an order); these answer what an order's payments are."""

from __future__ import annotations

import uuid

from billing.models import Payment, PaymentMethodUpdate, PaymentStatus
from checkout.models import Order, OrderStatus
from checkout.selectors import access_order
from pancake.api.actor import Actor
from pancake.api.errors import NotFound
from stores.models import Role

RETRYABLE = (PaymentStatus.PENDING, PaymentStatus.FAILED)


def latest_payment(order: Order) -> Payment | None:
    """The order's most recent payment (the one its checkout page shows)."""
    return order.payments.order_by("-created_at").first()


def payment_retryable(order: Order) -> Payment | None:
    """The payment a buyer can still pay on an unpaid order: its latest, pending or declined."""
    if order.status != OrderStatus.PENDING:
        return None
    payment = latest_payment(order)
    if payment is None or payment.status not in RETRYABLE:
        return None
    return payment


def stripe_payment(attempt_id: uuid.UUID) -> Payment | None:
    """The Stripe payment of a step-2 page (the attempt id is the payment's), with its order,
    session and store."""
    return (
        Payment.objects.select_related("order", "order__session", "order__session__store")
        .filter(pk=attempt_id, provider="stripe")
        .first()
    )


def stripe_card_update(attempt_id: uuid.UUID) -> PaymentMethodUpdate | None:
    """A subscription's card replacement (the portal's "Replace card") done on the Stripe page."""
    return (
        PaymentMethodUpdate.objects.select_related(
            "subscription__order__session__store", "subscription__order__session__version"
        )
        .filter(pk=attempt_id, provider="stripe")
        .first()
    )


def access_payment(
    actor: Actor, payment_id: uuid.UUID, *, lock: bool = False, min_role: str = Role.MEMBER
) -> Payment:
    """A payment of the caller's, in the caller's environment: one whose order
    ``checkout.selectors.access_order`` lets them see (a buyer: their own orders; a merchant:
    their stores', with at least ``min_role``). With ``lock``, its row locked (take the order's
    lock first if you need both). Anything else is the same 404."""
    found = Payment.objects.filter(pk=payment_id).values_list("order_id", "environment").first()
    if found is None or found[1] != actor.environment:
        raise NotFound("Payment not found", layer="order", field="paymentId")
    try:
        order = access_order(actor, found[0], min_role=min_role)
    except NotFound:
        raise NotFound("Payment not found", layer="order", field="paymentId") from None
    payments = Payment.objects.select_for_update() if lock else Payment.objects
    payment = payments.get(pk=payment_id)
    payment.order = order
    return payment
