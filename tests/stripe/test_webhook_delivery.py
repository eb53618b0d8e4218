"""localstripe itself posts its signed webhooks to our live server's
``/providers/stripe/webhook``: the order is paid without anyone delivering anything by hand."""

from __future__ import annotations

import time

import pytest

from billing.models import PaymentStatus
from tests.factories import ProductFactory
from tests.helpers import buy
from tests.stripe import helpers as h

US = {"country": "US", "isBusiness": False, "state": "OR"}


@pytest.mark.django_db(transaction=True)  # the live server reads what the test commits
@pytest.mark.usefixtures("stripe_settings")
def test_localstripe_delivers_the_signed_webhook_and_the_order_is_paid(
    api, store, live_server, localstripe
):
    localstripe.register_webhook(live_server.url + h.WEBHOOK_PATH)
    try:
        payment = buy(api, ProductFactory(store=store), currency="USD", billing=US)
        assert h.pay(payment.pk)["status"] == "succeeded"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            payment.refresh_from_db()
            if payment.status != PaymentStatus.PENDING:
                break
            time.sleep(0.2)
        assert payment.status == PaymentStatus.SUCCEEDED
        assert payment.order.status == "completed"
    finally:
        # Later tests have no live server at that address: stop posting there.
        localstripe.register_webhook("http://127.0.0.1:9/unused")
