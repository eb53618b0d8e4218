"""The Security log in a real browser at phone size: reached from the settings' sections by
keyboard, its entries readable without sideways scrolling, accessible (axe)."""

import pytest
from playwright.sync_api import expect

from stores import services
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

SMALL_PHONE = {"width": 375, "height": 740}
EMAIL = "log.owner@example.com"


@pytest.mark.browser
def test_the_owner_opens_the_security_log_from_the_settings(pages, live):
    merchant, _created = services.merchant_get_or_create(email=EMAIL)
    store = services.store_create(
        merchant=merchant, name="Aurora Tools", default_currency="EUR", country="DE"
    )
    page = pages.new(viewport=SMALL_PHONE)
    sign_in(page, live, EMAIL)
    page.goto(f"/dashboard/{store.pk}/settings/")
    link = page.get_by_role("navigation", name="Settings sections").get_by_role(
        "link", name="Security log"
    )
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live.url}/dashboard/{store.pk}/settings/security-log/")
    expect(page.get_by_role("heading", name="Security log")).to_be_visible()
    entries = page.locator("tr.security-entry")
    expect(entries).to_have_count(2)  # the store and its owner's membership, created
    expect(entries.first).to_contain_text("Created")
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") == 0
    assert_accessible(page)
