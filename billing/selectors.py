"""Billing reads. Payments are reached through their order (``checkout.selectors.access_order``
decides who may see an order); these answer what an order's payments are."""

from __future__ import annotations

from billing.models import Payment, PaymentStatus
from checkout.models import Order, OrderStatus

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
