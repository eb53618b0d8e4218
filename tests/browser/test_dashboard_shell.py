"""The dashboard's header in a real browser: the store and language pickers act as soon as they
change (their buttons only for browsers without JavaScript), the header fits a 375 px phone in
English and Chinese, and the notification bell's count follows "Mark all read"."""

import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from stores import services
from stores.models import Merchant, Notification
from tests.browser.axe import assert_accessible
from tests.browser.helpers import sign_in

SMALL_PHONE = {"width": 375, "height": 740}
EMAIL = "shell.owner@example.com"


@pytest.fixture
def two_stores(live):
    merchant, _created = services.merchant_get_or_create(email=EMAIL)
    first = services.store_create(
        merchant=merchant, name="Aurora Tools", default_currency="EUR", country="DE"
    )
    second = services.store_create(
        merchant=merchant, name="Borealis Fonts", default_currency="EUR", country="DE"
    )
    return merchant, first, second


def overflow(page) -> int:
    """How far the page scrolls sideways (0: it fits)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.browser
def test_the_pickers_act_on_change_without_their_buttons(pages, live, two_stores):
    _merchant, first, second = two_stores
    page = pages.new(viewport=SMALL_PHONE)
    sign_in(page, live, EMAIL)
    page.goto(f"/dashboard/{first.pk}/")
    expect(page.get_by_role("heading", name="Aurora Tools")).to_be_visible()
    # With JavaScript the buttons are gone; choosing is enough.
    expect(page.get_by_role("button", name="Open")).to_be_hidden()
    expect(page.get_by_role("button", name="Change language")).to_be_hidden()
    page.get_by_role("combobox", name="Store").select_option(label="Borealis Fonts")
    expect(page).to_have_url(f"{live.url}/dashboard/{second.pk}/")
    expect(page.get_by_role("heading", name="Borealis Fonts")).to_be_visible()
    page.get_by_label("Language").select_option("zh-hans")
    expect(page.get_by_role("link", name="首页")).to_be_visible()
    expect(page).to_have_url(f"{live.url}/dashboard/{second.pk}/")


@pytest.mark.browser
def test_without_javascript_the_buttons_do_it(browser, live, two_stores):
    _merchant, first, second = two_stores
    context = browser.new_context(java_script_enabled=False, base_url=live.url)
    try:
        page = context.new_page()
        sign_in(page, live, EMAIL)
        page.goto(f"/dashboard/{first.pk}/")
        page.get_by_role("combobox", name="Store").select_option(label="Borealis Fonts")
        expect(page).to_have_url(f"{live.url}/dashboard/{first.pk}/")  # nothing yet
        page.get_by_role("button", name="Open").click()
        expect(page).to_have_url(f"{live.url}/dashboard/{second.pk}/")
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_header_fits_a_375_px_phone(pages, live, two_stores, language):
    _merchant, first, _second = two_stores
    page = pages.new(viewport=SMALL_PHONE)
    sign_in(page, live, EMAIL)
    page.goto(f"/dashboard/{first.pk}/")
    if language != "en":
        page.get_by_label("Language").select_option(language)
        expect(page.get_by_role("link", name="首页")).to_be_visible()
    for path in ("", "notifications/", "settings/"):
        page.goto(f"/dashboard/{first.pk}/{path}")
        assert overflow(page) == 0, path
        header = page.locator("header.topbar")
        box = header.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375
        # Every control of the header's top row lies inside the screen.
        for control in header.locator(
            ".topbar__row select, .topbar__row button:visible, .bell"
        ).all():
            b = control.bounding_box()
            assert b["x"] >= 0 and b["x"] + b["width"] <= 375, control.inner_html()[:80]


@pytest.mark.browser
def test_the_bell_counts_and_mark_all_read_clears_it(pages, live, two_stores):
    _merchant, first, second = two_stores
    now = timezone.now()
    for kind in ("payment", "refund_request"):
        Notification.objects.create(
            event_id=uuid.uuid4(),
            store=first,
            environment="test",
            kind=kind,
            details={"amount": 11900, "currency": "EUR", "productName": "Ebook"},
            created_at=now,
        )
    Notification.objects.create(  # another store's: not counted here
        event_id=uuid.uuid4(), store=second, environment="test", kind="payment"
    )
    page = pages.new(viewport=SMALL_PHONE)
    sign_in(page, live, EMAIL)
    page.goto(f"/dashboard/{first.pk}/")
    bell = page.locator("#notification-bell")
    expect(page.locator("#notification-count")).to_have_text("2")
    bell.click()
    expect(page.get_by_role("heading", name="Notifications", level=1)).to_be_visible()
    expect(page.locator(".notification.is-unread")).to_have_count(2)
    assert_accessible(page)
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_text("All notifications are marked read.")).to_be_visible()
    expect(page.locator("#notification-count")).to_have_text("0")
    expect(page.locator(".notification.is-unread")).to_have_count(0)
    assert Merchant.objects.get(email=EMAIL).pk


@pytest.mark.browser
def test_a_saved_settings_section_leaves_the_other_sections_page_alone(pages, live, two_stores):
    """Branding edited (not saved) in one tab; notifications saved in another: the branding
    tab keeps its edits, the confirmation shows beside the notifications button, and saving
    the branding then changes only the branding."""
    _merchant, first, _second = two_stores
    page = pages.new(viewport=SMALL_PHONE)
    sign_in(page, live, EMAIL)
    page.goto(f"/dashboard/{first.pk}/settings/branding/")
    primary = page.get_by_role("group", name="Light theme").get_by_label("Primary colour")
    primary.fill("#123456")

    other = page.context.new_page()
    other.goto(f"/dashboard/{first.pk}/settings/")
    expect(other).to_have_url(f"{live.url}/dashboard/{first.pk}/settings/details/")
    other.get_by_role("link", name="Notifications", exact=True).last.click()
    expect(other).to_have_url(f"{live.url}/dashboard/{first.pk}/settings/notifications/")
    other.get_by_label("New orders").uncheck()
    other.get_by_role("button", name="Save notifications").click()
    note = other.locator("#saved-note")
    expect(note).to_have_text("Saved.")
    # Beside its button: right after it, on the same line.
    button = other.get_by_role("button", name="Save notifications").bounding_box()
    box = note.bounding_box()
    assert abs((box["y"] + box["height"] / 2) - (button["y"] + button["height"] / 2)) < 12
    assert box["x"] > button["x"]
    first.refresh_from_db()
    assert first.notifications["notifyNewOrders"] is False

    expect(primary).to_have_value("#123456")  # the unsaved edit is still there
    page.get_by_role("button", name="Save branding").click()
    expect(page.locator("#saved-note")).to_have_text("Saved.")
    first.refresh_from_db()
    assert first.checkout_settings["light"]["checkoutColorPrimary"] == "#123456"
    assert first.notifications["notifyNewOrders"] is False  # not put back by the other form
