"""Invoices and credit notes: issued in the transaction of every success (a first payment, a
renewal one at a time or in a batch, a plan change's charge), numbered per store, environment,
kind and year, frozen (seller, buyer, lines, tax per rate, totals, language, the tax note), and
the platform fee frozen on the payment. Credit notes are made from Refund rows here (the refund
services call ``credit_note_issue`` in the refund's success)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from billing import services as billing_services
from billing import tasks
from billing.fees import platform_fee
from billing.invoices import numbering, pdf
from billing.invoices.links import invoice_from_token
from billing.invoices.services import credit_note_issue, invoice_issue, split_exactly
from billing.models import (
    Invoice,
    InvoiceSequence,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    RefundTicket,
    RefundTicketStatus,
)
from billing.subscriptions import renewals
from pancake.api import ids
from stores.models import Store
from tests.factories import ProductFactory, StoreFactory
from tests.helpers import buy, deliver, pay
from tests.subscriptions.helpers import at, beat, refresh, subscribe, utc

DE_BUSINESS = {
    "country": "DE",
    "isBusiness": True,
    "businessName": "Example GmbH",
    "taxId": "DE136695976",
    "address": "Unter den Linden 1",
    "city": "Berlin",
    "postcode": "10117",
}


def seller(store: Store, **fields) -> Store:
    values = {
        "legal_name": "My Store Ltd",
        "address_line1": "1 Main Street",
        "address_city": "Dublin",
        "address_postcode": "D01 F5P2",
        "address_country": "IE",
        "tax_id": "IE6388047V",
        **fields,
    }
    Store.objects.filter(pk=store.pk).update(**values)
    store.refresh_from_db()
    return store


def paid(api, product, capture, **kwargs) -> Payment:
    payment = buy(api, product, **kwargs)
    deliver(pay(payment), capture)
    payment.refresh_from_db()
    return payment


def invoice_of(payment) -> Invoice:
    return Invoice.objects.get(payment=payment, kind="invoice")


def refund(payment, amount) -> Refund:
    """A succeeded refund of ``amount``, as the refund services leave it."""
    ticket = RefundTicket.objects.create(
        store_id=payment.store_id,
        environment=payment.environment,
        payment=payment,
        order_id=payment.order_id,
        status=RefundTicketStatus.SUCCEEDED,
        submitter_type="merchant",
        submitter_id="m",
        reason="test",
        requested_amount=amount,
        currency=payment.currency,
    )
    return Refund.objects.create(
        store_id=payment.store_id,
        environment=payment.environment,
        ticket=ticket,
        payment=payment,
        amount=amount,
        currency=payment.currency,
        status=RefundStatus.SUCCEEDED,
        provider="test",
        executed_at=timezone.now(),
    )


# --- numbers -------------------------------------------------------------------------------------


def test_numbers_are_formatted_with_the_kind_the_year_and_six_digits():
    assert (
        numbering.number_format(kind="invoice", environment="prod", year=2026, sequence=123)
        == "INV-2026-000123"
    )
    assert (
        numbering.number_format(kind="credit_note", environment="prod", year=2026, sequence=7)
        == "CN-2026-000007"
    )
    assert (
        numbering.number_format(kind="invoice", environment="test", year=2026, sequence=1)
        == "TEST-INV-2026-000001"
    )


def test_sequences_are_apart_per_store_environment_kind_and_year(store):
    other = StoreFactory()
    with transaction.atomic():
        take = numbering.numbers_take
        assert list(take(store_id=store.pk, environment="test", kind="invoice", year=2026)) == [1]
        assert list(
            take(store_id=store.pk, environment="test", kind="invoice", year=2026, count=3)
        ) == [2, 3, 4]
        assert list(take(store_id=store.pk, environment="prod", kind="invoice", year=2026)) == [1]
        assert list(take(store_id=store.pk, environment="test", kind="credit_note", year=2026)) == [
            1
        ]
        assert list(take(store_id=store.pk, environment="test", kind="invoice", year=2027)) == [1]
        assert list(take(store_id=other.pk, environment="test", kind="invoice", year=2026)) == [1]
    assert (
        InvoiceSequence.objects.get(
            store=store, environment="test", kind="invoice", year=2026
        ).last_number
        == 4
    )


def test_a_rolled_back_transaction_gives_its_number_back(store):
    with pytest.raises(RuntimeError), transaction.atomic():
        numbering.numbers_take(store_id=store.pk, environment="test", kind="invoice", year=2026)
        raise RuntimeError
    with transaction.atomic():
        assert list(
            numbering.numbers_take(store_id=store.pk, environment="test", kind="invoice", year=2026)
        ) == [1]


def test_split_exactly_sums_to_the_total():
    assert split_exactly(100, [1, 1, 1]) == [34, 33, 33]
    assert split_exactly(5, [0, 0]) == [3, 2]
    assert split_exactly(1000, [5, 9.975]) == [334, 666]
    for total in range(0, 50):
        assert sum(split_exactly(total, [3, 7, 11])) == total


# --- invoices of first payments ------------------------------------------------------------------


def test_a_paid_order_gets_an_invoice_freezing_seller_buyer_lines_tax_and_fee(
    api, store, book, django_capture_on_commit_callbacks
):
    seller(store)
    payment = paid(api, book, django_capture_on_commit_callbacks)
    invoice = invoice_of(payment)
    year = payment.paid_at.year

    assert invoice.number == f"TEST-INV-{year}-000001"
    assert (invoice.kind, invoice.environment, invoice.year, invoice.sequence) == (
        "invoice",
        "test",
        year,
        1,
    )
    assert invoice.issued_at == payment.paid_at
    assert (invoice.currency, invoice.subtotal, invoice.tax_amount, invoice.total) == (
        "EUR",
        10000,
        1900,
        11900,
    )
    assert invoice.seller["name"] == "My Store Ltd"
    assert invoice.seller["store_name"] == "My Store"
    assert invoice.seller["tax_id"] == "IE6388047V"
    assert invoice.seller["address"]["city"] == "Dublin"
    assert invoice.seller["colors"]["primary"] == "#7CCB02"
    assert invoice.buyer["email"] == "buyer@example.com"
    assert invoice.buyer["address"]["country"] == "DE"
    assert invoice.lines == [
        {
            "description": "E-Book",
            "purpose": "onetime",
            "period_start": None,
            "period_end": None,
            "quantity": 1,
            "unit_amount": 10000,
            "tax_rate": "0.19",
            "tax_amount": 1900,
            "amount": 11900,
        }
    ]
    assert invoice.tax_lines == [
        {"name": "VAT", "rate": "0.19", "taxable_amount": 10000, "tax": 1900}
    ]
    assert invoice.tax_note == ""
    assert invoice.language == "en"
    assert payment.fee_amount == platform_fee(11900, "EUR") == 595 + 50

    # Frozen: later edits of the store change no issued document.
    seller(store, legal_name="Renamed Ltd", tax_id="")
    invoice.refresh_from_db()
    assert invoice.seller["name"] == "My Store Ltd" and invoice.seller["tax_id"] == "IE6388047V"


def test_an_empty_legal_name_falls_back_to_the_store_name(
    api, store, book, django_capture_on_commit_callbacks
):
    seller(store, legal_name="")
    invoice = invoice_of(paid(api, book, django_capture_on_commit_callbacks))
    assert invoice.seller["name"] == "My Store"


def test_invoices_of_one_store_are_numbered_one_after_another(
    api, book, django_capture_on_commit_callbacks
):
    payments = [paid(api, book, django_capture_on_commit_callbacks) for _ in range(3)]
    assert [invoice_of(p).sequence for p in payments] == [1, 2, 3]
    assert invoice_of(payments[2]).number.endswith("-000003")


def test_an_eu_business_reverse_charge_invoice_carries_the_note_and_no_tax(
    api, book, django_capture_on_commit_callbacks
):
    payment = paid(api, book, django_capture_on_commit_callbacks, billing=DE_BUSINESS)
    invoice = invoice_of(payment)
    assert invoice.tax_note == "reverse_charge"
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (10000, 0, 10000)
    assert invoice.tax_lines == [{"name": "VAT", "rate": "0", "taxable_amount": 10000, "tax": 0}]
    assert invoice.buyer["business_name"] == "Example GmbH"
    assert invoice.buyer["tax_id"] == "DE136695976"
    assert invoice.buyer["address"]["line1"] == "Unter den Linden 1"
    assert invoice.buyer["is_business"] is True
    html = pdf.html(invoice)
    assert "Reverse charge: the recipient accounts for the VAT on this supply." in html


def test_a_buyer_where_the_category_is_not_taxed_gets_the_tax_exempt_note(
    api, book, django_capture_on_commit_callbacks
):
    oregon = {"country": "US", "isBusiness": False, "state": "OR"}  # no sales tax
    payment = paid(api, book, django_capture_on_commit_callbacks, currency="USD", billing=oregon)
    invoice = invoice_of(payment)
    assert (invoice.tax_amount, invoice.tax_note) == (0, "tax_exempt")
    assert "No tax is due on this supply." in pdf.html(invoice)


@pytest.mark.parametrize(
    ("currency", "country", "amount", "total", "shown"),
    [
        ("JPY", "JP", 4500, 4950, "¥4,950"),
        ("BHD", "BH", 10000, 11000, "BHD11.000"),
        ("USD", "US", 2900, 2900, "$29.00"),
    ],
)
def test_amounts_show_the_currencys_decimals(
    api, store, django_capture_on_commit_callbacks, currency, country, amount, total, shown
):
    product = ProductFactory(
        store=store, prices={currency: {"amount": amount, "taxCategory": "saas"}}
    )
    billing = {"country": country, "isBusiness": False}
    if country == "US":
        billing["state"] = "OR"
    payment = paid(
        api, product, django_capture_on_commit_callbacks, currency=currency, billing=billing
    )
    invoice = invoice_of(payment)
    assert (invoice.currency, invoice.total) == (currency, total)
    context = pdf.context(invoice)
    assert context["total"] == shown
    assert shown in pdf.html(invoice)
    text = "\n".join(
        page.extract_text() for page in PdfReader(io.BytesIO(pdf.render(invoice))).pages
    )
    assert shown.replace("\xa0", " ") in text.replace("\xa0", " ")


def test_a_german_buyers_invoice_is_in_german(api, book, django_capture_on_commit_callbacks):
    payment = paid(api, book, django_capture_on_commit_callbacks, session={"language": "de"})
    invoice = invoice_of(payment)
    assert invoice.language == "de"
    html = pdf.html(invoice)
    assert "Rechnung" in html and "Zwischensumme" in html and "Gesamt" in html
    assert "119,00\xa0€" in html  # German number format
    assert "Subtotal" not in html


def test_a_trial_start_charges_nothing_and_gets_no_invoice(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True, trial=True)
    order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks, trial=True)
    (payment,) = Payment.objects.filter(order=order)
    assert payment.amount == 0 and payment.status == PaymentStatus.SUCCEEDED
    assert payment.fee_amount == 0
    assert not Invoice.objects.exists()
    assert invoice_issue(payment) is None


def test_a_subscriptions_first_payment_invoice_names_its_period(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True, name="Pro")
    order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get(order=order)
    (line,) = invoice.lines
    assert line["description"] == "Pro" and line["purpose"] == "first"
    assert line["period_start"] == subscription.current_period_start.isoformat()
    assert line["period_end"] == subscription.current_period_end.isoformat()
    assert "Period:" in pdf.html(invoice)


# --- renewals and plan changes -------------------------------------------------------------------


def test_a_renewal_one_at_a_time_gets_its_invoice_and_fee(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 10, 9)):
        order, subscription = subscribe(api, plan, django_capture_on_commit_callbacks)
    with at(utc(2027, 2, 10, 9, 1)), django_capture_on_commit_callbacks(execute=True):
        assert renewals.claim(subscription.pk)
        renewals.run(subscription.pk)
    subscription = refresh(subscription)
    assert subscription.period_number == 2
    renewal = Payment.objects.get(subscription=subscription, purpose="renewal")
    assert renewal.fee_amount == platform_fee(renewal.amount, renewal.currency)
    invoice = invoice_of(renewal)
    assert invoice.number == "TEST-INV-2027-000002"  # after the first payment's
    (line,) = invoice.lines
    assert line["purpose"] == "renewal"
    assert line["period_start"] == utc(2027, 2, 10, 9).isoformat()
    assert line["period_end"] == utc(2027, 3, 10, 9).isoformat()
    assert invoice.total == renewal.amount
    assert invoice.pdf_rendered_at is not None  # the task ran after the commit


def test_a_renewal_batch_invoices_every_renewal_in_one_go(
    api, store, django_capture_on_commit_callbacks
):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 10, 9)):
        subs = [subscribe(api, plan, django_capture_on_commit_callbacks)[1] for _ in range(4)]
    with at(utc(2027, 2, 10, 9, 1)):
        assert beat(django_capture_on_commit_callbacks) >= 4
    renewals_paid = Payment.objects.filter(subscription__in=subs, purpose="renewal")
    assert renewals_paid.count() == 4
    invoices = Invoice.objects.filter(payment__in=renewals_paid).order_by("sequence")
    assert [i.sequence for i in invoices] == [5, 6, 7, 8]  # after the four first payments
    for invoice in invoices:
        payment = invoice.payment
        assert payment.fee_amount == platform_fee(payment.amount, payment.currency)
        assert invoice.lines[0]["period_start"] == utc(2027, 2, 10, 9).isoformat()
        assert invoice.pdf_rendered_at is not None
    assert InvoiceSequence.objects.get(store=store, year=2027, kind="invoice").last_number == 8
    # Each renewal receipt links its own invoice.
    receipts = [m for m in mail.outbox if "subscription receipt" in m.subject]
    assert len(receipts) == 4
    linked = {
        invoice_from_token(re.search(r"/invoices/([^/\s]+)/pdf", m.body).group(1)) for m in receipts
    }
    assert linked == set(invoices)
    assert all("Download your invoice" in m.alternatives[0][0] for m in receipts)


def test_a_plan_changes_prorated_charge_gets_an_invoice(
    api, store, django_capture_on_commit_callbacks
):
    prices = {"USD": {"amount": 999, "taxCategory": "saas"}}
    basic = ProductFactory(store=store, subscription=True, name="Basic", prices=prices)
    prices = {"USD": {"amount": 2999, "taxCategory": "saas"}}
    pro = ProductFactory(store=store, subscription=True, name="Pro", prices=prices)
    with at(utc(2027, 1, 1)):
        order, subscription = subscribe(api, basic, django_capture_on_commit_callbacks)
    with at(utc(2027, 1, 16)), django_capture_on_commit_callbacks(execute=True):
        body = {
            "orderId": ids.encode("ORD", order.pk),
            "targetProductId": ids.encode("PROD", pro.pk),
        }
        assert (
            api.call("subscription-order/change-product", body)["data"]["chargedAmount"] == "10.32"
        )
    charge = Payment.objects.get(subscription=subscription, purpose="plan_change")
    assert charge.fee_amount == platform_fee(1032, "USD")
    invoice = invoice_of(charge)
    assert invoice.number == "TEST-INV-2027-000002"
    assert invoice.total == 1032
    (line,) = invoice.lines
    assert (line["description"], line["purpose"]) == ("Pro", "plan_change")
    assert line["period_start"] == utc(2027, 1, 16).isoformat()
    assert line["period_end"] == utc(2027, 2, 1).isoformat()
    assert "Plan change, prorated" in pdf.html(invoice)


# --- credit notes --------------------------------------------------------------------------------


def test_two_partial_refunds_make_two_credit_notes_that_sum_to_the_refunds(
    api, book, django_capture_on_commit_callbacks
):
    payment = paid(api, book, django_capture_on_commit_callbacks)
    invoice = invoice_of(payment)
    year = timezone.now().year
    with django_capture_on_commit_callbacks(execute=True):
        first = credit_note_issue(refund(payment, 5000))
        second = credit_note_issue(refund(payment, 6900))

    assert (first.number, second.number) == (f"TEST-CN-{year}-000001", f"TEST-CN-{year}-000002")
    for note in (first, second):
        assert note.kind == "credit_note" and note.invoice == invoice
        assert note.payment == payment and note.refund.payment == payment
        assert note.subtotal + note.tax_amount == note.total
        assert note.seller == invoice.seller and note.buyer == invoice.buyer
    assert (first.total, second.total) == (5000, 6900)
    # 5000 of 11900 carries 5000 × 1900 / 11900 = 798.3 of tax; together they credit it all.
    assert first.tax_amount == 798
    assert first.tax_amount + second.tax_amount == invoice.tax_amount
    assert first.subtotal + second.subtotal == invoice.subtotal
    assert sum(line["tax"] for line in first.tax_lines) == first.tax_amount
    assert first.lines[0]["amount"] == 5000
    # Issued once per refund.
    assert credit_note_issue(first.refund) == first
    assert Invoice.objects.filter(kind="credit_note").count() == 2
    html = pdf.html(second)
    assert f"This credit note corrects invoice {invoice.number}." in html
    assert "Credit note" in html and "Total credited" in html


def test_a_refund_of_a_payment_without_invoice_gets_no_credit_note(
    api, book, django_capture_on_commit_callbacks
):
    payment = paid(api, book, django_capture_on_commit_callbacks)
    Invoice.objects.filter(payment=payment).delete()
    assert credit_note_issue(refund(payment, 100)) is None


# --- fees ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "fee"),
    [
        (10000, "USD", 550),  # 5% of 100.00 + 0.50
        (2900, "USD", 195),  # 1.45 + 0.50
        (4500, "JPY", 226),  # 225 + half a yen, rounded half up
        (10000, "BHD", 1000),  # 0.500 + 0.500 (three decimals)
        (30, "USD", 30),  # never more than the charge
        (0, "USD", 0),
    ],
)
def test_the_platform_fee_is_a_percentage_plus_a_fixed_part_in_the_currencys_unit(
    amount, currency, fee
):
    assert platform_fee(amount, currency) == fee


def test_the_platform_fee_follows_its_settings(settings):
    settings.PLATFORM_FEE_PERCENT = "2.9"
    settings.PLATFORM_FEE_FIXED = "0.30"
    assert platform_fee(10000, "USD") == 320
    assert platform_fee(10000, "JPY") == 290  # 0.30 yen rounds away
    assert platform_fee(10000, "BHD") == 590


# --- the PDF sweep -------------------------------------------------------------------------------


def test_the_sweep_renders_documents_whose_task_was_lost(
    api, book, django_capture_on_commit_callbacks
):
    payment = buy(api, book)
    with django_capture_on_commit_callbacks(execute=False):  # the render task is never sent
        notification = pay(payment)
        billing_services.test_processor_notification_receive(
            headers=dict(notification.headers), body=notification.body
        )
    invoice = invoice_of(payment)
    assert invoice.pdf_rendered_at is None
    assert tasks.render_unrendered_invoices() == 0  # too recent: its task may still run
    Invoice.objects.filter(pk=invoice.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert tasks.render_unrendered_invoices() == 1
    invoice.refresh_from_db()
    assert invoice.pdf_rendered_at is not None and len(invoice.pdf_sha256) == 64


def test_two_taxes_get_a_line_each_summing_to_the_charges_tax(
    api, book, django_capture_on_commit_callbacks
):
    quebec = {"country": "CA", "isBusiness": False, "state": "QC"}  # GST 5% + QST 9.975%
    payment = paid(api, book, django_capture_on_commit_callbacks, currency="USD", billing=quebec)
    invoice = invoice_of(payment)
    assert [(line["name"], line["rate"]) for line in invoice.tax_lines] == [
        ("GST", "0.05"),
        ("QST", "0.09975"),
    ]
    assert sum(line["tax"] for line in invoice.tax_lines) == invoice.tax_amount == 434
    assert [line["tax"] for line in invoice.tax_lines] == [145, 289]
    assert all(line["taxable_amount"] == 2900 for line in invoice.tax_lines)
    html = pdf.html(invoice)
    assert "GST 5%" in html and "QST 9.975%" in html


# --- through the refund services -----------------------------------------------------------------


def test_each_refund_through_the_api_gets_its_credit_note_and_the_buyer_its_link(
    api, book, django_capture_on_commit_callbacks
):
    payment = paid(api, book, django_capture_on_commit_callbacks)
    invoice = invoice_of(payment)
    mail.outbox.clear()
    for amount in ("40.00", "79.00"):
        body = {
            "paymentId": ids.encode("PAY", payment.pk),
            "amount": {"amount": amount, "currency": "EUR"},
            "reason": "Partly unhappy",
        }
        with django_capture_on_commit_callbacks(execute=True):
            api.call("payment/refund-payment", body)
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", 11900)
    notes = list(Invoice.objects.filter(kind="credit_note").order_by("sequence"))
    assert [(n.total, n.invoice_id, n.sequence) for n in notes] == [
        (4000, invoice.pk, 1),
        (7900, invoice.pk, 2),
    ]
    assert sum(n.tax_amount for n in notes) == invoice.tax_amount == 1900
    assert {n.refund.ticket.payment_id for n in notes} == {payment.pk}
    assert all(n.pdf_rendered_at is not None for n in notes)
    refund_emails = [m for m in mail.outbox if "Your refund from" in m.subject]
    assert len(refund_emails) == 2
    linked = {
        invoice_from_token(re.search(r"/invoices/([^/\s]+)/pdf", m.body).group(1))
        for m in refund_emails
    }
    assert linked == set(notes)
    assert all("Download your credit note" in m.body for m in refund_emails)


def test_a_broker_down_at_commit_fails_nothing_and_the_sweep_renders_later(
    api, book, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.render_invoices, "delay", broker_down)
    payment = paid(api, book, django_capture_on_commit_callbacks)  # committed, callbacks run
    assert payment.status == PaymentStatus.SUCCEEDED
    invoice = invoice_of(payment)
    assert invoice.pdf_rendered_at is None
    Invoice.objects.filter(pk=invoice.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    monkeypatch.undo()
    assert tasks.render_unrendered_invoices() == 1
    invoice.refresh_from_db()
    assert invoice.pdf_rendered_at is not None


def test_the_buyers_name_in_the_billing_detail_is_on_the_invoice(
    api, book, django_capture_on_commit_callbacks
):
    billing = {"country": "DE", "isBusiness": False, "name": "Ada Lovelace"}
    payment = paid(api, book, django_capture_on_commit_callbacks, billing=billing)
    assert invoice_of(payment).buyer["name"] == "Ada Lovelace"
