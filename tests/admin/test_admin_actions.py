"""Each support action in the admin, run by a staff member of the "Support agent" group, does its
work through the owning app's service and is recorded in the audit trail; a "Support (read
only)" staff member is refused it and nothing changes."""

from __future__ import annotations

from datetime import date

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.urls import reverse

from billing.models import (
    Invoice,
    Payout,
    RefundTicket,
    TestProcessorPayment,
    WebhookDelivery,
)
from checkout.models import CheckoutSession
from pancake.api import ids
from stores.models import Merchant, Store
from tests.factories import CheckoutSessionFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def _run(client, model, action: str, pks):
    meta = model._meta
    return client.post(
        reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
        {"action": action, "_selected_action": [str(pk) for pk in pks]},
    )


def _entries(obj) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_pk=str(obj.pk)
        ).order_by("timestamp", "pk")
    )


def _refused(response) -> bool:
    """An action run answers with a redirect to the list; one the user may not run is not
    offered to them, and the POST only shows the list again."""
    return response.status_code == 200


# --- resend a webhook delivery -------------------------------------------------------------------


@pytest.fixture
def failed_delivery(paid) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        store_id=paid.store_id,
        environment="test",
        event_type="order.completed",
        subject_id=paid.pk,
        aggregate_id=paid.order_id,
        channel="http",
        url="https://hooks.example.com/pancake",
        body='{"id": "x"}',
        status=WebhookDelivery.Status.FAILED,
        attempt_count=8,
    )


def test_an_agent_resends_a_failed_webhook_delivery(agent, failed_delivery):
    response = _run(agent, WebhookDelivery, "resend", [failed_delivery.pk])
    assert response.status_code == 302
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == WebhookDelivery.Status.PENDING
    assert failed_delivery.retry_base == 8
    assert failed_delivery.next_attempt_at is not None
    [entry] = _entries(failed_delivery)
    assert entry.actor == agent.user
    assert entry.changes["status"] == ["failed", "pending"]
    assert entry.additional_data["via"] == "admin"


def test_a_reader_cannot_resend_a_delivery(reader, failed_delivery):
    assert _refused(_run(reader, WebhookDelivery, "resend", [failed_delivery.pk]))
    failed_delivery.refresh_from_db()
    assert failed_delivery.status == WebhookDelivery.Status.FAILED
    assert _entries(failed_delivery) == []


# --- retry a failed refund -----------------------------------------------------------------------


@pytest.fixture
def failed_ticket(api, paid, capture) -> RefundTicket:
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


def test_an_agent_retries_a_failed_refund(agent, failed_ticket, capture):
    with capture(execute=True):
        response = _run(agent, RefundTicket, "retry_failed_refund", [failed_ticket.pk])
    assert response.status_code == 302
    failed_ticket.refresh_from_db()
    assert failed_ticket.status == "succeeded"
    by_agent = [e for e in _entries(failed_ticket) if e.actor == agent.user]
    assert by_agent[0].changes["status"][0] == "failed"


def test_a_reader_cannot_retry_a_refund(reader, failed_ticket):
    assert _refused(_run(reader, RefundTicket, "retry_failed_refund", [failed_ticket.pk]))
    failed_ticket.refresh_from_db()
    assert failed_ticket.status == "failed"


# --- re-render an invoice PDF --------------------------------------------------------------------


def test_an_agent_renders_an_invoice_pdf_again(agent, paid):
    invoice = Invoice.objects.get(payment=paid)
    Invoice.objects.filter(pk=invoice.pk).update(pdf_rendered_at=None, pdf_sha256="")
    response = _run(agent, Invoice, "rerender_pdf", [invoice.pk])
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.pdf_rendered_at is not None
    assert invoice.pdf_sha256
    [entry] = _entries(invoice)
    assert entry.actor == agent.user
    assert entry.changes["pdf_rendered_at"][0] is None


def test_a_reader_cannot_render_an_invoice_again(reader, paid):
    invoice = Invoice.objects.get(payment=paid)
    Invoice.objects.filter(pk=invoice.pk).update(pdf_rendered_at=None)
    assert _refused(_run(reader, Invoice, "rerender_pdf", [invoice.pk]))
    invoice.refresh_from_db()
    assert invoice.pdf_rendered_at is None


# --- suspend and reactivate a store --------------------------------------------------------------


def test_an_agent_suspends_and_reactivates_a_store(agent, store):
    assert _run(agent, Store, "suspend", [store.pk]).status_code == 302
    store.refresh_from_db()
    assert store.status == "suspended"
    assert _run(agent, Store, "reactivate", [store.pk]).status_code == 302
    store.refresh_from_db()
    assert store.status == "active"
    changes = [e.changes["status"] for e in _entries(store) if e.actor == agent.user]
    assert changes == [["active", "suspended"], ["suspended", "active"]]


def test_reactivating_a_store_that_is_not_suspended_is_refused_by_name(agent, store):
    Store.objects.filter(pk=store.pk).update(status="inactive")
    response = _run(agent, Store, "reactivate", [store.pk])
    store.refresh_from_db()
    assert store.status == "inactive"
    response = agent.get(response.url)
    assert "Not reactivated: My Store: This store is not suspended" in response.content.decode()


def test_a_reader_cannot_suspend_a_store(reader, store):
    assert _refused(_run(reader, Store, "suspend", [store.pk]))
    store.refresh_from_db()
    assert store.status == "active"


# --- mark a payout paid --------------------------------------------------------------------------


@pytest.fixture
def payout(store) -> Payout:
    return Payout.objects.create(
        store=store,
        amount=12_500,
        currency="USD",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
    )


def test_an_agent_marks_a_payout_paid(agent, payout):
    assert _run(agent, Payout, "mark_paid", [payout.pk]).status_code == 302
    payout.refresh_from_db()
    assert payout.status == "paid" and payout.paid_at is not None
    [entry] = _entries(payout)
    assert entry.actor == agent.user
    assert entry.changes["status"] == ["pending", "paid"]
    # Marking it again changes nothing and records nothing.
    _run(agent, Payout, "mark_paid", [payout.pk])
    assert len(_entries(payout)) == 1


def test_a_reader_cannot_mark_a_payout_paid(reader, payout):
    assert _refused(_run(reader, Payout, "mark_paid", [payout.pk]))
    payout.refresh_from_db()
    assert payout.status == "pending"


def test_a_recorded_payout_amount_is_not_editable(superuser, payout):
    url = reverse("admin:billing_payout_change", args=[payout.pk])
    html = superuser.get(url).content.decode()
    assert "$125.00" in html
    assert 'name="amount"' not in html


# --- expire a checkout session -------------------------------------------------------------------


def test_an_agent_expires_an_open_checkout_session(agent):
    session = CheckoutSessionFactory()
    assert _run(agent, CheckoutSession, "expire", [session.pk]).status_code == 302
    session.refresh_from_db()
    assert session.status == "expired"
    [entry] = _entries(session)
    assert entry.actor == agent.user
    assert entry.changes["status"] == ["open", "expired"]


def test_a_session_with_an_order_is_not_expired(agent, paid):
    session = CheckoutSession.objects.get(order__pk=paid.order_id)
    before = session.status
    response = _run(agent, CheckoutSession, "expire", [session.pk])
    session.refresh_from_db()
    assert session.status == before
    html = agent.get(response.url).content.decode()
    assert "Not expired" in html and "cancel the order instead" in html


def test_a_reader_cannot_expire_a_session(reader):
    session = CheckoutSessionFactory()
    assert _refused(_run(reader, CheckoutSession, "expire", [session.pk]))
    session.refresh_from_db()
    assert session.status == "open"


# --- unlock a merchant's API rate limit ----------------------------------------------------------


def test_an_agent_may_unlock_a_rate_limit_and_a_reader_may_not(agent, reader):
    merchant = MerchantFactory()
    refused = _run(reader, Merchant, "unlock_rate_limit", [merchant.pk])
    assert _refused(refused)
    response = _run(agent, Merchant, "unlock_rate_limit", [merchant.pk])
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == ["Rate limit unlocked for 1 merchant."]
