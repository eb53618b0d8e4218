"""Approvals and the merchant's own refunds racing on one payment (PostgreSQL, each call in its
own thread and connection): whatever the interleaving, no more is ever refunded than was paid,
every call either refunds or is refused with a 4xx, and the provider refunds exactly what our
rows say."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Sum

from billing.models import Payment, Refund, RefundTicket, TestProcessorRefund
from billing.refunds import services
from billing.services import test_processor_notification_receive
from pancake.api.actor import merchant_actor
from pancake.api.errors import PancakeError
from products.services import product_create
from tests.helpers import buy, pay

US = {"country": "US", "isBusiness": False, "state": "OR", "postcode": "97201"}


def _race(calls) -> list:
    """Run the calls at once, each in its own thread and connection; what each returned or
    raised, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except PancakeError as exc:
            results[index] = exc
        except Exception as exc:  # noqa: BLE001 - a 500 would be a failure: keep it to report
            results[index] = ("crash", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_ten_approvals_and_refunds_racing_never_refund_more_than_was_paid(
    require_postgres, api, merchant, store
):
    book = product_create(
        store=store,
        kind="onetime",
        name="Race",
        prices={"USD": {"amount": 2900, "taxCategory": "saas"}},
    )
    actor = merchant_actor(merchant, "test")
    for _ in range(3):
        payment = buy(api, book, currency="USD", billing=US)
        notification = pay(payment)
        test_processor_notification_receive(
            headers=dict(notification.headers), body=notification.body
        )
        # Four pending tickets of 6.00 (24.00 of 29.00 asked for) ...
        tickets = [
            services.ticket_create(actor=actor, payment_id=payment.pk, reason="r", amount=600)
            for _ in range(4)
        ]
        # ... approved, racing six merchant refunds of 5.00: 54.00 in all for a 29.00 payment.
        calls = [
            (lambda t=ticket: services.ticket_approve(actor=actor, ticket_id=t.pk))
            for ticket in tickets
        ] + [
            (
                lambda p=payment: services.payment_refund(
                    actor=actor, payment_id=p.pk, reason="r", amount=500
                )
            )
            for _ in range(6)
        ]
        results = _race(calls)

        crashes = [r for r in results if isinstance(r, tuple)]
        assert not crashes, crashes
        refused = [r for r in results if isinstance(r, PancakeError)]
        assert all(400 <= r.status < 500 for r in refused), refused
        payment.refresh_from_db()
        succeeded = Refund.objects.filter(payment=payment, status="succeeded")
        total = succeeded.aggregate(total=Sum("amount"))["total"] or 0
        assert payment.refunded_amount == total <= payment.amount
        assert payment.refunding_amount == 0
        # Every call that was not refused refunded: 54.00 asked, at least 25.00 of it went out
        # (whatever order they ran in, refusals only come once less than 6.00 is left).
        assert len(refused) + succeeded.count() == 10
        assert payment.amount - total < 600
        # The provider refunded exactly what our rows say, once each.
        provider = TestProcessorRefund.objects.filter(attempt_id__in=[str(r.pk) for r in succeeded])
        assert provider.count() == succeeded.count()
        assert provider.aggregate(total=Sum("amount"))["total"] == total
        assert (
            RefundTicket.objects.filter(payment=payment, status="succeeded").count()
            == succeeded.count()
        )
        assert Payment.objects.get(pk=payment.pk).status in ("refunded", "partially_refunded")
