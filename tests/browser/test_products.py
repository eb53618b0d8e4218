"""The catalog pages in a real browser: create a subscription in two currencies by label and
keyboard at phone size, publish it, copy its link and open the checkout it starts; edit, history
and status."""

import re

import pytest
from playwright.sync_api import expect

from pancake.api.actor import merchant_actor
from products import services as product_services
from products.models import Product
from stores import services
from stores.models import Merchant
from tests.browser.helpers import sign_in


def _store_for(page, live, email: str, name: str):
    sign_in(page, live, email)
    merchant = Merchant.objects.get(email=email)
    return merchant, services.store_create(merchant=merchant, name=name)


@pytest.mark.browser
def test_create_a_two_currency_subscription_publish_it_and_open_its_link(
    pages, live, live_payments
):
    page = pages.new()  # phone size
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    merchant, store = _store_for(page, live, "seller@example.com", "Lumen Apps")

    page.goto(f"/dashboard/{store.pk}/")
    page.get_by_role("navigation", name="Store").get_by_role("link", name="Products").click()
    expect(page.get_by_role("heading", name="No products yet")).to_be_visible()
    page.get_by_role("link", name="Create product").click()
    expect(page.get_by_role("heading", name="Create product", level=1)).to_be_visible()

    # Pricing type first: the subscription settings appear with it.
    subscription_section = page.get_by_role("heading", name=re.compile("^Subscription"))
    expect(subscription_section).to_be_hidden()
    page.get_by_label("Subscription", exact=True).check()
    expect(subscription_section).to_be_visible()

    name = page.get_by_label("Name", exact=True)
    name.focus()
    page.keyboard.type("Lumen Pro")
    expect(page.locator("#name-counter")).to_have_text("9/64")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Description", exact=True)).to_be_focused()
    page.keyboard.type("**Everything** in Lumen\n\n- Sync")
    preview = page.locator("#description-preview")
    expect(preview.locator("strong")).to_have_text("Everything")
    expect(preview.locator("li")).to_have_text("Sync")

    # Without JavaScript three blank rows are offered; with it, one plus "Add currency".
    expect(page.locator("[data-price-row]")).to_have_count(1)
    first = page.get_by_role("group", name="Price 1")
    first.get_by_label("Currency").select_option("USD")
    first.get_by_label("Amount").fill("29.00")
    first.get_by_label("Tax category").select_option("saas")
    first.get_by_label("Paid trial price").fill("1.00")

    add = page.get_by_role("button", name="Add currency")
    add.focus()
    page.keyboard.press("Enter")
    second = page.get_by_role("group", name="Price 2")
    expect(second.get_by_label("Currency")).to_be_focused()
    second.get_by_label("Currency").select_option("EUR")
    page.keyboard.press("Tab")
    page.keyboard.type("27.00")
    second.get_by_label("Tax behaviour").select_option("inclusive")

    page.get_by_label("Billing interval").select_option("monthly")
    page.get_by_label("Trial days").fill("7")
    page.get_by_label("Image URL").fill(f"{live.url}/static/img/pancake.svg")
    page.get_by_label("Image description (alt text)").fill("Lumen logo")
    create = page.get_by_role("button", name="Create product")
    create.focus()
    page.keyboard.press("Enter")

    expect(page.get_by_text("Created “Lumen Pro”.")).to_be_visible()
    product = Product.objects.get(store=store)
    version = product.test_version
    assert version.prices == {
        "USD": {"amount": 2900, "taxCategory": "saas", "taxIncluded": False, "trialAmount": 100},
        "EUR": {"amount": 2700, "taxCategory": "saas", "taxIncluded": True},
    }
    assert (version.billing_period, version.metadata) == ("monthly", {"trialDays": 7})
    assert "<strong>Everything</strong>" in version.description_html

    row = page.get_by_role("row", name=re.compile("Lumen Pro"))
    expect(row).to_contain_text("$29.00 / month")
    expect(row).to_contain_text("€27.00 / month")
    expect(row).to_contain_text("Not published")
    expect(row.get_by_role("img", name="Lumen logo")).to_be_visible()

    row.get_by_role("button", name="Publish to Live Lumen Pro").click()
    expect(page.get_by_text("Published “Lumen Pro” version 1 to Live.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Lumen Pro"))
    expect(row).to_contain_text("Version 1 live")

    test_link = f"{live.url}/{store.slug}/{product.slug}?env=test"
    expect(row.get_by_role("button", name="Copy link Lumen Pro")).to_be_visible()
    copy = row.locator("[data-copy-link]")
    expect(copy).to_have_attribute("data-copy-link", test_link)
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == test_link

    # Live mode: the link loses ?env=test and opens the production page.
    page.get_by_role("button", name="Live").click()
    row = page.get_by_role("row", name=re.compile("Lumen Pro"))
    row.get_by_role("button", name="Copy link Lumen Pro").click()
    prod_link = page.evaluate("navigator.clipboard.readText()")
    assert prod_link == f"{live.url}/{store.slug}/{product.slug}"

    # The link opens a fresh checkout session for the live version, in the buyer's currency.
    buyer = pages.new()
    buyer.goto(prod_link)
    buyer.wait_for_url(re.compile(rf"/store/{store.slug}/checkout/[0-9a-f-]+$"))
    expect(buyer.get_by_role("heading", name="Your details", level=1)).to_be_visible()
    summary = buyer.locator("[data-summary]")
    expect(summary.get_by_text("Lumen Pro", exact=True)).to_be_visible()
    expect(summary.locator(".checkout-product__price")).to_have_text("$29.00")
    expect(summary.locator('[data-field="recurring"]')).to_have_text("$29.00 / month")
    expect(summary).to_contain_text("7-day trial for $1.00")
    expect(summary.get_by_role("img", name="Lumen logo")).to_be_visible()
    expect(buyer.get_by_text("Test Mode - No real charges will be made")).to_have_count(0)
    expect(buyer.get_by_role("button", name="Continue to payment")).to_be_enabled()
    primary = buyer.locator("body").evaluate(
        "el => getComputedStyle(el).getPropertyValue('--brand-primary').trim()"
    )
    assert primary.lower() == "#7ccb02"

    # The test link opens a test-mode session.
    buyer.goto(test_link)
    buyer.wait_for_url(re.compile(rf"/store/{store.slug}/checkout/[0-9a-f-]+$"))
    expect(buyer.get_by_text("Test Mode - No real charges will be made")).to_be_visible()
    expect(buyer.locator("[data-summary]").get_by_text("Lumen Pro", exact=True)).to_be_visible()


@pytest.mark.browser
def test_edit_makes_version_2_toggle_status_and_remove_a_price(pages, live, live_payments):
    page = pages.new(viewport={"width": 1280, "height": 900})
    merchant, store = _store_for(page, live, "editor@example.com", "Edit Shop")
    product = product_services.product_create(
        store=store,
        kind="subscription",
        name="Team Plan",
        billing_period="monthly",
        prices={
            "USD": {"amount": 4900, "taxCategory": "saas"},
            "GBP": {"amount": 3900, "taxCategory": "saas"},
        },
    )
    product_services.product_publish(
        actor=merchant_actor(merchant, "test"), product_id=product.pk, kind="subscription"
    )
    page.goto(f"/dashboard/{store.pk}/products/")
    page.get_by_role("link", name="Edit Team Plan").click()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Team Plan")

    # Saving untouched changes nothing.
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("No changes — no new version created")).to_be_visible()

    page.get_by_label("Name", exact=True).fill("Team Plan Plus")
    # PostgreSQL's jsonb keeps keys in its own order: find the GBP row by its value.
    gbp = page.locator("[data-price-row]").filter(has=page.locator('option[value="GBP"]:checked'))
    gbp.get_by_role("button", name=re.compile(r"^Remove price \d$")).click()
    expect(page.locator("[data-price-row]")).to_have_count(1)
    only = page.get_by_role("group", name="Price 1")
    expect(only.get_by_label("Currency")).to_have_value("USD")
    expect(only.get_by_role("button", name=re.compile("^Remove"))).to_be_hidden()
    only.get_by_label("Amount").fill("59.00")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Saved as version 2.")).to_be_visible()
    history = page.locator("section", has=page.get_by_role("heading", name="Version history"))
    expect(history.get_by_role("row")).to_have_count(3)  # header + 2 versions
    expect(history.get_by_role("row", name=re.compile("Team Plan Plus"))).to_contain_text("Test")
    expect(history.get_by_role("row", name=re.compile(r"^1 Team Plan "))).to_contain_text("Live")
    product.refresh_from_db()
    assert product.test_version.prices == {
        "USD": {"amount": 5900, "taxCategory": "saas", "taxIncluded": False}
    }

    page.get_by_role("button", name="Deactivate in test").click()
    expect(page.get_by_text("“Team Plan Plus” is now inactive in Test.")).to_be_visible()
    expect(page.get_by_role("button", name="Activate in test")).to_be_visible()
    page.get_by_role("button", name="Publish again").click()
    expect(page.get_by_text("Published “Team Plan Plus” version 2 to Live.")).to_be_visible()
    product.refresh_from_db()
    assert (product.test_status, product.prod_status, product.prod_version.number) == (
        "inactive",
        "active",
        2,
    )

    # The test link is now "not available"; production shows version 2.
    buyer = pages.new()
    buyer.goto(f"/{store.slug}/{product.slug}?env=test")
    expect(buyer.get_by_role("heading", name="This product isn't available")).to_be_visible()
    buyer.goto(f"/{store.slug}/{product.slug}")
    buyer.wait_for_url(re.compile(rf"/store/{store.slug}/checkout/[0-9a-f-]+$"))
    summary = buyer.locator("[data-summary]")
    expect(summary.get_by_text("Team Plan Plus", exact=True)).to_be_visible()
    expect(summary.locator('[data-field="recurring"]')).to_have_text("$59.00 / month")
    expect(buyer.get_by_text("Test Mode - No real charges will be made")).to_have_count(0)
