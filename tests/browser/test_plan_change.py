"""A plan change's confirmation page in a real browser, on a phone, by keyboard only: an upgrade
(the prorated charge shown, paid, the plan changed), then a downgrade (scheduled for the
period's end); the page speaks the session's language and keeps the store's look."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billing.models import PlanChange, Subscription
from pancake.api import ids
from products.services import product_create
from stores.models import Store
from tests.browser.helpers import PHONE
from tests.factories import MerchantFactory, make_api_key
from tests.helpers import ApiClient
from tests.subscriptions.helpers import order_id, subscribe

pytestmark = pytest.mark.browser


def focused(locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def tab_to(page, locator, limit=30):
    """Tab (never click) until ``locator`` has the focus."""
    for _ in range(limit):
        if focused(locator):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {locator}")


@pytest.fixture
def shop(live, key_pool):
    merchant = MerchantFactory(email="plans@example.com")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    data = api.call("store/create-store", {"name": "Plan Store"})["data"]["store"]
    store = Store.objects.get(pk=ids.parse_id(data["id"], "STO"))

    def plan(name, amount):
        return product_create(
            store=store,
            kind="subscription",
            name=name,
            billing_period="monthly",
            prices={"USD": {"amount": amount, "taxCategory": "saas"}},
        )

    return api, store, plan("Basic", 999), plan("Pro", 2999)


def change_link(api, order, target, **body) -> str:
    payload = {"originOrderId": order_id(order), "productId": ids.encode("PROD", target.pk)}
    payload.update(currency="USD", **body)
    return api.call("checkout/create-session", payload)["data"]["checkoutUrl"]


def test_an_upgrade_then_a_downgrade_on_a_phone_by_keyboard(
    pages, shop, django_capture_on_commit_callbacks
):
    api, store, basic, pro = shop
    order, subscription = subscribe(api, basic, django_capture_on_commit_callbacks)

    # The upgrade: the difference for the rest of the period is due now.
    page = pages.new(viewport=PHONE)
    page.goto(change_link(api, order, pro))
    expect(page.get_by_role("heading", name="Change your plan")).to_be_visible()
    expect(page.get_by_text("Test Mode - No real charges will be made")).to_be_visible()
    current = page.locator("[data-plan=current]")
    expect(current.get_by_text("Basic", exact=True)).to_be_visible()
    expect(current.get_by_text("$9.99 / month")).to_be_visible()
    new = page.locator("[data-plan=new]")
    expect(new.get_by_text("Pro", exact=True)).to_be_visible()
    expect(new.get_by_text("$29.99 / month")).to_be_visible()
    expect(page.get_by_text("Charged to your Visa ending in 4242.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    pay = page.get_by_role("button", name=re.compile(r"^Pay \$\d+\.\d\d and change plan$"))
    due = re.search(r"\$(\d+\.\d\d)", pay.inner_text()).group(1)
    assert 19.9 <= float(due) <= 20.0  # all but a few seconds of the period are left
    tab_to(page, pay)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your plan has been changed")).to_be_visible()
    expect(page.get_by_text("You are now on Pro.")).to_be_visible()
    expect(page.get_by_text(f"${due} was charged to your saved payment method.")).to_be_visible()
    subscription = Subscription.objects.get(pk=subscription.pk)
    assert subscription.product_id == pro.pk
    change = PlanChange.objects.get(to_product=pro)
    assert (change.status, change.payment.amount) == ("applied", round(float(due) * 100))

    # The downgrade, in German: nothing due now, the change waits for the period's end.
    page = pages.new(viewport=PHONE)
    page.goto(change_link(api, order, basic, language="de-DE"))
    expect(page.get_by_role("heading", name="Tarif wechseln")).to_be_visible()
    expect(page.locator("[data-plan=current]").get_by_text("Pro", exact=True)).to_be_visible()
    confirm = page.get_by_role("button", name="Tarifwechsel bestätigen")
    tab_to(page, confirm)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Ihr Tarifwechsel ist geplant")).to_be_visible()
    assert PlanChange.objects.get(to_product=basic).status == "scheduled"
    assert Subscription.objects.get(pk=subscription.pk).product_id == pro.pk

    # The used link says so; the language can be switched on the page.
    page.goto(page.url)
    expect(page.get_by_role("heading", name="Ihr Tarifwechsel ist geplant")).to_be_visible()
    page.get_by_label("Sprache").select_option("en")
    page.get_by_role("button", name="Sprache ändern").click()
    expect(page.get_by_role("heading", name="Your plan change is scheduled")).to_be_visible()


def test_an_expired_link_shows_a_clear_page(pages, shop, django_capture_on_commit_callbacks):
    api, store, basic, pro = shop
    order, _subscription = subscribe(api, basic, django_capture_on_commit_callbacks)
    link = change_link(api, order, pro)
    api.call("checkout/expire-session", {"checkoutSessionId": link.rsplit("/", 1)[1]})
    page = pages.new(viewport=PHONE)
    page.goto(link)
    expect(page.get_by_role("heading", name="This plan change link has expired")).to_be_visible()
    expect(page.get_by_text("Nothing was changed.", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("plan"))).to_have_count(0)
