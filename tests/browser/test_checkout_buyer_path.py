"""Step 1 of the hosted checkout as a new buyer walks it in chromium, German and US buyers, phone
and desktop: the country preselected from the browser's locale and listed in the page's language,
the tax ID's label and example following the country as it changes (USt-IdNr., N° TVA …), errors
clearing as a field is corrected (and shown again by the server on submit), the product's
description and image; axe-core finds no serious or critical violation on these pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from products.services import product_create
from tests.browser.axe import assert_accessible
from tests.browser.helpers import PHONE, summary_of
from tests.browser.test_checkout_flow import Seller

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def seller(live, key_pool):
    return Seller(key_pool[0])


def tax_id_label(page):
    return page.locator('label[for="id_tax_id"]')


def settled(page):
    """The summary's refresh is over (while it runs the summary is aria-busy and its amounts
    underlined as pending): the page as the buyer reads it."""
    expect(page.locator("[data-summary]")).not_to_have_attribute("aria-busy", "true")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_a_german_buyer_gets_germany_preselected_and_the_tax_id_named_by_country(
    pages, seller, viewport
):
    checkout = seller.open_session(seller.book(), currency="EUR")
    page = pages.new(viewport=viewport, locale="de-DE")
    with page.expect_response(summary_of(country="DE")):
        page.goto(checkout.url)
    expect(page.get_by_role("heading", name="Ihre Angaben", level=1)).to_be_visible()
    country = page.get_by_label("Land", exact=True)
    expect(country).to_have_value("DE")
    expect(country.locator('option[value="DE"]')).to_have_text("Deutschland")
    expect(country.locator('option[value="FR"]')).to_have_text("Frankreich")

    with page.expect_response(summary_of(is_business="on")):
        page.locator('input[name="is_business"]').check()
    tax_id = page.locator('input[name="tax_id"]')
    expect(tax_id_label(page)).to_have_text("USt-IdNr.")
    expect(tax_id).to_have_attribute("placeholder", "DE123456789")
    settled(page)
    assert_accessible(page, "step 1, German business buyer")

    with page.expect_response(summary_of(country="FR")):
        country.select_option("FR")
    expect(tax_id_label(page)).to_have_text("N° TVA")
    expect(tax_id).to_have_attribute("placeholder", "FR12345678901")
    country.select_option("NL")
    expect(tax_id_label(page)).to_have_text("BTW-nummer")
    country.select_option("US")
    expect(tax_id_label(page)).to_have_text("Steuernummer")  # "Tax ID" in German
    expect(tax_id).not_to_have_attribute("placeholder", "NL123456789B01")
    assert tax_id.get_attribute("placeholder") is None
    # The label names the input: found by it, as a screen reader announces it.
    country.select_option("IT")
    expect(page.get_by_label("Partita IVA", exact=True)).to_be_visible()


def test_a_refused_vat_number_says_the_format_and_clears_as_it_is_corrected(pages, seller):
    checkout = seller.open_session(seller.book(), currency="EUR")
    page = pages.new(locale="de-DE")
    page.goto(checkout.url + "?lang=en")
    page.get_by_label("Email", exact=True).fill("buyer@example.com")
    page.get_by_label("Address", exact=True).fill("Unter den Linden 1")
    page.get_by_label("City", exact=True).fill("Berlin")
    page.get_by_label("Postcode", exact=True).fill("10115")
    page.get_by_label("I'm purchasing as a business").check()
    page.get_by_label("Business name", exact=True).fill("Example GmbH")
    tax_id = page.get_by_label("USt-IdNr.", exact=True)
    with page.expect_response(summary_of(tax_id="DE000")):
        tax_id.fill("DE000")
    page.get_by_role("button", name="Continue to payment").click()
    error = page.locator("#id_tax_id_error")
    expect(error).to_have_text(
        "This tax ID is not valid for the selected country. "
        "VAT numbers from Germany look like DE123456789."
    )
    expect(tax_id).to_have_attribute("aria-invalid", "true")
    settled(page)
    assert_accessible(page, "step 1, a refused VAT number")
    tax_id.press("End")
    tax_id.press("Backspace")
    expect(error).to_have_count(0)
    assert tax_id.get_attribute("aria-invalid") is None
    expect(page.locator(".checkout-field--error").filter(has=tax_id)).to_have_count(0)


def test_errors_clear_as_each_field_is_corrected_and_the_server_shows_them_again(pages, seller):
    checkout = seller.open_session(seller.book())
    page = pages.new()
    page.goto(checkout.url)
    country = page.get_by_label("Country", exact=True)
    expect(country).to_have_value("US")  # en-US: the United States, preselected
    country.select_option("")
    page.get_by_role("button", name="Continue to payment").click()
    email = page.get_by_label("Email", exact=True)
    expect(page.locator("#id_email_error")).to_be_visible()
    expect(page.locator("#id_country_error")).to_be_visible()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(country).to_have_attribute("aria-invalid", "true")
    settled(page)
    assert_accessible(page, "step 1 with its errors")

    email.type("b")
    expect(page.locator("#id_email_error")).to_have_count(0)
    assert email.get_attribute("aria-invalid") is None
    expect(page.locator("#id_country_error")).to_be_visible()  # the others stay
    country.select_option("JP")
    expect(page.locator("#id_country_error")).to_have_count(0)
    assert country.get_attribute("aria-invalid") is None

    # Still an invalid email: the server says so again on submit.
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.locator("#id_email_error")).to_be_visible()
    expect(page.get_by_label("Email", exact=True)).to_have_attribute("aria-invalid", "true")


def test_step_one_shows_the_product_description_and_image(pages, seller, live):
    product = product_create(
        store=seller.store,
        kind="onetime",
        name="Pancake Cookbook",
        description="Forty **recipes** for pancakes.",
        media=[{"type": "image", "url": f"{live.url}/static/img/pancake.svg", "alt": "Cover"}],
        prices={"USD": {"amount": 2900, "taxCategory": "saas"}},
    )
    checkout = seller.open_session(product)
    page = pages.new(viewport=DESKTOP)
    page.goto(checkout.url)
    description = page.locator("[data-product-description]")
    expect(description).to_have_text("Forty recipes for pancakes.")
    expect(description.locator("strong")).to_have_text("recipes")
    image = page.get_by_role("img", name="Cover")
    expect(image).to_be_visible()
    assert page.evaluate("document.querySelector('.checkout-product__image').naturalWidth") > 0
    settled(page)
    assert_accessible(page, "step 1 with a description and image")
