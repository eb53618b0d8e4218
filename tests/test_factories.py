"""The factories build the rows the services build: a factory-made session, order and payment
equal, column for column, the ones the API and the test processor make for the same product and
buyer, in each common state; and a factory-made paid order is what GraphQL and the hosted
checkout show as paid."""

import json

import pytest
from django.test import Client

from billing.models import Payment
from checkout.models import CheckoutSession, Order
from pancake.api import ids
from products.models import Product
from tests.factories import (
    US_BUYER,
    CheckoutSessionFactory,
    OrderFactory,
    PaymentFactory,
    ProductFactory,
)
from tests.helpers import buy, deliver, pay

SESSION_COLUMNS = [
    "store_id", "environment", "product_id", "version_id", "kind", "currency", "amount",
    "tax_category", "tax_included", "price_overridden", "trial_days", "trial_amount",
    "with_trial", "buyer_email", "buyer_identity", "billing_detail", "success_url", "metadata",
    "payment_methods", "order_merchant_external_id", "created_via", "status",
]  # fmt: skip
ORDER_COLUMNS = [
    "store_id", "environment", "product_id", "version_id", "kind", "status", "currency",
    "subtotal", "tax_amount", "total", "tax_rate", "tax_name", "reverse_charge", "tax_evidence",
    "buyer_email", "buyer_identity", "billing_detail", "success_url", "metadata",
    "order_merchant_external_id", "with_trial",
]  # fmt: skip
PAYMENT_COLUMNS = [
    "store_id", "environment", "amount", "tax_amount", "currency", "status", "provider",
    "payment_method", "payment_method_details", "failure_code", "failure_message",
    "billing_detail", "refunded_amount", "order_merchant_external_id",
]  # fmt: skip


def columns(row, names) -> dict:
    return {name: getattr(row, name) for name in names}


ONE_TIME, SUBSCRIPTION, TRIAL = {}, {"subscription": True}, {"trial": True}


@pytest.mark.parametrize(
    ("product_traits", "paid", "session_extras", "statuses"),
    [
        pytest.param(ONE_TIME, False, {}, ("pending", "pending"), id="one-time, pending"),
        pytest.param(ONE_TIME, True, {}, ("completed", "succeeded"), id="one-time, paid"),
        pytest.param(SUBSCRIPTION, True, {}, ("active", "succeeded"), id="subscription, paid"),
        pytest.param(TRIAL, False, {"withTrial": True}, ("pending", "pending"), id="trial"),
        pytest.param(TRIAL, True, {"withTrial": True}, ("trialing", "succeeded"), id="trial, paid"),
    ],
)
def test_factory_rows_equal_the_rows_the_api_and_the_provider_make(
    api, store, product_traits, paid, session_extras, statuses, django_capture_on_commit_callbacks
):
    product = ProductFactory(store=store, **product_traits)
    made = buy(
        api,
        product,
        currency="USD",
        billing=US_BUYER,
        session=session_extras,
        subscription=product.kind == "subscription",
    )
    if paid:
        deliver(pay(made), django_capture_on_commit_callbacks)
        made.refresh_from_db()

    built = OrderFactory(product=product, paid=paid, **product_traits).payments.get()

    assert (made.order.status, made.status) == statuses
    assert columns(built, PAYMENT_COLUMNS) == columns(made, PAYMENT_COLUMNS)
    assert columns(built.order, ORDER_COLUMNS) == columns(made.order, ORDER_COLUMNS)
    built_session = CheckoutSession.objects.get(pk=built.order.session_id)
    made_session = CheckoutSession.objects.get(pk=made.order.session_id)
    assert columns(built_session, SESSION_COLUMNS) == columns(made_session, SESSION_COLUMNS)


def test_a_declined_payment_equals_the_one_a_declined_test_card_leaves(
    api, store, django_capture_on_commit_callbacks
):
    product = ProductFactory(store=store)
    made = buy(api, product, currency="USD", billing=US_BUYER)
    deliver(pay(made, number="4000000000000002"), django_capture_on_commit_callbacks)
    made.refresh_from_db()

    built = OrderFactory(product=product, payment__declined=True).payments.get()

    assert (made.order.status, made.status) == ("pending", "failed")
    assert columns(built, PAYMENT_COLUMNS) == columns(made, PAYMENT_COLUMNS)
    assert columns(built.order, ORDER_COLUMNS) == columns(made.order, ORDER_COLUMNS)


def test_product_factory_makes_version_one_through_the_service_and_publishes_like_it(store):
    book = ProductFactory(store=store)
    assert (book.kind, book.test_version.number, book.test_version.name) == ("onetime", 1, "E-Book")
    assert book.prod_version is None and book.prod_status == "inactive"

    plan = ProductFactory(store=store, trial=True, published=True)
    plan.refresh_from_db()
    assert plan.kind == "subscription" and plan.test_version.billing_period == "monthly"
    assert plan.test_version.trial_days == 7
    assert plan.prod_version_id == plan.test_version_id and plan.prod_status == "active"
    assert Product.objects.count() == 2


def test_payment_factory_makes_its_order_in_the_same_state(store):
    paid = PaymentFactory(order__product__store=store, paid=True)
    assert paid.status == "succeeded" and paid.order.status == "completed"
    assert paid.order.payments.count() == 1
    declined = PaymentFactory(order__product__store=store, declined=True)
    assert declined.order.status == "pending" and declined.failure_code == "card_declined"
    session = CheckoutSessionFactory(product__store=store)
    assert session.status == "open" and not Order.objects.filter(session=session).exists()


def test_a_factory_paid_order_shows_in_graphql_and_on_its_checkout_page(api, store):
    order = OrderFactory(product__store=store, paid=True)
    payment = order.payments.get()

    query = """query ($s: String!) {
      onetimeOrders(storeId: $s) { id status buyerEmail payments { id status cardInfo { last4 } } }
    }"""
    body = {"query": query, "variables": {"s": ids.encode("STO", store.pk)}}
    answer = api.raw("/v1/graphql", json.dumps(body).encode()).json()
    assert answer["data"]["onetimeOrders"] == [
        {
            "id": ids.encode("ORD", order.pk),
            "status": "completed",
            "buyerEmail": "buyer@example.com",
            "payments": [
                {
                    "id": ids.encode("PAY", payment.pk),
                    "status": "succeeded",
                    "cardInfo": {"last4": "4242"},
                }
            ],
        }
    ]

    page = Client().get(f"/store/{store.slug}/checkout/{order.session_id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert ids.encode("ORD", order.pk) in html
    assert "Visa ending in 4242" in html
    assert Payment.objects.count() == 1


def test_built_rows_go_in_by_bulk_create(store):
    """Hundreds of orders for a list or a query count: build, then bulk_create each table."""
    book = ProductFactory(store=store)
    orders = OrderFactory.build_batch(50, product=book, paid=True)
    payments = [PaymentFactory.build(order=order, paid=True) for order in orders]
    CheckoutSession.objects.bulk_create([order.session for order in orders])
    Order.objects.bulk_create(orders)
    Payment.objects.bulk_create(payments)
    assert Order.objects.filter(store=store, status="completed").count() == 50
    assert Payment.objects.filter(status="succeeded", amount=orders[0].total).count() == 50
