"""axe-core on every page of the customer portal (tests/browser/axe.py), with the store's
checkout branding set to a dark primary (navy), in the light theme and in dark mode: signed
out (sign-in, the link's confirm step), then overview, orders, an order with its refund form,
invoices, subscriptions and the billing details form. No serious or critical violation."""

from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from pancake.api import ids
from stores.models import Store
from tests.browser.axe import assert_accessible
from tests.browser.helpers import PHONE
from tests.factories import MerchantFactory, ProductFactory, make_api_key
from tests.helpers import ApiClient
from tests.portal.conftest import ALICE, purchase

pytestmark = pytest.mark.browser

NAVY = "#0B1F3A"
THEMES = {
    "light": {"light": {"checkoutColorPrimary": NAVY}},
    "dark": {"defaultDarkMode": True, "dark": {"checkoutColorPrimary": NAVY}},
}


@contextmanager
def _commits(execute=False):
    """Outside a test transaction each commit runs its own callbacks: nothing to capture."""
    yield []


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_every_portal_page_passes_axe_with_a_navy_brand(pages, live, key_pool, theme):
    merchant = MerchantFactory(email="navy@example.com")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    data = api.call("store/create-store", {"name": "Navy Store"})["data"]["store"]
    api.call("store/update-store", {"id": data["id"], "checkoutSettings": THEMES[theme]})
    store = Store.objects.get(pk=ids.parse_id(data["id"], "STO"))
    paid = purchase(api, ProductFactory(store=store), _commits, ALICE)
    subscription = purchase(
        api, ProductFactory(store=store, subscription=True), _commits, ALICE, subscription=True
    )
    page = pages.new(viewport=PHONE)

    page.goto(f"/store/{store.slug}/portal/?env=test")
    expect(page.get_by_label("Email")).to_be_visible()
    assert_accessible(page, f"sign-in ({theme})")

    link = api.call(
        "customer/create-portal-link",
        {"storeId": ids.encode("STO", store.pk), "buyerEmail": ALICE},
    )["data"]["url"]
    page.goto(link)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert_accessible(page, f"confirm sign-in ({theme})")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    assert_accessible(page, f"overview ({theme})")

    base = f"/store/{store.slug}/portal/"
    for path, heading in [
        ("orders", "Orders and payments"),
        (f"orders/{paid.order_id}", None),
        ("invoices", "Invoices and credit notes"),
        ("subscriptions", None),
        (f"subscriptions/{subscription.order_id}/billing", None),
    ]:
        response = page.goto(base + path)
        assert response.status == 200, path
        if heading:
            expect(page.get_by_role("heading", name=heading, level=1)).to_be_visible()
        assert_accessible(page, f"{path} ({theme})")
