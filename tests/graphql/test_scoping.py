"""Who sees what: a merchant their stores' rows in their key's environment, a buyer their own
orders and payments, and nobody another tenant's ids."""

import json

from django.test import Client

from pancake.api import ids
from stores.services import buyer_session_issue
from tests.graphql import seed
from tests.graphql.helpers import post


def buyer_post(token, env, query, variables=None):
    body = {"query": query, **({"variables": variables} if variables else {})}
    return Client().post(
        "/v1/graphql",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_ENVIRONMENT=env,
    )


def _token(api, store, identity, env="test"):
    from pancake.api.actor import Actor

    actor = Actor(kind="merchant", environment=env, merchant=api.merchant)
    token, _ = buyer_session_issue(actor=actor, buyer_identity=identity, store_id=store.pk)
    return token


def test_another_merchants_ids_return_nothing(make_api, data, store):
    book = seed.onetime(store)
    order = seed.orders(store, book, 1)[0]
    payment = order.payments.get()
    other = make_api()
    query = """query ($s: ID!, $p: ID!, $o: ID!, $pay: ID!) {
      store(id: $s) { id } onetimeProduct(id: $p) { id } onetimeOrder(id: $o) { id }
      order(id: $o) { id } payment(id: $pay) { id }
      stores { id } orders { id } payments { id } onetimeProducts(storeId: $s) { id }
      onetimeOrdersCount(storeId: $s) paymentsCount onetimeProductsCount
      webhookDeliveries(storeId: $s) { id } customers { id }
    }"""
    variables = {
        "s": ids.encode("STO", store.pk),
        "p": ids.encode("PROD", book.pk),
        "o": ids.encode("ORD", order.pk),
        "pay": ids.encode("PAY", payment.pk),
    }
    theirs = data(query, variables, client=other)
    assert theirs == {
        "store": None,
        "onetimeProduct": None,
        "onetimeOrder": None,
        "order": None,
        "payment": None,
        "stores": [],
        "orders": [],
        "payments": [],
        "onetimeProducts": [],
        "onetimeOrdersCount": 0,
        "paymentsCount": 0,
        "onetimeProductsCount": 0,
        "webhookDeliveries": [],
        "customers": [],
    }
    mine = data(query, variables)
    assert mine["store"] and mine["onetimeOrder"] and mine["payment"] and mine["customers"]


def test_a_removed_or_invited_member_sees_nothing(make_api, member_of, data, store):
    teammate = make_api()
    membership = member_of(store, teammate.merchant, "member")
    assert data("{ storesCount }", client=teammate)["storesCount"] == 1
    membership.status = "invited"
    membership.save()
    assert data("{ storesCount }", client=teammate)["storesCount"] == 0


def test_a_merchant_sees_only_their_keys_environment(make_api, member_of, data, store):
    book = seed.onetime(store)
    seed.orders(store, book, 2, environment="test")
    seed.orders(store, book, 3, environment="prod")
    prod = make_api(environment="prod")
    member_of(store, prod.merchant, "admin")
    assert data("{ ordersCount paymentsCount }") == {"ordersCount": 2, "paymentsCount": 2}
    assert data("{ ordersCount paymentsCount }", client=prod) == {
        "ordersCount": 3,
        "paymentsCount": 3,
    }


def test_a_buyer_sees_only_their_own_orders_and_payments(api, store):
    book = seed.onetime(store)
    seed.orders(store, book, 2, email="ann@example.com")
    seed.orders(store, book, 1, email="bob@example.com")
    seed.orders(store, book, 1, email="x@example.com", identity="user-7")
    seed.orders(store, book, 1, email="ann@example.com", environment="prod")
    query = "{ orders { id buyerEmail } ordersCount payments { id } paymentsCount stores { id } }"
    ann = buyer_post(_token(api, store, "Ann@Example.com"), "test", query).json()["data"]
    assert {o["buyerEmail"] for o in ann["orders"]} == {"ann@example.com"}
    assert ann["ordersCount"] == 2 and ann["paymentsCount"] == 2 and len(ann["payments"]) == 2
    assert ann["stores"] == []
    user7 = buyer_post(_token(api, store, "user-7"), "test", query).json()["data"]
    assert user7["ordersCount"] == 1 and user7["orders"][0]["buyerEmail"] == "x@example.com"


def test_a_buyer_cannot_read_someone_elses_order_by_id(api, store):
    book = seed.onetime(store)
    bobs = seed.orders(store, book, 1, email="bob@example.com")[0]
    token = _token(api, store, "ann@example.com")
    body = buyer_post(
        token, "test", "query ($id: ID!) { onetimeOrder(id: $id) { id } }", {"id": str(bobs.pk)}
    ).json()
    assert body["data"]["onetimeOrder"] is None


def test_a_buyer_token_needs_the_matching_environment(api, store):
    token = _token(api, store, "ann@example.com")
    response = buyer_post(token, "prod", "{ orders { id } }")
    assert response.status_code == 400 and response.json()["errors"]


def test_a_buyer_sees_no_catalog_configuration(api, store):
    seed.onetime(store)
    seed.webhook(store)
    token = _token(api, store, "ann@example.com")
    body = buyer_post(
        token, "test", "{ onetimeProducts { id } merchants { id } webhookDeliveriesCount }"
    ).json()
    assert body["data"] == {"onetimeProducts": [], "merchants": [], "webhookDeliveriesCount": 0}


def test_merchants_lists_the_caller_and_teammates_and_keys_only_their_own(
    make_api, member_of, data, store, api
):
    teammate = make_api(email="mate@example.com")
    member_of(store, teammate.merchant, "admin")
    stranger = make_api(email="far@example.com")
    got = data("{ merchants { email apiKeys { id } } merchantsCount }")
    emails = {m["email"]: m for m in got["merchants"]}
    assert set(emails) == {"owner@example.com", "mate@example.com"}
    assert got["merchantsCount"] == 2
    assert emails["mate@example.com"]["apiKeys"] == []
    assert len(emails["owner@example.com"]["apiKeys"]) == 1
    far = data(
        "query ($id: ID!) { merchant(id: $id) { id } }",
        {"id": ids.encode("MER", stranger.merchant.pk)},
    )
    assert far["merchant"] is None
    assert post(stranger, "{ merchants { email } }").json()["data"]["merchants"] == [
        {"email": "far@example.com"}
    ]
