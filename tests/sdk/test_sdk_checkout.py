"""The unmodified SDK creates checkout sessions on a live server:
`checkout.createSession`, `checkout.anonymous.create` and `checkout.authenticated.create`; the
page behind each returned URL opens."""

from __future__ import annotations

import pytest

from checkout.models import CheckoutSession
from pancake.api import ids
from products.services import product_create
from stores.models import BuyerSession
from stores.services import store_create
from tests.factories import MerchantFactory, make_api_key, rsa_key
from tests.sdk.helpers import run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

CHECKOUT = """
const productId = process.env.PRODUCT_ID;
const planId = process.env.PLAN_ID;
const full = await client.checkout.createSession({
  productId, currency: "USD", buyerEmail: "customer@example.com",
  billingDetail: { country: "US", isBusiness: false, state: "CA", postcode: "94105" },
  successUrl: "https://example.com/thanks", expiresInSeconds: 3600,
  metadata: { planId: "pro" },
  priceSnapshot: { amount: "19.99", taxCategory: "digital_goods" },
  withTrial: false, darkMode: true,
  orderMerchantExternalId: "ORDER-2026-00891", language: "en", includePaymentMethods: ["card"],
});
out.full = full;
out.anonymous = await client.checkout.anonymous.create({ productId, currency: "USD" });
out.authenticated = await client.checkout.authenticated.create(
  {
    productId: planId, currency: "USD", buyerIdentity: "user-123",
    buyerEmail: "customer@example.com", withTrial: true,
  },
  { idempotencyKey: "MER_checkout-42" },
);
out.pages = {};
const results = { full, anonymous: out.anonymous, authenticated: out.authenticated };
for (const [name, result] of Object.entries(results)) {
  const response = await fetch(result.checkoutUrl.split("#")[0]);
  out.pages[name] = { status: response.status, html: await response.text() };
}
out.badCurrency = await failure(
  () => client.checkout.createSession({ productId, currency: "EUR" }),
);
"""


def test_the_sdk_creates_checkout_sessions_and_their_pages_open(live_server, settings):
    settings.BASE_URL = live_server.url
    merchant = MerchantFactory(email="checkout@example.com")
    key = rsa_key()
    make_api_key(merchant, key)
    store = store_create(merchant=merchant, name="Checkout Store")
    book = product_create(
        store=store,
        kind="onetime",
        name="E-Book",
        prices={"USD": {"amount": 2900, "taxCategory": "ebook"}},
    )
    plan = product_create(
        store=store,
        kind="subscription",
        name="Pro Plan",
        billing_period="monthly",
        prices={"USD": {"amount": 999, "taxCategory": "saas"}},
        metadata={"trialDays": 14},
    )
    env = {
        **sdk_env(merchant, key, live_server),
        "PRODUCT_ID": ids.encode("PROD", book.pk),
        "PLAN_ID": ids.encode("PROD", plan.pk),
    }
    out = run_sdk(CHECKOUT, env)

    full = CheckoutSession.objects.get(pk=out["full"]["sessionId"])
    assert (full.amount, full.tax_category, full.order_merchant_external_id) == (
        1999,
        "digital_goods",
        "ORDER-2026-00891",
    )
    assert full.billing_detail["state"] == "CA" and full.metadata == {"planId": "pro"}
    assert out["full"]["checkoutUrl"] == f"{live_server.url}/store/{store.slug}/checkout/{full.pk}"

    anonymous = CheckoutSession.objects.get(pk=out["anonymous"]["sessionId"])
    assert (anonymous.amount, anonymous.version_id) == (2900, book.test_version_id)

    auth = out["authenticated"]
    assert auth["checkoutUrl"].endswith("#token=" + auth["token"])
    assert set(auth) >= {"sessionId", "checkoutUrl", "expiresAt", "token", "tokenExpiresAt"}
    session = CheckoutSession.objects.get(pk=auth["sessionId"])
    assert (session.kind, session.with_trial, session.trial_days) == ("subscription", True, 14)
    assert BuyerSession.objects.filter(buyer_identity="user-123", product_id=plan.pk).count() == 1
    assert CheckoutSession.objects.count() == 3

    for name, page in out["pages"].items():
        assert page["status"] == 200, name
        assert "Test Mode - No real charges will be made" in page["html"]
    assert "$19.99" in out["pages"]["full"]["html"]
    assert "Pro Plan" in out["pages"]["authenticated"]["html"]

    bad = out["badCurrency"]
    assert bad["rejected"] and bad["isWaffoPancakeError"] and bad["status"] == 400
    assert bad["message"] == "Invalid currency: this product is priced in USD"
