"""The unmodified SDK's GraphQL calls against a live server: the merchant's
``client.graphql.query`` and the buyer's ``client.customer(token).graphql.query``, with variables
declared ``ID!`` and ``String!``, a mutation refused, and an error answered without a throw."""

import pytest

from pancake.api import ids
from stores.models import Role
from tests.factories import MembershipFactory, OrderFactory, ProductFactory, StoreFactory
from tests.sdk.helpers import run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

SCRIPT = """
const storeId = process.env.STORE_ID;
out.stores = await client.graphql.query({ query: "query { stores { id name status } }" });
out.store = await client.graphql.query({
  query: "query ($id: ID!) { store(id: $id) { id name onetimeProducts { id name prices } } }",
  variables: { id: storeId },
});
out.orders = await client.graphql.query({
  query: `query ($storeId: String!) {
    onetimeOrders(storeId: $storeId, limit: 20) {
      id buyerEmail priceSnapshot { currency total } payments { id status cardInfo { last4 } }
    }
    onetimeOrdersCount(storeId: $storeId)
  }`,
  variables: { storeId },
});
out.mutation = await failure(() => client.graphql.query({ query: "mutation { x }" }));
out.invalid = await client.graphql.query({ query: "query { nope }" });

const { token } = await client.auth.issueSessionToken({
  storeId, buyerIdentity: "ann@example.com",
});
const buyer = client.customer(token, { environment: "test" });
out.buyer = await buyer.graphql.query({ query: "query { orders { id status createdAt } }" });
out.buyerPayments = await buyer.graphql.query({
  query: "query ($s: String!) { payments(filter: { status: { eq: $s } }) { id status } }",
  variables: { s: "succeeded" },
});
"""


def test_sdk_graphql_queries_as_merchant_and_buyer(live_server, merchant_key):
    merchant, key = merchant_key
    store = StoreFactory(name="GraphQL Store")
    MembershipFactory(store=store, merchant=merchant, role=Role.OWNER)
    book = ProductFactory(store=store)
    ann = OrderFactory.create_batch(2, product=book, paid=True, buyer_email="ann@example.com")
    OrderFactory(product=book, paid=True, buyer_email="bob@example.com")
    env = {**sdk_env(merchant, key, live_server), "STORE_ID": ids.encode("STO", store.pk)}
    out = run_sdk(SCRIPT, env)

    assert out["stores"]["data"]["stores"] == [
        {"id": ids.encode("STO", store.pk), "name": "GraphQL Store", "status": "active"}
    ]
    assert "errors" not in out["stores"]
    product = out["store"]["data"]["store"]["onetimeProducts"][0]
    assert product["prices"]["USD"]["amount"] == "29.00"
    orders = out["orders"]["data"]
    assert orders["onetimeOrdersCount"] == 3 and len(orders["onetimeOrders"]) == 3
    assert orders["onetimeOrders"][0]["payments"][0]["cardInfo"] == {"last4": "4242"}
    # graphql.query never throws: a mutation's 403 and a validation error come back as errors.
    assert out["mutation"]["rejected"] is False
    assert out["mutation"]["value"]["errors"][0]["layer"] == "graphql"
    assert out["invalid"]["data"] is None and out["invalid"]["errors"][0]["message"]

    mine = {ids.encode("ORD", o.pk) for o in ann}
    assert {o["id"] for o in out["buyer"]["data"]["orders"]} == mine
    assert len(out["buyerPayments"]["data"]["payments"]) == 2
