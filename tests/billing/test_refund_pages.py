"""The dashboard's Refund tickets pages and the refund actions through Django's test client: the
tickets list (status counts, filters, search) and detail (payment, buyer, reason, amounts,
versions, refunds); approve (optionally a smaller amount) and reject with a note; the merchant's
refund of a payment from its detail page, full or partial, with "also cancel the subscription";
refusals beside the input they are about, chosen by their code; who may refund (owners and
admins, not members); another store's ticket is 404."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from billing.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    RefundTicket,
    RefundTicketStatus,
    RefundTicketVersion,
    SubmitterType,
)
from pancake.api import ids
from stores import services as store_services
from stores.models import Role
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory
from tests.html_checks import field_errors, unlabelled_controls

from .test_payments_dashboard import pay, text_of

pytestmark = pytest.mark.django_db

T = RefundTicketStatus


def ticket(payment, *, amount=None, reason="It did not work", status=T.PENDING, **fields):
    """A buyer's ticket on ``payment`` as the ticket service files it (its first version)."""
    amount = amount if amount is not None else payment.amount
    made = RefundTicket.objects.create(
        store_id=payment.store_id,
        environment=payment.environment,
        payment=payment,
        order_id=payment.order_id,
        status=status,
        submitter_type=SubmitterType.CUSTOMER,
        submitter_id="buyer@example.com",
        reason=reason,
        requested_amount=amount,
        currency=payment.currency,
        **fields,
    )
    RefundTicketVersion.objects.create(
        ticket=made, number=1, reason=reason, requested_amount=amount, currency=payment.currency
    )
    return made


def list_url(store, **params):
    url = reverse("dashboard:refund-tickets", args=[store.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def ticket_url(store, t, action=None):
    name = "dashboard:refund-ticket" + (f"-{action}" if action else "")
    return reverse(name, args=[store.pk, t.pk])


def listed(response) -> list[str]:
    return re.findall(r'data-ticket="([0-9a-f-]+)"', response.content.decode())


def counts(response) -> dict[str, int]:
    html = response.content.decode()
    found = re.findall(r'data-status="(\w+)"[^>]*>[^<]*<span class="badge[^"]*">(\d+)</span>', html)
    return {status: int(n) for status, n in found}


@pytest.fixture
def owner_page(client, merchant, store):
    client.force_login(merchant)
    return client


@pytest.fixture
def ebook(store):
    return ProductFactory(store=store)


# --- the list and the detail ------------------------------------------------------------------


def test_list_shows_counts_filters_and_search(owner_page, store, ebook):
    a = ticket(pay(ebook, email="ann@example.com"), reason="Wrong size")
    b = ticket(pay(ebook, email="bob@example.com"), status=T.REJECTED, reject_reason="No")
    c = ticket(pay(ebook, email="cat@example.com"), status=T.SUCCEEDED, approved_amount=100)
    c.refund_ticket_merchant_external_id = "tkt-9"
    c.save()
    response = owner_page.get(list_url(store))
    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(str(t.pk) for t in (a, b, c))
    assert counts(response) == {
        "pending": 1,
        "approved": 0,
        "rejected": 1,
        "processing": 0,
        "succeeded": 1,
        "failed": 0,
    }
    row = text_of(re.search(rf'<tr id="ticket-{a.pk}".*?</tr>', response.content.decode(), re.S)[0])
    assert "ann@example.com" in row and "Pending" in row and "Wrong size" in row
    assert listed(owner_page.get(list_url(store, status="rejected"))) == [str(b.pk)]
    assert listed(owner_page.get(list_url(store, q="CAT@"))) == [str(c.pk)]
    assert listed(owner_page.get(list_url(store, q="wrong size"))) == [str(a.pk)]
    assert listed(owner_page.get(list_url(store, q="tkt-9"))) == [str(c.pk)]
    assert listed(owner_page.get(list_url(store, q=ids.encode("TKT", b.pk)))) == [str(b.pk)]
    assert listed(owner_page.get(list_url(store, q=ids.encode("PAY", a.payment_id)))) == [str(a.pk)]
    assert listed(owner_page.get(list_url(store, q=str(c.order_id)))) == [str(c.pk)]
    # Counts follow the search, not the status filter.
    response = owner_page.get(list_url(store, q="ann", status="succeeded"))
    assert listed(response) == []
    assert counts(response)["pending"] == 1 and counts(response)["succeeded"] == 0
    assert unlabelled_controls(response.content.decode()) == []


def test_detail_shows_payment_buyer_reason_amounts_versions_and_refunds(owner_page, store, ebook):
    payment = pay(ebook, email="ann@example.com")
    t = ticket(payment, amount=1000, reason="Second try", status=T.FAILED, approved_amount=800)
    RefundTicketVersion.objects.filter(ticket=t).update(reason="First try")
    RefundTicketVersion.objects.create(
        ticket=t,
        number=2,
        reason="Second try",
        requested_amount=1000,
        currency="USD",
        previous_reject_reason="Send a photo",
    )
    Refund.objects.create(
        store=store,
        environment="test",
        ticket=t,
        payment=payment,
        amount=800,
        currency="USD",
        status=RefundStatus.FAILED,
        provider="test",
        failure_code="processor_declined",
        failure_message="The processor declined the refund.",
    )
    response = owner_page.get(ticket_url(store, t))
    assert response.status_code == 200
    html = response.content.decode()
    facts = text_of(re.search(r'id="ticket-facts">(.*?)</dl>', html, re.S).group(1))
    assert "ann@example.com" in facts
    assert "Customer" in facts
    assert "Requested amount $10.00" in facts
    assert "Approved amount $8.00" in facts
    assert "Second try" in facts
    versions = text_of(re.search(r'id="ticket-versions">(.*?)</section>', html, re.S).group(1))
    assert "Version 1" in versions and "First try" in versions
    assert "Version 2" in versions and "Rejected before because: Send a photo" in versions
    refunds = text_of(re.search(r'id="refunds">(.*?)</section>', html, re.S).group(1))
    assert "$8.00" in refunds and "Failed" in refunds
    assert "The processor declined the refund." in refunds
    assert reverse("dashboard:payment", args=[store.pk, payment.pk]) in html
    # Not pending: nothing to review.
    assert "Approve and refund" not in html
    # The payment's page lists the ticket.
    payment_html = owner_page.get(reverse("dashboard:payment", args=[store.pk, payment.pk]))
    assert f'id="ticket-{t.pk}"' in payment_html.content.decode()


def test_a_pending_ticket_offers_approve_and_reject(owner_page, store, ebook):
    payment = pay(ebook)
    t = ticket(payment, amount=1500)
    html = owner_page.get(ticket_url(store, t)).content.decode()
    assert ">Approve and refund</button>" in html
    assert ">Reject</button>" in html
    assert re.search(r'name="approved_amount"[^>]*value="15.00"', html)
    assert unlabelled_controls(html) == []


def test_another_stores_ticket_is_404(client, merchant, store, ebook):
    t = ticket(pay(ebook))
    other = MerchantFactory()
    other_store = store_services.store_create(merchant=other, name="Other Shop")
    client.force_login(other)
    assert client.get(ticket_url(other_store, t)).status_code == 404
    assert client.get(ticket_url(store, t)).status_code == 404
    assert client.post(ticket_url(other_store, t, "approve")).status_code == 404
    assert client.post(ticket_url(other_store, t, "reject"), {"reason": "no"}).status_code == 404
    assert RefundTicket.objects.get(pk=t.pk).status == T.PENDING


def test_a_member_sees_tickets_without_the_forms(client, store, ebook):
    t = ticket(pay(ebook))
    member = MerchantFactory(email="member@example.com")
    MembershipFactory(store=store, merchant=member, role=Role.MEMBER)
    client.force_login(member)
    html = client.get(ticket_url(store, t)).content.decode()
    assert "you can see its refund tickets but not review them" in html
    assert "Approve and refund" not in html


# --- form checks before any service runs ------------------------------------------------------


def test_a_bad_amount_is_refused_beside_its_input(owner_page, store, ebook):
    payment = pay(ebook)
    url = reverse("dashboard:payment-refund", args=[store.pk, payment.pk])
    response = owner_page.post(url, {"amount": "12.345", "reason": "Broken"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "amount") == [
        "Enter an amount in USD like 29.00."
    ]
    response = owner_page.post(url, {"amount": "0", "reason": "Broken"})
    assert field_errors(response.content.decode(), "amount") == [
        "Enter an amount greater than zero."
    ]
    response = owner_page.post(url, {"amount": "1.00", "reason": ""})
    assert field_errors(response.content.decode(), "reason") == ["This field is required."]
    t = ticket(payment)
    response = owner_page.post(ticket_url(store, t, "approve"), {"approved_amount": "abc"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "approved_amount") == [
        "Enter an amount in USD like 29.00."
    ]
    response = owner_page.post(ticket_url(store, t, "reject"), {"reason": ""})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "reason") == ["This field is required."]
    assert RefundTicket.objects.get(pk=t.pk).status == T.PENDING
    assert Payment.objects.get(pk=payment.pk).refunded_amount == 0


def test_a_payment_that_cannot_be_refunded_offers_no_form(owner_page, store, ebook):
    payment = pay(ebook, status=PaymentStatus.FAILED)
    html = owner_page.get(reverse("dashboard:payment", args=[store.pk, payment.pk])).content
    assert "Nothing is left to refund on this payment." in html.decode()
    refunded = pay(ebook, status=PaymentStatus.REFUNDED)
    Payment.objects.filter(pk=refunded.pk).update(refunded_amount=refunded.amount)
    html = owner_page.get(reverse("dashboard:payment", args=[store.pk, refunded.pk])).content
    assert "Nothing is left to refund on this payment." in html.decode()
    assert 'data-refund-status="refunded"' in html.decode()
