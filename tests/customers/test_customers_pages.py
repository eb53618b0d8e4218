"""The dashboard's Customers pages through Django's test client: the derived status, MRR and
revenue per currency (known answers worked out by hand), search, filters, sorting, keyset pages
whose statement count does not grow with the page size, the CSV export, the detail's tabs and
the portal link. Another store's or environment's customer is 404."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.customers import selectors
from billing.models import Payment, PaymentStatus, Refund, RefundStatus, Subscription
from billing.subscriptions import lifecycle
from checkout.models import Order
from stores.models import Role
from tests.factories import MembershipFactory, MerchantFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def buy(product, email, *, at=None, amount=None, status=PaymentStatus.SUCCEEDED, **changes):
    """A paid order of ``product`` by ``email`` at ``at``; its payment set to ``amount`` and
    ``status`` (with ``changes``)."""
    order = OrderFactory(product=product, paid=True, buyer_email=email)
    payment = order.payments.get()
    pay = {"status": status, **changes}
    if amount is not None:
        pay["amount"] = amount
        pay["tax_amount"] = 0
    if at is not None:
        Order.objects.filter(pk=order.pk).update(created_at=at)
        pay["created_at"] = at
        pay["paid_at"] = at
    Payment.objects.filter(pk=payment.pk).update(**pay)
    order.refresh_from_db()
    return order


def subscribe(plan, email, *, status="active", period="monthly", total=1000, tax=0, at=None):
    order = buy(plan, email, at=at)
    sub = lifecycle.start(order=order, payment=order.payments.get())
    Subscription.objects.filter(pk=sub.pk).update(
        status=status, billing_period=period, total=total, tax_amount=tax
    )
    return order


@pytest.fixture
def owner(client, merchant):
    client.force_login(merchant)
    return client


@pytest.fixture
def ebook(store):
    return ProductFactory(store=store)


@pytest.fixture
def plan(store):
    return ProductFactory(store=store, subscription=True)


def list_url(store, **params):
    url = reverse("dashboard:customers", args=[store.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def listed(response) -> list[str]:
    return re.findall(r'data-customer="([^"]+)"', response.content.decode())


def page_rows(store, **filters):
    return {
        r.email: r
        for r in selectors.customer_page(
            store=store, environment="test", filters=selectors.CustomerFilters(**filters)
        ).rows
    }


# --- the derived status ----------------------------------------------------------------------


def test_status_is_derived_in_order_of_precedence(store, ebook, plan):
    subscribe(plan, "due@example.com", status="past_due")
    buy(ebook, "due@example.com")  # a one-time payment does not hide past due
    subscribe(plan, "act@example.com", status="active")
    subscribe(plan, "act@example.com", status="canceled")
    subscribe(plan, "cancelling@example.com", status="canceling")
    subscribe(plan, "trial@example.com", status="trialing")
    subscribe(plan, "gone@example.com", status="canceled")
    subscribe(plan, "gone2@example.com", status="expired")
    buy(ebook, "once@example.com", amount=2900, refunded_amount=1000)
    buy(ebook, "back@example.com", amount=2900, refunded_amount=2900, status="refunded")
    buy(ebook, "never@example.com", status=PaymentStatus.FAILED)
    status = {email: r.status for email, r in page_rows(store).items()}
    assert status == {
        "due@example.com": "past_due",
        "act@example.com": "active",
        "cancelling@example.com": "active",
        "trial@example.com": "trialing",
        "gone@example.com": "churned",
        "gone2@example.com": "churned",
        "once@example.com": "one_time",
        "back@example.com": "refunded",
        "never@example.com": "no_payment",
    }
    # The status filter (SQL) agrees with the rows' status (Python) for every status.
    for value in selectors.Status.ALL:
        wanted = {email for email, s in status.items() if s == value}
        assert set(page_rows(store, status=value)) == wanted, value


# --- MRR and revenue -------------------------------------------------------------------------


def test_mrr_counts_live_subscriptions_pre_tax_per_month(store, plan):
    email = "mrr@example.com"
    subscribe(plan, email, period="monthly", total=1100, tax=100)  # 1000
    subscribe(plan, email, period="weekly", total=1000, status="past_due")  # 4330
    subscribe(plan, email, period="quarterly", total=3000, status="canceling")  # 1000
    subscribe(plan, email, period="yearly", total=12100, tax=100)  # 1000
    subscribe(plan, email, period="monthly", total=5000, status="canceled")  # not counted
    subscribe(plan, email, period="monthly", total=5000, status="trialing")  # not counted
    row = page_rows(store)[email]
    assert row.mrr == {"USD": 1000 + 4330 + 1000 + 1000}
    assert row.subscription_count == 6


def test_mrr_rounds_half_up_per_currency():
    assert selectors._round(selectors.monthly(1000, "quarterly")) == 333
    assert selectors._round(selectors.monthly(50, "weekly")) == 217  # 216.5
    assert selectors._round(selectors.monthly(1000, "yearly")) == 83


def test_revenue_is_per_currency_net_of_refunds(owner, store):
    usd = ProductFactory(store=store)
    eur = ProductFactory(store=store, prices={"EUR": {"amount": 1500, "taxCategory": "saas"}})
    buy(usd, "two@example.com", amount=2900)
    buy(usd, "two@example.com", amount=1000, refunded_amount=400, status="partially_refunded")
    buy(eur, "two@example.com", amount=1500)
    buy(usd, "two@example.com", amount=7000, status=PaymentStatus.FAILED)
    row = page_rows(store)["two@example.com"]
    assert row.revenue == {"EUR": 1500, "USD": 2900 + 600}
    assert row.payment_count == 3
    html = owner.get(list_url(store)).content.decode()
    assert "€15.00" in html and "$35.00" in html


# --- search, filters, sorting, pages ---------------------------------------------------------


def test_search_filters_and_sort(owner, store, ebook):
    buy(ebook, "ann@example.com", at=utc(2027, 1, 5, 10))
    buy(ebook, "ann@example.com", at=utc(2027, 3, 1, 10))  # first seen stays Jan 5
    buy(ebook, "bob@shop.test", at=utc(2027, 2, 1, 10))
    OrderFactory(
        product=ebook,
        paid=True,
        buyer_email="jp@example.com",
        billing_detail={"country": "JP", "isBusiness": False},
    )
    Order.objects.filter(buyer_email="jp@example.com").update(created_at=utc(2027, 4, 1, 10))
    response = owner.get(list_url(store))
    assert response.status_code == 200
    assert listed(response) == ["jp@example.com", "bob@shop.test", "ann@example.com"]
    assert listed(owner.get(list_url(store, sort="oldest"))) == [
        "ann@example.com",
        "bob@shop.test",
        "jp@example.com",
    ]
    assert listed(owner.get(list_url(store, q="EXAMPLE"))) == ["jp@example.com", "ann@example.com"]
    assert listed(owner.get(list_url(store, country="jp"))) == ["jp@example.com"]
    # First seen in February: Ann's March order does not make her a February customer.
    feb = owner.get(list_url(store, first_from="2027-02-01", first_to="2027-03-31"))
    assert listed(feb) == ["bob@shop.test"]
    assert listed(owner.get(list_url(store, status="churned"))) == []
    bad = owner.get(list_url(store, first_from="soon", country="J1"))
    assert bad.status_code == 200
    assert len(listed(bad)) == 3  # bad filters are shown and ignored


def test_keyset_pages_cover_everyone_once(owner, store, ebook, monkeypatch):
    monkeypatch.setattr(selectors, "PAGE_SIZE", 2)
    for n in range(5):
        buy(ebook, f"c{n}@example.com", at=utc(2027, 1, 1 + n))
    seen = []
    url = list_url(store)
    while True:
        response = owner.get(url)
        seen += listed(response)
        match = re.search(r'href="(\?[^"]*after=[^"]+)" rel="next"', response.content.decode())
        if not match:
            break
        url = list_url(store) + match.group(1).replace("&amp;", "&")
    assert seen == [f"c{n}@example.com" for n in (4, 3, 2, 1, 0)]


def test_list_statements_do_not_grow_with_page_size(owner, store, ebook, plan, monkeypatch):
    for n in range(6):
        buy(ebook, f"c{n}@example.com")
        subscribe(plan, f"c{n}@example.com")
    owner.get(list_url(store))  # the session remembers the store once
    counts = []
    for size in (1, 6):
        monkeypatch.setattr(selectors, "PAGE_SIZE", size)
        with CaptureQueriesContext(connection) as queries:
            response = owner.get(list_url(store))
        assert len(listed(response)) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_another_stores_customers_are_not_listed_nor_found(owner, store, ebook):
    buy(ebook, "test@example.com")
    other = ProductFactory()  # another merchant's store
    buy(other, "elsewhere@example.com")
    assert listed(owner.get(list_url(store))) == ["test@example.com"]
    order = Order.objects.get(buyer_email="elsewhere@example.com")
    url = reverse("dashboard:customer", args=[store.pk, order.pk])
    assert owner.get(url).status_code == 404


# --- CSV -------------------------------------------------------------------------------------


def read_csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_export_has_a_line_per_currency_and_escapes_formulas(owner, store):
    usd = ProductFactory(store=store)
    eur = ProductFactory(store=store, prices={"EUR": {"amount": 1500, "taxCategory": "saas"}})
    buy(usd, "two@example.com", amount=2900, at=utc(2027, 1, 2, 3))
    buy(eur, "two@example.com", amount=1500, at=utc(2027, 1, 3, 3))
    buy(usd, "=cmd@example.com", amount=100, at=utc(2027, 1, 1, 3), status="failed")
    rows = read_csv(owner.get(reverse("dashboard:customers-export", args=[store.pk])))
    assert [(r["email"], r["currency"], r["revenue"], r["status"]) for r in rows] == [
        ("two@example.com", "EUR", "15.00", "one_time"),
        ("two@example.com", "USD", "29.00", "one_time"),
        ("'=cmd@example.com", "", "", "no_payment"),
    ]
    assert rows[0]["first_seen"] == "2027-01-02T03:00:00Z"
    assert rows[0]["payments"] == "2"
    filtered = read_csv(
        owner.get(reverse("dashboard:customers-export", args=[store.pk]) + "?status=no_payment")
    )
    assert [r["email"] for r in filtered] == ["'=cmd@example.com"]


# --- detail ----------------------------------------------------------------------------------


def test_detail_tabs(owner, store, ebook, plan):
    order = buy(ebook, "ann@example.com", amount=2900, at=utc(2027, 1, 5, 10))
    payment = order.payments.get()
    sub_order = subscribe(plan, "ann@example.com", at=utc(2027, 2, 1, 10))
    Subscription.objects.filter(pk=sub_order.subscription.pk).update(
        created_at=utc(2027, 2, 1, 10), canceled_at=utc(2027, 3, 1)
    )
    ticket = payment.refund_tickets.create(
        store=store,
        environment="test",
        order=order,
        status="approved",
        submitter_type="merchant",
        submitter_id="x",
        reason="r",
        requested_amount=500,
        currency="USD",
    )
    Refund.objects.create(
        store=store,
        environment="test",
        ticket=ticket,
        payment=payment,
        amount=500,
        currency="USD",
        status=RefundStatus.SUCCEEDED,
        provider="test",
        executed_at=utc(2027, 1, 6, 10),
    )
    url = reverse("dashboard:customer", args=[store.pk, sub_order.pk])
    html = owner.get(url).content.decode()
    assert 'id="customer-email">ann@example.com<' in html
    assert 'data-tab="overview" aria-current="page"' in html
    assert reverse("dashboard:customer-portal-link", args=[store.pk, sub_order.pk]) in html
    subs = owner.get(url + "?tab=subscriptions").content.decode()
    assert f'data-subscription="{sub_order.pk}"' in subs
    pays = owner.get(url + "?tab=payments").content.decode()
    assert f'data-payment="{payment.pk}"' in pays
    activity = owner.get(url + "?tab=activity").content.decode()
    kinds = re.findall(r'data-event="(\w+)"', activity)
    # Newest first: canceled (Mar 1), subscription's order/payment/start (Feb 1), refund
    # (Jan 6), the e-book's payment and order (Jan 5).
    assert kinds[0] == "subscription_canceled"
    assert sorted(kinds[1:4]) == ["order", "payment", "subscription_started"]
    assert kinds[4] == "refund"
    assert sorted(kinds[5:]) == ["order", "payment"]
    assert "Subscription started" in activity and "Refunded" in activity
    assert owner.get(url + "?tab=nonsense").status_code == 200


def test_portal_link_from_the_customer_page(owner, store, ebook):
    order = buy(ebook, "ann@example.com")
    url = reverse("dashboard:customer-portal-link", args=[store.pk, order.pk])
    response = owner.post(url, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Customer portal link for ann@example.com" in html
    assert owner.get(url).status_code == 405


def test_members_see_customers(client, store, ebook):
    member = MerchantFactory(email="member@example.com")
    MembershipFactory(store=store, merchant=member, role=Role.MEMBER)
    buy(ebook, "ann@example.com")
    client.force_login(member)
    assert listed(client.get(list_url(store))) == ["ann@example.com"]
