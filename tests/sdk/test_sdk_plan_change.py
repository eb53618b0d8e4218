"""The unmodified SDK changes plans on a live server: `checkout.createPlanChangeSession`,
`checkout.authenticated.createPlanChange` and `customer(token).createPlanChangeSession`, with the
ids it got back from creating the store, the plans and their group; the confirmation pages open,
and confirming one applies the change."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from billing.models import PlanChange, Subscription
from checkout.models import CheckoutSession
from pancake.api import ids
from products.models import Product
from stores.models import BuyerSession
from tests.helpers import ApiClient
from tests.sdk.helpers import run_sdk, sdk_env
from tests.subscriptions.helpers import subscribe

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]

CATALOG = """
const { store } = await client.stores.create({ name: "Plans Store" });
const basic = await client.subscriptionProducts.create({
  storeId: store.id, name: "Basic", billingPeriod: "monthly",
  prices: { USD: { amount: "9.99", taxCategory: "saas" } },
});
const pro = await client.subscriptionProducts.create({
  storeId: store.id, name: "Pro", billingPeriod: "monthly",
  prices: { USD: { amount: "29.99", taxCategory: "saas" } },
});
const team = await client.subscriptionProducts.create({
  storeId: store.id, name: "Team", billingPeriod: "yearly",
  prices: { USD: { amount: "499.00", taxCategory: "saas" } },
});
const { group } = await client.subscriptionProductGroups.create({
  storeId: store.id, name: "Plans", rules: { selfServicePlanChange: true },
  productIds: [basic.product.id, pro.product.id],
});
out.storeId = store.id;
out.basic = basic.product.id;
out.pro = pro.product.id;
out.team = team.product.id;
out.groupId = group.id;
"""

PLAN_CHANGES = """
const { STORE_ID: storeId, ORDER_ID: originOrderId, PRO: pro, TEAM: team } = process.env;
out.merchant = await client.checkout.createPlanChangeSession({
  originOrderId, productId: team, currency: "USD", changeTiming: "immediate",
  changeCreditAmount: "8.00",
});
out.both = await failure(() => client.checkout.createPlanChangeSession({
  originOrderId, productId: pro, currency: "USD", changeAmount: "1.00", changeCreditAmount: "1.00",
}));
out.authenticated = await client.checkout.authenticated.createPlanChange(
  { originOrderId, productId: pro, currency: "USD", changeTiming: "next_period",
    buyerIdentity: "buyer@example.com" },
  { idempotencyKey: "MER_plan-change-1" },
);
const token = await client.auth.issueSessionToken({ storeId, buyerIdentity: "buyer@example.com" });
const customer = client.customer(token.token, { environment: "test" });
out.customer = await customer.createPlanChangeSession({
  originOrderId, productId: pro, currency: "USD", language: "ja-JP",
});
out.notInGroup = await failure(() => customer.createPlanChangeSession({
  originOrderId, productId: team, currency: "USD",
}));
const stranger = await client.auth.issueSessionToken({ storeId, buyerIdentity: "x@example.com" });
out.notYours = await failure(() => client.customer(stranger.token, { environment: "test" })
  .createPlanChangeSession({ originOrderId, productId: pro, currency: "USD" }));
out.pages = {};
for (const name of ["merchant", "authenticated", "customer"]) {
  const response = await fetch(out[name].checkoutUrl.split("#")[0]);
  out.pages[name] = { status: response.status, html: await response.text() };
}
"""


def test_the_sdk_makes_plan_change_sessions_three_ways(
    live_server, merchant_key, settings, django_capture_on_commit_callbacks
):
    settings.BASE_URL = live_server.url
    merchant, key = merchant_key
    env = sdk_env(merchant, key, live_server)
    catalog = run_sdk(CATALOG, env)

    # The buyer subscribes to Basic on the hosted checkout (API calls and the test card).
    api = ApiClient(merchant, key)
    basic_id = ids.parse_id(catalog["basic"], "PROD")
    basic = Product.objects.get(pk=basic_id)
    order, subscription = subscribe(api, basic, django_capture_on_commit_callbacks)

    out = run_sdk(
        PLAN_CHANGES,
        {
            **env,
            "STORE_ID": catalog["storeId"],
            "ORDER_ID": ids.encode("ORD", order.pk),
            "PRO": catalog["pro"],
            "TEAM": catalog["team"],
        },
    )
    slug = order.store.slug
    for name in ("merchant", "authenticated", "customer"):
        result = out[name]
        assert set(result) >= {"sessionId", "checkoutUrl", "expiresAt"}, name
        session = CheckoutSession.objects.get(pk=result["sessionId"])
        assert session.origin_order_id == order.pk
        path = f"/store/{slug}/change/{session.pk}"
        assert result["checkoutUrl"].split("#")[0] == live_server.url + path
        assert out["pages"][name]["status"] == 200, name

    merchant_change = PlanChange.objects.get(session_id=out["merchant"]["sessionId"])
    assert (merchant_change.timing, merchant_change.credit_amount) == ("immediate", 800)
    assert out["both"]["rejected"] and out["both"]["status"] == 400
    assert out["both"]["message"] == "Send changeAmount or changeCreditAmount, not both"

    auth = out["authenticated"]
    assert auth["checkoutUrl"].endswith("#token=" + auth["token"])
    assert BuyerSession.objects.filter(buyer_identity="buyer@example.com").count() == 2
    assert PlanChange.objects.get(session_id=auth["sessionId"]).timing == "next_period"

    customer_session = CheckoutSession.objects.get(pk=out["customer"]["sessionId"])
    assert (customer_session.created_via, customer_session.checkout_language) == (
        "buyer_token",
        "ja",
    )
    assert "プランの変更" in out["pages"]["customer"]["html"]
    assert (out["notInGroup"]["status"], out["notInGroup"]["message"]) == (
        403,
        "Target plan is not in the same product group as the current plan",
    )
    assert (out["notYours"]["status"], out["notYours"]["message"]) == (
        403,
        "Subscription order does not belong to this credential",
    )

    # The buyer confirms the upgrade they asked for: the plan is Pro at once, charged once.
    response = Client().post(urlsplit(out["customer"]["checkoutUrl"]).path)
    assert response.status_code == 303
    subscription = Subscription.objects.get(pk=subscription.pk)
    assert subscription.product_id == ids.parse_id(catalog["pro"], "PROD")
    change = PlanChange.objects.get(session_id=customer_session.pk)
    assert change.status == "applied" and change.payment.status == "succeeded"
