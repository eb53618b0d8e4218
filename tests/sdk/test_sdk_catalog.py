"""The official, unmodified @waffo/pancake-ts 0.25.0 drives the catalog of a live Pancake server:
one-time and subscription products through create, update, publish and
status, a paid trial, and a product group through create, update, publish and delete. The script
chains the ids the server answered, as integrating code does; Python then checks the collected
answers and the rows."""

from __future__ import annotations

import uuid

import pytest

from pancake.api import ids
from products.models import Product, ProductGroup, ProductGroupMembership
from stores.models import Store
from tests.sdk.helpers import SDK_ERROR_LAYERS, run_sdk, sdk_env

pytestmark = [pytest.mark.sdk, pytest.mark.django_db(transaction=True)]


CATALOG = """
const { store } = await client.stores.create({ name: "Catalog Store" });
out.store = store;

// One-time product: create -> update -> publish -> updateStatus, each fed the id it got back.
const created = await client.onetimeProducts.create({
  storeId: store.id,
  name: "E-Book",
  description: "Complete **guide** <script>alert(1)</script>",
  prices: {
    USD: { amount: "29.00", taxCategory: "ebook" },
    JPY: { amount: "4500", taxCategory: "ebook" },
  },
  media: [{ type: "image", url: "https://example.com/cover.jpg", alt: "Cover" }],
  successUrl: "https://example.com/thanks",
  metadata: { sku: "ebook-001" },
});
out.onetimeCreated = created.product;
const product = created.product;
out.onetimeUpdated = (await client.onetimeProducts.update({ id: product.id, name: "E-Book v2" }))
  .product;
out.onetimeNoop = (await client.onetimeProducts.update({ id: product.id, name: "E-Book v2" }))
  .product;
out.onetimeRepriced = (await client.onetimeProducts.update({
  id: out.onetimeUpdated.id,
  prices: { USD: { amount: "39.00", taxCategory: "ebook" } },
  description: null,
})).product;
out.onetimePublished = (await client.onetimeProducts.publish({ id: product.id })).product;
out.onetimeInactive = (
  await client.onetimeProducts.updateStatus({ id: product.id, status: "inactive" })
).product;

// Subscription product with a paid trial.
const sub = (await client.subscriptionProducts.create({
  storeId: store.id,
  name: "Pro Plan",
  billingPeriod: "monthly",
  prices: { USD: { amount: "9.99", taxCategory: "saas", trialAmount: "1.00" } },
  metadata: { trialDays: 7 },
})).product;
out.subCreated = sub;
out.subUpdated = (await client.subscriptionProducts.update({ id: sub.id, billingPeriod: "yearly" }))
  .product;
out.subPublished = (await client.subscriptionProducts.publish({ id: sub.id })).product;
out.subInactive = (
  await client.subscriptionProducts.updateStatus({ id: sub.id, status: "inactive" })
).product;
out.subActive = (
  await client.subscriptionProducts.updateStatus({ id: sub.id, status: "active" })
).product;
const basic = (await client.subscriptionProducts.create({
  storeId: store.id,
  name: "Basic Plan",
  billingPeriod: "monthly",
  prices: { BHD: { amount: "1.5", taxCategory: "saas" } },
})).product;
out.basic = basic;

// A group of the subscription products.
const { group } = await client.subscriptionProductGroups.create({
  storeId: store.id,
  name: "Pro Plans",
  description: "All tiers",
  rules: { sharedTrial: true },
  productIds: [sub.id],
});
out.groupCreated = group;
out.groupUpdated = (await client.subscriptionProductGroups.update({
  id: group.id,
  rules: { selfServicePlanChange: true },
  productIds: [basic.id, sub.id],
})).group;
out.groupPublished = (await client.subscriptionProductGroups.publish({ id: group.id })).group;
out.groupRepublished = (await client.subscriptionProductGroups.publish({ id: group.id })).group;
out.groupDeleted = (await client.subscriptionProductGroups.delete({ id: group.id })).group;

// Failures come back as WaffoPancakeError carrying the server's message and layer.
out.tooLong = await failure(() => client.onetimeProducts.create({
  storeId: store.id,
  name: "x".repeat(65),
  prices: { USD: { amount: "1.00", taxCategory: "ebook" } },
}));
out.tooPrecise = await failure(() => client.onetimeProducts.create({
  storeId: store.id,
  name: "Too precise",
  prices: { USD: { amount: "29.999", taxCategory: "ebook" } },
}));
out.groupGone = await failure(() =>
  client.subscriptionProductGroups.update({ id: group.id, name: "x" }),
);
"""


def _product(short_id: str) -> Product:
    return Product.objects.get(pk=ids.parse_id(short_id, "PROD"))


def test_sdk_drives_products_and_groups_chaining_the_ids_it_got_back(live_server, merchant_key):
    merchant, key = merchant_key
    out = run_sdk(CATALOG, sdk_env(merchant, key, live_server))

    store = Store.objects.get(pk=ids.parse_id(out["store"]["id"], "STO"))

    # --- one-time product --------------------------------------------------------------------
    created = out["onetimeCreated"]
    assert created["id"].startswith("PROD_") and created["storeId"] == out["store"]["id"]
    assert created["prices"] == {
        "USD": {"amount": "29.00", "taxCategory": "ebook", "taxIncluded": False},
        "JPY": {"amount": "4500", "taxCategory": "ebook", "taxIncluded": False},
    }
    assert created["status"] == "active" and created["prodVersionId"] is None
    assert created["description"] == "Complete **guide** <script>alert(1)</script>"
    assert "<script" not in created["descriptionHtml"]
    assert "billingPeriod" not in created
    assert out["onetimeUpdated"]["name"] == "E-Book v2"
    assert out["onetimeUpdated"]["version"]["versionNumber"] == 2
    assert out["onetimeNoop"]["version"]["versionNumber"] == 2
    repriced = out["onetimeRepriced"]
    assert repriced["version"]["versionNumber"] == 3
    assert repriced["prices"] == {
        "USD": {"amount": "39.00", "taxCategory": "ebook", "taxIncluded": False}
    }
    assert repriced["description"] is None and repriced["name"] == "E-Book v2"
    published = out["onetimePublished"]
    assert published["prodVersionId"] == published["testVersionId"] == repriced["testVersionId"]
    assert published["prodStatus"] == "active"
    inactive = out["onetimeInactive"]
    assert inactive["status"] == inactive["testStatus"] == "inactive"
    assert inactive["prodStatus"] == "active"

    onetime = _product(created["id"])
    assert onetime.store == store and onetime.kind == "onetime"
    assert list(onetime.versions.order_by("number").values_list("number", "name")) == [
        (1, "E-Book"),
        (2, "E-Book v2"),
        (3, "E-Book v2"),
    ]
    assert onetime.prod_version == onetime.test_version
    assert onetime.test_version.prices == {
        "USD": {"amount": 3900, "taxCategory": "ebook", "taxIncluded": False}
    }
    v1 = onetime.versions.get(number=1)
    assert v1.prices["JPY"]["amount"] == 4500 and v1.prices["USD"]["amount"] == 2900
    assert (onetime.test_status, onetime.prod_status) == ("inactive", "active")

    # --- subscription product with a paid trial ----------------------------------------------
    sub = out["subCreated"]
    assert sub["billingPeriod"] == "monthly"
    assert sub["prices"]["USD"] == {
        "amount": "9.99",
        "taxCategory": "saas",
        "taxIncluded": False,
        "trialAmount": "1.00",
    }
    assert sub["metadata"] == {"trialDays": 7}
    assert out["subUpdated"]["billingPeriod"] == "yearly"
    assert out["subUpdated"]["version"]["versionNumber"] == 2
    assert out["subUpdated"]["prices"] == sub["prices"]
    assert out["subPublished"]["prodVersionId"] == out["subUpdated"]["testVersionId"]
    assert out["subInactive"]["status"] == "inactive"
    assert out["subActive"]["status"] == "active"
    assert out["basic"]["prices"]["BHD"]["amount"] == "1.500"

    plan = _product(sub["id"])
    assert plan.kind == "subscription"
    assert [v.billing_period for v in plan.versions.order_by("number")] == ["monthly", "yearly"]
    assert plan.prod_version.number == 2 and plan.prod_status == "active"
    assert plan.test_version.prices["USD"] == {
        "amount": 999,
        "taxCategory": "saas",
        "taxIncluded": False,
        "trialAmount": 100,
    }
    assert plan.test_version.trial_days == 7
    assert _product(out["basic"]["id"]).test_version.prices["BHD"]["amount"] == 1500

    # --- group ----------------------------------------------------------------------------------
    group = out["groupCreated"]
    assert str(uuid.UUID(group["id"])) == group["id"]
    assert group["environment"] == "test" and group["storeId"] == out["store"]["id"]
    assert group["rules"] == {"sharedTrial": True, "selfServicePlanChange": False}
    assert group["productIds"] == [sub["id"]]
    updated = out["groupUpdated"]
    assert updated["rules"] == {"sharedTrial": True, "selfServicePlanChange": True}
    assert updated["productIds"] == [out["basic"]["id"], sub["id"]]
    copy = out["groupPublished"]
    assert copy["environment"] == "prod" and copy["id"] != group["id"]
    assert out["groupRepublished"]["id"] == copy["id"]
    assert copy["rules"] == updated["rules"] and copy["productIds"] == updated["productIds"]
    deleted = out["groupDeleted"]
    assert deleted["id"] == group["id"] and deleted["productIds"] == updated["productIds"]

    assert not ProductGroup.objects.filter(pk=group["id"]).exists()
    prod_copy = ProductGroup.objects.get(pk=copy["id"])
    assert prod_copy.environment == "prod" and prod_copy.store == store
    assert (prod_copy.shared_trial, prod_copy.self_service_plan_change) == (True, True)
    assert list(
        ProductGroupMembership.objects.filter(group=prod_copy)
        .order_by("position")
        .values_list("product_id", flat=True)
    ) == [_product(out["basic"]["id"]).pk, plan.pk]
    assert Product.objects.filter(store=store).count() == 3  # deleting the group kept them

    # --- failures -------------------------------------------------------------------------------
    too_long = out["tooLong"]
    assert too_long["rejected"] and too_long["isWaffoPancakeError"], too_long
    assert too_long["status"] == 400
    assert too_long["message"] == "name must not exceed 64 characters"
    assert too_long["errors"][0]["layer"] == "product"
    too_precise = out["tooPrecise"]
    assert too_precise["rejected"] and too_precise["isWaffoPancakeError"], too_precise
    assert too_precise["status"] == 400
    assert too_precise["message"] == (
        "Invalid prices.USD.amount: USD amounts have at most 2 decimal places"
    )
    gone = out["groupGone"]
    assert gone["rejected"] and gone["status"] == 404
    assert gone["message"] == "Product group not found"
    assert gone["errors"][0]["layer"] in SDK_ERROR_LAYERS
    assert not Product.objects.filter(versions__name__in=["x" * 65, "Too precise"]).exists()
