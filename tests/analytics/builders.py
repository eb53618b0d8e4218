"""Rows for the analytics tests, written directly with the dates and amounts a test states (the
figures read rows; how the services reach them is tested elsewhere)."""

import uuid
from datetime import timedelta
from decimal import Decimal

from billing.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    RefundTicket,
    RefundTicketStatus,
    SubmitterType,
    Subscription,
    SubscriptionStatus,
)
from pancake.models import Environment
from tests.factories import OrderFactory, ProductFactory

ENV = Environment.TEST


def product(store, name="E-Book", currency="USD", **kwargs):
    return ProductFactory(
        store=store,
        name=name,
        prices={currency: {"amount": 1000, "taxCategory": "saas"}},
        **kwargs,
    )


def order(product, email):
    """The order's own billing details (taxed by the engine) do not matter here: the figures
    read the payment's."""
    return OrderFactory(product=product, buyer_email=email, payment=False)


def pay(
    product,
    email,
    amount,
    tax,
    paid_at,
    *,
    currency="USD",
    country="US",
    fee=None,
    status=PaymentStatus.SUCCEEDED,
):
    o = order(product, email)
    return Payment.objects.create(
        order=o,
        store=o.store,
        product=product,
        environment=ENV,
        amount=amount,
        tax_amount=tax,
        currency=currency,
        status=status,
        provider="test",
        provider_payment_id=f"tp_{uuid.uuid4()}",
        billing_detail={"country": country, "isBusiness": False},
        fee_amount=fee,
        paid_at=paid_at if status != PaymentStatus.FAILED else None,
    )


def refund(payment, amount, executed_at, *, status=RefundStatus.SUCCEEDED):
    ticket = RefundTicket.objects.create(
        store=payment.store,
        environment=ENV,
        payment=payment,
        order=payment.order,
        status=RefundTicketStatus.APPROVED,
        submitter_type=SubmitterType.MERCHANT,
        submitter_id="merchant",
        reason="test",
        requested_amount=amount,
        approved_amount=amount,
        currency=payment.currency,
    )
    row = Refund.objects.create(
        store=payment.store,
        environment=ENV,
        ticket=ticket,
        payment=payment,
        amount=amount,
        currency=payment.currency,
        status=status,
        provider="test",
        executed_at=executed_at if status == RefundStatus.SUCCEEDED else None,
    )
    if status == RefundStatus.SUCCEEDED:
        payment.refunded_amount += amount
        payment.status = (
            PaymentStatus.REFUNDED
            if payment.refunded_amount == payment.amount
            else PaymentStatus.PARTIALLY_REFUNDED
        )
        payment.save(update_fields=["refunded_amount", "status"])
    return row


def subscribe(
    product,
    email,
    *,
    period,
    pretax,
    tax=0,
    created_at,
    status=SubscriptionStatus.ACTIVE,
    trial_end_at=None,
    ended_at=None,
    paused_at=None,
    currency="USD",
):
    o = order(product, email)
    sub = Subscription.objects.create(
        order=o,
        store=o.store,
        environment=ENV,
        product=product,
        version=o.version,
        billing_period=period,
        currency=currency,
        price_amount=pretax,
        tax_category="saas",
        subtotal=pretax,
        tax_amount=tax,
        total=pretax + tax,
        tax_rate=Decimal(0),
        status=status,
        current_period_start=created_at,
        current_period_end=created_at + timedelta(days=30),
        trial_end_at=trial_end_at,
        ended_at=ended_at,
        paused_at=paused_at,
        provider="test",
    )
    Subscription.objects.filter(pk=sub.pk).update(created_at=created_at)
    sub.refresh_from_db()
    return sub
