"""Checkout costs a fixed, small number of SQL statements per request (at most 12 for
create-order), counted in steady state: the API key was used a moment ago, so no key-touch
UPDATE. In tests the request's transaction is a savepoint (SAVEPOINT/RELEASE); on a server it is
BEGIN/COMMIT: the same count either way."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checkout.models import Order
from pancake.api import ids

US = {"country": "US", "isBusiness": False, "state": "TX", "postcode": "73301"}


def _session(api, book) -> str:
    body = {"productId": ids.encode("PROD", book.pk), "currency": "USD"}
    return api.call("checkout/create-session", body)["data"]["sessionId"]


def _order(api, session_id: str, n: int = 0):
    body = {"checkoutSessionId": session_id, "billingDetail": US, "buyerEmail": f"b{n}@ex.com"}
    return api.call("onetime-order/create-order", body)


def _statements(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries]


def test_create_session_costs_five_statements(api, book):
    _session(api, book)  # the key has been used: no key-touch UPDATE from here on
    with CaptureQueriesContext(connection) as ctx:
        _session(api, book)
    # key lookup, BEGIN, product with the caller's role, session INSERT, COMMIT
    assert len(ctx.captured_queries) == 5, _statements(ctx)


def test_create_order_costs_at_most_twelve_statements(api, book):
    _order(api, _session(api, book))
    session_id = _session(api, book)
    with CaptureQueriesContext(connection) as ctx:
        answer = _order(api, session_id, 1)
    assert "checkoutUrl" in answer["data"]
    # key lookup, BEGIN, the locked session with its store, version and the caller's role, the
    # existing-order check, order INSERT, session UPDATE, the provider's payment INSERT (one
    # INSERT … ON CONFLICT DO NOTHING), payment INSERT, COMMIT
    assert len(ctx.captured_queries) <= 12, _statements(ctx)
    assert len(ctx.captured_queries) == 9, _statements(ctx)


def test_a_repeated_create_order_reads_the_existing_order_and_payment(api, book):
    session_id = _session(api, book)
    first = _order(api, session_id)["data"]["checkoutUrl"]
    with CaptureQueriesContext(connection) as ctx:
        again = _order(api, session_id)["data"]["checkoutUrl"]
    assert again == first and Order.objects.count() == 1
    # key lookup, BEGIN, locked session, existing order, its latest payment, the provider's
    # payment (insert finds the attempt id taken, then one read), COMMIT
    assert len(ctx.captured_queries) <= 8, _statements(ctx)


@pytest.mark.parametrize(
    "action, payload, headers",
    [
        ("checkout/create-session", None, {}),
        ("checkout/create-session", None, {"HTTP_ACCEPT_LANGUAGE": "de"}),
        ("checkout/create-session", {"productId": "nope", "currency": "USD"}, {}),
        ("no-such/action", {}, {}),
    ],
)
def test_the_direct_action_path_answers_like_the_whole_middleware_chain(
    api, book, settings, action, payload, headers
):
    """DirectActionMiddleware skips the middlewares that do nothing for an action call: the
    answer (status, headers in order, body shape) is the one the whole chain gives."""
    from django.test import Client

    payload = payload or {"productId": ids.encode("PROD", book.pk), "currency": "USD"}
    direct = api.post(action, payload, headers)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "DirectAction" not in m]
    api.client = Client()  # a handler built from the chain without it
    whole = api.post(action, payload, headers)
    assert direct.status_code == whole.status_code
    assert list(direct.items()) == list(whole.items())
    if direct.status_code == 200:
        assert direct.json()["data"].keys() == whole.json()["data"].keys()
    else:
        assert direct.content == whole.content


@pytest.mark.parametrize(
    "query",
    ["{ storesCount onetimeOrders(limit: 2) { id status } }", "{ nope }", "mutation { x }"],
)
def test_graphql_takes_the_direct_path_and_answers_like_the_whole_chain(api, book, settings, query):
    """``POST /v1/graphql`` is marked ``direct_api``: DirectActionMiddleware takes it to its
    view, with the answer the whole middleware chain gives, headers in the same order."""
    import json

    from django.test import Client, RequestFactory

    from pancake.api.middleware import DirectActionMiddleware

    probe = RequestFactory().post("/v1/graphql", b"{}", content_type="application/json")
    assert DirectActionMiddleware(lambda request: None)._action_match(probe) is not None
    body = json.dumps({"query": query}).encode()
    direct = api.raw("/v1/graphql", body)
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "DirectAction" not in m]
    api.client = Client()  # a handler built from the chain without it
    whole = api.raw("/v1/graphql", body)
    assert direct.status_code == whole.status_code
    assert list(direct.items()) == list(whole.items())
    assert direct.content == whole.content
