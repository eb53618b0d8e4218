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
    Subscription,
    TestProcessorPayment,
)
from pancake.api import ids
from stores import services as store_services
from stores.models import Role
from tests.factories import MembershipFactory, MerchantFactory, ProductFactory
from tests.helpers import buy, deliver
from tests.helpers import pay as submit_card
from tests.html_checks import alerts, field_errors, unlabelled_controls

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


# --- the actions (billing.refunds.services) ---------------------------------------------------

US = {"country": "US", "isBusiness": False, "state": "OR", "postcode": "97201"}


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def paid(api, store, capture) -> Payment:
    """A succeeded test-processor payment of 29.00 USD (Oregon: no sales tax)."""
    payment = buy(api, ProductFactory(store=store), currency="USD", billing=US)
    deliver(submit_card(payment), capture)
    payment.refresh_from_db()
    assert (payment.status, payment.amount) == ("succeeded", 2900)
    return payment


@pytest.fixture
def paid_sub(api, store, capture) -> Payment:
    plan = ProductFactory(
        store=store, subscription=True, prices={"USD": {"amount": 1000, "taxCategory": "saas"}}
    )
    payment = buy(api, plan, currency="USD", billing=US, subscription=True)
    deliver(submit_card(payment), capture)
    payment.refresh_from_db()
    return payment


def refund_url(store, payment):
    return reverse("dashboard:payment-refund", args=[store.pk, payment.pk])


def payment_url(store, payment, fragment=""):
    url = reverse("dashboard:payment", args=[store.pk, payment.pk])
    return url + (f"#{fragment}" if fragment else "")


def test_owner_refunds_part_of_a_payment_then_the_rest(owner_page, store, paid, capture):
    with capture(execute=True):
        response = owner_page.post(refund_url(store, paid), {"amount": "9.50", "reason": "Late"})
    assert response.status_code == 302
    assert response["Location"] == payment_url(store, paid, "refunds")
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("partially_refunded", 950)
    made = RefundTicket.objects.get(payment=paid)
    assert (made.status, made.submitter_type, made.approved_amount) == (
        T.SUCCEEDED,
        SubmitterType.MERCHANT,
        950,
    )
    assert made.reason == "Late"
    html = owner_page.get(response["Location"]).content.decode()
    # The provider's refund ran after the response here (the test's transaction holds the
    # commit); in a browser it runs before and the page says "Refunded $9.50.".
    assert "The refund of $9.50 is being processed." in html
    assert re.search(r'id="amount-refunded">\$9.50<', html)
    assert 'data-refund-status="partial"' in html
    assert re.search(r'name="amount"[^>]*value="19.50"', html)  # what is left, by default
    assert html.count('<tr id="refund-') == 1
    # An empty amount refunds everything that is left.
    with capture(execute=True):
        owner_page.post(refund_url(store, paid), {"amount": "", "reason": "All of it"})
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("refunded", 2900)
    html = owner_page.get(payment_url(store, paid)).content.decode()
    assert "Nothing is left to refund on this payment." in html


def test_more_than_is_left_is_refused_beside_the_amount(owner_page, store, paid, capture):
    with capture(execute=True):
        response = owner_page.post(refund_url(store, paid), {"amount": "29.01", "reason": "x"})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "amount") == [
        "The amount is more than what is left to refund."
    ]
    paid.refresh_from_db()
    assert paid.refunded_amount == 0
    assert not RefundTicket.objects.filter(payment=paid).exists()


def test_refund_and_cancel_the_subscription(owner_page, store, paid_sub, capture):
    html = owner_page.get(payment_url(store, paid_sub)).content.decode()
    assert "Also cancel the subscription now" in html
    with capture(execute=True):
        response = owner_page.post(
            refund_url(store, paid_sub),
            {"amount": "", "reason": "Leaving", "cancel_subscription": "on"},
        )
    assert response.status_code == 302
    paid_sub.refresh_from_db()
    assert paid_sub.status == "refunded"
    assert Subscription.objects.get(order_id=paid_sub.order_id).status == "canceled"


def test_a_member_cannot_refund_and_is_told_so(client, store, paid, capture):
    member = MerchantFactory(email="member@example.com")
    MembershipFactory(store=store, merchant=member, role=Role.MEMBER)
    client.force_login(member)
    with capture(execute=True):
        response = client.post(refund_url(store, paid), {"amount": "1.00", "reason": "x"})
    assert response.status_code == 403
    assert alerts(response.content.decode()) == [
        "Only owners and admins can refund payments and review refund tickets."
    ]
    paid.refresh_from_db()
    assert paid.refunded_amount == 0
    t = ticket(paid)
    response = client.post(ticket_url(store, t, "approve"), {"approved_amount": ""})
    assert response.status_code == 403
    response = client.post(ticket_url(store, t, "reject"), {"reason": "no"})
    assert response.status_code == 403
    assert RefundTicket.objects.get(pk=t.pk).status == T.PENDING


def test_an_admin_may_refund(client, store, paid, capture):
    admin = MerchantFactory(email="admin@example.com")
    MembershipFactory(store=store, merchant=admin, role=Role.ADMIN)
    client.force_login(admin)
    with capture(execute=True):
        response = client.post(refund_url(store, paid), {"amount": "1.00", "reason": "x"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert paid.refunded_amount == 100


def test_approve_a_buyers_ticket_for_less_than_asked(owner_page, store, paid, capture):
    t = ticket(paid, amount=2000)
    url = ticket_url(store, t, "approve")
    response = owner_page.post(url, {"approved_amount": "20.01", "note": ""})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "approved_amount") == [
        "The amount is more than the ticket asks for or than is left to refund."
    ]
    with capture(execute=True):
        response = owner_page.post(url, {"approved_amount": "12.00", "note": "Half, as agreed"})
    assert response.status_code == 302
    assert response["Location"] == ticket_url(store, t)
    t.refresh_from_db()
    assert (t.status, t.approved_amount, t.review_note) == (T.SUCCEEDED, 1200, "Half, as agreed")
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("partially_refunded", 1200)
    html = owner_page.get(response["Location"]).content.decode()
    assert "The refund of $12.00 is being processed." in html
    assert re.search(r'id="ticket-approved">\$12.00<', html)
    assert "Approve and refund" not in html
    # A reviewed ticket cannot be approved again: said above the form, by its code.
    response = owner_page.post(url, {"approved_amount": ""})
    assert response.status_code == 409
    assert alerts(response.content.decode()) == ["This ticket has already been reviewed."]


def test_reject_a_ticket_with_a_note(owner_page, store, paid, capture):
    t = ticket(paid, amount=500)
    with capture(execute=True):
        response = owner_page.post(ticket_url(store, t, "reject"), {"reason": "Used for a year"})
    assert response.status_code == 302
    t.refresh_from_db()
    assert (t.status, t.reject_reason) == (T.REJECTED, "Used for a year")
    html = owner_page.get(ticket_url(store, t)).content.decode()
    assert "The ticket is rejected. The customer can resubmit it." in html
    assert re.search(r'id="ticket-reject-reason">Used for a year<', html)
    paid.refresh_from_db()
    assert paid.refunded_amount == 0


def test_a_refusal_is_said_in_the_viewers_language(owner_page, store, paid, capture):
    with capture(execute=True):
        response = owner_page.post(
            refund_url(store, paid),
            {"amount": "100.00", "reason": "x"},
            HTTP_ACCEPT_LANGUAGE="ja",
        )
    assert field_errors(response.content.decode(), "amount") == [
        "金額が返金可能な残額を超えています。"
    ]


def test_a_refund_the_provider_declines_shows_failed_with_its_reason(
    owner_page, store, paid, capture
):
    # The processor's own record says the money is already back: it declines the refund.
    TestProcessorPayment.objects.filter(attempt_id=str(paid.pk)).update(refunded_amount=paid.amount)
    with capture(execute=True):
        response = owner_page.post(refund_url(store, paid), {"amount": "3.00", "reason": "x"})
    assert response.status_code == 302
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount, paid.refunding_amount) == ("succeeded", 0, 0)
    html = owner_page.get(payment_url(store, paid)).content.decode()
    refunds = text_of(re.search(r'id="refunds">(.*?)</section>', html, re.S).group(1))
    assert "$3.00" in refunds and "Failed" in refunds
    assert 'data-refund-status="none"' in html
    tickets = text_of(re.search(r'id="refund-tickets">(.*?)</section>', html, re.S).group(1))
    assert "Failed" in tickets
