"""A signed GraphQL client: ``gql(query, variables)`` posts like the SDK's graphql.query."""

from __future__ import annotations

import pytest

from pancake.api import ids
from tests.graphql import seed
from tests.graphql.helpers import post


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


@pytest.fixture(autouse=True)
def _no_deferred_loads(monkeypatch):
    """Lists load only the columns their fields declare (pancake/graphql/selection.py). A column
    missed would load lazily, one query per row: here that is an error, in every test."""
    from django.db.models import Model

    from pancake.graphql import views

    state = {"executing": False}
    missed: list[str] = []
    refresh_from_db = Model.refresh_from_db
    execute = views.execute

    def guarded_refresh(self, using=None, fields=None, from_queryset=None):
        if state["executing"] and fields:
            missed.append(f"{type(self).__name__}.{','.join(fields)}")
            raise AssertionError(f"deferred column loaded during execution: {missed[-1]}")
        return refresh_from_db(self, using=using, fields=fields, from_queryset=from_queryset)

    def guarded_execute(*args, **kwargs):
        state["executing"] = True
        try:
            return execute(*args, **kwargs)
        finally:
            state["executing"] = False

    monkeypatch.setattr(Model, "refresh_from_db", guarded_refresh)
    monkeypatch.setattr(views, "execute", guarded_execute)
    yield
    assert not missed, missed


@pytest.fixture
def seeded(store, merchant):
    book = seed.onetime(store, publish=True)
    plan = seed.subscription(store)
    seed.group(store, [plan])
    order, other = seed.orders(store, book, 2, ref="ref-1")
    sub = seed.orders(store, plan, 1, trial=True, status="trialing")[0]
    # A partial refund done (the merchant's reference is the order's), a ticket waiting on the
    # other order and one on the subscription's charge.
    seed.tickets(
        [order.payments.get()], status="succeeded", amount=1000, ref="ref-1", refund="succeeded"
    )
    seed.tickets([other.payments.get(), sub.payments.get()], versions=2)
    seed.delivery(seed.webhook(store))
    seed.email(store)
    return {
        "id": None,
        "storeId": ids.encode("STO", store.pk),
        "productId": ids.encode("PROD", book.pk),
        "plan": ids.encode("PROD", plan.pk),
        "order": ids.encode("ORD", order.pk),
        "sub": ids.encode("ORD", sub.pk),
        "merchant": ids.encode("MER", merchant.pk),
        "ref": "ref-1",
    }
