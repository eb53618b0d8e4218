"""A payment's notification and the order's cancellation lock in one order (the order, then its
payments), so the two racing never deadlock and always end in a state one of them explains."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from billing.models import Payment
from billing.providers import test_processor
from checkout.models import Order
from pancake.api import ids
from products.services import product_create
from tests.helpers import ApiClient

US = {"country": "US", "isBusiness": False, "state": "TX", "postcode": "73301"}


def deliver(notification):
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in notification.headers.items()}
    return Client().post(
        "/providers/test/notifications",
        data=notification.body,
        content_type="application/json",
        **headers,
    )


def _race(**calls) -> dict:
    """Run the calls at once, each in its own thread and connection; their results by name."""
    barrier = threading.Barrier(len(calls))
    results = {}

    def run(name, call):
        barrier.wait()
        try:
            results[name] = call()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_a_notification_racing_the_cancellation_never_deadlocks(
    require_postgres, merchant, key_pool, store
):
    from tests.factories import make_api_key

    make_api_key(merchant, key_pool[3])
    book = product_create(
        store=store,
        kind="onetime",
        name="Race",
        prices={"USD": {"amount": 500, "taxCategory": "saas"}},
    )
    api = ApiClient(merchant, key_pool[3])
    for _ in range(8):
        session_id = api.call(
            "checkout/create-session",
            {"productId": ids.encode("PROD", book.pk), "currency": "USD"},
        )["data"]["sessionId"]
        api.call(
            "onetime-order/create-order",
            {"checkoutSessionId": session_id, "billingDetail": US, "buyerEmail": "a@b.co"},
        )
        order = Order.objects.get(session_id=session_id)
        payment = Payment.objects.get(order=order)
        outcome = test_processor.submit_card(
            provider_payment_id=payment.provider_payment_id,
            number="4242424242424242",
            exp_month=12,
            exp_year=2040,
            cvc="123",
            name="Ada",
        )
        statuses = _race(
            notify=lambda notification=outcome.notification: deliver(notification).status_code,
            cancel=lambda order_id=order.pk: (
                ApiClient(merchant, key_pool[3], Client())
                .post("onetime-order/cancel-order", {"orderId": ids.encode("ORD", order_id)})
                .status_code
            ),
        )

        assert statuses["notify"] == 200  # never a deadlock's 500
        order.refresh_from_db()
        payment.refresh_from_db()
        if statuses["cancel"] == 200:  # the cancellation went first
            assert order.status == "canceled"
            # the payment was voided, then the provider's success still recorded on it
            assert payment.status in ("failed", "succeeded")
        else:  # the payment went first: the order is paid and cannot be canceled
            assert statuses["cancel"] == 400
            assert (order.status, payment.status) == ("completed", "succeeded")
