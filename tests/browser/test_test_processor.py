"""The test processor's card page in a phone-sized browser, driven by the keyboard: a 4242 card
pays at once; the 3-D Secure card asks for authentication first. Both land on the return URL."""

import uuid
from datetime import UTC, datetime

import pytest

from billing.models import TestProcessorPayment
from billing.providers.test_processor import TestProcessor

pytestmark = pytest.mark.browser

FUTURE = f"12/{(datetime.now(UTC).year + 5) % 100:02d}"


def open_payment(live):
    return TestProcessor().create_payment(
        attempt_id=f"att-{uuid.uuid4()}",
        amount=2900,
        currency="USD",
        description="Pro plan",
        return_url=live.url + "/healthz?order=ord-1",
        save_method=False,
        metadata={},
    )


def type_card(page, number):
    """Fill the form by its labels with the keyboard only (Tab between fields, Enter to pay)."""
    page.get_by_label("Card number").focus()
    page.keyboard.type(number)
    page.keyboard.press("Tab")
    assert page.get_by_label("Expiry (MM/YY)").evaluate("el => el === document.activeElement")
    page.keyboard.type(FUTURE)
    page.keyboard.press("Tab")
    assert page.get_by_label("CVC").evaluate("el => el === document.activeElement")
    page.keyboard.type("731")
    page.keyboard.press("Tab")
    assert page.get_by_label("Name on card").evaluate("el => el === document.activeElement")
    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Enter")


def assert_fits(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_pay_with_4242_by_keyboard_on_a_phone(pages, live):
    hosted = open_payment(live)
    page = pages.new()
    page.goto(hosted.url)
    assert page.get_by_text("Pancake test processor — no real money moves").is_visible()
    assert page.get_by_role("button", name="Pay $29.00").is_visible()
    assert_fits(page)
    type_card(page, "4242 4242 4242 4242")
    page.wait_for_url("**/healthz?**")
    assert f"payment={hosted.provider_payment_id}" in page.url
    assert "status=succeeded" in page.url
    assert "4242424242424242" not in page.url and "731" not in page.url
    assert TestProcessorPayment.objects.get().status == "succeeded"


def test_3ds_card_with_complete_authentication(pages, live):
    hosted = open_payment(live)
    page = pages.new()
    page.goto(hosted.url)
    type_card(page, "4000 0027 6000 3184")
    page.wait_for_url(f"**/test-processor/3ds/{hosted.provider_payment_id}/")
    assert_fits(page)
    complete = page.get_by_role("button", name="Complete authentication")
    assert page.get_by_role("button", name="Fail authentication").is_visible()
    complete.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/healthz?**")
    assert "status=succeeded" in page.url
    assert TestProcessorPayment.objects.get().status == "succeeded"


def test_declined_card_then_retry_on_the_same_page(pages, live):
    hosted = open_payment(live)
    page = pages.new()
    page.goto(hosted.url)
    type_card(page, "4000 0000 0000 0002")
    page.get_by_role("alert").get_by_text("Your card was declined.").wait_for()
    assert page.get_by_label("Card number").input_value() == ""
    assert page.get_by_label("CVC").input_value() == ""
    assert_fits(page)
    page.get_by_label("Name on card").fill("")
    type_card(page, "4242 4242 4242 4242")
    page.wait_for_url("**/healthz?**")
    assert "status=succeeded" in page.url


def test_a_branded_payment_wears_the_stores_dark_theme_without_a_csp_violation(pages, live):
    """The checkout hands the processor the store's look: the hashed <style> applies (a CSP
    violation would be a console error), the 3-D Secure step wears it too."""
    hosted = open_payment(live)
    branding = {
        "theme": "dark",
        "checkoutColorPrimary": "#22D3EE",
        "checkoutColorBackground": "#0A1A1F",
        "checkoutColorCard": "#112A33",
        "checkoutColorText": "#FFFFFF",
        "checkoutBorderRadius": "12px",
        "logo": None,
        "storeName": "Night Shop",
    }
    TestProcessorPayment.objects.update(display={"title": "Night Shop", "branding": branding})
    page = pages.new()
    page.goto(hosted.url)
    assert page.get_by_text("Pancake test processor — no real money moves").is_visible()
    assert page.get_by_text("Night Shop", exact=True).is_visible()
    style = "(el, prop) => getComputedStyle(el)[prop]"
    body = page.locator("body")
    assert body.evaluate(style, "backgroundColor") == "rgb(10, 26, 31)"
    assert body.evaluate(style, "color") == "rgb(255, 255, 255)"
    pay_button = page.get_by_role("button", name="Pay $29.00")
    assert pay_button.evaluate(style, "backgroundColor") == "rgb(34, 211, 238)"
    assert pay_button.evaluate(style, "color") == "rgb(17, 24, 39)"
    assert pay_button.evaluate(style, "borderTopLeftRadius") == "12px"
    assert page.locator(".tp-card").evaluate(style, "backgroundColor") == "rgb(17, 42, 51)"
    assert_fits(page)
    type_card(page, "4000 0027 6000 3184")
    page.wait_for_url(f"**/test-processor/3ds/{hosted.provider_payment_id}/")
    complete = page.get_by_role("button", name="Complete authentication")
    assert complete.evaluate(style, "backgroundColor") == "rgb(34, 211, 238)"
    assert page.get_by_text("Night Shop", exact=True).is_visible()
    complete.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/healthz?**")
    assert "status=succeeded" in page.url
