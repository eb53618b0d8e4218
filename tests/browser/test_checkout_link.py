"""An SDK authenticated link opened in a browser: the page reads `#token=`, binds the buyer and
removes the fragment from the address bar."""

import pytest
from playwright.sync_api import expect

from checkout.models import CheckoutSession
from pancake.api import ids
from products.services import product_create
from tests.factories import MerchantFactory, make_api_key
from tests.helpers import ApiClient

pytestmark = pytest.mark.browser


def test_the_checkout_page_binds_the_buyer_of_an_authenticated_link(pages, live, key_pool):
    merchant = MerchantFactory(email="seller@example.com")
    make_api_key(merchant, key_pool[0])
    api = ApiClient(merchant, key_pool[0])
    store_id = api.call("store/create-store", {"name": "Link Store"})["data"]["store"]["id"]
    from stores.models import Store

    store = Store.objects.get(pk=ids.parse_id(store_id, "STO"))
    product = product_create(
        store=store,
        kind="onetime",
        name="E-Book",
        prices={"USD": {"amount": 2900, "taxCategory": "ebook"}},
    )
    product_id = ids.encode("PROD", product.pk)
    session = api.call("checkout/create-session", {"productId": product_id, "currency": "USD"})[
        "data"
    ]
    token = api.call(
        "auth/issue-session-token", {"productId": product_id, "buyerIdentity": "user-123"}
    )["data"]["token"]

    page = pages.new()
    page.goto(session["checkoutUrl"] + "#token=" + token)
    page.wait_for_selector("body[data-buyer-bound='true']")
    assert "#token" not in page.url
    expect(page.locator("[data-summary]").get_by_text("E-Book", exact=True)).to_be_visible()
    assert CheckoutSession.objects.get(pk=session["sessionId"]).buyer_identity == "user-123"
