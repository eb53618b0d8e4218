"""The ``customers`` and ``customer`` roots' MRR: the pre-tax price per month of each active,
past-due or canceling subscription, in the customer's currency (``mrr``, as ``totalRevenue``) and
per currency (``mrrByCurrency``, as ``revenueByCurrency``); the same figures as the dashboard's
Customers page. Asked for or not, the list costs a fixed number of statements. (And
``revenueByCurrency`` answers in the schema's ``CurrencyRevenue`` shape.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.customers import selectors
from billing.models import Subscription
from tests.customers.test_customers_pages import buy, subscribe
from tests.factories import ProductFactory

FIELDS = "email currency totalRevenue mrr mrrByCurrency { currency amount }"


@pytest.fixture
def buyers(store):
    plan = ProductFactory(store=store, subscription=True)
    subscribe(plan, "sub@example.com", period="monthly", total=1100, tax=100)  # 1000
    subscribe(plan, "sub@example.com", period="weekly", total=1000, status="past_due")  # 4330
    subscribe(plan, "sub@example.com", period="quarterly", total=3000, status="canceling")  # 1000
    subscribe(plan, "sub@example.com", period="monthly", total=5000, status="canceled")  # no
    subscribe(plan, "sub@example.com", period="monthly", total=5000, status="trialing")  # no
    euro = subscribe(plan, "sub@example.com", period="yearly", total=12100, tax=100)  # 1000 EUR
    Subscription.objects.filter(order=euro).update(currency="EUR")
    subscribe(plan, "gone@example.com", total=2000, status="canceled")
    buy(ProductFactory(store=store), "once@example.com")
    return plan


def by_email(customers) -> dict:
    return {c["email"]: c for c in customers}


def test_mrr_in_the_customers_currency_and_per_currency(data, buyers):
    got = by_email(data(f"{{ customers {{ {FIELDS} }} }}")["customers"])
    sub = got["sub@example.com"]
    assert sub["currency"] == "USD"
    assert sub["mrr"] == 1000 + 4330 + 1000
    assert sub["mrrByCurrency"] == [
        {"currency": "EUR", "amount": 1000},
        {"currency": "USD", "amount": 6330},
    ]
    for churned_or_one_time in ("gone@example.com", "once@example.com"):
        assert got[churned_or_one_time]["mrr"] == 0
        assert got[churned_or_one_time]["mrrByCurrency"] == []


def test_the_same_figures_as_the_customers_page(data, buyers, store):
    page = selectors.customer_page(
        store=store, environment="test", filters=selectors.CustomerFilters()
    )
    rows = {r.email: r for r in selectors.fill(store, "test", page.rows)}
    got = by_email(data(f"{{ customers {{ {FIELDS} }} }}")["customers"])
    for email, row in rows.items():
        per = {c["currency"]: c["amount"] for c in got[email]["mrrByCurrency"]}
        assert per == row.mrr, email


def test_one_customer_answers_its_mrr(data, buyers):
    first = by_email(data("{ customers { id email } }")["customers"])["sub@example.com"]
    one = data("query ($id: ID!) { customer(id: $id) { mrr } }", {"id": first["id"]})
    assert one["customer"] == {"mrr": 6330}


def test_mrr_is_one_statement_for_the_page_and_none_unasked(data, buyers):
    def statements(query):
        with CaptureQueriesContext(connection) as queries:
            data(query)
        return len(queries)

    plain = statements("{ customers { email totalRevenue } }")
    with_mrr = statements(f"{{ customers {{ {FIELDS} }} }}")
    assert with_mrr == plain + 1
    for _ in range(3):
        subscribe(buyers, "more@example.com", total=900)
    assert statements(f"{{ customers {{ {FIELDS} }} }}") == with_mrr


def test_revenue_by_currency_answers_its_declared_shape(data, buyers):
    got = by_email(
        data("{ customers { email revenueByCurrency { currency totalAmount paymentCount } } }")[
            "customers"
        ]
    )
    once = got["once@example.com"]["revenueByCurrency"]
    assert len(once) == 1 and once[0]["paymentCount"] == 1 and once[0]["totalAmount"] > 0
    assert sum(r["paymentCount"] for r in got["sub@example.com"]["revenueByCurrency"]) == 6
