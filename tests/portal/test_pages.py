"""The signed-in portal's pages and actions: orders and payments, invoices and their PDFs,
refund requests (the 7-day rule, what is left, resubmitting after a rejection), subscriptions
(cancel with a reason, reactivate, past due), the environment, and the checkout's link in."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import (
    Invoice,
    RefundTicket,
    RefundTicketStatus,
    Subscription,
    SubscriptionStatus,
)
from billing.subscriptions.emails import manage_subscription_url
from pancake.api import ids
from tests.html_checks import unlabelled_controls
from tests.portal.conftest import ALICE, purchase, sign_in

pytestmark = pytest.mark.django_db


def url(name, store, *args):
    return reverse(f"portal:{name}", args=[store.slug, *args])


def test_the_overview_counts_what_the_buyer_has(alice, store, alice_paid):
    body = alice.get(url("home", store)).content.decode()
    assert "1 order" in body and "1 document" in body and "0 subscriptions" in body
    assert 'aria-current="page"' in body


def test_orders_show_status_amounts_tax_and_refund_state(alice, store, alice_paid, bob_paid):
    body = alice.get(url("orders", store)).content.decode()
    assert str(alice_paid.order_id) in body
    assert str(bob_paid.order_id) not in body
    assert "$29.00" in body and "Completed" in body and "Succeeded" in body
    assert "Tax included" in body and "$0.00" in body
    assert url("refund", store, alice_paid.pk) in body
    detail = alice.get(url("order", store, alice_paid.order_id))
    assert detail.status_code == 200
    assert url("invoice-pdf", store, Invoice.objects.get(payment=alice_paid).pk) in (
        detail.content.decode()
    )


def test_invoices_list_and_download_as_pdf(alice, store, alice_paid, bob_paid):
    invoice = Invoice.objects.get(payment=alice_paid)
    body = alice.get(url("invoices", store)).content.decode()
    assert invoice.number in body
    assert Invoice.objects.get(payment=bob_paid).number not in body
    download = alice.get(url("invoice-pdf", store, invoice.pk))
    assert download.status_code == 302
    pdf = Client().get(download["Location"].split("://", 1)[1].split("/", 1)[1].join(["/", ""]))
    assert pdf.status_code == 200
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content])[:5] == b"%PDF-"


def test_a_refund_request_shows_the_rules_then_files_a_ticket(alice, store, alice_paid):
    page = alice.get(url("refund", store, alice_paid.pk)).content.decode()
    assert "$29.00" in page  # what is left
    assert "within 7 days" in page
    deadline = timezone.localtime(alice_paid.paid_at + timedelta(days=7))
    assert str(deadline.year) in page
    response = alice.post(
        url("refund", store, alice_paid.pk), {"amount": "10.00", "reason": "Only used half"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("order", store, alice_paid.order_id) + "?done=refund"
    ticket = RefundTicket.objects.get()
    assert (ticket.requested_amount, ticket.submitter_type, ticket.submitter_id) == (
        1000,
        "customer",
        ALICE,
    )
    assert ticket.status == RefundTicketStatus.PENDING
    detail = alice.get(response["Location"]).content.decode()
    assert "sent" in detail and "Pending" in detail and "$10.00" in detail
    left = alice.get(url("refund", store, alice_paid.pk)).content.decode()
    assert "$19.00" in left


def test_a_refund_request_over_what_is_left_is_refused_beside_the_amount(alice, store, alice_paid):
    response = alice.post(url("refund", store, alice_paid.pk), {"amount": "30", "reason": "x"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "more than is left" in body and 'id="amount-error"' in body
    assert not RefundTicket.objects.exists()


def test_after_7_days_a_one_time_purchase_cannot_be_refunded(client, store, alice_paid):
    with time_machine.travel(alice_paid.paid_at + timedelta(days=8)):
        alice = sign_in(client, store, ALICE)
        page = alice.get(url("refund", store, alice_paid.pk)).content.decode()
        assert 'role="alert"' in page
        response = alice.post(url("refund", store, alice_paid.pk), {"reason": "late"})
    assert response.status_code == 400
    assert "within 7 days" in response.content.decode()
    assert not RefundTicket.objects.exists()


def test_a_rejected_request_shows_its_reason_and_can_be_sent_again(api, alice, store, alice_paid):
    alice.post(url("refund", store, alice_paid.pk), {"amount": "29.00", "reason": "Broken"})
    ticket = RefundTicket.objects.get()
    api.call(
        "refund-ticket/reject-ticket",
        {"ticketId": ids.encode("TKT", ticket.pk), "reason": "Please send a screenshot"},
    )
    order_page = alice.get(url("order", store, alice_paid.order_id)).content.decode()
    assert "Rejected" in order_page and "Please send a screenshot" in order_page
    assert url("resubmit", store, ticket.pk) in order_page
    response = alice.post(
        url("resubmit", store, ticket.pk), {"amount": "20", "reason": "Screenshot attached"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version_number, ticket.requested_amount) == ("pending", 2, 2000)
    again = alice.post(url("resubmit", store, ticket.pk), {"reason": "again"})
    assert again.status_code == 400
    assert "Only a rejected request" in again.content.decode()


def test_subscriptions_show_plan_price_interval_date_and_card(client, store, alice_subscription):
    sign_in(client, store, ALICE)
    body = client.get(url("subscriptions", store)).content.decode()
    assert "Pro Plan" in body and "$9.99 / month" in body and "Billed monthly" in body
    assert "Active" in body and "Next billing date" in body
    assert "ending in 4242" in body
    assert str(alice_subscription.current_period_end.year) in body


def test_cancel_with_a_reason_then_reactivate(client, store, alice_subscription):
    sign_in(client, store, ALICE)
    order_id = alice_subscription.order_id
    response = client.post(url("subscription-cancel", store, order_id), {"reason": "Too expensive"})
    assert response.status_code == 302
    alice_subscription.refresh_from_db()
    assert alice_subscription.status == SubscriptionStatus.CANCELING
    assert alice_subscription.cancel_reason == "Too expensive"
    page = client.get(response["Location"]).content.decode()
    assert "Canceling" in page and "Ends on" in page
    assert url("subscription-reactivate", store, order_id) in page
    assert client.post(url("subscription-reactivate", store, order_id)).status_code == 302
    alice_subscription.refresh_from_db()
    assert alice_subscription.status == SubscriptionStatus.ACTIVE
    assert alice_subscription.cancel_reason == ""
    refused = client.post(url("subscription-reactivate", store, order_id))
    assert refused.status_code == 400
    assert "Only a subscription being canceled" in refused.content.decode()


def test_a_past_due_subscription_says_how_to_fix_it(client, store, alice_subscription):
    Subscription.objects.filter(pk=alice_subscription.pk).update(
        status=SubscriptionStatus.PAST_DUE,
        next_retry_at=timezone.now() + timedelta(days=2),
        failed_attempts=1,
    )
    sign_in(client, store, ALICE)
    body = client.get(url("subscriptions", store)).content.decode()
    assert "The last payment did not go through" in body
    assert "Replace your card below" in body and "data-replace-card" in body
    assert "failed" in client.get(url("home", store)).content.decode()


def test_a_prod_session_does_not_see_test_orders(client, store, alice_paid):
    sign_in(client, store, ALICE, environment="prod")
    body = client.get(url("orders", store)).content.decode()
    assert str(alice_paid.order_id) not in body
    assert "checkout-test-banner" not in body
    assert client.get(url("order", store, alice_paid.order_id)).status_code == 404


def test_a_test_session_shows_the_test_mode_banner(alice, store):
    assert "checkout-test-banner" in alice.get(url("orders", store)).content.decode()


def test_the_checkout_success_page_links_the_portal(client, store, alice_paid):
    session = alice_paid.order.session
    page = client.get(reverse("checkout:page", args=[store.slug, session.pk])).content.decode()
    assert url("home", store) + "?env=test" in page


def test_subscription_emails_link_the_portal(store, alice_subscription):
    link = manage_subscription_url(alice_subscription.order)
    assert link.endswith(url("subscriptions", store) + "?env=test")
    assert link.startswith("http")


def test_every_control_on_every_page_has_a_label(client, store, alice_paid, alice_subscription):
    """Keyboard and screen-reader use: each input, select and textarea is labelled."""
    signed_out = client.get(url("home", store)).content.decode()
    assert unlabelled_controls(signed_out) == []
    sign_in(client, store, ALICE)
    for path in (
        url("home", store),
        url("orders", store),
        url("order", store, alice_paid.order_id),
        url("refund", store, alice_paid.pk),
        url("invoices", store),
        url("subscriptions", store),
        url("subscription-billing", store, alice_subscription.order_id),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert unlabelled_controls(page.content.decode()) == [], path


def test_an_unpaid_order_can_be_paid_or_canceled_a_paid_one_not(
    api, client, store, ebook, capture, alice_paid
):
    unpaid = purchase(api, ebook, capture, ALICE, pay_it=False)
    sign_in(client, store, ALICE)
    page = client.get(url("order", store, unpaid.order_id)).content.decode()
    assert reverse("checkout:page", args=[store.slug, unpaid.order.session_id]) in page
    response = client.post(url("order-cancel", store, unpaid.order_id))
    assert response.status_code == 302
    unpaid.refresh_from_db()
    unpaid.order.refresh_from_db()
    assert (unpaid.order.status, unpaid.status) == ("canceled", "failed")
    assert "Your order is canceled." in client.get(response["Location"]).content.decode()
    refused = client.post(url("order-cancel", store, alice_paid.order_id))
    assert refused.status_code == 400
    assert "request a refund instead" in refused.content.decode()
    alice_paid.order.refresh_from_db()
    assert alice_paid.order.status == "completed"


def test_the_receipt_links_the_portal(store, alice_paid):
    (receipt,) = [m for m in mail.outbox if m.to == [ALICE] and "order" in m.subject]
    portal = url("home", store) + "?env=test"
    assert "Your orders, invoices and refund requests: http" in receipt.body
    assert portal in receipt.body
    assert 'href="http://' in receipt.alternatives[0][0] and portal in receipt.alternatives[0][0]
