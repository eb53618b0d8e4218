"""The official, unmodified @waffo/pancake-ts 0.25.0 and a refund ticket's whole life on a live
server: the buyer's ``customer(token).createRefundTicket`` (the token from
``auth.issueSessionToken`` for the buyer's email), the merchant's rejection
(``refund-ticket/reject-ticket``, a signed API-key call: the SDK has no method for it), the
buyer's ``customer(token).resubmitRefundTicket`` (version 2, the same merchant reference), the
merchant's approval of a smaller amount (``refund-ticket/approve-ticket``) and the refund it
runs; the SDK guide's ``refundTickets``/``refunds`` documents through ``graphql.query`` (the
merchant's and the buyer's); and ``verifyWebhook`` on the ``refund.succeeded`` delivery."""

from __future__ import annotations

import json

import pytest

from billing import services as billing_services
from billing.models import Payment, Refund, RefundTicket
from billing.webhooks import keys
from pancake.api import ids
from products.services import product_create
from stores.services import store_create
from tests.graphql.appendix_b import DOCUMENTS
from tests.helpers import ApiClient, buy, pay
from tests.sdk.helpers import run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

BUYER = "buyer@example.com"  # the buyer of tests.helpers.buy
US = {"country": "US", "isBusiness": False, "state": "OR"}  # Oregon: no sales tax
REF = "REF-2026-00891"

BUYER_SESSION = """
const paymentId = process.env.PAYMENT_ID;
const { token } = await client.auth.issueSessionToken({
  storeId: process.env.STORE_ID, buyerIdentity: process.env.BUYER,
});
const buyer = client.customer(token, { environment: "test" });
"""

CREATE = (
    BUYER_SESSION
    + """
out.created = await buyer.createRefundTicket({
  paymentId,
  reason: "Product not as described",
  requestedAmount: { amount: "10.00", currency: "USD" },
  metadata: { source: "app" },
  refundTicketMerchantExternalId: process.env.REF,
});
out.tooMuch = await failure(() => buyer.createRefundTicket({
  paymentId,
  reason: "Everything back",
  requestedAmount: { amount: "29.00", currency: "USD" },
}));
const eve = client.customer(
  (await client.auth.issueSessionToken({
    storeId: process.env.STORE_ID, buyerIdentity: "eve@example.com",
  })).token,
  { environment: "test" },
);
out.notEves = await failure(() => eve.createRefundTicket({
  paymentId,
  reason: "Mine now",
  requestedAmount: { amount: "1.00", currency: "USD" },
}));
out.evesView = await eve.graphql.query({ query: "query { refundTicketsCount refunds { id } }" });
out.mine = await buyer.graphql.query({
  query: `query { refundTickets { id status versionNumber refundTicketMerchantExternalId
                                 requestedAmountDetails { currency amount } } }`,
});
"""
)

RESUBMIT = (
    BUYER_SESSION
    + """
const ticketId = process.env.TICKET_ID;
out.resubmitted = await buyer.resubmitRefundTicket({
  ticketId,
  paymentId,
  reason: "The file is corrupt: chapter 3 is missing",
  requestedAmount: { amount: "12.00", currency: "USD" },
});
out.again = await failure(() => buyer.resubmitRefundTicket({
  ticketId,
  paymentId,
  reason: "Once more",
  requestedAmount: { amount: "12.00", currency: "USD" },
}));
"""
)

READ = (
    BUYER_SESSION
    + """
const docs = JSON.parse(process.env.DOCUMENTS);
out.pending = await client.graphql.query({ query: docs["B.19"] });
const ref = process.env.REF;
out.byRef = await client.graphql.query({ query: docs["B.20"], variables: { ref } });
out.order = await client.graphql.query({
  query: docs["B.16"], variables: { id: process.env.ORDER_ID },
});
out.dashboard = await client.graphql.query({
  query: docs["B.28"], variables: { storeId: process.env.STORE_ID },
});
out.counts = await client.graphql.query({
  query: docs["B.29"], variables: { storeId: process.env.STORE_ID },
});
out.buyerByRef = await buyer.graphql.query({ query: docs["B.20"], variables: { ref } });
out.buyerTicket = await buyer.graphql.query({
  query: `query ($id: ID!) { refundTicket(id: $id) {
    id status versionNumber subjectId submitterType reviewNote rejectReason executedAt resolvedAt
    approvedAmount versions { versionNumber reason previousRejectReason }
    refunds { id status pspAmountDetails { amount currency } }
  } }`,
  variables: { id: process.env.TICKET_ID },
});
"""
)

VERIFY = """
const { verifyWebhook } = await import("@waffo/pancake-ts");
const publicKey = process.env.PUBLIC_KEY_PEM;
out.events = JSON.parse(process.env.DELIVERIES).map((d) => {
  try {
    return { accepted: true, event: verifyWebhook(d.body, d.signature, { publicKey }) };
  } catch (e) {
    return { accepted: false, message: e.message };
  }
});
const first = JSON.parse(process.env.DELIVERIES)[0];
try {
  verifyWebhook(first.body.replace("buyer@", "eve@"), first.signature, { publicKey });
  out.tampered = "accepted";
} catch (e) {
  out.tampered = e.message;
}
"""

TICKET_KEYS = {
    "id", "type", "status", "subjectId", "submitterId", "submitterType", "currentVersionId",
    "reviewerId", "reviewedAt", "reviewNote", "rejectReason", "executedAt", "metadata",
    "refundTicketMerchantExternalId", "versionNumber", "versionData", "createdAt", "updatedAt",
}  # fmt: skip


def test_the_sdk_files_a_ticket_resubmits_it_after_a_rejection_and_reads_the_refund(
    live_server, merchant_key, receiver
):
    merchant, key = merchant_key
    api = ApiClient(merchant, key)
    store = store_create(merchant=merchant, name="Refund Store")
    book = product_create(
        store=store,
        kind="onetime",
        name="E-Book",
        prices={"USD": {"amount": 2900, "taxCategory": "ebook"}},
    )
    store_id = ids.encode("STO", store.pk)
    api.call(
        "store/add-webhook",
        {
            "storeId": store_id,
            "channel": "http",
            "url": receiver.url,
            "events": ["refund.succeeded", "refund.failed"],
            "testMode": True,
        },
    )

    # The buyer pays 29.00 (no tax in Oregon).
    payment = buy(api, book, currency="USD", billing=US)
    notification = pay(payment)
    billing_services.test_processor_notification_receive(
        headers=dict(notification.headers), body=notification.body
    )
    payment.refresh_from_db()
    assert (payment.status, payment.amount) == ("succeeded", 2900)
    payment_id = ids.encode("PAY", payment.pk)
    order_id = ids.encode("ORD", payment.order_id)
    env = {
        **sdk_env(merchant, key, live_server),
        "STORE_ID": store_id,
        "PAYMENT_ID": payment_id,
        "ORDER_ID": order_id,
        "BUYER": BUYER,
        "REF": REF,
    }

    # The buyer asks for 10.00 back; asking for everything on top of it is too much.
    out = run_sdk(CREATE, env)
    created = out["created"]["ticket"]
    assert set(created) >= TICKET_KEYS, created
    ticket_id = created["id"]
    assert ticket_id.startswith("TKT_")
    assert (created["type"], created["status"], created["subjectId"]) == (
        "refund",
        "pending",
        payment_id,
    )
    assert (created["submitterType"], created["versionNumber"]) == ("customer", 1)
    assert created["refundTicketMerchantExternalId"] == REF
    assert created["metadata"] == {"source": "app"}
    assert created["versionData"] == {
        "reason": "Product not as described",
        "requestedAmount": {"amount": "10.00", "currency": "USD"},
    }
    assert created["reviewedAt"] is None and created["rejectReason"] is None
    too_much = out["tooMuch"]
    assert too_much["rejected"] and too_much["isWaffoPancakeError"]
    assert too_much["status"] == 400 and too_much["errors"][0]["layer"] in {"ticket", "order"}
    # Another buyer of the store can neither file on this payment nor see the ticket.
    not_eves = out["notEves"]
    assert not_eves["rejected"] and not_eves["isWaffoPancakeError"]
    assert not_eves["status"] in (403, 404), not_eves
    assert out["evesView"]["data"] == {"refundTicketsCount": 0, "refunds": []}
    assert out["mine"]["data"]["refundTickets"] == [
        {
            "id": ticket_id,
            "status": "pending",
            "versionNumber": 1,
            "refundTicketMerchantExternalId": REF,
            "requestedAmountDetails": {"currency": "USD", "amount": "10.00"},
        }
    ]

    # The merchant rejects it (a signed API-key call: the SDK has no method for it).
    rejected = api.call(
        "refund-ticket/reject-ticket",
        {"ticketId": ticket_id, "reason": "Please say what is wrong with it"},
    )["data"]["ticket"]
    assert (rejected["status"], rejected["rejectReason"]) == (
        "rejected",
        "Please say what is wrong with it",
    )

    # The buyer resubmits with more detail and a new amount: version 2, the same reference.
    out = run_sdk(RESUBMIT, {**env, "TICKET_ID": ticket_id})
    resubmitted = out["resubmitted"]["ticket"]
    assert set(resubmitted) >= TICKET_KEYS, resubmitted
    assert (resubmitted["id"], resubmitted["status"], resubmitted["versionNumber"]) == (
        ticket_id,
        "pending",
        2,
    )
    assert resubmitted["refundTicketMerchantExternalId"] == REF
    assert resubmitted["versionData"] == {
        "reason": "The file is corrupt: chapter 3 is missing",
        "requestedAmount": {"amount": "12.00", "currency": "USD"},
    }
    assert resubmitted["currentVersionId"] != created["currentVersionId"]
    again = out["again"]
    assert again["rejected"] and again["isWaffoPancakeError"] and again["status"] == 409

    # The merchant approves 8.00 of it: the refund runs (tasks run in-process here).
    approved = api.call(
        "refund-ticket/approve-ticket",
        {"ticketId": ticket_id, "approvedAmount": {"amount": "8.00", "currency": "USD"}},
    )["data"]["ticket"]
    # (the refund task runs after the approval commits: the answer may predate its end)
    assert approved["status"] in ("approved", "processing", "succeeded"), approved
    ticket = RefundTicket.objects.get(pk=ids.parse_id(ticket_id, "TKT"))
    refund = Refund.objects.get(ticket=ticket)
    assert (ticket.approved_amount, refund.amount, refund.status) == (800, 800, "succeeded")
    payment = Payment.objects.get(pk=payment.pk)
    assert (payment.status, payment.refunded_amount) == ("partially_refunded", 800)
    refund_id = ids.encode("REF", refund.pk)

    # A second ticket for the rest, left pending (the guide's pending list shows it).
    second = api.call(
        "refund-ticket/create-ticket",
        {
            "paymentId": payment_id,
            "reason": "Duplicate purchase",
            "requestedAmount": {"amount": "5.00", "currency": "USD"},
        },
    )["data"]["ticket"]

    # The SDK guide's documents, as the merchant and as the buyer.
    out = run_sdk(READ, {**env, "TICKET_ID": ticket_id, "DOCUMENTS": json.dumps(DOCUMENTS)})
    for name in ("pending", "byRef", "order", "dashboard", "counts", "buyerByRef", "buyerTicket"):
        assert "errors" not in out[name], (name, out[name])
    pending = out["pending"]["data"]
    assert pending["refundTicketsCount"] == 1
    [waiting] = pending["refundTickets"]
    assert (waiting["id"], waiting["status"], waiting["reason"]) == (
        second["id"],
        "pending",
        "Duplicate purchase",
    )
    assert waiting["requestedAmountDetails"] == {"currency": "USD", "amount": "5.00"}
    assert waiting["payment"]["id"] == payment_id
    assert waiting["payment"]["status"] == "partially_refunded"
    assert waiting["payment"]["snapshotAmountDetails"]["total"] == "29.00"
    assert waiting["payment"]["onetimeOrder"] == {
        "id": order_id,
        "buyerEmail": BUYER,
        "store": {"name": "Refund Store"},
    }
    assert waiting["payment"]["subscriptionOrder"] is None
    by_ref = out["byRef"]["data"]
    assert by_ref["refundTickets"] == [
        {"id": ticket_id, "status": "succeeded", "refundTicketMerchantExternalId": REF}
    ]
    assert by_ref["refunds"] == [
        {
            "id": refund_id,
            "status": "succeeded",
            "orderMerchantExternalId": None,
            "refundTicketMerchantExternalId": REF,
            "pspAmountDetails": {"amount": "8.00", "currency": "USD"},
        }
    ]
    assert out["buyerByRef"]["data"] == by_ref  # the buyer's own
    [paid] = out["order"]["data"]["onetimeOrder"]["payments"]
    assert paid["refundStatus"] == "partially_refunded"
    assert [(r["id"], r["status"], r["requestedAmountDetails"]) for r in paid["refunds"]] == [
        (refund_id, "succeeded", {"currency": "USD", "amount": "8.00"})
    ]
    assert [t["id"] for t in out["dashboard"]["data"]["refundTickets"]] == [second["id"]]
    counts = out["counts"]["data"]
    assert (counts["refundTicketsCount"], counts["refundsCount"]) == (2, 1)
    mine = out["buyerTicket"]["data"]["refundTicket"]
    assert (mine["status"], mine["versionNumber"], mine["approvedAmount"]) == ("succeeded", 2, 800)
    assert (mine["subjectId"], mine["submitterType"]) == (payment_id, "customer")
    assert mine["executedAt"].endswith("Z") and mine["resolvedAt"].endswith("Z")
    assert mine["versions"] == [
        {"versionNumber": 1, "reason": "Product not as described", "previousRejectReason": None},
        {
            "versionNumber": 2,
            "reason": "The file is corrupt: chapter 3 is missing",
            "previousRejectReason": "Please say what is wrong with it",
        },
    ]
    assert mine["refunds"] == [
        {
            "id": refund_id,
            "status": "succeeded",
            "pspAmountDetails": {"amount": "8.00", "currency": "USD"},
        }
    ]

    # The refund.succeeded delivery passes the SDK's verifyWebhook with our public key.
    deliveries = [
        {"body": r["body"], "signature": r["headers"]["X-Waffo-Signature"]}
        for r in receiver.requests
    ]
    out = run_sdk(
        VERIFY,
        {**env, "DELIVERIES": json.dumps(deliveries), "PUBLIC_KEY_PEM": keys.public_pem("test")},
    )
    assert out["tampered"] == "Invalid webhook signature (custom key)"
    assert all(v["accepted"] for v in out["events"]), out["events"]
    [event] = [v["event"] for v in out["events"]]
    assert (event["eventType"], event["eventId"], event["storeId"], event["mode"]) == (
        "refund.succeeded",
        refund_id,
        store_id,
        "test",
    )
    data = event["data"]
    assert (data["orderId"], data["buyerEmail"], data["currency"]) == (order_id, BUYER, "USD")
    assert data["refundTicketMerchantExternalId"] == REF
    assert (data["refundedAmount"], data["refundStatus"]) == ("8.00", "succeeded")
    assert data["refundReason"] == "The file is corrupt: chapter 3 is missing"
    assert data["originalPayment"]["total"] == "29.00"
    assert data["productName"] == "E-Book"
