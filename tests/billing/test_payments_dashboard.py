"""The dashboard's Payments pages through Django's test client: the list of the header's
environment (filters and search in the GET parameters, counts per status, keyset pages that cost
the same statements at 1 and 50 rows), the CSV export (streamed, filtered, amounts in major
units, read in keyset chunks), and one payment's detail (amounts, tax, the platform fee and net,
the method, the customer's countries, the order, subscription and invoice); another store's or
environment's payment is 404. The refund form's actions are in test_refund_pages.py."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import fees as billing_fees
from billing.models import Invoice, InvoiceKind, Payment, PaymentStatus
from billing.payments import fees
from billing.payments import selectors as payment_selectors
from billing.subscriptions import lifecycle
from checkout.models import Order
from pancake.api import ids
from stores import services as store_services
from stores.models import Role
from tests.factories import MembershipFactory, MerchantFactory, OrderFactory, ProductFactory
from tests.helpers import buy
from tests.html_checks import field_errors, unlabelled_controls

pytestmark = pytest.mark.django_db

LIST_QUERIES = 8


# --- helpers ------------------------------------------------------------------------------------


def pay(
    product,
    *,
    email="buyer@example.com",
    status=PaymentStatus.SUCCEEDED,
    environment="test",
    at=None,
    **changes,
) -> Payment:
    """A paid order of ``product`` and its payment, moved to ``status`` and created ``at``."""
    order = OrderFactory(product=product, paid=True, buyer_email=email, environment=environment)
    payment = order.payments.get()
    changes["status"] = status
    if at is not None:
        changes["created_at"] = at
        changes["paid_at"] = at
    Payment.objects.filter(pk=payment.pk).update(**changes)
    payment.refresh_from_db()
    return payment


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def list_url(store, **params):
    url = reverse("dashboard:payments", args=[store.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def export_url(store, **params):
    url = reverse("dashboard:payments-export", args=[store.pk])
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def detail_url(store, payment):
    return reverse("dashboard:payment", args=[store.pk, payment.pk])


def listed(response) -> list[str]:
    return re.findall(r'data-payment="([0-9a-f-]+)"', response.content.decode())


def counts(response) -> dict[str, int]:
    html = response.content.decode()
    found = re.findall(r'data-status="(\w+)"[^>]*>[^<]*<span class="badge[^"]*">(\d+)</span>', html)
    return {status: int(n) for status, n in found}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def row_of(response, payment) -> str:
    html = response.content.decode()
    match = re.search(rf'<tr id="payment-{payment.pk}".*?</tr>', html, re.S)
    assert match, f"no row for {payment.pk}"
    return text_of(match.group(0))


def read_csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def ids_of(*payments) -> list[str]:
    return [str(p.pk) for p in payments]


@pytest.fixture
def owner_page(client, merchant, store):
    client.force_login(merchant)
    return client


@pytest.fixture
def ebook(store):
    return ProductFactory(store=store)


# --- the fee -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "fee"),
    [
        (2900, "USD", 195),  # 1.45 + 0.50
        (1000, "USD", 100),
        (4500, "JPY", 226),  # 225 + 0.5, half up
        (1500, "BHD", 575),  # 0.075 + 0.500
        (30, "USD", 30),  # never more than the amount
        (0, "USD", 0),
    ],
)
def test_platform_fee_is_5_percent_plus_half_a_major_unit(amount, currency, fee):
    assert billing_fees.platform_fee(amount, currency) == fee


def test_platform_fee_follows_the_settings(settings):
    settings.PLATFORM_FEE_PERCENT = "2.9"
    settings.PLATFORM_FEE_FIXED = "0.30"
    assert billing_fees.platform_fee(10000, "USD") == 320


def test_net_keeps_the_fee_on_refunds():
    b = fees.breakdown(
        amount=11000,
        tax_amount=1000,
        currency="USD",
        status=PaymentStatus.PARTIALLY_REFUNDED,
        refunded_amount=5500,
        fee_amount=600,
    )
    # (11000 - 5500) - (1000 - 500) - 600
    assert (b.fee, b.refunded_tax, b.net, b.fee_frozen) == (600, 500, 4400, True)
    failed = fees.breakdown(
        amount=11000,
        tax_amount=1000,
        currency="USD",
        status=PaymentStatus.FAILED,
        refunded_amount=0,
        fee_amount=None,
    )
    assert (failed.fee, failed.net) == (0, 0)


# --- the list -----------------------------------------------------------------------------------


def test_nav_links_to_payments_and_refund_tickets(owner_page, store):
    html = owner_page.get(reverse("dashboard:store", args=[store.pk])).content.decode()
    assert f'href="{list_url(store)}">Payments</a>' in html
    tickets = reverse("dashboard:refund-tickets", args=[store.pk])
    assert f'href="{tickets}">Refund tickets</a>' in html
    response = owner_page.get(list_url(store))
    assert response.status_code == 200
    assert f'href="{list_url(store)}" aria-current="page">Payments</a>' in response.content.decode()


def test_list_shows_amount_status_customer_product_method_net_and_date(owner_page, store, ebook):
    paid = pay(ebook, email="ann@example.com", at=utc(2027, 1, 15, 9), fee_amount=195)
    failed = pay(ebook, email="bob@example.com", status=PaymentStatus.FAILED)
    response = owner_page.get(list_url(store))
    assert response.status_code == 200
    assert listed(response) == ids_of(paid, failed)  # newest first (2027, then today)
    row = row_of(response, paid)
    net = paid.amount - paid.tax_amount - 195
    assert f"${paid.amount / 100:.2f}" in row  # $29.00 and the buyer's sales tax
    for text in ("Succeeded", "ann@example.com", "E-Book", "visa", "4242"):
        assert text in row
    assert f"${net / 100:.2f}" in row
    assert "Jan. 15, 2027" in row
    assert "Failed" in row_of(response, failed)
    html = response.content.decode()
    assert unlabelled_controls(html) == []
    assert 'id="payments-total">2<' in html


def test_filters_by_status_product_dates_email_and_amounts(owner_page, store, ebook):
    course = ProductFactory(
        store=store, name="Course", prices={"USD": {"amount": 9900, "taxCategory": "saas"}}
    )
    a = pay(ebook, email="ann@example.com", at=utc(2027, 1, 1, 12))
    b = pay(ebook, email="bob@shop.example", status=PaymentStatus.REFUNDED, at=utc(2027, 1, 2))
    c = pay(course, email="cat@example.com", at=utc(2027, 1, 3, 23, 59))
    d = pay(course, email="dan@shop.example", status=PaymentStatus.FAILED, at=utc(2027, 1, 5))

    def get(**params):
        return sorted(listed(owner_page.get(list_url(store, **params))))

    assert get() == sorted(ids_of(a, b, c, d))
    assert get(status="refunded") == ids_of(b)
    assert get(product=course.pk) == sorted(ids_of(c, d))
    assert get(date_from="2027-01-02", date_to="2027-01-03") == sorted(ids_of(b, c))
    assert get(date_to="2027-01-01") == ids_of(a)
    assert get(email="SHOP.example") == sorted(ids_of(b, d))
    # Amounts in major units of the currency (the store's default, USD, when none is chosen).
    assert get(amount_min="50") == sorted(ids_of(c, d))
    assert get(amount_max=f"{a.amount / 100:.2f}") == sorted(ids_of(a, b))
    assert get(currency="EUR") == []
    assert get(product=course.pk, status="succeeded") == ids_of(c)
    # A bad value is shown beside its filter and ignored; the other filters still apply.
    response = owner_page.get(list_url(store, amount_min="lots", product=ebook.pk))
    assert response.status_code == 200
    assert sorted(listed(response)) == sorted(ids_of(a, b))
    assert field_errors(response.content.decode(), "amount_min") == ["Enter an amount like 29.00."]
    response = owner_page.get(list_url(store, date_from="yesterday"))
    assert field_errors(response.content.decode(), "date_from")
    assert len(listed(response)) == 4


def test_search_finds_payment_id_order_id_merchant_order_id_and_email(owner_page, store, ebook):
    a = pay(ebook, email="ann@example.com")
    b = pay(ebook, email="bob@example.com")
    Order.objects.filter(pk=b.order_id).update(order_merchant_external_id="shop-1001")
    Payment.objects.filter(pk=b.pk).update(order_merchant_external_id="shop-1001")

    def search(q):
        return sorted(listed(owner_page.get(list_url(store, q=q))))

    assert search(str(a.pk)) == ids_of(a)
    assert search(ids.encode("PAY", b.pk)) == ids_of(b)
    assert search(str(a.order_id)) == ids_of(a)
    assert search(ids.encode("ORD", b.order_id)) == ids_of(b)
    assert search("shop-1001") == ids_of(b)
    assert search("ANN@") == ids_of(a)
    assert search("PAY_nonsense") == []
    assert search("nobody") == []


def test_counts_per_status_follow_the_other_filters(owner_page, store, ebook):
    course = ProductFactory(store=store, name="Course")
    pay(ebook)
    pay(ebook)
    pay(ebook, status=PaymentStatus.FAILED)
    pay(course, status=PaymentStatus.PARTIALLY_REFUNDED)
    response = owner_page.get(list_url(store))
    assert counts(response) == {
        "pending": 0,
        "processing": 0,
        "succeeded": 2,
        "failed": 1,
        "refunded": 0,
        "partially_refunded": 1,
    }
    # The status filter narrows the rows, not the counts; the other filters narrow both.
    response = owner_page.get(list_url(store, status="succeeded", product=course.pk))
    assert counts(response)["partially_refunded"] == 1
    assert counts(response)["succeeded"] == 0
    assert listed(response) == []
    assert "No payments match these filters." in response.content.decode()


def test_list_shows_the_environment_of_the_header_toggle(owner_page, store):
    product = ProductFactory(store=store, published=True)
    in_test = pay(product)
    in_prod = pay(product, environment="prod")
    assert listed(owner_page.get(list_url(store))) == ids_of(in_test)
    assert owner_page.get(detail_url(store, in_prod)).status_code == 404
    owner_page.post(reverse("dashboard:environment"), {"environment": "prod", "next": "/"})
    assert listed(owner_page.get(list_url(store))) == ids_of(in_prod)
    assert owner_page.get(detail_url(store, in_test)).status_code == 404


@pytest.mark.parametrize("rows", [1, 50])
def test_list_costs_the_same_statements_at_1_and_50_payments(owner_page, store, ebook, rows):
    for n in range(rows):
        pay(ebook, email=f"b{n}@example.com")
    owner_page.get(list_url(store))  # warm the session
    for params in ({}, {"status": "succeeded", "email": "example", "amount_min": "1"}):
        with CaptureQueriesContext(connection) as queries:
            response = owner_page.get(list_url(store, **params))
        assert response.status_code == 200
        assert len(listed(response)) == min(rows, 25)
        # session, user, store and role, the products for the filter, the page's rows with
        # their orders and versions, the counts per status, the header's store switcher and
        # its notification bell's unread count
        assert len(queries) == LIST_QUERIES, [q["sql"] for q in queries.captured_queries]


def test_keyset_pages_go_older_and_back_keeping_the_filters(owner_page, store, ebook):
    start = utc(2027, 1, 1)
    made = [pay(ebook, at=start + timedelta(minutes=n)) for n in range(55)]
    # Two payments at the same instant: the id breaks the tie, none is skipped or repeated.
    Payment.objects.filter(pk=made[30].pk).update(created_at=made[29].created_at)
    first = owner_page.get(list_url(store, status="succeeded"))
    html = first.content.decode()
    assert len(listed(first)) == 25
    assert 'rel="prev"' not in html
    older = re.search(r'href="(\?[^"]*)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "status=succeeded" in older
    second = owner_page.get(list_url(store) + older)
    third_link = re.search(r'href="(\?[^"]*)" rel="next"', second.content.decode()).group(1)
    third = owner_page.get(list_url(store) + third_link.replace("&amp;", "&"))
    pages = [listed(first), listed(second), listed(third)]
    assert [len(p) for p in pages] == [25, 25, 5]
    everything = pages[0] + pages[1] + pages[2]
    assert len(set(everything)) == 55
    expected = list(
        Payment.objects.filter(store=store)
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)
    )
    assert everything == [str(pk) for pk in expected]
    assert 'rel="next"' not in third.content.decode()
    # Back to the newer page: the same rows as before.
    newer = re.search(r'href="(\?[^"]*)" rel="prev"', third.content.decode()).group(1)
    back = owner_page.get(list_url(store) + newer.replace("&amp;", "&"))
    assert listed(back) == pages[1]
    # A broken cursor is the first page.
    assert listed(owner_page.get(list_url(store, after="junk"))) == pages[0]


def test_a_member_sees_the_list_and_details(client, store, ebook):
    payment = pay(ebook)
    member = MerchantFactory(email="member@example.com")
    MembershipFactory(store=store, merchant=member, role=Role.MEMBER)
    client.force_login(member)
    assert listed(client.get(list_url(store))) == ids_of(payment)
    html = client.get(detail_url(store, payment)).content.decode()
    assert "you can see its payments but not refund them" in html
    assert "Refund payment</button>" not in html


# --- the CSV export ------------------------------------------------------------------------------


def test_export_streams_the_filtered_list_as_csv(owner_page, store, ebook):
    jpy = ProductFactory(
        store=store, name="=Yen book", prices={"JPY": {"amount": 4500, "taxCategory": "saas"}}
    )
    a = pay(ebook, email="ann@example.com", at=utc(2027, 1, 1, 12), fee_amount=195)
    b = pay(
        ebook,
        email="bob@example.com",
        status=PaymentStatus.PARTIALLY_REFUNDED,
        at=utc(2027, 1, 2),
        refunded_amount=1000,
    )
    c = pay(jpy, email="cat@example.com", at=utc(2027, 1, 3))
    failed = pay(ebook, email="dan@example.com", status=PaymentStatus.FAILED)
    response = owner_page.get(export_url(store))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        rf'attachment; filename="payments-{store.slug}-test-\d{{8}}-\d{{6}}.csv"',
        response["Content-Disposition"],
    )
    rows = read_csv(response)
    assert [r["payment_id"] for r in rows] == ids_of(c, b, a, failed)
    row = rows[2]
    assert row["created_at"] == "2027-01-01T12:00:00.000000Z"
    assert row["status"] == "succeeded"
    assert row["currency"] == "USD"
    assert row["amount"] == f"{a.amount / 100:.2f}"
    assert row["tax"] == f"{a.tax_amount / 100:.2f}"
    assert row["platform_fee"] == "1.95"
    assert row["net"] == f"{(a.amount - a.tax_amount - 195) / 100:.2f}"
    assert row["customer_email"] == "ann@example.com"
    assert row["product"] == "E-Book"
    assert row["order_id"] == str(a.order_id)
    assert row["billing_country"] == "US"
    assert (row["method"], row["brand"], row["last4"]) == ("card", "visa", "4242")
    assert rows[1]["refunded"] == "10.00"
    # The fee of a payment without a frozen one comes from the settings; none on a failure.
    assert rows[1]["platform_fee"] == f"{billing_fees.platform_fee(b.amount, 'USD') / 100:.2f}"
    assert (rows[3]["platform_fee"], rows[3]["net"]) == ("0.00", "0.00")
    # JPY has no decimals; a name a spreadsheet would run as a formula is quoted.
    assert rows[0]["currency"] == "JPY" and rows[0]["amount"] == str(c.amount)
    assert rows[0]["product"] == "'=Yen book"
    # The list's filters apply.
    filtered = read_csv(owner_page.get(export_url(store, status="succeeded", email="ann")))
    assert [r["payment_id"] for r in filtered] == ids_of(a)


def test_export_reads_in_keyset_chunks(owner_page, store, ebook, monkeypatch):
    monkeypatch.setattr(payment_selectors, "EXPORT_CHUNK", 4)
    start = utc(2027, 1, 1)
    made = [pay(ebook, at=start + timedelta(seconds=n)) for n in range(10)]
    Payment.objects.filter(pk=made[5].pk).update(created_at=made[4].created_at)
    response = owner_page.get(export_url(store))
    with CaptureQueriesContext(connection) as queries:
        rows = read_csv(response)
    expected = Payment.objects.filter(store=store).order_by("-created_at", "-id")
    assert [r["payment_id"] for r in rows] == [str(p.pk) for p in expected]
    chunks = [q for q in queries.captured_queries if "billing_payment" in q["sql"]]
    assert len(chunks) == 3  # 4 + 4 + 2 rows
    assert all("LIMIT 4" in q["sql"] for q in chunks)


def test_another_store_cannot_export_this_ones_payments(client, store, ebook):
    pay(ebook)
    other = MerchantFactory()
    other_store = store_services.store_create(merchant=other, name="Other Shop")
    client.force_login(other)
    assert client.get(export_url(store)).status_code == 404
    assert read_csv(client.get(export_url(other_store))) == []


# --- the detail ---------------------------------------------------------------------------------


def test_detail_shows_amounts_fee_net_method_customer_countries_and_order(owner_page, store, ebook):
    payment = pay(ebook, email="ann@example.com", fee_amount=195, refunded_amount=900)
    Payment.objects.filter(pk=payment.pk).update(status=PaymentStatus.PARTIALLY_REFUNDED)
    evidence = {**payment.order.tax_evidence, "ip_country": "CA"}
    Order.objects.filter(pk=payment.order_id).update(
        tax_evidence=evidence, buyer_ip="203.0.113.9", order_merchant_external_id="shop-7"
    )
    response = owner_page.get(detail_url(store, payment))
    assert response.status_code == 200
    html = response.content.decode()
    amounts = text_of(re.search(r'id="payment-amounts">(.*?)</dl>', html, re.S).group(1))
    refunded_tax = round(payment.tax_amount * 900 / payment.amount)
    net = (payment.amount - 900) - (payment.tax_amount - refunded_tax) - 195
    assert f"Amount ${payment.amount / 100:.2f}" in amounts
    assert f"${payment.tax_amount / 100:.2f}" in amounts
    assert "$1.95" in amounts and "$9.00" in amounts
    assert re.search(rf'id="amount-net"><strong>\${net / 100:.2f}<', html)
    assert "(from the current fee settings)" not in html
    assert re.search(r'data-refund-status="partial">Partially refunded<', html)
    assert "visa" in text_of(re.search(r'id="payment-method">(.*?)</dd>', html, re.S).group(1))
    assert "•••• 4242" in html
    customer = text_of(re.search(r'id="payment-customer">(.*?)</dl>', html, re.S).group(1))
    assert "ann@example.com" in customer
    assert "Billing country US" in customer
    assert "IP country CA" in customer
    assert "203.0.113.9" in customer
    related = text_of(re.search(r'id="payment-related">(.*?)</dl>', html, re.S).group(1))
    assert ids.encode("ORD", payment.order_id) in related
    assert "Your order ID: shop-7" in related
    assert "E-Book" in related
    assert "Subscription" not in related  # a one-time order
    assert re.search(r'id="payment-invoice">—<', html)
    assert ids.encode("PAY", payment.pk) in html
    assert unlabelled_controls(html) == []


def test_detail_computes_the_fee_when_none_was_frozen(owner_page, store, ebook):
    payment = pay(ebook)
    assert payment.fee_amount is None
    html = owner_page.get(detail_url(store, payment)).content.decode()
    fee = billing_fees.platform_fee(payment.amount, "USD")
    assert re.search(rf'id="amount-fee">\${fee / 100:.2f} <span class="help">', html)
    assert "(from the current fee settings)" in html


def test_detail_links_the_subscription_and_shows_the_invoice_number(owner_page, store):
    plan = ProductFactory(store=store, subscription=True)
    order = OrderFactory(product=plan, paid=True)
    payment = order.payments.get()
    lifecycle.start(order=order, payment=payment)
    Invoice.objects.create(
        store=store,
        environment="test",
        kind=InvoiceKind.INVOICE,
        number="INV-2027-000042",
        year=2027,
        sequence=42,
        payment=payment,
        order=order,
        issued_at=utc(2027, 1, 1),
        currency="USD",
        subtotal=999,
        tax_amount=0,
        total=999,
    )
    html = owner_page.get(detail_url(store, payment)).content.decode()
    subscription_url = reverse("dashboard:subscription", args=[store.pk, order.pk])
    assert re.search(
        rf'id="payment-subscription"><a href="{subscription_url}">View subscription</a>', html
    )
    # The number, linking the invoice's PDF.
    invoice = Invoice.objects.get(payment=payment)
    pdf = reverse("dashboard:invoice-pdf", args=[store.pk, invoice.pk])
    assert f'id="payment-invoice"><a href="{pdf}">INV-2027-000042</a>' in html
    assert 'name="cancel_subscription"' in html  # a subscription's payment


def test_detail_of_another_stores_payment_is_404(client, merchant, store, ebook):
    payment = pay(ebook)
    other = MerchantFactory()
    other_store = store_services.store_create(merchant=other, name="Other Shop")
    client.force_login(other)
    assert client.get(detail_url(other_store, payment)).status_code == 404
    assert client.get(detail_url(store, payment)).status_code == 404
    # The owner of this store, an admin of the other, cannot reach it through the other's URL.
    MembershipFactory(store=other_store, merchant=merchant, role=Role.ADMIN)
    client.force_login(merchant)
    assert client.get(detail_url(store, payment)).status_code == 200
    assert client.get(detail_url(other_store, payment)).status_code == 404
    refund = reverse("dashboard:payment-refund", args=[other_store.pk, payment.pk])
    assert client.post(refund, {"reason": "x"}).status_code == 404


# --- languages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "words"),
    [("ja", ("支払い", "顧客", "返金")), ("zh-CN", ("付款", "客户", "退款"))],
)
def test_pages_are_translated(owner_page, store, ebook, accept, words):
    payment = pay(ebook)
    html = owner_page.get(list_url(store), HTTP_ACCEPT_LANGUAGE=accept).content.decode()
    for word in words[:2]:
        assert word in html
    for english in ("Export CSV", "Filter payments", "Amount from", "Matching payments"):
        assert english not in html
    html = owner_page.get(detail_url(store, payment), HTTP_ACCEPT_LANGUAGE=accept).content
    html = html.decode()
    assert words[2] in html
    for english in ("Platform fee", "Billing country", "Refund payment", "Left to refund"):
        assert english not in html


def test_counts_stop_at_the_cap_and_say_so(owner_page, store, ebook, monkeypatch):
    monkeypatch.setattr(payment_selectors, "COUNT_CAP", 2)
    for _ in range(3):
        pay(ebook)
    pay(ebook, status=PaymentStatus.FAILED)
    html = owner_page.get(list_url(store)).content.decode()
    assert re.search(r'data-status="succeeded"[^>]*>[^<]*<span class="badge[^"]*">2\+</span>', html)
    assert re.search(r'data-status="failed"[^>]*>[^<]*<span class="badge[^"]*">1</span>', html)
    assert re.search(r'All <span class="badge">3\+</span>', html)
    assert 'id="payments-total">3+<' in html
    html = owner_page.get(list_url(store, status="failed")).content.decode()
    assert 'id="payments-total">1<' in html


def test_the_email_search_has_its_trigram_index_on_postgresql(require_postgres):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'order_buyer_email_trgm_idx'"
        )
        [(definition,)] = cursor.fetchall()
    # The expression Django's icontains writes, so the planner can use it.
    assert "gin (upper((buyer_email)::text) gin_trgm_ops)" in definition


def test_every_charge_records_the_product_it_paid_for(api, store):
    """The product filter reads the payment's own column: a first payment takes its order's
    product (renewals and plan changes take the plan's, tests/subscriptions)."""
    product = ProductFactory(store=store)
    payment = buy(
        api, product, currency="USD", billing={"country": "US", "isBusiness": False, "state": "OR"}
    )
    assert payment.product_id == product.pk == payment.order.product_id
