"""Live mode without a configured payment provider, in a browser: the dashboard in Live mode
shows the banner, publishing says buyers can't pay yet, and a buyer opening the live link reads
"This store can't accept payments yet" with no form to fill in."""

import re

import pytest
from playwright.sync_api import expect

from checkout.models import CheckoutSession
from products.services import product_create
from stores import services
from stores.models import Merchant
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser

CANNOT_PAY = "This store can't accept payments yet"


def test_a_live_link_says_the_store_cannot_accept_payments_before_any_form(pages, live):
    page = pages.new()
    sign_in(page, live, "maker@example.com")
    merchant = Merchant.objects.get(email="maker@example.com")
    store = services.store_create(merchant=merchant, name="Lumen Shop", default_currency="USD")
    product = product_create(
        store=store,
        kind="onetime",
        name="Lumen Pro",
        prices={"USD": {"amount": 2900, "taxCategory": "saas"}},
    )

    page.goto(f"/dashboard/{store.pk}/products/")
    expect(page.locator("#live-payments-banner")).to_have_count(0)  # Test mode
    page.get_by_role("row", name=re.compile("Lumen Pro")).get_by_role(
        "button", name="Publish to Live Lumen Pro"
    ).click()
    expect(page.get_by_text("Buyers can't pay in Live yet")).to_be_visible()
    page.get_by_role("button", name="Live").click()
    banner = page.locator("#live-payments-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(CANNOT_PAY)
    expect(banner).to_contain_text("switch to Test mode")

    buyer = pages.new()
    response = buyer.goto(f"/{store.slug}/{product.slug}")
    assert response.status == 503
    expect(buyer.get_by_role("heading", name=CANNOT_PAY, level=1)).to_be_visible()
    expect(buyer.locator("main form")).to_have_count(0)  # the header's language switcher only
    expect(buyer.locator("main input")).to_have_count(0)
    assert not CheckoutSession.objects.filter(store=store).exists()

    # In the buyer's language.
    japanese = pages.new(locale="ja-JP")
    japanese.goto(f"/{store.slug}/{product.slug}")
    expect(japanese.get_by_role("heading", level=1)).to_have_text(
        "このストアはまだ支払いを受け付けられません"
    )

    # The test link still opens the checkout.
    tester = pages.new()
    tester.goto(f"/{store.slug}/{product.slug}?env=test")
    expect(tester.get_by_role("heading", name="Your details", level=1)).to_be_visible()
