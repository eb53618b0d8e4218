"""Typed filters, shorthand arguments, pagination and counts."""

import pytest

from pancake.api import ids
from tests.graphql import seed


@pytest.fixture
def rows(store):
    book = seed.onetime(store)
    plan = seed.subscription(store)
    a = seed.orders(store, book, 3, email="ann@example.com", ref="A-1")
    b = seed.orders(store, book, 2, email="bob@shop.org", status="pending", payment_status="failed")
    c = seed.orders(store, plan, 1, email="cy@example.com")
    return {"book": book, "plan": plan, "a": a, "b": b, "c": c}


def _emails(data, flt):
    got = data(
        "query ($f: OrderFilter) { orders(filter: $f) { buyerEmail } ordersCount(filter: $f) }",
        {"f": flt},
    )
    assert len(got["orders"]) == got["ordersCount"]
    return sorted(o["buyerEmail"] for o in got["orders"])


def test_string_filter_operators(data, rows):
    assert _emails(data, {"buyerEmail": {"eq": "cy@example.com"}}) == ["cy@example.com"]
    assert len(_emails(data, {"buyerEmail": {"ne": "ann@example.com"}})) == 3
    assert len(_emails(data, {"buyerEmail": {"in": ["bob@shop.org", "cy@example.com"]}})) == 3
    assert len(_emails(data, {"buyerEmail": {"contains": "example"}})) == 4
    assert len(_emails(data, {"buyerEmail": {"startsWith": "bo"}})) == 2
    assert len(_emails(data, {"buyerEmail": {"endsWith": ".org"}})) == 2
    assert len(_emails(data, {"buyerEmail": {"contains": "example"}, "status": {"ne": "x"}})) == 4


def test_id_filters_take_both_forms(data, rows):
    order = rows["c"][0]
    assert _emails(data, {"id": {"eq": ids.encode("ORD", order.pk)}}) == ["cy@example.com"]
    assert _emails(data, {"id": {"eq": str(order.pk)}}) == ["cy@example.com"]
    assert len(_emails(data, {"productId": {"in": [ids.encode("PROD", rows["book"].pk)]}})) == 5


def test_a_malformed_id_in_a_filter_is_an_error(gql, rows):
    body = gql('{ orders(filter: { id: { eq: "STO_0000000000000000000000" } }) { id } }')
    assert body["data"]["orders"] is None and "ORD_" in body["errors"][0]["message"]


def test_int_filter_operators(data, rows):
    # one-time orders total 3139, the plan's 1081
    assert len(_emails(data, {"amount": {"eq": 1081}})) == 1
    assert len(_emails(data, {"amount": {"ne": 1081}})) == 5
    assert len(_emails(data, {"amount": {"gt": 1081}})) == 5
    assert len(_emails(data, {"amount": {"gte": 1081}})) == 6
    assert len(_emails(data, {"amount": {"lt": 3139}})) == 1
    assert len(_emails(data, {"amount": {"lte": 3139}})) == 6


def test_datetime_filter_operators(data, rows):
    from checkout.models import Order

    order = rows["c"][0]
    Order.objects.filter(pk=order.pk).update(created_at="2025-06-01T12:00:00Z")
    assert len(_emails(data, {"createdAt": {"lt": "2026-01-01"}})) == 1
    assert len(_emails(data, {"createdAt": {"gte": "2026-01-01"}})) == 5
    assert len(_emails(data, {"createdAt": {"eq": "2025-06-01T12:00:00.000Z"}})) == 1
    assert len(_emails(data, {"createdAt": {"ne": "2025-06-01T12:00:00Z"}})) == 5
    assert len(_emails(data, {"createdAt": {"gt": "2025-06-01T12:00:00Z"}})) == 5
    assert len(_emails(data, {"createdAt": {"lte": "2025-06-01T12:00:00+00:00"}})) == 1


def test_boolean_filter(data, store):
    endpoint = seed.webhook(store)
    seed.delivery(endpoint)
    test_delivery = seed.delivery(endpoint, status="success")
    test_delivery.is_test = True
    test_delivery.save()
    got = data("{ webhookDeliveries(filter: { isTest: { eq: true } }) { id status } }")
    assert [d["status"] for d in got["webhookDeliveries"]] == ["success"]


def test_shorthand_arguments_and_filter_store_ids_agree(data, store, rows):
    sid = ids.encode("STO", store.pk)
    got = data(
        """query ($s: String!) {
          a: payments(storeId: $s, limit: 2) { id }
          b: payments(filter: { storeId: { eq: $s } }) { id }
          onetimeOrdersCount(storeId: $s)
          subscriptionOrdersCount(storeId: $s)
          refundTickets(storeId: $s) { id }
        }""",
        {"s": sid},
    )
    assert len(got["a"]) == 2 and len(got["b"]) == 6
    assert got["onetimeOrdersCount"] == 5 and got["subscriptionOrdersCount"] == 1
    assert got["refundTickets"] == []


def test_limit_offset_and_counts(data, rows):
    all_ids = [o["id"] for o in data("{ orders { id } }")["orders"]]
    assert len(all_ids) == 6
    page = data("{ orders(limit: 2, offset: 1) { id } ordersCount }")
    assert [o["id"] for o in page["orders"]] == all_ids[1:3] and page["ordersCount"] == 6
    assert data("{ orders(offset: 5) { id } }")["orders"] == [{"id": all_ids[5]}]
    assert data("{ orders(limit: 1000) { id } }")["orders"] == [{"id": i} for i in all_ids]


def test_the_limit_is_capped_at_100(data, store):
    book = seed.onetime(store)
    seed.orders(store, book, 105)
    got = data("{ orders(limit: 500) { id } ordersCount }")
    assert len(got["orders"]) == 100 and got["ordersCount"] == 105


def test_a_negative_limit_is_an_error(gql, rows):
    assert gql("{ orders(limit: -1) { id } }")["errors"]


def test_payment_filters_by_status_and_reference(data, rows):
    failed = data('{ payments(filter: { status: { eq: "failed" } }) { failureReason } }')
    assert [p["failureReason"] for p in failed["payments"]] == ["Your card was declined."] * 2
    refs = data('{ paymentsCount(filter: { orderMerchantExternalId: { eq: "A-1" } }) }')
    assert refs["paymentsCount"] == 3


def test_customers_are_derived_from_orders(data, rows, store):
    got = data("{ customers { id email totalRevenue paymentCount orderCount country } }")
    by_email = {c["email"]: c for c in got["customers"]}
    assert set(by_email) == {"ann@example.com", "bob@shop.org", "cy@example.com"}
    ann = by_email["ann@example.com"]
    assert ann["orderCount"] == 3 and ann["paymentCount"] == 3 and ann["totalRevenue"] == 9417
    assert by_email["bob@shop.org"]["paymentCount"] == 0
    assert ann["id"] == str(rows["a"][0].pk) and ann["country"] == "US"
    one = data("query ($id: ID!) { customer(id: $id) { email } }", {"id": ann["id"]})
    assert one["customer"] == {"email": "ann@example.com"}
    count = data('{ customersCount(filter: { email: { endsWith: "example.com" } }) }')
    assert count["customersCount"] == 2


def test_email_and_webhook_deliveries_by_status(data, store):
    seed.delivery(seed.webhook(store))
    seed.email(store)
    seed.email(store, status="sent")
    sid = ids.encode("STO", store.pk)
    got = data(
        """query ($s: String!) {
          emailDeliveries(storeId: $s, filter: { status: { eq: "failed" } }) { subject testMode }
          emailDeliveriesCount(storeId: $s)
          webhookDeliveries(storeId: $s) { payload httpStatus status }
        }""",
        {"s": sid},
    )
    assert got["emailDeliveries"] == [{"subject": "Your order", "testMode": True}]
    assert got["emailDeliveriesCount"] == 2
    assert got["webhookDeliveries"][0]["payload"]["eventType"] == "order.completed"
