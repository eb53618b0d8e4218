"""Invoice numbers under concurrency (PostgreSQL): 20 payments of one store succeeding at once,
each notification applied in its own thread and connection, get 20 invoices numbered 1 to 20,
no gap and no number twice, although the sequence row did not exist before they raced; and 10
refunds of one payment succeeding at once get credit notes 1 to 10 that credit exactly the
invoice's amounts."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from billing import services as billing_services
from billing.invoices.services import credit_note_issue
from billing.models import Invoice, InvoiceSequence, Payment, PaymentStatus
from tests.billing.test_invoices import refund
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


@pytest.mark.django_db(transaction=True)
def test_ten_refunds_succeeding_at_once_get_gapless_credit_notes_crediting_all_the_tax(
    require_postgres, api, book
):
    """Each credit note's tax is what the notes before it leave of the invoice's proportion, under
    the invoice's lock: whatever order they commit in, together they credit the invoice's tax."""
    payment = buy(api, book)
    notification = pay(payment)
    billing_services.test_processor_notification_receive(
        headers=dict(notification.headers), body=notification.body
    )
    invoice = Invoice.objects.get(payment=payment, kind="invoice")
    assert (invoice.total, invoice.tax_amount) == (11900, 1900)
    # Alone, each 10.00 would carry 1.60 of tax (1.5966…): ten notes rounding on their own would
    # credit 14.40 + 4.63 = 19.03, more than the invoice's 19.00.
    refunds = [refund(payment, amount) for amount in [1000] * 9 + [2900]]
    barrier = threading.Barrier(len(refunds))
    errors = []

    def succeed(one):
        try:
            barrier.wait()
            with transaction.atomic():
                credit_note_issue(one)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=succeed, args=(r,)) for r in refunds]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    notes = list(Invoice.objects.filter(kind="credit_note").order_by("sequence"))
    assert [note.sequence for note in notes] == list(range(1, 11))
    assert sum(note.total for note in notes) == 11900
    assert sum(note.tax_amount for note in notes) == 1900
    assert {note.invoice_id for note in notes} == {invoice.pk}
