"""Home, Analytics and onboarding's first product in a real browser: Home's cards and its
7/30/90-day switch, the chart with its data table on demand; Analytics' range and granularity
(remembered after a reload) and its CSV export as a download; the first product from the form to
its success page; axe on each page."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from stores import services
from stores.models import Merchant
from tests.analytics.builders import pay, product
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

DESKTOP = {"width": 1280, "height": 900}


def _shop(page, live, email):
    sign_in(page, live, email)
    merchant = Merchant.objects.get(email=email)
    store = services.store_create(merchant=merchant, name="Chart Shop", default_currency="EUR")
    return merchant, store


def _sales(store):
    """80.00 EUR two days ago, 20.00 EUR twenty days ago (UTC store)."""
    ebook = product(store, "E-Book", currency="EUR")
    now = timezone.now()
    pay(ebook, "ann@example.com", 8000, 0, now - timedelta(days=2), currency="EUR")
    pay(ebook, "bob@example.com", 2000, 0, now - timedelta(days=20), currency="EUR")


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [None, DESKTOP], ids=["phone", "desktop"])
def test_home_cards_switch_and_chart(pages, live, viewport):
    page = pages.new(**({"viewport": viewport} if viewport else {}))
    _merchant, store = _shop(page, live, "home@example.com")
    _sales(store)
    page.goto(f"/dashboard/{store.pk}/")
    revenue = page.locator('[data-metric="revenue"] .stat-card__value')
    expect(revenue).to_have_text("€100.00")  # 30 days by default
    page.get_by_role("link", name="7 days").click()
    expect(page).to_have_url(re.compile(r"\?days=7$"))
    expect(revenue).to_have_text("€80.00")
    page.get_by_role("link", name="90 days").click()
    expect(revenue).to_have_text("€100.00")
    # With JavaScript: the chart is drawn, the table shows on demand.
    expect(page.locator("#volume-table")).to_be_hidden()
    expect(page.locator(".chart__plot canvas")).to_have_count(1)
    page.get_by_role("button", name="Show the data table").click()
    expect(page.locator("#volume-table")).to_be_visible()
    expect(page.get_by_role("button", name="Hide the data table")).to_have_attribute(
        "aria-expanded", "true"
    )
    assert_accessible(page, "home")


@pytest.mark.browser
def test_analytics_range_granularity_and_csv_export(pages, live):
    page = pages.new(viewport=DESKTOP)
    merchant, store = _shop(page, live, "analytics@example.com")
    _sales(store)
    page.goto(f"/dashboard/{store.pk}/")
    page.get_by_role("navigation", name="Store").get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    revenue = page.locator('[data-metric="revenue"] .stat-card__value')
    expect(revenue).to_have_text("€100.00")
    page.get_by_label("Period").select_option("7d")
    page.get_by_label("Group by").select_option("week")
    page.get_by_role("button", name="Apply").click()
    expect(revenue).to_have_text("€80.00")
    page.goto(f"/dashboard/{store.pk}/analytics/")
    expect(page.get_by_label("Group by")).to_have_value("week")
    merchant.refresh_from_db()
    assert merchant.preferences["analyticsGranularity"] == "week"
    assert_accessible(page, "analytics")

    page.get_by_label("Period").select_option("90d")
    page.get_by_role("button", name="Apply").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"analytics-{store.slug}-")
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert ["revenue", "10000", "0", ""] in rows
    assert ["customers", "2", "0", ""] in rows


@pytest.mark.browser
def test_first_product_step_to_its_success_page(pages, live):
    page = pages.new()
    sign_in(page, live, "founder@example.com")
    page.get_by_label("Store name").fill("Tea Shop")
    page.get_by_label("Country").select_option(label="Japan")
    page.get_by_role("button", name="Create store").click()
    expect(page.get_by_role("heading", name="Your first product")).to_be_visible()
    assert_accessible(page, "first product")
    page.get_by_label("Product name").fill("Green Tea Guide")
    page.get_by_label("Price").fill("12.50")
    page.get_by_label("Monthly subscription").check()
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", name="“Green Tea Guide” is ready")).to_be_visible()
    link = page.get_by_label("Purchase link (test mode)")
    expect(link).to_have_value(re.compile(r"/tea-shop-[0-9a-f]{6}/green-tea-guide\?env=test$"))
    expect(page.get_by_role("link", name="Make a test purchase")).to_have_attribute(
        "href", link.input_value()
    )
    assert_accessible(page, "first product done")
