"""Refund tickets, their versions and refunds over GraphQL: the roots and their counts, the typed
filters, the relations both ways, who sees what, and the cost of a list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.models import RefundTicket, TestProcessorPayment
from billing.refunds import services
from billing.refunds.api import TicketSerializer
from pancake.api import ids
from tests.billing.test_refunds import (
    APPROVE,
    REFUND,
    REJECT,
    RESUBMIT,
    as_buyer,
    file,
    token_for,
)
from tests.factories import ProductFactory
from tests.graphql import seed
from tests.graphql.appendix_b import DOCUMENTS
from tests.graphql.helpers import post
from tests.graphql.test_scoping import _token, buyer_post
from tests.helpers import buy, deliver, pay

TICKET_PAGES = """{ refundTickets(storeId: "%s") { id paymentId storeId customerId reason status
  requestedAmount approvedAmount currency createdAt updatedAt resolvedAt } }"""

EVERYTHING = """{
  refundTickets(limit: 100) {
    id type status reason subjectId paymentId orderId customerId buyerEmail
    requestedAmount approvedAmount currency
    requestedAmountDetails { currency amount } approvedAmountDetails { currency amount }
    refundTicketMerchantExternalId submitterType submitterId versionNumber currentVersionId
    versionData { reason requestedAmount { amount currency } }
    versions { id versionNumber reason requestedAmountDetails { amount } previousRejectReason }
    reviewNote rejectReason metadata testMode reviewedAt executedAt resolvedAt
    payment {
      id status refundStatus
      snapshotAmountDetails { currency subtotal taxAmount total taxCategory phase }
      onetimeOrder { id buyerEmail store { name } }
      subscriptionOrder { id buyerEmail store { name } }
      refunds { id status requestedAmountDetails { currency amount } createdAt }
    }
    order { id buyerEmail }
    store { name }
    refunds { id status amount pspAmountDetails { amount currency } }
  }
  refunds(limit: 100) {
    id status ticketId paymentId orderMerchantExternalId refundTicketMerchantExternalId
    pspAmountDetails { amount currency } requestedAmountDetails { amount currency }
    payment { id onetimeOrder { id buyerEmail } } store { name }
  }
}"""


@pytest.fixture
def book(store):
    return seed.onetime(store)


def _payments(orders):
    return [order.payments.get() for order in orders]


def _tkt(ticket):
    return ids.encode("TKT", ticket.pk)


# --- the fields ---------------------------------------------------------------------------------


def test_the_documentation_pages_fields(data, store, book):
    [paid] = _payments(seed.orders(store, book, 1))
    [ticket] = seed.tickets([paid], status="succeeded", amount=1000, refund="succeeded")
    got = data(TICKET_PAGES % ids.encode("STO", store.pk))["refundTickets"]
    customer = data("{ customers { id email } }")["customers"][0]
    assert got == [
        {
            "id": _tkt(ticket),
            "paymentId": ids.encode("PAY", paid.pk),
            "storeId": ids.encode("STO", store.pk),
            "customerId": customer["id"],
            "reason": "Not as described",
            "status": "succeeded",
            "requestedAmount": 1000,
            "approvedAmount": 1000,
            "currency": "USD",
            "createdAt": got[0]["createdAt"],
            "updatedAt": got[0]["updatedAt"],
            "resolvedAt": got[0]["resolvedAt"],
        }
    ]
    assert got[0]["resolvedAt"].endswith("Z") and customer["email"] == "buyer@example.com"
    # The customer id is the customer root's: it answers the buyer.
    found = data("query ($id: ID!) { customer(id: $id) { email } }", {"id": customer["id"]})
    assert found["customer"] == {"email": "buyer@example.com"}


def test_the_sdk_ticket_fields_after_a_resubmission(data, store, book):
    [paid] = _payments(seed.orders(store, book, 1, ref="ORDER-1"))
    [ticket] = seed.tickets([paid], amount=500, ref="REF-7", versions=2, reason="Broken file")
    got = data(EVERYTHING)["refundTickets"][0]
    versions = got["versions"]
    assert [v["versionNumber"] for v in versions] == [1, 2]
    assert versions[1]["previousRejectReason"] == "Used the product"
    assert versions[0]["previousRejectReason"] is None
    assert got["currentVersionId"] == versions[1]["id"] == str(ticket.versions.get(number=2).pk)
    assert got | {"versions": None, "currentVersionId": None, "payment": None} == {
        "id": _tkt(ticket),
        "type": "refund",
        "status": "pending",
        "reason": "Broken file",
        "subjectId": ids.encode("PAY", paid.pk),
        "paymentId": ids.encode("PAY", paid.pk),
        "orderId": ids.encode("ORD", paid.order_id),
        "customerId": str(paid.order_id),
        "buyerEmail": "buyer@example.com",
        "requestedAmount": 500,
        "approvedAmount": None,
        "currency": "USD",
        "requestedAmountDetails": {"currency": "USD", "amount": "5.00"},
        "approvedAmountDetails": None,
        "refundTicketMerchantExternalId": "REF-7",
        "submitterType": "customer",
        "submitterId": "buyer@example.com",
        "versionNumber": 2,
        "currentVersionId": None,
        "versionData": {
            "reason": "Broken file",
            "requestedAmount": {"amount": "5.00", "currency": "USD"},
        },
        "versions": None,
        "reviewNote": None,
        "rejectReason": None,
        "metadata": {"source": "app"},
        "testMode": True,
        "reviewedAt": None,
        "executedAt": None,
        "resolvedAt": None,
        "payment": None,
        "order": {"id": ids.encode("ORD", paid.order_id), "buyerEmail": "buyer@example.com"},
        "store": {"name": "My Store"},
        "refunds": [],
    }
    assert got["payment"]["onetimeOrder"]["store"] == {"name": "My Store"}
    assert got["payment"]["subscriptionOrder"] is None and got["payment"]["refunds"] == []


def test_a_refund_carries_both_merchant_references_and_its_amounts(data, store, book):
    [paid] = _payments(seed.orders(store, book, 1, ref="ORDER-9"))
    [ticket] = seed.tickets(
        [paid], status="succeeded", amount=1234, ref="REF-9", refund="succeeded"
    )
    [refund] = ticket.refunds.all()
    got = data(EVERYTHING)
    assert got["refunds"] == [
        {
            "id": ids.encode("REF", refund.pk),
            "status": "succeeded",
            "ticketId": _tkt(ticket),
            "paymentId": ids.encode("PAY", paid.pk),
            "orderMerchantExternalId": "ORDER-9",
            "refundTicketMerchantExternalId": "REF-9",
            "pspAmountDetails": {"amount": "12.34", "currency": "USD"},
            "requestedAmountDetails": {"amount": "12.34", "currency": "USD"},
            "payment": {
                "id": ids.encode("PAY", paid.pk),
                "onetimeOrder": {
                    "id": ids.encode("ORD", paid.order_id),
                    "buyerEmail": "buyer@example.com",
                },
            },
            "store": {"name": "My Store"},
        }
    ]
    tickets = got["refundTickets"]
    assert tickets[0]["refunds"] == [
        {
            "id": ids.encode("REF", refund.pk),
            "status": "succeeded",
            "amount": 1234,
            "pspAmountDetails": {"amount": "12.34", "currency": "USD"},
        }
    ]
    # The payment shows what was refunded.
    assert tickets[0]["payment"]["refundStatus"] == "partially_refunded"
    assert tickets[0]["payment"]["refunds"][0]["requestedAmountDetails"]["amount"] == "12.34"


def test_a_payment_lists_its_refunds_oldest_first_and_its_refund_status(data, store, book):
    [paid] = _payments(seed.orders(store, book, 1))
    first = seed.tickets([paid], status="failed", amount=1000, refund="failed")[0]
    second = seed.tickets([paid], status="succeeded", amount=paid.amount, refund="succeeded")[0]
    got = data(
        "query ($id: ID!) { payment(id: $id) { refundStatus refundedAmount "
        "refunds { id status failureReason } } }",
        {"id": ids.encode("PAY", paid.pk)},
    )["payment"]
    assert got["refundStatus"] == "refunded" and got["refundedAmount"] == paid.amount
    assert [r["id"] for r in got["refunds"]] == [
        ids.encode("REF", first.refunds.get().pk),
        ids.encode("REF", second.refunds.get().pk),
    ]
    assert [r["status"] for r in got["refunds"]] == ["failed", "succeeded"]
    assert got["refunds"][0]["failureReason"] == "Refused"


def test_a_subscription_charge_shows_its_subscription_order(data, store):
    plan = seed.subscription(store)
    [paid] = _payments(seed.orders(store, plan, 1))
    seed.tickets([paid], submitter="merchant", status="approved")
    got = data(
        "{ refundTickets { submitterType payment { onetimeOrder { id } "
        "subscriptionOrder { id store { name } } } } }"
    )["refundTickets"][0]
    assert got["submitterType"] == "merchant"
    assert got["payment"]["onetimeOrder"] is None
    assert got["payment"]["subscriptionOrder"]["id"] == ids.encode("ORD", paid.order_id)


def test_one_ticket_and_one_refund_by_id(data, store, book):
    [paid] = _payments(seed.orders(store, book, 1))
    [ticket] = seed.tickets([paid], status="succeeded", refund="succeeded")
    refund = ticket.refunds.get()
    query = """query ($t: ID!, $r: ID!) { refundTicket(id: $t) { id status customerId }
                                          refund(id: $r) { id status ticketId } }"""
    short = data(query, {"t": _tkt(ticket), "r": ids.encode("REF", refund.pk)})
    assert short["refundTicket"]["id"] == _tkt(ticket)
    assert short["refundTicket"]["customerId"] == str(paid.order_id)
    assert short["refund"]["ticketId"] == _tkt(ticket)
    # The UUID works too; an unknown one is null.
    assert data(query, {"t": str(ticket.pk), "r": str(refund.pk)}) == short
    missing = data(query, {"t": str(refund.pk), "r": str(ticket.pk)})
    assert missing == {"refundTicket": None, "refund": None}


# --- filters and counts -------------------------------------------------------------------------


def test_filters_and_counts_agree(data, store, book):
    paid = _payments(seed.orders(store, book, 6, ref="ORDER-A"))
    pending = seed.tickets(paid[:2], amount=700)
    rejected = seed.tickets(paid[2:3], status="rejected")
    done = seed.tickets(paid[3:5], status="succeeded", ref="REF-{n}", refund="succeeded")
    failed = seed.tickets(paid[5:], status="failed", ref="REF-X", refund="failed")

    def tickets(filter_, store_id=None):
        arg = f', storeId: "{store_id}"' if store_id else ""
        got = data(
            f"{{ refundTickets(filter: {filter_}{arg}) {{ id }} "
            f"refundTicketsCount(filter: {filter_}{arg}) }}"
        )
        assert got["refundTicketsCount"] == len(got["refundTickets"])
        return {t["id"] for t in got["refundTickets"]}

    def refunds(filter_):
        got = data(f"{{ refunds(filter: {filter_}) {{ id }} refundsCount(filter: {filter_}) }}")
        assert got["refundsCount"] == len(got["refunds"])
        return {r["id"] for r in got["refunds"]}

    ids_of = lambda rows: {_tkt(t) for t in rows}  # noqa: E731
    assert tickets('{ status: { eq: "pending" } }') == ids_of(pending)
    assert tickets('{ status: { in: ["rejected", "failed"] } }') == ids_of(rejected + failed)
    assert tickets('{ status: { ne: "pending" } }') == ids_of(rejected + done + failed)
    assert tickets('{ refundTicketMerchantExternalId: { eq: "REF-1" } }') == ids_of(done[1:])
    assert tickets('{ refundTicketMerchantExternalId: { startsWith: "REF-" } }') == ids_of(
        done + failed
    )
    assert tickets(f'{{ paymentId: {{ eq: "{ids.encode("PAY", paid[0].pk)}" }} }}') == ids_of(
        pending[:1]
    )
    assert tickets(f'{{ paymentId: {{ eq: "{paid[2].pk}" }} }}') == ids_of(rejected)
    assert tickets(f'{{ orderId: {{ eq: "{ids.encode("ORD", paid[3].order_id)}" }} }}') == ids_of(
        done[:1]
    )
    assert tickets("{ requestedAmount: { lt: 1000 } }") == ids_of(pending)
    assert tickets("{ approvedAmount: { gte: 1 } }") == ids_of(done + failed)
    assert tickets('{ createdAt: { gte: "2000-01-01" } }') == ids_of(
        pending + rejected + done + failed
    )
    assert tickets('{ createdAt: { lt: "2000-01-01" } }') == set()
    assert tickets('{ buyerEmail: { eq: "buyer@example.com" } }', ids.encode("STO", store.pk)) == (
        ids_of(pending + rejected + done + failed)
    )
    assert tickets(f'{{ storeId: {{ eq: "{ids.encode("STO", store.pk)}" }} }}') == ids_of(
        pending + rejected + done + failed
    )
    assert tickets('{ submitterType: { eq: "merchant" } }') == set()
    assert tickets('{ orderMerchantExternalId: { eq: "ORDER-A" } }') == ids_of(
        pending + rejected + done + failed
    )

    refund_ids = lambda rows: {ids.encode("REF", r.pk) for t in rows for r in t.refunds.all()}  # noqa: E731
    assert refunds('{ refundTicketMerchantExternalId: { eq: "REF-0" } }') == refund_ids(done[:1])
    assert refunds('{ status: { eq: "failed" } }') == refund_ids(failed)
    assert refunds('{ orderMerchantExternalId: { eq: "ORDER-A" } }') == refund_ids(done + failed)
    assert refunds(f'{{ ticketId: {{ eq: "{_tkt(done[1])}" }} }}') == refund_ids(done[1:])
    assert refunds(f'{{ paymentId: {{ in: ["{ids.encode("PAY", paid[5].pk)}"] }} }}') == (
        refund_ids(failed)
    )
    assert refunds("{ amount: { gt: 0 } }") == refund_ids(done + failed)


def test_limit_offset_and_newest_first(data, store, book):
    paid = _payments(seed.orders(store, book, 5))
    rows = []
    for payment in paid:  # one at a time: each later than the one before
        rows += seed.tickets([payment])
    newest = [_tkt(t) for t in reversed(rows)]
    got = data("{ refundTickets(limit: 2, offset: 1) { id } refundTicketsCount }")
    assert [t["id"] for t in got["refundTickets"]] == newest[1:3]
    assert got["refundTicketsCount"] == 5


def test_malformed_ids_in_filters_and_arguments_are_errors(api, store, book):
    for query, field in (
        ('{ refundTickets(filter: { paymentId: { eq: "ORD_1" } }) { id } }', "paymentId"),
        ('{ refundTicketsCount(filter: { id: { eq: "nope" } }) }', "id"),
        ('{ refunds(filter: { ticketId: { eq: "PAY_0000" } }) { id } }', "ticketId"),
        ('{ refundsCount(storeId: "x") }', "storeId"),
        ('{ refundTicket(id: "REF_1") { id } }', "id"),
        ('{ refund(id: "TKT_1") { id } }', "id"),
        ('{ refundTickets(filter: { paymentId: { contains: "PAY" } }) { id } }', "paymentId"),
    ):
        response = post(api, query)
        # (a count is non-null: its error leaves no data at all, a 400)
        assert response.status_code in (200, 400)
        body = response.json()
        assert f" {field}" in body["errors"][0]["message"], body
        assert not any((body.get("data") or {}).values()), body


# --- who sees what ------------------------------------------------------------------------------


def test_a_buyer_sees_only_the_tickets_and_refunds_of_their_own_orders(api, store, book):
    anns = _payments(seed.orders(store, book, 2, email="ann@example.com"))
    bobs = _payments(seed.orders(store, book, 1, email="bob@example.com"))
    mine = seed.tickets(anns, status="succeeded", refund="succeeded")
    theirs = seed.tickets(bobs, status="succeeded", refund="succeeded")
    prod = _payments(seed.orders(store, book, 1, email="ann@example.com", environment="prod"))
    seed.tickets(prod, refund="pending", status="processing")
    query = """query ($t: ID!) {
      refundTickets { id } refundTicketsCount refunds { id } refundsCount
      refundTicket(id: $t) { id }
      payments { refunds { id } }
    }"""
    token = _token(api, store, "Ann@Example.com")
    ann = buyer_post(token, "test", query, {"t": _tkt(theirs[0])}).json()["data"]
    assert {t["id"] for t in ann["refundTickets"]} == {_tkt(t) for t in mine}
    assert ann["refundTicketsCount"] == 2 and ann["refundsCount"] == 2
    assert {r["id"] for r in ann["refunds"]} == {
        ids.encode("REF", t.refunds.get().pk) for t in mine
    }
    assert ann["refundTicket"] is None
    assert sorted(len(p["refunds"]) for p in ann["payments"]) == [1, 1]
    own = buyer_post(token, "test", query, {"t": _tkt(mine[0])}).json()["data"]
    assert own["refundTicket"] == {"id": _tkt(mine[0])}
    # A buyer of another store sees none of this store's tickets.
    other = api.call("store/create-store", {"name": "Other"})["data"]["store"]
    elsewhere = _token(
        api, type(store).objects.get(pk=ids.parse_id(other["id"], "STO")), "ann@example.com"
    )
    body = buyer_post(elsewhere, "test", query, {"t": _tkt(mine[0])}).json()["data"]
    assert body["refundTicketsCount"] == 0 and body["refundTicket"] is None
    assert body["refunds"] == [] and body["refundsCount"] == 0


def test_a_bound_identity_sees_tickets_of_orders_bound_to_it(api, store, book):
    bound = _payments(seed.orders(store, book, 1, email="x@example.com", identity="user-7"))
    seed.tickets(bound)
    seed.tickets(_payments(seed.orders(store, book, 1, email="y@example.com")))
    got = buyer_post(_token(api, store, "user-7"), "test", "{ refundTicketsCount }").json()
    assert got["data"] == {"refundTicketsCount": 1}


def test_the_environment_decides_which_tickets_and_refunds(make_api, member_of, data, store, book):
    seed.tickets(_payments(seed.orders(store, book, 2)), status="succeeded", refund="succeeded")
    seed.tickets(_payments(seed.orders(store, book, 3, environment="prod")))
    prod = make_api(environment="prod")
    member_of(store, prod.merchant, "admin")
    query = "{ refundTicketsCount refundsCount refundTickets { testMode } }"
    assert data(query) | {"refundTickets": None} == {
        "refundTicketsCount": 2,
        "refundsCount": 2,
        "refundTickets": None,
    }
    live = data(query, client=prod)
    assert live["refundTicketsCount"] == 3 and live["refundsCount"] == 0
    assert {t["testMode"] for t in live["refundTickets"]} == {False}


def test_another_merchant_sees_nothing(make_api, data, store, book):
    [ticket] = seed.tickets(
        _payments(seed.orders(store, book, 1)), status="succeeded", refund="succeeded"
    )
    refund = ticket.refunds.get()
    query = """query ($t: ID!, $r: ID!, $s: ID!) {
      refundTicket(id: $t) { id } refund(id: $r) { id }
      refundTickets { id } refunds { id } refundTicketsCount refundsCount
      scoped: refundTicketsCount(storeId: $s)
    }"""
    variables = {
        "t": _tkt(ticket),
        "r": ids.encode("REF", refund.pk),
        "s": ids.encode("STO", store.pk),
    }
    assert data(query, variables, client=make_api()) == {
        "refundTicket": None,
        "refund": None,
        "refundTickets": [],
        "refunds": [],
        "refundTicketsCount": 0,
        "refundsCount": 0,
        "scoped": 0,
    }
    assert data(query, variables)["scoped"] == 1


def test_ids_follow_the_api_version_and_amounts_keep_their_type(data, store, book):
    [paid] = _payments(seed.orders(store, book, 1))
    [ticket] = seed.tickets([paid], amount=2500, status="succeeded", refund="succeeded")
    query = """{ refundTickets { id paymentId requestedAmount requestedAmountDetails { amount } }
                 refunds { id ticketId amount pspAmountDetails { amount } } }"""
    old = data(query, headers={"HTTP_PANCAKE_VERSION": "2026-01-15"})
    assert old["refundTickets"] == [
        {
            "id": str(ticket.pk),
            "paymentId": str(paid.pk),
            "requestedAmount": 2500,
            "requestedAmountDetails": {"amount": "25.00"},
        }
    ]
    assert old["refunds"][0] | {"id": None} == {
        "id": None,
        "ticketId": str(ticket.pk),
        "amount": 2500,
        "pspAmountDetails": {"amount": "25.00"},
    }
    new = data(query)
    assert new["refundTickets"][0]["id"] == _tkt(ticket)
    assert new["refundTickets"][0]["requestedAmount"] == 2500


# --- cost ---------------------------------------------------------------------------------------


def _count(gql, query):
    gql("{ storesCount }")  # warm: the key was used a moment ago, no key-touch UPDATE
    with CaptureQueriesContext(connection) as ctx:
        body = gql(query)
    assert "errors" not in body, body
    return len(ctx.captured_queries), body["data"], [q["sql"] for q in ctx.captured_queries]


def test_tickets_and_refunds_cost_the_same_for_1_and_30(gql, store, book):
    plan = seed.subscription(store)

    def add(n):
        seed.tickets(
            _payments(seed.orders(store, book, n)),
            status="succeeded",
            versions=2,
            refund="succeeded",
        )
        seed.tickets(_payments(seed.orders(store, plan, n)), status="pending")

    add(1)
    small, data, statements = _count(gql, EVERYTHING)
    assert len(data["refundTickets"]) == 2 and len(data["refunds"]) == 1
    add(29)
    large, data, _ = _count(gql, EVERYTHING)
    assert len(data["refundTickets"]) == 60 and len(data["refunds"]) == 30
    assert small == large, statements
    # key lookup and store ids; tickets with payment, order, session and store joined, their
    # versions (twice: all and the current one), refunds and the payments' refunds; refunds
    # with their payment and store joined
    assert large <= 10, statements


def test_the_sdk_guides_ticket_document_costs_the_same_for_1_and_30(gql, store, book):
    seed.tickets(_payments(seed.orders(store, book, 1)))
    small, data, statements = _count(gql, DOCUMENTS["B.19"])
    seed.tickets(_payments(seed.orders(store, book, 29)))
    large, data, _ = _count(gql, DOCUMENTS["B.19"])
    assert data["refundTicketsCount"] == 30 and len(data["refundTickets"]) == 20
    assert small == large <= 4, statements


def test_a_list_asked_twice_is_answered_the_same(gql, store, book):
    seed.tickets(_payments(seed.orders(store, book, 3)), status="succeeded", refund="succeeded")
    first = gql(EVERYTHING)
    assert first == gql(EVERYTHING)
    seed.tickets(_payments(seed.orders(store, book, 1)))
    assert len(gql(EVERYTHING)["data"]["refundTickets"]) == 4


def test_posting_as_the_sdk_does(api, store, book):
    seed.tickets(_payments(seed.orders(store, book, 1)))
    response = post(api, "{ refundTicketsCount }")
    assert response.json() == {"data": {"refundTicketsCount": 1}}


# --- the rows the refund actions write ------------------------------------------------------------

SDK_TICKET = """query ($id: ID!) { refundTicket(id: $id) {
  id type status subjectId submitterId submitterType currentVersionId reviewerId reviewedAt
  rejectReason executedAt metadata refundTicketMerchantExternalId versionNumber
  versionData { reason requestedAmount { amount currency } } createdAt updatedAt
  paymentId storeId orderId resolvedAt reason currency
  versions { versionNumber reason previousRejectReason requestedAmountDetails { amount } }
  refunds { status amount failureCode }
} }"""


def test_graphql_shows_what_the_refund_actions_answer_and_write(
    api, store, django_capture_on_commit_callbacks
):
    """A buyer's ticket rejected, resubmitted and approved in part; a second one declined by the
    provider and retried; the merchant's refund of the rest: GraphQL tells the same story as
    the actions' answers (the SDK's RefundTicket fields agree, field by field)."""
    capture = django_capture_on_commit_callbacks
    product = ProductFactory(store=store)
    payment = buy(api, product, currency="USD", billing={"country": "US", "state": "OR"})
    deliver(pay(payment), capture)
    payment.refresh_from_db()
    assert payment.amount == 2900

    first = file(api, store, payment, "10.00", refundTicketMerchantExternalId="R-1")
    ticket_id = first["ticketId"]
    api.call(REJECT, {"ticketId": ticket_id, "reason": "Say more"})
    body = {
        "ticketId": ticket_id,
        "paymentId": ids.encode("PAY", payment.pk),
        "reason": "Chapter 3 is missing",
        "requestedAmount": {"amount": "12.00", "currency": "USD"},
    }
    response = as_buyer(token_for(api, store), RESUBMIT, body)
    assert response.status_code == 200, response.content
    with capture(execute=True):
        approved = api.call(APPROVE, {"ticketId": ticket_id, "approvedAmount": "8.00"})
    # A second ticket: the provider declines it (its record says the money is back), then
    # support retries it.
    second = file(api, store, payment, "5.00")["ticketId"]
    processor = TestProcessorPayment.objects.get(attempt_id=str(payment.pk))
    processor.refunded_amount, real = processor.amount, processor.refunded_amount
    processor.save()
    with capture(execute=True):
        api.call(APPROVE, {"ticketId": second})
    processor.refunded_amount = real
    processor.save()
    with capture(execute=True):
        services.refund_retry(ticket_id=ids.parse_id(second, "TKT"))
    # The merchant refunds what is left.
    with capture(execute=True):
        rest = api.call(REFUND, {"paymentId": ids.encode("PAY", payment.pk), "reason": "Goodwill"})

    # The SDK's fields of the first ticket, as the action answers them now.
    row = RefundTicket.objects.get(pk=ids.parse_id(ticket_id, "TKT"))
    rest_view = TicketSerializer(row, context={"api_version": "2026-09-23"}).data
    got = data_of(api, SDK_TICKET, {"id": ticket_id})["refundTicket"]
    for name in (
        "id type status subjectId submitterId submitterType currentVersionId reviewerId "
        "reviewedAt rejectReason executedAt metadata refundTicketMerchantExternalId "
        "versionNumber versionData createdAt updatedAt paymentId storeId orderId resolvedAt "
        "reason currency"
    ).split():
        assert got[name] == rest_view[name], name
    assert approved["data"]["ticket"]["reviewerId"] == got["reviewerId"]
    assert got["reviewerId"] == ids.encode("MER", api.merchant.pk)
    assert (got["status"], got["versionNumber"], got["refundTicketMerchantExternalId"]) == (
        "succeeded",
        2,
        "R-1",
    )
    assert got["versions"] == [
        {
            "versionNumber": 1,
            "reason": "Not as described",
            "previousRejectReason": None,
            "requestedAmountDetails": {"amount": "10.00"},
        },
        {
            "versionNumber": 2,
            "reason": "Chapter 3 is missing",
            "previousRejectReason": "Say more",
            "requestedAmountDetails": {"amount": "12.00"},
        },
    ]
    assert got["refunds"] == [{"status": "succeeded", "amount": 800, "failureCode": None}]
    retried = data_of(api, SDK_TICKET, {"id": second})["refundTicket"]
    assert retried["status"] == "succeeded"
    assert [(r["status"], r["failureCode"]) for r in retried["refunds"]] == [
        ("failed", "amount_too_large"),
        ("succeeded", None),
    ]

    whole = data_of(
        api,
        """query ($id: ID!) {
          payment(id: $id) { status refundStatus refundedAmount refunds { status amount } }
          refundTicketsCount
          merchantTickets: refundTicketsCount(filter: { submitterType: { eq: "merchant" } })
          refundsCount
          succeeded: refundsCount(filter: { status: { eq: "succeeded" } })
        }""",
        {"id": ids.encode("PAY", payment.pk)},
    )
    assert whole["payment"] == {
        "status": "refunded",
        "refundStatus": "refunded",
        "refundedAmount": 2900,
        "refunds": [
            {"status": "succeeded", "amount": 800},
            {"status": "failed", "amount": 500},
            {"status": "succeeded", "amount": 500},
            {"status": "succeeded", "amount": 1600},
        ],
    }
    assert (whole["refundTicketsCount"], whole["merchantTickets"]) == (3, 1)
    assert (whole["refundsCount"], whole["succeeded"]) == (4, 3)
    assert rest["data"]["ticket"]["submitterType"] == "merchant"


def data_of(api, query, variables=None) -> dict:
    body = post(api, query, variables).json()
    assert "errors" not in body, body
    return body["data"]
