"""A buyer sees and changes only their own orders in this store and environment: every id of
someone else's order, payment, invoice, ticket or subscription — or of the same email's order
in another store — answers 404, by GET and by POST, and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from billing.models import Invoice, RefundTicket, Subscription, SubscriptionStatus
from billing.refunds import services as refund_services
from pancake.api import ids
from portal.models import PortalSession
from portal.services import buyer_actor
from stores.models import Store
from tests.factories import ProductFactory
from tests.portal.conftest import ALICE, BOB, purchase, sign_in

pytestmark = pytest.mark.django_db


def url(name, store, *args):
    return reverse(f"portal:{name}", args=[store.slug, *args])


@pytest.fixture
def bob_ticket(bob_paid):
    session = PortalSession(store=bob_paid.store, environment="test", buyer_identity=BOB)
    return refund_services.ticket_create(
        actor=buyer_actor(session), payment_id=bob_paid.pk, reason="mine"
    )


@pytest.fixture
def bob_subscription(api, plan, capture):
    payment = purchase(api, plan, capture, BOB, subscription=True)
    return Subscription.objects.get(order_id=payment.order_id)


def test_bobs_order_payment_invoice_and_ticket_are_404_for_alice(
    alice, store, bob_paid, bob_ticket
):
    invoice = Invoice.objects.get(payment=bob_paid)
    for path in (
        url("order", store, bob_paid.order_id),
        url("refund", store, bob_paid.pk),
        url("invoice-pdf", store, invoice.pk),
        url("resubmit", store, bob_ticket.pk),
    ):
        assert alice.get(path).status_code == 404, path
    assert alice.post(url("refund", store, bob_paid.pk), {"reason": "x"}).status_code == 404
    assert alice.post(url("resubmit", store, bob_ticket.pk), {"reason": "x"}).status_code == 404
    assert RefundTicket.objects.count() == 1
    # Ids that exist nowhere answer the same.
    assert alice.get(url("order", store, bob_ticket.pk)).status_code == 404


def test_bobs_rejected_ticket_cannot_be_resubmitted_by_alice(api, alice, store, bob_ticket):
    api.call(
        "refund-ticket/reject-ticket",
        {"ticketId": ids.encode("TKT", bob_ticket.pk), "reason": "no"},
    )
    assert alice.post(url("resubmit", store, bob_ticket.pk), {"reason": "x"}).status_code == 404
    bob_ticket.refresh_from_db()
    assert bob_ticket.status == "rejected"


def test_bobs_subscription_cannot_be_canceled_or_reactivated_by_alice(
    alice, store, bob_subscription
):
    order_id = bob_subscription.order_id
    assert alice.post(url("subscription-cancel", store, order_id)).status_code == 404
    bob_subscription.refresh_from_db()
    assert bob_subscription.status == SubscriptionStatus.ACTIVE
    Subscription.objects.filter(pk=bob_subscription.pk).update(
        status=SubscriptionStatus.CANCELING, cancel_at_period_end=True
    )
    assert alice.post(url("subscription-reactivate", store, order_id)).status_code == 404
    assert Subscription.objects.get(pk=bob_subscription.pk).status == "canceling"
    assert "Pro Plan" not in alice.get(url("subscriptions", store)).content.decode()


def test_the_same_email_in_another_store_is_another_buyer(api, client, store, capture):
    other = Store.objects.get(
        pk=ids.parse_id(
            api.call("store/create-store", {"name": "Other"})["data"]["store"]["id"], "STO"
        )
    )
    elsewhere = purchase(api, ProductFactory(store=other), capture, ALICE)
    here = purchase(api, ProductFactory(store=store), capture, ALICE)
    sign_in(client, store, ALICE)
    orders = client.get(url("orders", store)).content.decode()
    assert str(here.order_id) in orders and str(elsewhere.order_id) not in orders
    assert client.get(url("order", store, elsewhere.order_id)).status_code == 404
    assert client.get(url("refund", store, elsewhere.pk)).status_code == 404
    invoice = Invoice.objects.get(payment=elsewhere)
    assert client.get(url("invoice-pdf", store, invoice.pk)).status_code == 404
    # The other store's portal does not know this session at all.
    assert client.get(url("orders", other)).status_code == 302
    assert client.get(url("order", other, elsewhere.order_id)).status_code == 302


def test_bobs_unpaid_order_cannot_be_canceled_by_alice(api, alice, store, ebook, capture):
    unpaid = purchase(api, ebook, capture, BOB, pay_it=False)
    assert alice.post(url("order-cancel", store, unpaid.order_id)).status_code == 404
    unpaid.order.refresh_from_db()
    assert unpaid.order.status == "pending"
