"""The rest of a buyer's story in the portal, in a real browser on a 390-px phone: a renewal is
declined (the test clock moves the subscription past its period end), the portal says how to fix
it, the buyer replaces the card on the provider's page and the subscription recovers at once;
then the buyer asks for part of a purchase back and, once the merchant approves it, sees the
refund go through."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from billing.models import Payment, RefundTicket, Subscription
from billing.providers import test_processor
from pancake.api import ids
from pancake.api.fields import format_timestamp
from stores.models import Store
from tests.browser.helpers import PHONE, pay
from tests.factories import MerchantFactory, ProductFactory, make_api_key
from tests.helpers import ApiClient
from tests.portal.conftest import ALICE, purchase

pytestmark = pytest.mark.browser


@contextmanager
def _commits(execute=False):
    """Outside a test transaction each commit runs its own callbacks: nothing to capture."""
    yield []


def test_a_declined_renewal_recovers_with_a_new_card_and_a_refund_is_approved(
    pages, live, key_pool
):
    merchant = MerchantFactory(email="story@example.com")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    data = api.call("store/create-store", {"name": "Story Store"})["data"]["store"]
    store = Store.objects.get(pk=ids.parse_id(data["id"], "STO"))
    book = purchase(api, ProductFactory(store=store), _commits, ALICE)
    first = purchase(
        api, ProductFactory(store=store, subscription=True), _commits, ALICE, subscription=True
    )
    subscription = Subscription.objects.get(order_id=first.order_id)
    # The saved card is declined off-session from now on; the clock runs past the period end.
    test_processor.card_set_off_session_outcome(subscription.method_token, "card_declined")
    api.call(
        "subscription-order/advance-test-clock",
        {
            "orderId": ids.encode("ORD", first.order_id),
            "advanceTo": format_timestamp(subscription.current_period_end + timedelta(minutes=5)),
        },
    )
    subscription.refresh_from_db()
    assert subscription.status == "past_due"

    link = api.call("customer/create-portal-link", {"storeId": data["id"], "buyerEmail": ALICE})[
        "data"
    ]["url"]
    page = pages.new(viewport=PHONE)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Customer portal").get_by_role(
        "link", name="Subscriptions"
    ).click()
    row = page.locator(f'[data-subscription="{first.order_id}"]')
    expect(row.locator("[data-subscription-status]")).to_have_text("Past due")
    expect(row).to_contain_text("Replace your card below")

    # A new card on the provider's page: charged at once, the subscription active again.
    row.get_by_role("button", name="Replace card").click()
    pay(page, "4242 4242 4242 4242", button="Save card")
    expect(page.get_by_role("status")).to_contain_text("Your new card is saved")
    row = page.locator(f'[data-subscription="{first.order_id}"]')
    expect(row.locator("[data-subscription-status]")).to_have_text("Active")
    renewals = Payment.objects.filter(subscription=subscription, purpose="renewal")
    assert sorted(renewals.values_list("status", flat=True)) == ["failed", "succeeded"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # A partial refund of the book: asked in the portal, approved by the merchant, seen done.
    page.get_by_role("link", name="Orders").first.click()
    page.locator(f'[data-payment="{book.pk}"]').get_by_role("link", name="Request a refund").click()
    page.get_by_label("Amount (USD)").fill("9.00")
    page.get_by_label("Reason").fill("Two chapters were missing")
    page.get_by_role("button", name="Send refund request").click()
    expect(page.locator("[data-ticket-status]")).to_have_text("Pending")
    ticket = RefundTicket.objects.get()
    api.call("refund-ticket/approve-ticket", {"ticketId": ids.encode("TKT", ticket.pk)})
    page.get_by_role("link", name="Orders").first.click()
    payment_row = page.locator(f'[data-payment="{book.pk}"]')
    expect(payment_row.locator("[data-ticket-status]")).to_have_text("Succeeded")
    expect(payment_row).to_contain_text("Partially refunded")
    book.refresh_from_db()
    assert (book.status, book.refunded_amount) == ("partially_refunded", 900)
