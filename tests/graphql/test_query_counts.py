"""The SQL a query costs depends on its shape, never on the number of rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.graphql import seed
from tests.graphql.helpers import NESTED

PAYMENTS = """{
  payments(limit: 100) {
    id amount amountDetails { amount }
    onetimeOrder { id buyerEmail onetimeProduct { name } store { name } }
    subscriptionOrder { id }
    order { payments { id } }
  }
}"""
STORE = """{
  stores { id onetimeProducts { id name prices } subscriptionProducts { id billingPeriod }
           storeWebhooks { id url } }
  merchants { id storeMerchants { role store { name } } apiKeys { id } }
  subscriptionProductGroups { id products { id name } productIds }
}"""


def _count(gql, query):
    gql("{ storesCount }")  # warm: the key was used a moment ago, no key-touch UPDATE
    with CaptureQueriesContext(connection) as ctx:
        body = gql(query)
    assert "errors" not in body, body
    return len(ctx.captured_queries), body["data"], [q["sql"] for q in ctx.captured_queries]


@pytest.fixture
def book(store):
    return seed.onetime(store)


def test_orders_with_payments_product_and_store_cost_the_same_for_5_and_200(gql, store, book):
    seed.orders(store, book, 5)
    small, data, statements = _count(gql, NESTED)
    assert len(data["onetimeOrders"]) == 5
    seed.orders(store, book, 195)
    large, data, _ = _count(gql, NESTED)
    assert len(data["onetimeOrders"]) == 100
    assert small == large, statements
    # key lookup, orders with store, product, versions and session joined, their payments
    assert large <= 6, statements


def test_payments_cost_the_same_for_5_and_200(gql, store, book):
    seed.orders(store, book, 5)
    small, _, statements = _count(gql, PAYMENTS)
    seed.orders(store, book, 195)
    large, data, _ = _count(gql, PAYMENTS)
    assert len(data["payments"]) == 100
    assert small == large <= 6, statements


def test_store_catalog_and_team_cost_the_same_for_1_and_30_products(gql, store):
    plan = seed.subscription(store)
    seed.group(store, [plan])
    seed.webhook(store)
    small, _, statements = _count(gql, STORE)
    plans = [seed.subscription(store, name=f"Plan {i}") for i in range(15)]
    for i in range(15):
        seed.onetime(store, name=f"Book {i}")
    seed.group(store, plans, name="More")
    large, data, _ = _count(gql, STORE)
    assert len(data["stores"][0]["onetimeProducts"]) == 15
    assert small == large, statements
