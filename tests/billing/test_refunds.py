"""Refund tickets and refunds through the API, as the SDK (``customer(token).createRefundTicket``,
``.resubmitRefundTicket``) and support tooling (approve, reject, refund-payment) call them: every
rule and status, both API versions, the provider's refund and what follows from it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from billing import tasks
from billing.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundTicket,
    RefundTicketVersion,
    Subscription,
    SubscriptionStatus,
    TestProcessorPayment,
    TestProcessorRefund,
)
from billing.providers import test_processor
from billing.refunds import services
from billing.webhooks.payload import render_data
from pancake.api import ids
from pancake.models import OutboxEvent
from stores.models import Role
from tests.factories import ProductFactory
from tests.helpers import buy, deliver, pay
from tests.subscriptions.helpers import at, beat, charges, subscribe, utc

pytestmark = pytest.mark.django_db

CREATE = "refund-ticket/create-ticket"
RESUBMIT = "refund-ticket/resubmit-ticket"
APPROVE = "refund-ticket/approve-ticket"
REJECT = "refund-ticket/reject-ticket"
REFUND = "payment/refund-payment"
DOCS = {"HTTP_PANCAKE_VERSION": "2026-01-15"}
US = {"country": "US", "isBusiness": False, "state": "OR", "postcode": "97201"}


@pytest.fixture
def capture(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


@pytest.fixture
def paid(api, store, capture) -> Payment:
    """A succeeded one-time payment of 29.00 USD (Oregon: no sales tax)."""
    product = ProductFactory(store=store)
    payment = buy(api, product, currency="USD", billing=US)
    deliver(pay(payment), capture)
    payment.refresh_from_db()
    assert (payment.status, payment.amount) == ("succeeded", 2900)
    return payment


@pytest.fixture
def paid_sub(api, store, capture) -> Payment:
    plan = ProductFactory(
        store=store, subscription=True, prices={"USD": {"amount": 1000, "taxCategory": "saas"}}
    )
    payment = buy(api, plan, currency="USD", billing=US, subscription=True)
    deliver(pay(payment), capture)
    payment.refresh_from_db()
    return payment


def token_for(api, store, buyer="buyer@example.com") -> str:
    body = {"storeId": ids.encode("STO", store.pk), "buyerIdentity": buyer}
    return api.call("auth/issue-session-token", body)["data"]["token"]


def as_buyer(token, action, body):
    return Client().post(
        f"/v1/actions/{action}",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_ENVIRONMENT="test",
    )


def pay_id(payment) -> str:
    return ids.encode("PAY", payment.pk)


def error_of(response, status) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["data"] is None
    return body["errors"][0]


def file(api, store, payment, amount="29.00", **extra) -> dict:
    body = {"paymentId": pay_id(payment), "reason": "Not as described", **extra}
    if amount is not None:
        body["requestedAmount"] = {"amount": amount, "currency": "USD"}
    response = as_buyer(token_for(api, store), CREATE, body)
    assert response.status_code == 200, response.content
    return response.json()["data"]


# --- filing a ticket -----------------------------------------------------------------------------


def test_the_buyer_files_a_ticket_in_the_sdk_shape_with_the_flat_fields_beside_it(api, store, paid):
    data = file(
        api,
        store,
        paid,
        "10.00",
        metadata={"source": "app"},
        refundTicketMerchantExternalId="REF-2026-00891",
    )
    ticket = data["ticket"]
    row = RefundTicket.objects.get()
    assert ticket["id"] == ids.encode("TKT", row.pk) == data["ticketId"]
    assert (ticket["type"], ticket["status"], data["status"]) == ("refund", "pending", "pending")
    assert ticket["subjectId"] == pay_id(paid)
    assert (ticket["submitterType"], ticket["submitterId"]) == ("customer", "buyer@example.com")
    assert ticket["versionNumber"] == 1
    assert ticket["versionData"] == {
        "reason": "Not as described",
        "requestedAmount": {"amount": "10.00", "currency": "USD"},
    }
    assert ticket["currentVersionId"] == str(RefundTicketVersion.objects.get().pk)
    assert ticket["metadata"] == {"source": "app"}
    assert ticket["refundTicketMerchantExternalId"] == "REF-2026-00891"
    assert ticket["reviewerId"] is None and ticket["rejectReason"] is None
    assert data["requestedAmount"] == "10.00"
    assert (row.requested_amount, row.currency, row.status) == (1000, "USD", "pending")
    assert OutboxEvent.objects.filter(event_type="refund_ticket.created").count() == 1


def test_the_pages_version_takes_a_bare_amount_in_minor_units_and_answers_uuids(api, paid):
    data = api.call(CREATE, {"paymentId": str(paid.pk), "reason": "x", "amount": 1500}, DOCS)[
        "data"
    ]
    row = RefundTicket.objects.get()
    assert data["ticketId"] == str(row.pk)
    assert data["requestedAmount"] == 1500
    assert data["ticket"]["versionData"]["requestedAmount"] == {"amount": 1500, "currency": "USD"}
    assert data["ticket"]["submitterType"] == "merchant"
    assert data["ticket"]["submitterId"] == str(api.merchant.pk)


def test_without_an_amount_the_ticket_asks_for_everything_left(api, store, paid):
    file(api, store, paid, "9.00")
    data = file(api, store, paid, None)
    assert data["requestedAmount"] == "20.00"
    # Nothing is left now: the two open tickets hold all of it.
    refused = as_buyer(token_for(api, store), CREATE, {"paymentId": pay_id(paid), "reason": "x"})
    assert error_of(refused, 400)["message"] == "Nothing is left to refund"


def test_several_partial_tickets_never_ask_for_more_than_is_left(api, store, paid):
    file(api, store, paid, "10.00")
    file(api, store, paid, "10.00")
    too_much = as_buyer(
        token_for(api, store),
        CREATE,
        {
            "paymentId": pay_id(paid),
            "reason": "x",
            "requestedAmount": {"amount": "9.01", "currency": "USD"},
        },
    )
    error = error_of(too_much, 400)
    assert error == {
        "message": "Amount exceeds what is left to refund (9.00 USD)",
        "layer": "ticket",
    }
    file(api, store, paid, "9.00")
    assert RefundTicket.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"requestedAmount": {"amount": "5.00", "currency": "EUR"}},
            "Currency must be the payment's (USD)",
        ),
        (
            {"requestedAmount": {"amount": "0.00", "currency": "USD"}},
            "Amount must be greater than zero",
        ),
        (
            {"requestedAmount": {"amount": "1.001", "currency": "USD"}},
            "Invalid requestedAmount.amount: USD amounts have at most 2 decimal places",
        ),
        (
            {"requestedAmount": "5.00"},
            'Invalid requestedAmount: expected {"amount": "29.00", "currency": "USD"}',
        ),
        ({"amount": -5}, "Invalid amount: amount must not be negative"),
        ({"amount": 3000}, "Amount exceeds what is left to refund (29.00 USD)"),
    ],
)
def test_bad_amounts_are_a_400_saying_what_is_wrong(api, paid, body, message):
    response = api.post(CREATE, {"paymentId": pay_id(paid), "reason": "x", **body})
    assert error_of(response, 400)["message"] == message
    assert not RefundTicket.objects.exists()


def test_required_fields_and_lengths(api, paid):
    assert error_of(api.post(CREATE, {"paymentId": pay_id(paid)}), 400)["message"] == (
        "Missing required field: reason"
    )
    long_ref = {
        "paymentId": pay_id(paid),
        "reason": "x",
        "refundTicketMerchantExternalId": "r" * 129,
    }
    assert "refundTicketMerchantExternalId" in error_of(api.post(CREATE, long_ref), 400)["message"]


def test_an_unpaid_payment_cannot_be_refunded(api, store):
    product = ProductFactory(store=store)
    pending = buy(api, product, currency="USD", billing=US)
    error = error_of(api.post(CREATE, {"paymentId": pay_id(pending), "reason": "x"}), 409)
    assert error["message"] == "This payment cannot be refunded"


def test_buyers_have_seven_days_on_one_time_payments_the_merchant_always(api, store, paid):
    body = {"paymentId": pay_id(paid), "reason": "x", "amount": 100}
    with time_machine.travel(paid.paid_at + timedelta(days=7, seconds=-1)):
        assert as_buyer(token_for(api, store), CREATE, body).status_code == 200
    with time_machine.travel(paid.paid_at + timedelta(days=7, seconds=1)):
        error = error_of(as_buyer(token_for(api, store), CREATE, body), 400)
        assert error["message"] == "One-time payments can be refunded within 7 days of payment"
        assert api.post(CREATE, body).status_code == 200  # the merchant's key


def test_subscription_charges_have_no_seven_day_window(api, store, paid_sub):
    with time_machine.travel(paid_sub.paid_at + timedelta(days=20)):
        body = {"paymentId": pay_id(paid_sub), "reason": "x", "amount": 100}
        assert as_buyer(token_for(api, store), CREATE, body).status_code == 200


def test_someone_elses_payment_is_a_404(api, make_api, store, paid):
    other = as_buyer(
        token_for(api, store, "else@example.com"),
        CREATE,
        {"paymentId": pay_id(paid), "reason": "x"},
    )  # noqa: E501
    assert error_of(other, 404)["message"] == "Payment not found"
    stranger = make_api(email="stranger@example.com")
    assert error_of(stranger.post(CREATE, {"paymentId": pay_id(paid), "reason": "x"}), 404)
    prod = Client().post(
        f"/v1/actions/{CREATE}",
        data=json.dumps({"paymentId": pay_id(paid), "reason": "x"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token_for(api, store)}",
        HTTP_X_ENVIRONMENT="prod",
    )
    assert prod.status_code in (400, 401, 404)


# --- review --------------------------------------------------------------------------------------


def test_approval_refunds_through_the_provider_and_the_payment_follows(api, store, paid, capture):
    ticket_id = file(api, store, paid, "10.00")["ticketId"]
    with capture(execute=True):
        data = api.call(APPROVE, {"ticketId": ticket_id})["data"]
    assert data["ticket"]["status"] == "approved"
    assert data["ticket"]["reviewerId"] == ids.encode("MER", api.merchant.pk)
    ticket = RefundTicket.objects.get()
    refund = Refund.objects.get()
    paid.refresh_from_db()
    assert (ticket.status, refund.status) == ("succeeded", "succeeded")
    assert ticket.resolved_at is not None and ticket.executed_at is not None
    assert (paid.status, paid.refunded_amount, paid.refunding_amount) == (
        "partially_refunded",
        1000,
        0,
    )
    # The provider was asked once, with our refund row's id as its idempotency key.
    provider = TestProcessorRefund.objects.get()
    assert (provider.attempt_id, provider.amount) == (str(refund.pk), 1000)
    event = OutboxEvent.objects.get(event_type="refund.succeeded")
    assert event.subject_id == refund.pk and event.aggregate_id == paid.order_id
    # The rest, straight from the payment: refunded in full.
    with capture(execute=True):
        api.call(REFUND, {"paymentId": pay_id(paid), "reason": "Goodwill"})
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("refunded", 2900)
    refunded = api.post(CREATE, {"paymentId": pay_id(paid), "reason": "x"})
    assert error_of(refunded, 409)["message"] == "This payment cannot be refunded"


def test_the_refund_webhook_carries_the_sdk_fields(api, store, paid, capture):
    ticket_id = file(api, store, paid, "10.00", refundTicketMerchantExternalId="R-1")["ticketId"]
    with capture(execute=True):
        api.call(APPROVE, {"ticketId": ticket_id})
    event = OutboxEvent.objects.get(event_type="refund.succeeded")
    data = render_data("refund.succeeded", event.data, "2026-09-23")
    assert data["refundedAmount"] == "10.00"
    assert data["refundTicketMerchantExternalId"] == "R-1"
    assert data["refundStatus"] == "succeeded"
    assert data["refundReason"] == "Not as described"
    assert data["originalChargedAmount"] == "29.00"
    assert data["originalPayment"]["total"] == "29.00"
    assert data["orderId"] == ids.encode("ORD", paid.order_id)
    assert data["buyerEmail"] == "buyer@example.com"
    assert "chargedAmount" not in data and "listPrice" not in data
    assert data["refundCreatedAt"].endswith("Z")


def test_the_buyer_is_emailed_when_the_refund_went_through(api, store, paid, capture):
    with capture(execute=True):  # the ticket's own events relayed (they send no email)
        ticket_id = file(api, store, paid, "10.00")["ticketId"]
    mail.outbox.clear()
    with capture(execute=True):
        api.call(APPROVE, {"ticketId": ticket_id})
    to_buyer = [m for m in mail.outbox if m.to == ["buyer@example.com"]]
    assert len(to_buyer) == 1
    assert "$10.00" in to_buyer[0].body and "$29.00" in to_buyer[0].body
    assert to_buyer[0].subject == "[Test] Your refund from My Store"
    to_owner = [m for m in mail.outbox if m.subject.startswith("[Test] Refund sent: $10.00")]
    assert len(to_owner) == 1


def test_a_rejected_buyer_is_told_why(api, store, paid, capture):
    with capture(execute=True):
        ticket_id = file(api, store, paid, "10.00")["ticketId"]
    mail.outbox.clear()
    with capture(execute=True):
        api.call(REJECT, {"ticketId": ticket_id, "reason": "Downloaded 40 times"})
    (email,) = mail.outbox
    assert email.to == ["buyer@example.com"]
    assert "Downloaded 40 times" in email.body and "$10.00" in email.body


def test_an_approval_may_be_smaller_never_larger(api, store, paid, capture):
    ticket_id = file(api, store, paid, "10.00")["ticketId"]
    larger = api.post(APPROVE, {"ticketId": ticket_id, "approvedAmount": "10.01"})
    assert error_of(larger, 400)["message"] == (
        "The approved amount cannot exceed the requested amount"
    )
    with capture(execute=True):
        data = api.call(APPROVE, {"ticketId": ticket_id, "approvedAmount": "4.00"})["data"]
    assert data["ticket"]["approvedAmount"] == "4.00"
    paid.refresh_from_db()
    assert paid.refunded_amount == 400
    again = api.post(APPROVE, {"ticketId": ticket_id})
    assert error_of(again, 409)["message"] == "Only a pending ticket can be approved"


def test_reject_then_resubmit_makes_a_new_version_keeping_the_external_id(api, store, paid):
    ticket_id = file(api, store, paid, "29.00", refundTicketMerchantExternalId="REF-7")["ticketId"]
    rejected = api.call(REJECT, {"ticketId": ticket_id, "reason": "Used for a month"})["data"]
    assert rejected["ticket"]["status"] == "rejected"
    assert rejected["ticket"]["rejectReason"] == "Used for a month"
    # A rejected ticket holds nothing back: another may ask for the whole amount.
    token = token_for(api, store)
    body = {
        "ticketId": ticket_id,
        "paymentId": pay_id(paid),
        "reason": "More detail",
        "requestedAmount": {"amount": "10.00", "currency": "USD"},
    }
    data = as_buyer(token, RESUBMIT, body).json()["data"]
    ticket = data["ticket"]
    assert (ticket["status"], ticket["versionNumber"]) == ("pending", 2)
    assert ticket["refundTicketMerchantExternalId"] == "REF-7"
    assert ticket["versionData"] == {
        "reason": "More detail",
        "requestedAmount": {"amount": "10.00", "currency": "USD"},
    }
    assert ticket["rejectReason"] is None and ticket["reviewedAt"] is None
    versions = RefundTicketVersion.objects.order_by("number")
    assert [(v.number, v.requested_amount, v.previous_reject_reason) for v in versions] == [
        (1, 2900, ""),
        (2, 1000, "Used for a month"),
    ]
    again = as_buyer(token, RESUBMIT, body)
    assert error_of(again, 409)["message"] == "Only a rejected ticket can be resubmitted"


def test_resubmit_checks_the_payment_and_what_is_left(api, store, paid, paid_sub):
    ticket_id = file(api, store, paid, "20.00")["ticketId"]
    api.call(REJECT, {"ticketId": ticket_id, "reason": "no"})
    file(api, store, paid, "15.00")
    token = token_for(api, store)
    base = {"ticketId": ticket_id, "paymentId": pay_id(paid), "reason": "again"}
    wrong = as_buyer(token, RESUBMIT, {**base, "paymentId": pay_id(paid_sub)})
    assert error_of(wrong, 400)["message"] == "The ticket is not for this payment"
    too_much = {**base, "requestedAmount": {"amount": "14.01", "currency": "USD"}}
    assert error_of(as_buyer(token, RESUBMIT, too_much), 400)["message"] == (
        "Amount exceeds what is left to refund (14.00 USD)"
    )
    # Without an amount it asks again for what it asked, as far as what is left allows.
    assert as_buyer(token, RESUBMIT, base).json()["data"]["requestedAmount"] == "14.00"


def test_buyers_cannot_review_and_members_may_not(api, make_api, member_of, store, paid):
    ticket_id = file(api, store, paid, "1.00")["ticketId"]
    as_token = as_buyer(token_for(api, store), APPROVE, {"ticketId": ticket_id})
    assert as_token.status_code in (401, 403)
    member = make_api(email="member@example.com")
    member_of(store, member.merchant, Role.MEMBER)
    assert error_of(member.post(APPROVE, {"ticketId": ticket_id}), 403)["message"] == (
        "Insufficient permissions"
    )
    assert error_of(member.post(REFUND, {"paymentId": pay_id(paid), "reason": "x"}), 403)
    admin = make_api(email="admin@example.com")
    member_of(store, admin.merchant, Role.ADMIN)
    assert admin.post(REJECT, {"ticketId": ticket_id, "reason": "no"}).status_code == 200


# --- the merchant's own refund -------------------------------------------------------------------


def test_the_merchant_refunds_part_of_a_payment_and_the_approved_ticket_answers(api, paid, capture):
    with capture(execute=True):
        data = api.call(
            REFUND,
            {
                "paymentId": pay_id(paid),
                "amount": {"amount": "5.50", "currency": "USD"},
                "reason": "Late delivery",
            },
        )["data"]
    assert data["ticket"]["status"] == "approved"
    assert data["ticket"]["submitterType"] == "merchant"
    assert data["requestedAmount"] == "5.50"
    paid.refresh_from_db()
    assert (paid.status, paid.refunded_amount) == ("partially_refunded", 550)
    too_much = api.post(REFUND, {"paymentId": pay_id(paid), "amount": 2351, "reason": "x"})
    assert error_of(too_much, 400)["message"] == (
        "Amount exceeds what is left to refund (23.50 USD)"
    )


def test_refunding_a_subscription_charge_may_cancel_the_subscription(api, paid_sub, capture):
    with capture(execute=True):
        api.call(
            REFUND, {"paymentId": pay_id(paid_sub), "reason": "Churn", "cancelSubscription": True}
        )
    subscription = Subscription.objects.get(order_id=paid_sub.order_id)
    assert subscription.status == SubscriptionStatus.CANCELED
    paid_sub.refresh_from_db()
    assert paid_sub.status == PaymentStatus.REFUNDED
    assert RefundTicket.objects.get().cancel_subscription is True


def test_cancel_subscription_on_a_one_time_payment_is_a_400(api, paid):
    body = {"paymentId": pay_id(paid), "reason": "x", "cancelSubscription": True}
    assert error_of(api.post(REFUND, body), 400)["message"] == (
        "This payment is not a subscription's"
    )
    assert not RefundTicket.objects.exists()


# --- the provider failing ------------------------------------------------------------------------


def test_a_provider_error_leaves_the_refund_processing_for_the_sweep(api, store, paid, capture):
    ticket_id = file(api, store, paid, "10.00")["ticketId"]
    test_processor.fail_next("refund", "error")
    with capture(execute=True):
        api.call(APPROVE, {"ticketId": ticket_id})
    ticket = RefundTicket.objects.get()
    assert ticket.status == "processing"  # no answer: the sweep asks again
    refund = Refund.objects.get()
    assert refund.status == "processing"
    paid.refresh_from_db()
    assert paid.refunding_amount == 1000
    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - timedelta(minutes=5))
    assert tasks.sweep_refunds() == 1
    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.status == "succeeded"
    assert (paid.refunded_amount, paid.refunding_amount) == (1000, 0)
    assert TestProcessorRefund.objects.count() == 1


def test_a_timeout_after_the_provider_refunded_never_refunds_twice(api, store, paid, capture):
    ticket_id = file(api, store, paid, "10.00")["ticketId"]
    test_processor.fail_next("refund", "timeout")
    with capture(execute=True):
        api.call(APPROVE, {"ticketId": ticket_id})
    refund = Refund.objects.get()
    assert refund.status == "processing"
    assert TestProcessorRefund.objects.count() == 1  # it did happen at the provider
    for _ in range(2):  # the task runs again, twice
        services.refund_execute(refund_id=refund.pk)
    refund.refresh_from_db()
    paid.refresh_from_db()
    assert refund.status == "succeeded"
    assert paid.refunded_amount == 1000
    assert TestProcessorRefund.objects.count() == 1
    assert OutboxEvent.objects.filter(event_type="refund.succeeded").count() == 1


def test_a_declined_refund_fails_emits_refund_failed_and_support_retries_it(
    api, store, paid, capture
):
    ticket_id = file(api, store, paid, "10.00")["ticketId"]
    # The provider's own record says the money is already back: it declines our refund.
    processor_payment = TestProcessorPayment.objects.get(attempt_id=str(paid.pk))
    processor_payment.refunded_amount = processor_payment.amount
    processor_payment.save()
    with capture(execute=True):
        api.call(APPROVE, {"ticketId": ticket_id})
    ticket = RefundTicket.objects.get()
    refund = Refund.objects.get()
    paid.refresh_from_db()
    assert (ticket.status, refund.status, refund.failure_code) == (
        "failed",
        "failed",
        "amount_too_large",
    )
    assert (paid.status, paid.refunded_amount, paid.refunding_amount) == ("succeeded", 0, 0)
    assert OutboxEvent.objects.filter(event_type="refund.failed").count() == 1
    processor_payment.refunded_amount = 0
    processor_payment.save()
    with capture(execute=True):
        services.refund_retry(ticket_id=ticket.pk)
    ticket.refresh_from_db()
    paid.refresh_from_db()
    assert ticket.status == "succeeded"
    assert Refund.objects.count() == 2  # a new row: a new idempotency key
    assert paid.refunded_amount == 1000


def test_a_renewal_charge_is_refunded_like_any_other(api, store, capture):
    plan = ProductFactory(store=store, subscription=True)
    with at(utc(2027, 1, 10, 9)):
        order, subscription = subscribe(api, plan, capture)
    with at(utc(2027, 2, 10, 10)):
        beat(capture)
        (first, renewal) = charges(subscription)
        assert renewal.purpose == "renewal" and renewal.provider_payment_id
        assert renewal.product_id == plan.pk
        with capture(execute=True):
            api.call(REFUND, {"paymentId": pay_id(renewal), "reason": "Forgot to cancel"})
    renewal.refresh_from_db()
    first.refresh_from_db()
    assert (renewal.status, renewal.refunded_amount) == ("refunded", renewal.amount)
    assert first.status == "succeeded"  # only the renewal was refunded
    event = OutboxEvent.objects.get(event_type="refund.succeeded")
    assert event.data["periodNumber"] == 2
    # The subscription goes on unless the merchant said to cancel it.
    assert Subscription.objects.get(pk=subscription.pk).status == "active"


def test_the_refund_email_is_in_the_buyers_checkout_language(api, store, capture):
    product = ProductFactory(store=store)
    payment = buy(api, product, currency="USD", billing=US, session={"language": "de"})
    deliver(pay(payment), capture)
    mail.outbox.clear()
    with capture(execute=True):
        api.call(REFUND, {"paymentId": pay_id(payment), "reason": "Kulanz"})
    (email,) = [m for m in mail.outbox if m.to == ["buyer@example.com"]]
    assert email.subject == "[Test] Ihre Rückerstattung von My Store"
    assert "Wir haben 29,00" in email.body
