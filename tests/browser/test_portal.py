"""The customer portal in a real browser on a 390-px phone, by keyboard where a buyer would
type: sign in with the link from the (locmem) email, download an invoice PDF, ask for a partial
refund, cancel the subscription and take it back; no page scrolls sideways."""

from contextlib import contextmanager

import pytest
from django.core import mail
from playwright.sync_api import expect

from billing.models import RefundTicket, Subscription
from pancake.api import ids
from stores import services
from tests.browser.helpers import PHONE, emailed_link
from tests.factories import MerchantFactory, ProductFactory, make_api_key
from tests.helpers import ApiClient
from tests.portal.conftest import ALICE, purchase

PORTAL_LINK = r"http://[^\s]+/portal/sign-in/[A-Za-z0-9_\-]+"


@contextmanager
def _commits(execute=False):
    """Outside a test transaction each commit runs its own callbacks: nothing to capture."""
    yield []


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url


@pytest.mark.browser
def test_sign_in_download_refund_cancel_and_reactivate_on_a_phone(pages, live, key_pool):
    merchant = MerchantFactory(email="merchant@example.com")
    store = services.store_create(merchant=merchant, name="Maple Shop")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    paid = purchase(api, ProductFactory(store=store), _commits, ALICE)
    sub_payment = purchase(
        api, ProductFactory(store=store, subscription=True), _commits, ALICE, subscription=True
    )
    mail.outbox.clear()

    page = pages.new(viewport=PHONE)
    page.goto(f"/store/{store.slug}/portal/?env=test")
    expect(page.locator(".checkout-test-banner")).to_be_visible()
    _fits(page)
    email = page.get_by_label("Email")
    email.focus()
    email.fill(ALICE)
    email.press("Enter")
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = emailed_link(PORTAL_LINK, ALICE)
    assert link.startswith(live.url)
    page.goto(link)
    button = page.get_by_role("button", name="Sign in")
    expect(button).to_be_focused()
    button.press("Enter")
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    expect(page.get_by_text(f"Signed in as {ALICE}")).to_be_visible()
    _fits(page)

    # An invoice's PDF.
    page.get_by_role("navigation", name="Customer portal").get_by_role(
        "link", name="Invoices"
    ).click()
    expect(page.get_by_role("heading", name="Invoices and credit notes")).to_be_visible()
    _fits(page)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").first.click()
    with open(download_info.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # A partial refund of the one-time purchase.
    page.get_by_role("link", name="Orders").click()
    _fits(page)
    page.locator(f'[data-payment="{paid.pk}"]').get_by_role("link", name="Request a refund").click()
    expect(page.locator("[data-left]")).to_have_text("$29.00")
    expect(page.get_by_text("within 7 days of payment").first).to_be_visible()
    _fits(page)
    page.get_by_label("Amount (USD)").fill("5.00")
    page.get_by_label("Reason").fill("Only needed one chapter")
    page.get_by_role("button", name="Send refund request").click()
    expect(page.get_by_role("status")).to_contain_text("Your refund request was sent")
    expect(page.locator("[data-ticket-status]")).to_have_text("Pending")
    ticket = RefundTicket.objects.get()
    assert (ticket.requested_amount, ticket.submitter_id) == (500, ALICE)

    # Cancel the subscription at the period end, then keep it.
    page.get_by_role("link", name="Subscriptions").first.click()
    row = page.locator(f'[data-subscription="{sub_payment.order_id}"]')
    expect(row.locator("[data-subscription-status]")).to_have_text("Active")
    _fits(page)
    row.get_by_text("Cancel subscription").click()
    row.get_by_label("Why are you canceling? (optional)").fill("Taking a break")
    row.get_by_role("button", name="Cancel at the end of the period").click()
    expect(row.locator("[data-subscription-status]")).to_have_text("Canceling")
    subscription = Subscription.objects.get(order_id=sub_payment.order_id)
    assert subscription.cancel_reason == "Taking a break"
    _fits(page)
    row.get_by_role("button", name="Keep my subscription").click()
    expect(row.locator("[data-subscription-status]")).to_have_text("Active")
    subscription.refresh_from_db()
    assert subscription.status == "active"

    # Signing out ends it.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Email")).to_be_visible()
    page.goto(f"/store/{store.slug}/portal/orders")
    expect(page.get_by_label("Email")).to_be_visible()


@pytest.mark.browser
def test_a_merchants_portal_link_opens_the_portal_in_japanese(pages, live, key_pool):
    merchant = MerchantFactory(email="merchant@example.com")
    store = services.store_create(merchant=merchant, name="Maple Shop")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    paid = purchase(api, ProductFactory(store=store), _commits, ALICE)
    data = api.call(
        "customer/create-portal-link",
        {
            "storeId": ids.encode("STO", store.pk),
            "buyerEmail": ALICE,
            "returnUrl": "https://maple.example/account",
        },
    )["data"]
    assert data["url"].startswith(live.url)

    page = pages.new(viewport=PHONE)
    page.goto(data["url"] + "?lang=ja")
    page.get_by_role("button", name="サインイン").click()
    expect(page.get_by_role("heading", name="概要", level=1)).to_be_visible()
    expect(page.get_by_role("link", name="Maple Shop に戻る")).to_have_attribute(
        "href", "https://maple.example/account"
    )
    _fits(page)
    page.get_by_role("link", name="注文と支払い").click()
    expect(page.get_by_role("heading", name="注文と支払い", level=1)).to_be_visible()
    expect(page.locator(f'[data-payment="{paid.pk}"]')).to_contain_text("返金をリクエスト")
    assert page.locator("html").get_attribute("lang") == "ja"
    _fits(page)

    # The link worked once.
    other = pages.new(viewport=PHONE)
    other.goto(data["url"])
    other.get_by_role("button", name="Sign in").click()
    expect(other.get_by_role("alert")).to_contain_text("invalid, used or expired")
