"""A signed GraphQL client: ``gql(query, variables)`` posts like the SDK's graphql.query."""

from __future__ import annotations

import json

import pytest


def post(client, query: str, variables: dict | None = None, headers: dict | None = None):
    body = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return client.raw("/v1/graphql", json.dumps(body).encode(), headers)


@pytest.fixture
def gql(api):
    """Run a document as the default merchant; returns the whole ``{data, errors?}`` body."""

    def run(query, variables=None, *, client=None, headers=None, expect=200):
        response = post(client or api, query, variables, headers)
        assert response.status_code == expect, response.content
        assert response["Content-Type"].startswith("application/json")
        return response.json()

    return run


@pytest.fixture
def data(gql):
    """Like ``gql`` but asserts no errors and returns ``data``."""

    def run(query, variables=None, **kw):
        body = gql(query, variables, **kw)
        assert "errors" not in body, body
        return body["data"]

    return run
