"""Invoice numbers under concurrency (PostgreSQL): 20 payments of one store succeeding at once,
each notification applied in its own thread and connection, get 20 invoices numbered 1 to 20,
no gap and no number twice, although the sequence row did not exist before they raced."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from billing import services as billing_services
from billing.models import Invoice, InvoiceSequence, Payment, PaymentStatus
from tests.helpers import buy, pay

PAYMENTS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_payments_succeeding_at_once_get_gapless_unique_numbers(require_postgres, api, book):
    notifications = [pay(buy(api, book)) for _ in range(PAYMENTS)]
    assert not InvoiceSequence.objects.exists()
    barrier = threading.Barrier(PAYMENTS)
    errors = []

    def succeed(notification):
        try:
            barrier.wait()
            billing_services.test_processor_notification_receive(
                headers=dict(notification.headers), body=notification.body
            )
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=succeed, args=(n,)) for n in notifications]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == PAYMENTS
    invoices = list(Invoice.objects.filter(kind="invoice").order_by("sequence"))
    assert [invoice.sequence for invoice in invoices] == list(range(1, PAYMENTS + 1))
    assert len({invoice.number for invoice in invoices}) == PAYMENTS
    assert len({invoice.payment_id for invoice in invoices}) == PAYMENTS
    (sequence,) = InvoiceSequence.objects.all()
    assert sequence.last_number == PAYMENTS
