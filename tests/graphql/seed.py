"""Rows for the GraphQL tests, written straight to the models (the checkout tests cover how
they are made through the API; here only their shape matters, and 200 orders must be cheap)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import (
    Payment,
    PlanChange,
    PlanChangeTiming,
    Refund,
    RefundTicket,
    RefundTicketVersion,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
)
from checkout.models import CheckoutSession, Order
from pancake.models import EmailDelivery
from products.models import ProductGroup, ProductGroupMembership
from products.services import product_create

US = {"country": "US", "isBusiness": False, "state": "TX", "postcode": "73301"}
DE_BUSINESS = {
    "country": "DE",
    "isBusiness": True,
    "businessName": "Beispiel GmbH",
    "taxId": "DE123456789",
}


def onetime(store, name="E-Book", amount=2900, publish=False):
    product = product_create(
        store=store,
        kind="onetime",
        name=name,
        prices={"USD": {"amount": amount, "taxCategory": "ebook"}},
        media=[{"type": "image", "url": "https://example.com/cover.jpg", "alt": "Cover"}],
        metadata={"sku": "ebook-001"},
    )
    if publish:
        product.prod_version = product.test_version
        product.prod_status = "active"
        product.save()
    return product


def subscription(store, name="Pro Plan", amount=999, trial_amount=100):
    prices = {"USD": {"amount": amount, "taxCategory": "saas"}}
    if trial_amount is not None:
        prices["USD"]["trialAmount"] = trial_amount
    return product_create(
        store=store,
        kind="subscription",
        name=name,
        prices=prices,
        billing_period="monthly",
        metadata={"trialDays": 7},
    )


def group(store, products, environment="test", name="Plans"):
    g = ProductGroup.objects.create(
        store=store, environment=environment, name=name, description="All plans", shared_trial=True
    )
    for i, p in enumerate(products):
        ProductGroupMembership.objects.create(group=g, product=p, position=i)
    return g


def _session(store, product, environment, email, *, trial=False, ref=None):
    version = product.test_version
    price = version.prices["USD"]
    return CheckoutSession(
        id=uuid.uuid4(),
        store=store,
        environment=environment,
        product=product,
        version=version,
        kind=product.kind,
        currency="USD",
        amount=price["amount"],
        tax_category=price["taxCategory"],
        trial_days=7 if trial else None,
        trial_amount=price.get("trialAmount") if trial else None,
        with_trial=trial,
        buyer_email=email,
        payment_methods=["card"],
        created_via="api_key",
        status="completed",
        order_merchant_external_id=ref,
        expires_at=timezone.now() + timedelta(hours=1),
    )


def orders(
    store,
    product,
    n=1,
    *,
    environment="test",
    email="buyer@example.com",
    identity=None,
    status=None,
    trial=False,
    ref=None,
    payment_status="succeeded",
    billing=None,
):
    """``n`` orders of ``product`` with one payment each (bulk: three INSERTs in all)."""
    sessions, rows, payments = [], [], []
    kind = product.kind
    for _ in range(n):
        session = _session(store, product, environment, email, trial=trial, ref=ref)
        sessions.append(session)
        subtotal = session.amount
        tax = subtotal * 825 // 10000
        order = Order(
            id=uuid.uuid4(),
            store=store,
            environment=environment,
            session=session,
            product=product,
            version=session.version,
            kind=kind,
            status=status or ("completed" if kind == "onetime" else "active"),
            currency="USD",
            subtotal=subtotal,
            tax_amount=tax,
            total=subtotal + tax,
            tax_rate=Decimal("0.0825"),
            buyer_email=email,
            buyer_identity=identity,
            billing_detail=billing or US,
            order_merchant_external_id=ref,
            with_trial=trial,
        )
        rows.append(order)
        charge = (session.trial_amount or 0) if trial else order.total
        payments.append(
            Payment(
                id=uuid.uuid4(),
                order=order,
                store=store,
                environment=environment,
                amount=charge,
                tax_amount=0 if trial else tax,
                currency="USD",
                status=payment_status,
                provider="test",
                provider_payment_id=str(uuid.uuid4()),
                payment_method="card",
                payment_method_details={
                    "brand": "visa",
                    "last4": "4242",
                    "expMonth": 12,
                    "expYear": 2030,
                },
                failure_message="Your card was declined." if payment_status == "failed" else "",
                billing_detail=billing or US,
                order_merchant_external_id=ref,
            )
        )
    # Batches under PostgreSQL's 65,535 parameters of one statement (bound server-side).
    CheckoutSession.objects.bulk_create(sessions, batch_size=1000)
    Order.objects.bulk_create(rows, batch_size=1000)
    Payment.objects.bulk_create(payments, batch_size=1000)
    return rows


def subscriptions_of(orders, *, start=None, **fields) -> list[Subscription]:
    """A started monthly subscription (period 1, from ``start``) for each seeded subscription
    order, in one INSERT; ``fields`` override the row's values (``status``, ``credit_balance``…).
    The order keeps the status it was seeded with."""
    start = start or timezone.now()
    rows = [
        Subscription(
            order=order,
            store_id=order.store_id,
            environment=order.environment,
            product_id=order.product_id,
            version=order.version,
            currency=order.currency,
            price_amount=order.subtotal,
            subtotal=order.subtotal,
            tax_amount=order.tax_amount,
            total=order.total,
            tax_rate=order.tax_rate,
            **{
                "billing_period": "monthly",
                "tax_category": "saas",
                "status": "active",
                "anchor_at": start,
                "period_number": 1,
                "current_period_start": start,
                "current_period_end": start + timedelta(days=31),
                "provider": "test",
                "method_token": "tok_seed",
                "payment_method": "card",
                **fields,
            },
        )
        for order in orders
    ]
    return Subscription.objects.bulk_create(rows)


def scheduled_change(subscription, product, amount=1999) -> PlanChange:
    """A plan change of ``subscription`` to ``product`` waiting for the period's end."""
    return PlanChange.objects.create(
        subscription=subscription,
        from_version=subscription.version,
        to_product=product,
        to_version=product.test_version,
        timing=PlanChangeTiming.NEXT_PERIOD,
        status=PlanChange.Status.SCHEDULED,
        price_amount=amount,
        tax_category="saas",
        effective_at=subscription.current_period_end,
    )


def webhook(store, environment="test", url="https://hooks.example.com/pancake"):
    return WebhookEndpoint.objects.create(
        store=store,
        environment=environment,
        channel="http",
        url=url,
        events=["order.completed"],
        api_version="2026-09-23",
    )


def delivery(endpoint, status="failed"):
    return WebhookDelivery.objects.create(
        endpoint=endpoint,
        store=endpoint.store,
        environment=endpoint.environment,
        event_type="order.completed",
        subject_id=uuid.uuid4(),
        aggregate_id=uuid.uuid4(),
        channel="http",
        url=endpoint.url,
        body='{"eventType":"order.completed","data":{}}',
        status=status,
        attempt_count=2,
        last_status_code=500,
        last_error="HTTP 500",
        last_attempted_at=timezone.now(),
    )


def email(store, environment="test", status="failed"):
    return EmailDelivery.objects.create(
        store=store,
        environment=environment,
        event_type="order.completed",
        event_id=str(uuid.uuid4()),
        recipient_type="buyer",
        to_address="buyer@example.com",
        subject="Your order",
        status=status,
        error_message="SMTP refused" if status == "failed" else "",
        attempt_count=1,
    )


def tickets(
    payments,
    *,
    status="pending",
    amount=None,
    ref=None,
    reason="Not as described",
    submitter="customer",
    versions=1,
    refund=None,
):
    """A refund ticket for each payment (``amount`` default: all of it) with its ``versions``
    submissions, and when ``refund`` is a status, its refund (bulk: three INSERTs or four).
    ``ref`` is the merchant's reference (a ``{n}`` in it is numbered). A succeeded refund adds
    to its payment's refunded amount and status, as the refund service does."""
    now = timezone.now()
    rows, history, refunds = [], [], []
    final = status in ("rejected", "succeeded", "failed")
    for i, payment in enumerate(payments):
        asked = amount or payment.amount
        approved = asked if status in ("approved", "processing", "succeeded", "failed") else None
        ticket = RefundTicket(
            id=uuid.uuid4(),
            store_id=payment.store_id,
            environment=payment.environment,
            payment=payment,
            order_id=payment.order_id,
            status=status,
            submitter_type=submitter,
            submitter_id="buyer@example.com" if submitter == "customer" else "merchant",
            reason=reason,
            requested_amount=asked,
            approved_amount=approved,
            currency=payment.currency,
            metadata={"source": "app"},
            refund_ticket_merchant_external_id=ref.format(n=i) if ref else None,
            version_number=versions,
            reviewed_at=now if status != "pending" else None,
            review_note="ok" if approved else "",
            reject_reason="Used the product" if status == "rejected" else "",
            executed_at=now if status in ("succeeded", "failed") else None,
            resolved_at=now if final else None,
        )
        rows.append(ticket)
        for number in range(1, versions + 1):
            history.append(
                RefundTicketVersion(
                    ticket=ticket,
                    number=number,
                    reason=reason if number == versions else f"{reason} ({number})",
                    requested_amount=asked,
                    currency=payment.currency,
                    previous_reject_reason="" if number == 1 else "Used the product",
                )
            )
        if refund is not None:
            refunds.append(
                Refund(
                    store_id=payment.store_id,
                    environment=payment.environment,
                    ticket=ticket,
                    payment=payment,
                    amount=approved or asked,
                    currency=payment.currency,
                    status=refund,
                    provider="test",
                    provider_refund_id=str(uuid.uuid4()),
                    failure_message="Refused" if refund == "failed" else "",
                    executed_at=now if refund in ("succeeded", "failed") else None,
                )
            )
    RefundTicket.objects.bulk_create(rows, batch_size=1000)
    RefundTicketVersion.objects.bulk_create(history, batch_size=1000)
    Refund.objects.bulk_create(refunds, batch_size=1000)
    for row in refunds:
        if row.status == "succeeded":
            payment = row.payment
            payment.refunded_amount += row.amount
            payment.status = (
                "refunded" if payment.refunded_amount >= payment.amount else "partially_refunded"
            )
            Payment.objects.filter(pk=payment.pk).update(
                refunded_amount=payment.refunded_amount, status=payment.status
            )
    return rows
