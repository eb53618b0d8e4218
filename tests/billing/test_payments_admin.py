"""The admin for support staff: payments, refund tickets and refunds read-only, money formatted,
searchable; "Retry a failed refund" sends a failed ticket's refund to the provider again
(``refund_retry``) and names the tickets it could not retry."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.models import Payment, Refund, RefundTicket, TestProcessorPayment
from pancake.api import ids
from stores.models import Merchant
from tests.factories import ProductFactory
from tests.helpers import buy, deliver, pay

pytestmark = pytest.mark.django_db

US = {"country": "US", "isBusiness": False, "state": "OR", "postcode": "97201"}


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def staff(client, db):
    user = Merchant.objects.create_superuser(email="support@example.com", password="pw-12345678")
    client.force_login(user)
    return client


@pytest.fixture
def paid(api, store, capture) -> Payment:
    payment = buy(api, ProductFactory(store=store), currency="USD", billing=US)
    deliver(pay(payment), capture)
    payment.refresh_from_db()
    return payment


def _failed_ticket(api, paid, capture) -> RefundTicket:
    """A ticket whose refund the provider declined (its own record says the money is back)."""
    filed = api.call(
        "refund-ticket/create-ticket",
        {"paymentId": ids.encode("PAY", paid.pk), "reason": "Broken", "amount": "10.00"},
    )["data"]
    processor = TestProcessorPayment.objects.get(attempt_id=str(paid.pk))
    TestProcessorPayment.objects.filter(pk=processor.pk).update(refunded_amount=processor.amount)
    with capture(execute=True):
        api.call("refund-ticket/approve-ticket", {"ticketId": filed["ticketId"]})
    TestProcessorPayment.objects.filter(pk=processor.pk).update(refunded_amount=0)
    ticket = RefundTicket.objects.get(payment=paid)
    assert ticket.status == "failed"
    return ticket


def test_lists_are_read_only_searchable_and_show_money_formatted(staff, api, paid, capture):
    ticket = _failed_ticket(api, paid, capture)
    url = reverse("admin:billing_payment_changelist")
    html = staff.get(url, {"q": "buyer@example.com"}).content.decode()
    assert str(paid.pk) in html
    assert "$29.00" in html
    assert staff.get(url, {"q": "nobody@example.com"}).content.decode().count(str(paid.pk)) == 0
    assert staff.get(reverse("admin:billing_payment_add")).status_code == 403
    html = staff.get(reverse("admin:billing_refundticket_changelist"), {"status": "failed"})
    assert str(ticket.pk) in html.content.decode()
    assert "$10.00" in html.content.decode()
    html = staff.get(reverse("admin:billing_refundticket_change", args=[ticket.pk]))
    assert html.status_code == 200
    assert "Broken" in html.content.decode()
    html = staff.get(reverse("admin:billing_refund_changelist")).content.decode()
    assert "$10.00" in html and "amount_too_large" in html


def test_retry_a_failed_refund(staff, api, paid, capture):
    ticket = _failed_ticket(api, paid, capture)
    other = RefundTicket.objects.create(
        store_id=paid.store_id,
        environment="test",
        payment=paid,
        order_id=paid.order_id,
        submitter_type="customer",
        submitter_id="buyer@example.com",
        reason="Pending one",
        requested_amount=100,
        currency="USD",
    )
    with capture(execute=True):
        response = staff.post(
            reverse("admin:billing_refundticket_changelist"),
            {"action": "retry_failed_refund", "_selected_action": [ticket.pk, other.pk]},
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    paid.refresh_from_db()
    assert ticket.status == "succeeded"
    assert Refund.objects.filter(ticket=ticket).count() == 2
    assert paid.refunded_amount == 1000
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(s.startswith("Retried: ") and str(ticket.pk) in s for s in said)
    assert any(s.startswith("Not retried: ") and str(other.pk) in s for s in said)
    assert RefundTicket.objects.get(pk=other.pk).status == "pending"
