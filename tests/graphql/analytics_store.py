"""A hand-built store for the analytics tests: every row written with the dates and amounts the
tests compute their answers from (docs/analytics.md has the definitions).

In the window [2026-03-01, 2026-05-01) UTC, test environment:

- alice@example.com (also as Alice@Example.com) buys the e-book twice in USD: 10.00 + 1.00 tax
  on 03-05 (TX, visa) and 30.00 + 3.00 tax on 04-10 (CA, mastercard), the second refunded 10.00
  through an approved ticket; she had paid 5.00 on 02-20 (before the window);
- bob@example.com, a business (Bob Inc, WA), buys it in EUR: 20.00, no tax, 03-20 (visa);
- carol@example.com subscribes monthly (USD 9.99, NY, visa) on 03-10 and cancels on 04-15;
- dave@example.com's payment fails (card_declined) on 03-15;
- erin@example.com starts a trial on 04-20 (ends 05-20), nothing paid;
- a ticket on alice's first charge (5.00) is rejected;
- a prod-environment charge of 77.77 the test key never sees.
"""

from datetime import UTC, datetime, timedelta
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
from checkout.models import Order
from pancake.models import Environment
from tests.factories import OrderFactory, ProductFactory

START = "2026-03-01T00:00:00Z"
END = "2026-05-01T00:00:00Z"
TEST = Environment.TEST


def at(month, day, hour=12):
    return datetime(2026, month, day, hour, tzinfo=UTC)


def _order(product, email, when, status, detail, currency, env=TEST):
    order = OrderFactory(
        product=product,
        buyer_email=email,
        billing_detail=detail,
        payment=False,
        session__currency=currency,
    )
    Order.objects.filter(pk=order.pk).update(created_at=when, status=status, environment=env)
    order.refresh_from_db()
    return order


def charge(
    product,
    email,
    amount,
    tax,
    when,
    *,
    currency="USD",
    detail=None,
    brand="visa",
    status=PaymentStatus.SUCCEEDED,
    order_status="completed",
    failure="",
    env=TEST,
):
    detail = detail or {"country": "US", "state": "TX", "isBusiness": False}
    order = _order(product, email, when, order_status, detail, currency, env)
    ok = status != PaymentStatus.FAILED
    payment = Payment.objects.create(
        order=order,
        store=order.store,
        product=product,
        environment=env,
        amount=amount,
        tax_amount=tax,
        currency=currency,
        status=status,
        provider="test",
        payment_method="card",
        payment_method_details={"type": "card", "brand": brand, "last4": "4242"},
        billing_detail=detail,
        failure_code=failure,
        paid_at=when if ok else None,
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=when)
    payment.refresh_from_db()
    return payment


def ticket(payment, amount, reason, created, reviewed, status):
    row = RefundTicket.objects.create(
        store=payment.store,
        environment=TEST,
        payment=payment,
        order=payment.order,
        status=status,
        submitter_type=SubmitterType.CUSTOMER,
        submitter_id=payment.order.buyer_email,
        reason=reason,
        requested_amount=amount,
        approved_amount=amount if status == RefundTicketStatus.SUCCEEDED else None,
        currency=payment.currency,
        reviewed_at=reviewed,
        resolved_at=reviewed,
    )
    RefundTicket.objects.filter(pk=row.pk).update(created_at=created)
    return row


def build(store):
    book = ProductFactory(
        store=store,
        name="E-Book",
        prices={
            "USD": {"amount": 1000, "taxCategory": "saas"},
            "EUR": {"amount": 2000, "taxCategory": "saas"},
        },
    )
    plan = ProductFactory(store=store, subscription=True)
    tx = {"country": "US", "state": "TX", "isBusiness": False}
    ca = {"country": "US", "state": "CA", "isBusiness": False}
    ny = {"country": "US", "state": "NY", "isBusiness": False}
    biz = {"country": "US", "state": "WA", "isBusiness": True, "businessName": "Bob Inc"}

    charge(book, "alice@example.com", 500, 0, at(2, 20), detail=tx)
    first = charge(book, "alice@example.com", 1100, 100, at(3, 5), detail=tx)
    second = charge(book, "Alice@Example.com", 3300, 300, at(4, 10), detail=ca, brand="mastercard")
    charge(book, "bob@example.com", 2000, 0, at(3, 20), currency="EUR", detail=biz)
    carol = charge(plan, "carol@example.com", 999, 0, at(3, 10), detail=ny, order_status="canceled")
    charge(
        book,
        "dave@example.com",
        1100,
        100,
        at(3, 15),
        status=PaymentStatus.FAILED,
        order_status="pending",
        failure="card_declined",
    )
    charge(book, "zed@example.com", 7777, 0, at(3, 5), env=Environment.PROD)

    sub = Subscription.objects.create(
        order=carol.order,
        store=store,
        environment=TEST,
        product=plan,
        version=carol.order.version,
        billing_period="monthly",
        currency="USD",
        price_amount=999,
        tax_category="saas",
        subtotal=999,
        tax_amount=0,
        total=999,
        tax_rate=Decimal(0),
        status=SubscriptionStatus.CANCELED,
        current_period_start=at(4, 10),
        current_period_end=at(5, 10),
        canceled_at=at(4, 15),
        ended_at=at(4, 15),
        provider="test",
    )
    Subscription.objects.filter(pk=sub.pk).update(created_at=at(3, 10))
    Payment.objects.filter(pk=carol.pk).update(subscription=sub)
    trial_order = _order(plan, "erin@example.com", at(4, 20), "trialing", ny, "USD")
    trial = Subscription.objects.create(
        order=trial_order,
        store=store,
        environment=TEST,
        product=plan,
        version=trial_order.version,
        billing_period="monthly",
        currency="USD",
        price_amount=999,
        tax_category="saas",
        subtotal=999,
        tax_amount=0,
        total=999,
        tax_rate=Decimal(0),
        status=SubscriptionStatus.TRIALING,
        current_period_start=at(4, 20),
        current_period_end=at(5, 20),
        trial_end_at=at(5, 20),
        provider="test",
    )
    Subscription.objects.filter(pk=trial.pk).update(created_at=at(4, 20))

    approved = ticket(
        second,
        1000,
        "Not as described",
        at(4, 11, 10),
        at(4, 11, 12),
        RefundTicketStatus.SUCCEEDED,
    )
    Refund.objects.create(
        store=store,
        environment=TEST,
        ticket=approved,
        payment=second,
        amount=1000,
        currency="USD",
        status=RefundStatus.SUCCEEDED,
        provider="test",
        executed_at=at(4, 11, 13),
    )
    Refund.objects.filter(ticket=approved).update(created_at=at(4, 11, 13))
    Payment.objects.filter(pk=second.pk).update(
        refunded_amount=1000, status=PaymentStatus.PARTIALLY_REFUNDED
    )
    ticket(first, 500, "Changed my mind", at(3, 6, 0), at(3, 6, 6), RefundTicketStatus.REJECTED)
    return {"book": book, "plan": plan}


def extra_charges(store, n, first=0):
    """``n`` more paid charges in the window, each by its own buyer (for the statement
    counts)."""
    book = ProductFactory(store=store, name=f"Extra {first}")
    for i in range(first, first + n):
        charge(book, f"x{i}@example.com", 100 + i, 0, at(3, 1 + i % 28) + timedelta(minutes=i))
