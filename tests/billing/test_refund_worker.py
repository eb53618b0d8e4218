"""Refunds run by a REAL Celery worker on Redis (see tests/workers.py): an approval made through
the API is executed by the worker at the test processor, the payment follows, and the
``refund.succeeded`` webhook reaches a receiver signed as the SDK verifies it; with Redis down
when the approval commits, the approval still commits and the sweep has the worker refund it
later, once."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from billing import tasks
from billing.models import Refund, RefundTicket, TestProcessorRefund
from pancake.api import ids
from tests.billing.helpers import add_webhook, use_broker, verify
from tests.billing.test_webhook_worker import Receiver, pay, place_order, wait_until
from tests.workers import closed_port

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hooks():
    r = Receiver()
    yield r
    r.close()


def _ticket(api, payment, amount: str | None = "10.00") -> str:
    body = {
        "paymentId": ids.encode("PAY", payment.pk),
        "reason": "Not as described",
        "refundTicketMerchantExternalId": "REF-W-1",
    }
    if amount is not None:  # else: all of it
        body["requestedAmount"] = {"amount": amount, "currency": "USD"}
    return api.call("refund-ticket/create-ticket", body)["data"]["ticketId"]


def test_an_approval_is_refunded_by_the_worker_and_the_webhook_arrives(api, store, workers, hooks):
    workers.start()
    add_webhook(api, ids.encode("STO", store.pk), hooks.url, events=["refund.succeeded"])
    payment = place_order(api, store)
    pay(payment)
    ticket_id = _ticket(api, payment)

    api.call("refund-ticket/approve-ticket", {"ticketId": ticket_id})

    arrived = hooks.wait_for(1)
    assert len(arrived) == 1, workers.logs()
    verify("test", arrived[0]["headers"]["X-Waffo-Signature"], arrived[0]["body"])
    payload = json.loads(arrived[0]["body"])
    refund = Refund.objects.get()
    assert payload["eventType"] == "refund.succeeded"
    assert payload["eventId"] == ids.encode("REF", refund.pk)
    assert payload["data"]["refundedAmount"] == "10.00"
    assert payload["data"]["refundTicketMerchantExternalId"] == "REF-W-1"
    assert RefundTicket.objects.get().status == "succeeded"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 1000)
    assert TestProcessorRefund.objects.get().attempt_id == str(refund.pk)


def test_redis_down_at_approval_the_sweep_has_the_worker_refund_it_once(
    api, store, workers, settings
):
    workers.start()
    payment = place_order(api, store)
    pay(payment)
    ticket_id = _ticket(api, payment, None)

    use_broker(f"redis://127.0.0.1:{closed_port()}/0")  # Redis is down at commit time
    try:
        api.call("refund-ticket/approve-ticket", {"ticketId": ticket_id})
    finally:
        use_broker(workers.url)
    refund = Refund.objects.get()
    assert refund.status == "pending"  # committed; its message was lost
    settings.REFUND_SWEEP_AFTER = timedelta(hours=1)
    assert tasks.sweep_refunds() == 0  # too fresh: a message may still be on its way
    settings.REFUND_SWEEP_AFTER = timedelta(0)
    assert tasks.sweep_refunds() == 1
    wait_until(
        lambda: Refund.objects.filter(pk=refund.pk, status="succeeded").exists(),
        "the refund",
        workers,
    )
    payment.refresh_from_db()
    assert payment.status == "refunded"
    assert (payment.refunded_amount, payment.refunding_amount) == (payment.amount, 0)
    assert TestProcessorRefund.objects.count() == 1
