"""Home, Analytics and onboarding's first product, on a small store built by hand.

Store "Maple Shop" (UTC, EUR) of ``owner``; "today" is 2026-03-31 (12:00 UTC). Test payments, no
tax, buyers in the US unless said:

- alice 100.00 EUR on 03-30, bob 50.00 EUR on 03-26 (both in the last 7 days, 03-25..03-31);
- carol 40.00 EUR on 03-20 (the 7 days before, 03-18..03-24), from Germany.

Last 7 days: revenue 150.00 against 40.00 → +275.0 %; sales and customers 2 against 1 → +100.0 %.
"""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.views import home
from products.models import Product
from tests.analytics.builders import pay, product

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    monkeypatch.setattr(home, "_now", lambda: NOW)


@pytest.fixture
def sales(shop):
    ebook = product(shop, "E-Book", currency="EUR")
    pay(ebook, "alice@example.com", 10000, 0, utc(2026, 3, 30, 9), currency="EUR")
    pay(ebook, "bob@example.com", 5000, 0, utc(2026, 3, 26, 9), currency="EUR")
    pay(ebook, "carol@example.com", 4000, 0, utc(2026, 3, 20, 9), currency="EUR", country="DE")
    return ebook


def card(html: str, metric: str) -> str:
    start = html.index(f'data-metric="{metric}"')
    return html[start : html.index("</li>", start)]


def analytics(client, shop, **params):
    return client.get(reverse("dashboard:analytics", args=[shop.pk]), params)


# --- Home ------------------------------------------------------------------------------------


def test_home_cards_and_their_change_over_the_last_7_days(owner_client, shop, sales):
    html = owner_client.get(reverse("dashboard:store", args=[shop.pk]), {"days": 7}).content
    html = html.decode()
    revenue = card(html, "revenue")
    assert "€150.00" in revenue and "+275.0 %" in revenue and "€40.00" in revenue
    assert "+100.0 %" in card(html, "sales") and "+100.0 %" in card(html, "customers")
    assert "No previous figure to compare" in card(html, "mrr")
    # The chart's data and its table: 7 days, the 30th with 100.00.
    assert '<script id="volume-data" type="application/json">' in html
    assert '<th scope="row">2026-03-30</th><td>€100.00</td>' in html
    assert "Transaction volume: 7 periods; the highest is 2026-03-30 with €100.00." in html
    # Geography (US only: Germany's sale is in the previous period) and recent lists.
    assert '<th scope="row">US</th><td>€150.00</td><td>2</td><td>2</td>' in html
    assert "alice@example.com" in html and "bob@example.com" in html


def test_home_switch_30_days_takes_in_the_earlier_sale(owner_client, shop, sales):
    html = owner_client.get(reverse("dashboard:store", args=[shop.pk]), {"days": 30})
    html = html.content.decode()
    assert "€190.00" in card(html, "revenue")
    assert 'href="?days=30" aria-current="true"' in html
    # Anything but 7, 30 or 90 is 30 days.
    bogus = owner_client.get(reverse("dashboard:store", args=[shop.pk]), {"days": 12})
    assert "€190.00" in card(bogus.content.decode(), "revenue")


def test_checklist_ticks_from_real_state_and_can_be_hidden(owner_client, shop, owner):
    url = reverse("dashboard:store", args=[shop.pk])
    html = owner_client.get(url).content.decode()
    assert "0 of 5 steps done" in html
    product(shop, "Guide", currency="EUR")
    html = owner_client.get(url).content.decode()
    assert "1 of 5 steps done" in html
    assert 'class="is-done" data-step="product"' in html
    response = owner_client.post(reverse("dashboard:checklist-dismiss", args=[shop.pk]))
    assert response.url == url
    assert "Getting started" not in owner_client.get(url).content.decode()
    owner.refresh_from_db()
    assert owner.preferences["checklistDismissed"] == [str(shop.pk)]


# --- Analytics -------------------------------------------------------------------------------


def test_analytics_custom_range_cards(owner_client, shop, sales):
    response = analytics(owner_client, shop, preset="custom", start="2026-03-25", end="2026-03-31")
    assert response.status_code == 200
    html = response.content.decode()
    assert "€150.00" in card(html, "revenue")
    # Average order value: 150.00 / 2 = 75.00 against 40.00 / 1 → +87.5 %.
    aov = card(html, "average_order")
    assert "€75.00" in aov and "+87.5 %" in aov
    assert "Export CSV" in html


@pytest.mark.parametrize(
    "params, error",
    [
        ({"preset": "custom", "start": "2026-03-20", "end": "2026-03-10"}, "before the start"),
        ({"preset": "custom", "start": "2024-01-01", "end": "2026-03-10"}, "at most two years"),
        ({"preset": "custom", "start": "2026-03-01"}, "Choose both dates"),
        ({"preset": "custom", "start": "yesterday", "end": "2026-03-10"}, "valid date"),
        ({"preset": "365d"}, "Select a valid choice"),
        ({"granularity": "hour"}, "Select a valid choice"),
        ({"product": "00000000-0000-0000-0000-000000000000"}, "Select a valid choice"),
    ],
)
def test_analytics_bad_input_is_400_with_the_forms_error(owner_client, shop, params, error):
    response = analytics(owner_client, shop, **params)
    assert response.status_code == 400
    assert error in response.content.decode()
    export = owner_client.get(reverse("dashboard:analytics-export", args=[shop.pk, "csv"]), params)
    assert export.status_code == 400


def test_granularity_is_remembered_for_the_merchant(owner_client, shop, owner):
    analytics(owner_client, shop, granularity="week")
    owner.refresh_from_db()
    assert owner.preferences["analyticsGranularity"] == "week"
    html = analytics(owner_client, shop).content.decode()
    assert '<option value="week" selected>' in html


def test_product_filter(owner_client, shop, sales):
    other = product(shop, "Other", currency="EUR")
    pay(other, "dave@example.com", 7000, 0, utc(2026, 3, 29), currency="EUR")
    html = analytics(owner_client, shop, preset="7d", product=str(sales.pk)).content.decode()
    assert "€150.00" in card(html, "revenue")
    html = analytics(owner_client, shop, preset="7d").content.decode()
    assert "€220.00" in card(html, "revenue")


def test_exports_hold_the_cards_and_the_series(owner_client, shop, sales):
    params = {"preset": "custom", "start": "2026-03-25", "end": "2026-03-31", "granularity": "week"}
    url = reverse("dashboard:analytics-export", args=[shop.pk, "csv"])
    response = owner_client.get(url, params)
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="analytics-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["metric", "value", "previous", "change"]
    assert ["revenue", "15000", "4000", "2.7500"] in rows
    assert ["customers", "2", "1", "1.0000"] in rows
    assert ["average_order", "7500", "4000", "0.8750"] in rows
    # Weeks start on Monday: 03-25 is in the week of 03-23, 03-30 in the week of 03-30.
    header = rows.index(["period", "gross", "net", "refunds", "sales", "new_customers", "mrr"])
    assert rows[header + 1][:2] == ["2026-03-23", "5000"]
    assert rows[header + 2][:2] == ["2026-03-30", "10000"]
    data = json.loads(
        owner_client.get(
            reverse("dashboard:analytics-export", args=[shop.pk, "json"]), params
        ).content
    )
    assert (data["start"], data["end"], data["currency"]) == ("2026-03-25", "2026-03-31", "EUR")
    assert (data["previousStart"], data["previousEnd"]) == ("2026-03-18", "2026-03-24")
    assert [p["period"] for p in data["series"]] == ["2026-03-23", "2026-03-30"]
    assert [p["gross"] for p in data["series"]] == [5000, 10000]
    revenue = next(c for c in data["cards"] if c["metric"] == "revenue")
    assert revenue == {"metric": "revenue", "value": 15000, "previous": 4000, "change": "2.7500"}


def test_statements_do_not_depend_on_the_range(owner_client, shop, sales):
    analytics(owner_client, shop, preset="7d")  # session and preference writes out of the way

    def count(**params):
        with CaptureQueriesContext(connection) as queries:
            assert analytics(owner_client, shop, **params).status_code == 200
        return len(queries)

    assert count(preset="7d") == count(preset="90d")
    assert count(preset="7d") == count(preset="custom", start="2024-04-01", end="2026-03-31")

    def home_count(days):
        with CaptureQueriesContext(connection) as queries:
            owner_client.get(reverse("dashboard:store", args=[shop.pk]), {"days": days})
        return len(queries)

    assert home_count(7) == home_count(90)


# --- onboarding's first product --------------------------------------------------------------


def test_first_product_is_created_through_the_products_service(owner_client, shop):
    url = reverse("dashboard:first-product", args=[shop.pk])
    assert owner_client.get(url).status_code == 200
    response = owner_client.post(
        url, {"name": "Guide", "price": "19.00", "currency": "EUR", "billing": "onetime"}
    )
    created = Product.objects.get(store=shop)
    assert response.url == reverse("dashboard:first-product-done", args=[shop.pk, created.pk])
    assert created.kind == "onetime"
    assert created.test_version.prices["EUR"]["amount"] == 1900
    html = owner_client.get(response.url).content.decode()
    assert f"/{shop.slug}/{created.slug}?env=test" in html
    assert "Make a test purchase" in html


def test_first_product_monthly_and_refusals(owner_client, shop):
    url = reverse("dashboard:first-product", args=[shop.pk])
    owner_client.post(url, {"name": "Club", "price": "5", "currency": "USD", "billing": "monthly"})
    club = Product.objects.get(store=shop)
    assert (club.kind, club.test_version.billing_period) == ("subscription", "monthly")
    bad = owner_client.post(url, {"name": "", "price": "-1", "currency": "USD", "billing": "x"})
    assert bad.status_code == 400
    assert Product.objects.filter(store=shop).count() == 1


def test_the_period_select_shows_the_range_the_page_computes(owner_client, shop, sales):
    # No parameters: the last 30 days, and the select says so (not its first option).
    html = analytics(owner_client, shop).content.decode()
    assert '<option value="30d" selected>' in html
    assert '<option value="7d" selected>' not in html
    # Dates alone are a custom range: March 25–31 holds alice's and bob's €150.00.
    html = analytics(owner_client, shop, start="2026-03-25", end="2026-03-31").content.decode()
    assert '<option value="custom" selected>' in html
    assert "€150.00" in card(html, "revenue")
