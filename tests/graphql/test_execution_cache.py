"""Parsing and validation are done once per query text; prefetched children do not join their
parent again (bench/bench_graphql.py measures what these save)."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pancake.api import ids, prepared
from pancake.graphql import views
from tests.graphql import seed
from tests.graphql.appendix_b import DOCUMENTS
from tests.graphql.helpers import LATER, NESTED, variables_for

ORDERS = "{ onetimeOrders { id payments { id snapshotAmountDetails { total taxCategory } } } }"


@pytest.fixture
def book(store):
    return seed.onetime(store)


def test_the_same_query_text_is_parsed_and_validated_once(data, store, book):
    seed.orders(store, book, 2)
    views._prepared.cache_clear()
    first = data(ORDERS)
    second = data(ORDERS)
    assert first == second and len(first["onetimeOrders"]) == 2
    info = views._prepared.cache_info()
    assert info.misses == 1 and info.hits == 1


def test_cached_invalid_documents_keep_answering_400(gql):
    for _ in range(2):
        body = gql("{ onetimeOrders { nope } }", expect=400)
        assert "nope" in body["errors"][0]["message"]
        body = gql("{ onetimeOrders { id }", expect=400)  # does not parse
        assert body["data"] is None


def test_mutations_are_refused_from_the_cache_too(gql):
    for _ in range(2):
        gql("mutation { stores { id } }", expect=403)


def test_a_query_named_beside_a_mutation_is_still_validated(api):
    doc = "query Q { stores { nope } } mutation M { stores { id } }"
    for _ in range(2):
        body = json.dumps({"query": doc, "operationName": "Q"}).encode()
        response = api.raw("/v1/graphql", body)
        assert response.status_code == 400, response.content
        assert "nope" in response.json()["errors"][0]["message"]
        body = json.dumps({"query": doc, "operationName": "M"}).encode()
        assert api.raw("/v1/graphql", body).status_code == 403


def test_payments_reuse_their_prefetching_order_instead_of_joining_it(gql, store, book):
    seed.orders(store, book, 3)
    gql("{ storesCount }")
    with CaptureQueriesContext(connection) as ctx:
        body = gql(ORDERS)
    assert "errors" not in body
    payments_sql = [q["sql"] for q in ctx.captured_queries if 'FROM "billing_payment"' in q["sql"]]
    assert len(payments_sql) == 1
    assert "checkout_order" not in payments_sql[0].split("FROM", 1)[1].split("WHERE", 1)[0]
    totals = {
        p["snapshotAmountDetails"]["taxCategory"]
        for o in body["data"]["onetimeOrders"]
        for p in o["payments"]
    }
    assert totals == {"ebook"}


SHAPES = """
query Shapes($withStore: Boolean!, $noId: Boolean!) {
  __typename
  first: onetimeOrders(limit: 2) { ...Order  __typename }
  rest: onetimeOrders(offset: 1) { orderId: id id @skip(if: $noId) ...Order }
  onetimeOrdersCount
}
fragment Order on OnetimeOrder {
  status
  payments { id ... on Payment { snapshotAmountDetails { total phase } } }
  store @include(if: $withStore) { id name }
}
"""

PLAIN = "plain graphql-core, every column, one instance per row"


def _every_column(plan):
    from dataclasses import replace

    many = tuple(replace(m, plan=_every_column(m.plan)) for m in plan.many)
    return replace(plan, only=None, many=many)


def _plain(monkeypatch):
    from graphql.execution import ExecutionContext

    from pancake.graphql import selection

    planned = selection.plan
    monkeypatch.setattr(views, "CompiledExecutionContext", ExecutionContext)
    monkeypatch.setattr(selection, "plan", lambda *a: _every_column(planned(*a)))
    monkeypatch.setattr(prepared, "shared", lambda qs: qs)


def test_every_sdk_document_answers_the_same_as_the_plain_executor(
    seeded,  # noqa: F811  (the fixture imported above)
    gql,
    monkeypatch,
    store,
    book,
):
    """The executor's short way for leaves, the column restriction and the shared related
    instances change how an answer is computed, never the answer."""
    seed.orders(store, book, 3, billing=seed.DE_BUSINESS)
    documents = {
        label: (doc, variables_for(label, doc, seeded) or None)
        for label, doc in DOCUMENTS.items()
        if label not in LATER
    }
    documents["nested"] = (NESTED, None)
    documents["aliases, fragments, directives"] = (SHAPES, {"withStore": True, "noId": False})
    fast = {label: gql(doc, variables) for label, (doc, variables) in documents.items()}
    _plain(monkeypatch)
    views._prepared.cache_clear()
    for label, (doc, variables) in documents.items():
        assert gql(doc, variables) == fast[label], f"{label} differs from the {PLAIN}"


def test_a_resolver_error_answers_as_graphql_core_does(gql, monkeypatch, store, book):
    """An error in one row: the planned execution gives way to graphql-core's, which nulls the
    nearest nullable parent and reports the error with its path."""
    from billing.models import Payment
    from pancake.graphql import context

    seed.orders(store, book, 3)
    Payment.objects.filter(pk=Payment.objects.order_by("pk")[0].pk).update(amount=1234)
    real = context.display

    def display(minor, currency):
        if minor == 1234:
            raise ValueError("boom")
        return real(minor, currency)

    query = "{ onetimeOrders { id payments { id snapshotAmountDetails { total } } } }"
    monkeypatch.setattr("billing.schema.display", display)
    first = gql(query)
    _plain(monkeypatch)
    views._prepared.cache_clear()
    assert gql(query) == first
    assert first["errors"][0]["message"] == "Internal server error"
    assert first["errors"][0]["path"][-1] == "total"
    assert sum(1 for o in first["data"]["onetimeOrders"] if o["payments"] is None) == 1


def test_a_list_asked_again_the_same_way_is_built_once_and_answers_fresh_rows(
    data, store, book, monkeypatch, make_api
):
    from checkout import schema as checkout_schema

    built = []
    real = checkout_schema.orders_in_scope
    monkeypatch.setattr(
        checkout_schema, "orders_in_scope", lambda *a, **kw: built.append(1) or real(*a, **kw)
    )
    prepared._memo.clear()
    query = "query ($n: Int) { onetimeOrders(limit: $n) { id buyerEmail } }"
    seed.orders(store, book, 2, email="first@example.com")
    first = data(query, {"n": 10})["onetimeOrders"]
    seed.orders(store, book, 1, email="later@example.com")
    again = data(query, {"n": 10})["onetimeOrders"]
    assert len(built) == 1  # the second request reused the list's queryset and statement
    assert len(first) == 2 and len(again) == 3  # the rows themselves are read every time
    assert again[0]["buyerEmail"] == "later@example.com"  # newest first

    assert len(data(query, {"n": 1})["onetimeOrders"]) == 1  # other arguments: built anew
    assert len(built) == 2
    # another merchant, the same document and variables: their scope, their (no) orders
    assert data(query, {"n": 10}, client=make_api())["onetimeOrders"] == []
    assert len(built) == 3
    # a filter is part of the key (its lists frozen to tuples)
    picked = '{ onetimeOrders(filter: {buyerEmail: {in: ["later@example.com"]}}) { id } }'
    assert len(data(picked)["onetimeOrders"]) == 1
    assert len(data(picked)["onetimeOrders"]) == 1
    assert len(built) == 4


def test_a_list_memo_serves_only_the_document_it_was_built_for(data, store, book, monkeypatch):
    from checkout import schema as checkout_schema

    built = []
    real = checkout_schema.orders_in_scope
    monkeypatch.setattr(
        checkout_schema, "orders_in_scope", lambda *a, **kw: built.append(1) or real(*a, **kw)
    )
    seed.orders(store, book, 1)
    prepared._memo.clear()
    views._prepared.cache_clear()
    assert set(data("{ onetimeOrders { id } }")["onetimeOrders"][0]) == {"id"}
    views._prepared.cache_clear()  # the same text parsed again: new selection nodes
    assert set(data("{ onetimeOrders { id } }")["onetimeOrders"][0]) == {"id"}
    assert set(data("{ onetimeOrders { id status } }")["onetimeOrders"][0]) == {"id", "status"}
    assert len(built) == 3


def test_a_memoized_list_prefetches_its_children_as_django_does(data, store, book):
    from django.db import connection

    from billing.models import Payment
    from pancake.api import ids

    first, second, third = seed.orders(store, book, 3)
    Payment.objects.filter(order=second).delete()  # an order without payments: []
    extra = Payment.objects.get(order=third)
    extra.pk, extra.status = None, "failed"  # a second payment of the same order
    extra.provider_payment_id = "another"
    extra.save()
    prepared._memo.clear()
    query = "{ onetimeOrders { id payments { id status } store { id } } }"
    answers = [data(query)["onetimeOrders"] for _ in range(3)]  # built, then memoized twice
    assert answers[0] == answers[1] == answers[2]
    by_order = {o["id"]: [p["status"] for p in o["payments"]] for o in answers[0]}
    assert by_order == {
        ids.encode("ORD", first.pk): ["succeeded"],
        ids.encode("ORD", second.pk): [],
        ids.encode("ORD", third.pk): ["succeeded", "failed"],  # in the relation's order
    }
    (entry,) = prepared._memo.values()
    # PostgreSQL: the memo prefetches itself (one statement, the orders' ids one parameter)
    assert bool(entry.prefetch) == (connection.vendor == "postgresql")


@pytest.mark.parametrize(
    "root",
    [
        "stores { id name }",
        "merchants { id }",
        "payments { id status }",
        "onetimeProducts { id name }",
        "subscriptionProductGroups { id }",
        "orders { id }",
    ],
)
def test_every_memoized_list_answers_each_caller_from_their_own_scope(
    root, data, store, book, make_api
):
    seed.orders(store, book, 2)
    seed.group(store, [seed.subscription(store)])
    prepared._memo.clear()
    query = "{ " + root + " }"
    name = root.split()[0]
    mine = [data(query)[name] for _ in range(2)]
    assert mine[0] == mine[1] and mine[0], mine  # built, then memoized: the same rows
    other = make_api()
    assert data(query, client=other)[name] in ([], [{"id": ids.encode("MER", other.merchant.pk)}])
    assert data(query)[name] == mine[0]  # and the first caller's memo still answers them
    assert len(prepared._memo) == 2  # one list per caller


def test_memoized_statements_per_connection_stay_bounded(data, store, book, monkeypatch):
    from django.db import connections

    seed.orders(store, book, 3)
    monkeypatch.setattr(prepared, "MEMO_SIZE", 2)
    prepared._memo.clear()
    cache = prepared._cache(connections["default"])
    cache.pop("graphql_lists", None)  # (this process's earlier tests' lists)

    def children():  # the statements of the memo's prefetches on this connection
        return {k for k in cache if "_prefetch_plan" in getattr(k, "build", len).__qualname__}

    earlier = children()  # those of lists the line above forgot: not this test's

    query = "query ($n: Int) { onetimeOrders(limit: $n) { id payments { id } } }"
    for n in (1, 2, 3, 1, 2, 3):  # six lists, three different ones, two kept
        assert len(data(query, {"n": n})["onetimeOrders"]) == n
    assert len(prepared._memo) == 2
    lists = cache.get("graphql_lists", {})
    assert len(lists) <= 2 and len(children() - earlier) <= len(lists)  # none outlives its list
