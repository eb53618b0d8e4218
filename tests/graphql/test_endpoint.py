"""POST /v1/graphql: authentication like the action API, queries only, always JSON, ids and
amounts by API version."""

import json
import uuid

from django.test import Client

from pancake.api import ids
from tests.graphql import seed
from tests.graphql.helpers import post
from tests.helpers import mint_jwt

STORES = "{ stores { id name } }"


def test_unsigned_requests_are_401_in_the_envelope(db):
    response = Client().post("/v1/graphql", {"query": STORES}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["data"] is None and response.json()["errors"][0]["message"]


def test_the_signature_covers_the_graphql_path(api, store):
    body = json.dumps({"query": STORES}).encode()
    response = api.raw("/v1/graphql", body, sign_path="/v1/actions/store/create-store")
    assert response.status_code == 401


def test_a_merchant_jwt_works_too(api, store, rsa_private_key):

    token = mint_jwt(rsa_private_key, api.merchant_id)
    response = Client().post(
        "/v1/graphql",
        {"query": STORES},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200 and response.json()["data"]["stores"][0]["name"]


def test_a_mutation_is_refused_with_403(gql, store):
    body = gql('mutation { createStore(name: "x") { id } }', expect=403)
    assert body["data"] is None
    assert body["errors"][0]["layer"] == "graphql"
    assert "read-only" in body["errors"][0]["message"]


def test_bad_json_and_missing_query_are_400_json(api, store):
    response = api.raw("/v1/graphql", b"{not json")
    assert response.status_code == 400 and response.json()["errors"][0]["message"] == (
        "Invalid JSON body"
    )
    response = api.raw("/v1/graphql", b'{"variables": {}}')
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Missing required field: query"
    response = api.raw("/v1/graphql", b'{"query": "{ stores { id } }", "variables": [1]}')
    assert response.status_code == 400


def test_syntax_and_validation_errors_are_400_with_locations(gql, store):
    body = gql("{ stores { id ", expect=400)
    assert body["data"] is None and body["errors"][0]["layer"] == "graphql"
    body = gql("{ stores { nope } }", expect=400)
    assert "nope" in body["errors"][0]["message"] and body["errors"][0]["locations"]


def test_get_is_405_json(api):
    response = Client().get("/v1/graphql")
    assert response.status_code == 405 and response.json()["errors"]


def test_introspection_is_on(data, store):
    fields = data(
        '{ __type(name: "OnetimeOrder") { fields { name type { name kind ofType { name } } } } }'
    )["__type"]["fields"]
    assert {"priceSnapshot", "payments", "billingDetail"} <= {f["name"] for f in fields}


def test_query_depth_is_limited_but_introspection_is_not(gql, store):
    deep = "{ payments { order { payments { order { payments { order { payments { order { "
    deep += "payments { order { id } } } } } } } } } } }"
    body = gql(deep, expect=400)
    assert "too deep" in body["errors"][0]["message"]
    # The full introspection query is far deeper and larger than the limits.
    from graphql import get_introspection_query

    body = gql(get_introspection_query())
    assert "errors" not in body and body["data"]["__schema"]["types"]


def test_query_size_is_limited(gql, store):
    many = " ".join(f"a{i}: stores {{ id name slug status }}" for i in range(200))
    body = gql("{ " + many + " }", expect=400)
    assert "too large" in body["errors"][0]["message"]


def test_id_and_string_variables_are_interchangeable(data, store):
    sid = ids.encode("STO", store.pk)
    for declared in ("ID!", "String!"):
        got = data(f"query ($id: {declared}) {{ store(id: $id) {{ id }} }}", {"id": sid})
        assert got["store"]["id"] == sid


def test_a_malformed_id_is_an_error_naming_the_argument(gql, store):
    body = gql('{ store(id: "PROD_0000000000000000000000") { id } }')
    assert body["data"]["store"] is None
    assert "expected STO_ prefix" in body["errors"][0]["message"]
    assert body["errors"][0]["path"] == ["store"]


def test_ids_and_prices_follow_the_api_version(data, store):
    book = seed.onetime(store)
    query = "{ onetimeProducts { id storeId prices priceList { priceInfo { amount } } } }"
    new = data(query)["onetimeProducts"][0]
    assert new["id"] == ids.encode("PROD", book.pk)
    assert new["prices"]["USD"]["amount"] == "29.00"
    old = data(query, headers={"HTTP_PANCAKE_VERSION": "2026-01-15"})["onetimeProducts"][0]
    assert old["id"] == str(book.pk) and old["storeId"] == str(store.pk)
    assert old["prices"]["USD"]["amount"] == 2900
    # The SDK guide's amount fields keep their type whatever the version.
    assert old["priceList"][0]["priceInfo"]["amount"] == "29.00"


def test_a_docs_version_key_gets_uuids_and_integer_amounts(make_api, member_of, gql, store):
    old = make_api(api_version="2026-01-15")
    member_of(store, old.merchant, "member")
    book = seed.onetime(store)
    seed.orders(store, book, 1)
    response = post(old, "{ orders { id amount amountDetails { total } } payments { id amount } }")
    assert response["Pancake-Version"] == "2026-01-15"
    body = response.json()["data"]
    uuid.UUID(body["orders"][0]["id"])
    assert body["orders"][0]["amount"] == 3139 and body["payments"][0]["amount"] == 3139


def test_an_unknown_version_header_is_400(gql, store):
    gql(STORES, headers={"HTTP_PANCAKE_VERSION": "1999-01-01"}, expect=400)


def test_store_slug_callers_may_not_query(db, store):
    response = Client().post(
        "/v1/graphql",
        {"query": STORES},
        content_type="application/json",
        HTTP_X_STORE_SLUG=store.slug,
        HTTP_X_ENVIRONMENT="test",
    )
    assert response.status_code == 403 and response.json()["errors"]


def test_rate_limited_like_the_action_api(gql, store, settings):
    settings.API_RATE_LIMIT = (1, 60, 1)  # bursts of one: the second query waits a minute
    gql(STORES)
    body = gql(STORES, expect=429)
    assert body["errors"]
