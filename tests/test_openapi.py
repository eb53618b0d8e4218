"""The OpenAPI document covers every action and GraphQL, says how each is authenticated, is
valid OpenAPI, and the committed copy is current."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from pancake.api import auth
from pancake.api.registry import REGISTRY

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.json"


def _generate(tmp_path) -> dict:
    """Generated in a fresh process, exactly as the committed copy is made."""
    out = tmp_path / "openapi.json"
    subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--format", "openapi-json", "--file", out],
        cwd=COMMITTED.parent.parent,
        check=True,
        capture_output=True,
    )
    return json.loads(out.read_text())


def test_every_action_is_documented_with_its_request_and_error_envelope(tmp_path):
    doc = _generate(tmp_path)
    for action_path in REGISTRY:
        operation = doc["paths"][f"/v1/actions/{action_path}"]["post"]
        assert operation["responses"]["401"], action_path
        if REGISTRY[action_path].Input is not None:
            assert "requestBody" in operation, action_path
    ids = [op["post"]["operationId"] for op in doc["paths"].values()]
    assert len(ids) == len(set(ids))


def test_committed_openapi_document_is_current(tmp_path):
    """Regenerate: python manage.py spectacular --format openapi-json --file docs/openapi.json"""
    assert _generate(tmp_path) == json.loads(COMMITTED.read_text())


def test_openapi_json_is_served_and_the_browsable_page_loads(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert "/v1/actions/store/create-store" in response.json()["paths"]
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert b"swagger" in page.content.lower()
    assert b"cdn" not in page.content.lower()


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    return _generate(tmp_path_factory.mktemp("openapi"))


def test_the_document_is_valid_openapi(document, client):
    validate(document)
    validate(client.get("/v1/openapi.json").json())


def _ways_in(document: dict, security: list[dict]) -> set[frozenset[str]]:
    """Each requirement as what a caller sends: header names, or "bearer" for Authorization."""
    schemes = document["components"]["securitySchemes"]
    ways = set()
    for requirement in security:
        sent = set()
        for name in requirement:
            scheme = schemes[name]
            if scheme["type"] == "apiKey":
                assert scheme["in"] == "header", name
                sent.add(scheme["name"])
            else:
                assert (scheme["type"], scheme["scheme"]) == ("http", "bearer"), name
                sent.add(f"bearer {scheme['bearerFormat']}")
        ways.add(frozenset(sent))
    return ways


# What pancake.api.auth reads for each kind of caller.
WAYS = {
    auth.MERCHANT: {
        frozenset({"X-Merchant-Id", "X-Timestamp", "X-Signature"}),
        frozenset({"bearer JWT"}),
    },
    auth.BUYER: {frozenset({"bearer Pancake buyer session token", "X-Environment"})},
    auth.STORE_SLUG: {frozenset({"X-Store-Slug", "X-Environment"})},
}


def test_every_action_declares_the_credentials_its_auth_allows(document):
    assert set(WAYS) == {auth.MERCHANT, auth.BUYER, auth.STORE_SLUG}
    for action_path, action_cls in REGISTRY.items():
        operation = document["paths"][f"/v1/actions/{action_path}"]["post"]
        expected = set().union(*(WAYS[kind] for kind in action_cls.auth))
        assert _ways_in(document, operation["security"]) == expected, action_path
    slug_only = document["paths"]["/v1/actions/checkout/preview-tax"]["post"]
    assert {"StoreSlug": [], "Environment": []} in slug_only["security"]
    merchant_only = document["paths"]["/v1/actions/store/create-store"]["post"]
    assert merchant_only["security"] == [
        {"MerchantId": [], "Timestamp": [], "Signature": []},
        {"MerchantJwt": []},
    ]


def test_graphql_is_documented_with_its_body_reply_and_credentials(document):
    operation = document["paths"]["/v1/graphql"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    request = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]
    assert set(request["properties"]) == {"query", "variables", "operationName"}
    assert request["required"] == ["query"]
    reply = operation["responses"]["200"]["content"]["application/json"]["schema"]
    response = document["components"]["schemas"][reply["$ref"].rsplit("/", 1)[-1]]
    assert set(response["properties"]) == {"data", "errors"}
    for status in ("400", "401", "403", "429"):
        assert operation["responses"][status]["content"]["application/json"]["schema"]
    # Merchants and buyers read; a store slug is refused (403).
    assert _ways_in(document, operation["security"]) == WAYS[auth.MERCHANT] | WAYS[auth.BUYER]


def test_graphql_answers_the_documented_request_with_the_documented_reply(document, api, store):
    body = {"query": "query Me { __typename }", "variables": {}, "operationName": "Me"}
    response = api.raw("/v1/graphql", json.dumps(body).encode())
    assert response.status_code == 200, response.content
    reply = document["components"]["schemas"]["GraphQLResponse"]
    assert set(response.json()) <= set(reply["properties"])
    assert response.json()["data"] == {"__typename": "Query"}
    store_slug = api.client.post(
        "/v1/graphql",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_X_STORE_SLUG=store.slug,
        HTTP_X_ENVIRONMENT="test",
    )
    assert store_slug.status_code == 403  # not among the documented credentials
