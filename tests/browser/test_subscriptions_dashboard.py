"""The subscription pages in a real browser, on a phone and on a desktop: find a paid
subscription through the nav and the list's email filter, then on its detail page cancel it at
the period end and undo that, pause and resume it, move its test clock past the period end (the
renewal shows in the billing history) and finally cancel it now through the confirmation step."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from billing.models import Payment, Subscription
from stores import services
from stores.models import Merchant
from tests.browser.helpers import PHONE, sign_in
from tests.factories import ProductFactory, make_api_key
from tests.helpers import ApiClient
from tests.subscriptions.helpers import subscribe

DESKTOP = {"width": 1280, "height": 900}


@contextmanager
def _commits(execute=False):
    """Outside a test transaction each commit runs its own callbacks: nothing to capture."""
    yield []


def _status(page, text: str) -> None:
    expect(page.locator("#subscription-status")).to_have_text(text)


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_cancel_undo_pause_resume_advance_clock_and_cancel_now(pages, live, key_pool, viewport):
    page = pages.new(viewport=viewport)
    sign_in(page, live, "subs@example.com")
    merchant = Merchant.objects.get(email="subs@example.com")
    store = services.store_create(merchant=merchant, name="Plan Shop")
    make_api_key(merchant, key_pool[0])
    plan = ProductFactory(store=store, subscription=True)
    other = ProductFactory(store=store, subscription=True, name="Other Plan")
    api = ApiClient(merchant, key_pool[0])
    order, subscription = subscribe(api, plan, _commits)
    subscribe(api, other, _commits)

    # The nav leads to the list; the email filter is a bookmarkable GET.
    page.goto(f"/dashboard/{store.pk}/")
    page.get_by_role("navigation", name="Store").get_by_role("link", name="Subscriptions").click()
    expect(page.get_by_role("heading", name="Subscriptions", level=1)).to_be_visible()
    expect(page.locator(".subscriptions-table tbody tr")).to_have_count(2)
    page.get_by_label("Product").select_option(label="Pro Plan")
    page.get_by_label("Customer email").fill("buyer@example")
    page.get_by_label("Customer email").press("Enter")
    expect(page).to_have_url(
        f"{live.url}/dashboard/{store.pk}/subscriptions/?status=&product={plan.pk}&interval=&email=buyer%40example"
    )
    rows = page.locator(".subscriptions-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Pro Plan")
    expect(rows.first).to_contain_text("Active")
    expect(page.locator("#subscriptions-mrr")).to_contain_text("$9.99")
    rows.first.get_by_role("link", name="buyer@example.com").click()
    expect(page.get_by_role("heading", name="Pro Plan", level=1)).to_be_visible()
    _status(page, "Active")
    expect(page.locator("#payment-method")).to_contain_text("4242")

    # Cancel at the period end, then undo it.
    page.get_by_role("button", name="Cancel at period end").click()
    expect(
        page.get_by_text("The subscription will be canceled at the end of its current period.")
    ).to_be_visible()
    _status(page, "Canceling")
    expect(page.locator("#subscription-ends")).to_be_visible()
    page.get_by_role("button", name="Undo cancellation").click()
    _status(page, "Active")

    # Pause (the button, by keyboard), then resume.
    pause = page.get_by_role("button", name="Pause subscription")
    pause.focus()
    page.keyboard.press("Enter")
    expect(
        page.get_by_text("The subscription is paused: it is not charged until you resume it.")
    ).to_be_visible()
    _status(page, "Paused")
    expect(page.locator("#subscription-next-billing")).to_have_text("—")
    page.get_by_role("button", name="Resume subscription").click()
    _status(page, "Active")

    # The test clock: past the period's end, the renewal runs and shows in the history.
    subscription = Subscription.objects.get(pk=subscription.pk)
    target = subscription.current_period_end + timedelta(minutes=5)
    page.get_by_label("Advance the clock to (UTC)").fill(target.strftime("%Y-%m-%dT%H:%M:%S"))
    page.get_by_role("button", name="Advance clock").click()
    expect(page.get_by_text("The test clock was advanced.")).to_be_visible()
    expect(page.locator("#test-clock-time")).to_have_text(target.strftime("%Y-%m-%d %H:%M:%S"))
    expect(page.locator("#subscription-period-number")).to_have_text("2")
    renewal = Payment.objects.get(subscription=subscription, purpose="renewal")
    expect(page.locator(f"#payment-{renewal.pk}")).to_contain_text("Renewal")
    expect(page.locator(f"#payment-{renewal.pk}")).to_contain_text("Succeeded")
    expect(page.locator(".subscription-events")).to_contain_text("subscription.renewed")

    # A time before the clock is refused beside the input.
    page.get_by_label("Advance the clock to (UTC)").fill("2020-01-01T00:00:00")
    page.get_by_role("button", name="Advance clock").click()
    expect(page.get_by_text("Choose a time later than the subscription's clock.")).to_be_visible()
    expect(page.get_by_label("Advance the clock to (UTC)")).to_have_attribute(
        "aria-invalid", "true"
    )

    # Cancel now, after a confirmation.
    page.get_by_role("link", name="Cancel now…").click()
    expect(page.get_by_role("heading", name="Cancel this subscription now?")).to_be_visible()
    page.get_by_role("button", name="Cancel subscription now").click()
    expect(page.get_by_text("The subscription is canceled.")).to_be_visible()
    _status(page, "Canceled")
    expect(page.get_by_text("This subscription has ended")).to_be_visible()
    assert Subscription.objects.get(pk=subscription.pk).status == "canceled"

    # Nothing on the page is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
