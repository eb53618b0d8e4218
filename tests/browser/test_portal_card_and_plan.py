"""The portal's "Replace card" and "Change plan" in a real browser on a 390-px phone: the new
card typed on the test processor's own page, the portal showing it after the provider's
notification; then a plan of the self-service group chosen, confirmed on the change's page and
the buyer back in the portal on the new plan. axe-core on the new pages."""

from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from billing.models import Subscription
from pancake.api import ids
from stores.models import Store
from tests.browser.axe import assert_accessible
from tests.browser.helpers import PHONE, pay
from tests.factories import MerchantFactory, ProductFactory, make_api_key
from tests.helpers import ApiClient
from tests.portal.conftest import ALICE, purchase

pytestmark = pytest.mark.browser

MASTERCARD = "5555 5555 5555 4444"


@contextmanager
def _commits(execute=False):
    """Outside a test transaction each commit runs its own callbacks: nothing to capture."""
    yield []


def _plan(store, name, amount):
    return ProductFactory(
        store=store,
        subscription=True,
        name=name,
        prices={"USD": {"amount": amount, "taxCategory": "saas"}},
    )


def test_replace_the_card_then_change_plan_on_a_phone(pages, live, key_pool):
    merchant = MerchantFactory(email="cards@example.com")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    data = api.call("store/create-store", {"name": "Card Store"})["data"]["store"]
    store = Store.objects.get(pk=ids.parse_id(data["id"], "STO"))
    basic, pro = _plan(store, "Basic", 999), _plan(store, "Pro", 2999)
    api.call(
        "subscription-product-group/create-group",
        {
            "storeId": data["id"],
            "name": "Plans",
            "rules": {"selfServicePlanChange": True},
            "productIds": [ids.encode("PROD", p.pk) for p in (basic, pro)],
        },
    )
    payment = purchase(api, basic, _commits, ALICE, subscription=True)
    link = api.call("customer/create-portal-link", {"storeId": data["id"], "buyerEmail": ALICE})[
        "data"
    ]["url"]

    page = pages.new(viewport=PHONE)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Customer portal").get_by_role(
        "link", name="Subscriptions"
    ).click()
    row = page.locator(f'[data-subscription="{payment.order_id}"]')
    expect(row).to_contain_text("Visa ending in 4242")
    assert_accessible(page, "subscriptions with replace card and change plan")

    # Replace card: the provider's page, then back with the new card shown.
    row.get_by_role("button", name="Replace card").click()
    pay(page, MASTERCARD, button="Save card")
    expect(page.get_by_role("status")).to_contain_text("Your new card is saved")
    row = page.locator(f'[data-subscription="{payment.order_id}"]')
    expect(row).to_contain_text("Mastercard ending in 4444")
    subscription = Subscription.objects.get(order_id=payment.order_id)
    assert subscription.payment_method_details["last4"] == "4444"

    # Change plan: the group's other plan, its confirmation, back to the portal.
    row.get_by_role("link", name="Change plan").click()
    expect(page.get_by_role("heading", name="Change plan", level=1)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page, "change plan")
    page.get_by_role("button", name="Choose Pro").click()
    page.get_by_role("button", name="and change plan").click()
    expect(page.get_by_role("heading", name="Your plan has been changed")).to_be_visible()
    page.get_by_role("link", name="Return to Card Store").click()
    row = page.locator(f'[data-subscription="{payment.order_id}"]')
    expect(row.get_by_role("heading", name="Pro")).to_be_visible()
    subscription.refresh_from_db()
    assert subscription.product_id == pro.pk
