"""What product and group actions answer: ``data.product`` with the
SDK's fields plus the per-environment fields and the current ``version``, the same fields
directly under ``data``; groups answer ``data.group`` with the SDK's group entity."""

import uuid

import pytest

from products.models import ProductGroup
from tests.api.helpers import TIMESTAMP_RE, assert_ok, short
from tests.products.helpers import (
    FULL,
    GROUP,
    ONETIME,
    SUBSCRIPTION,
    create_group,
    product_body,
    product_row,
)

SDK_FIELDS = {
    "id",
    "storeId",
    "name",
    "description",
    "prices",
    "media",
    "successUrl",
    "metadata",
    "status",
    "createdAt",
    "updatedAt",
}
ENVIRONMENT_FIELDS = {"testVersionId", "testStatus", "prodVersionId", "prodStatus", "version"}
VERSION_FIELDS = {
    "id",
    "productId",
    "versionNumber",
    "name",
    "description",
    "prices",
    "media",
    "successUrl",
    "metadata",
    "createdAt",
}
GROUP_FIELDS = {
    "id",
    "storeId",
    "name",
    "description",
    "rules",
    "productIds",
    "environment",
    "createdAt",
    "updatedAt",
}


def _answers(api, prefix, store):
    """The ``data`` of create, update, publish and update-status for one product."""
    body = product_body(prefix, store, **FULL[prefix])
    created = assert_ok(api.post(f"{prefix}/create-product", body))["data"]
    pid = created["product"]["id"]
    return {
        "create": created,
        "update": assert_ok(api.post(f"{prefix}/update-product", {"id": pid, "name": "Renamed"}))[
            "data"
        ],
        "publish": assert_ok(api.post(f"{prefix}/publish-product", {"id": pid}))["data"],
        "update-status": assert_ok(
            api.post(f"{prefix}/update-status", {"id": pid, "status": "inactive"})
        )["data"],
    }


@pytest.mark.parametrize("prefix", [ONETIME, SUBSCRIPTION])
def test_every_product_action_answers_the_product_under_data_product_and_flat(api, store, prefix):
    for action, data in _answers(api, prefix, store).items():
        product = data["product"]
        flat = {k: v for k, v in data.items() if k != "product"}
        assert flat == product, action
        required = SDK_FIELDS | ENVIRONMENT_FIELDS
        if prefix == SUBSCRIPTION:
            required |= {"billingPeriod"}
        assert required <= set(product), (action, required - set(product))
        if prefix == ONETIME:
            assert "billingPeriod" not in product and "billingPeriod" not in product["version"]
        assert VERSION_FIELDS <= set(product["version"]), action


@pytest.mark.parametrize("prefix", [ONETIME, SUBSCRIPTION])
def test_product_fields_match_the_rows(api, store, prefix):
    answers = _answers(api, prefix, store)
    product = answers["update-status"]["product"]
    row = product_row(product)
    version = row.test_version

    assert product["id"] == short("PROD", row.pk)
    assert product["storeId"] == short("STO", store.pk)
    assert product["name"] == version.name == "Renamed"
    assert product["description"] == version.description
    assert product["media"] == version.media
    assert product["successUrl"] == version.success_url
    assert product["metadata"] == version.metadata
    assert product["status"] == product["testStatus"] == row.test_status == "inactive"
    assert product["prodStatus"] == row.prod_status == "active"
    assert product["testVersionId"] == str(row.test_version_id)
    assert product["prodVersionId"] == str(row.prod_version_id)
    for field in ("createdAt", "updatedAt"):
        assert TIMESTAMP_RE.match(product[field]), field
    assert product["createdAt"] == answers["create"]["product"]["createdAt"]
    assert product["updatedAt"] >= product["createdAt"]
    if prefix == SUBSCRIPTION:
        assert product["billingPeriod"] == version.billing_period == "monthly"
    for currency, price in product["prices"].items():
        assert set(price) <= {"amount", "taxCategory", "taxIncluded", "trialAmount"}
        assert isinstance(price["amount"], str)
        assert price["taxCategory"] == version.prices[currency]["taxCategory"]
        assert price["taxIncluded"] is version.prices[currency]["taxIncluded"]


def test_the_version_object_describes_the_version_shown(api, store):
    data = _answers(api, SUBSCRIPTION, store)["update"]["product"]
    version = data["version"]
    row = product_row(data).test_version

    assert version["id"] == str(row.pk) == data["testVersionId"]
    assert version["productId"] == data["id"]
    assert version["versionNumber"] == row.number == 2
    assert version["name"] == row.name
    assert version["description"] == row.description
    assert version["prices"] == data["prices"]
    assert version["media"] == row.media
    assert version["successUrl"] == row.success_url
    assert version["metadata"] == row.metadata
    assert version["billingPeriod"] == row.billing_period
    assert TIMESTAMP_RE.match(version["createdAt"])
    # The product-level content is the version's content.
    for field in ("name", "description", "prices", "media", "successUrl", "metadata"):
        assert data[field] == version[field], field


def test_the_documented_fields_of_a_new_subscription_product(api, store):
    """The documented subscription create example, field for field."""
    data = assert_ok(
        api.post(
            f"{SUBSCRIPTION}/create-product",
            product_body(SUBSCRIPTION, store),
            {"HTTP_PANCAKE_VERSION": "2026-01-15"},
        )
    )["data"]

    assert data["prodVersionId"] is None
    assert data["testVersionId"] == data["version"]["id"]
    assert (data["prodStatus"], data["testStatus"]) == ("inactive", "active")
    assert data["version"]["versionNumber"] == 1
    assert data["version"]["productId"] == data["id"]
    assert data["version"]["description"] is None
    assert data["version"]["media"] == []
    assert data["version"]["successUrl"] is None
    assert data["version"]["prices"] == {
        "USD": {"amount": 999, "taxCategory": "saas", "taxIncluded": False}
    }


def test_group_actions_answer_the_sdk_group_entity(api, store):
    plan = assert_ok(api.post(f"{SUBSCRIPTION}/create-product", product_body(SUBSCRIPTION, store)))[
        "data"
    ]["id"]
    created = create_group(api, store, description="Tiers", productIds=[plan])
    gid = created["id"]
    answers = {
        "create": created,
        "update": assert_ok(api.post(f"{GROUP}/update-group", {"id": gid, "name": "New"}))["data"],
        "publish": assert_ok(api.post(f"{GROUP}/publish-group", {"id": gid}))["data"],
        "delete": assert_ok(api.post(f"{GROUP}/delete-group", {"id": gid}))["data"],
    }
    for action, data in answers.items():
        if action == "create":
            group = data
        else:
            assert set(data) == {"group"}, action
            group = data["group"]
        assert set(group) == GROUP_FIELDS, action
        assert str(uuid.UUID(group["id"])) == group["id"]
        assert group["storeId"] == short("STO", store.pk)
        assert set(group["rules"]) == {"sharedTrial", "selfServicePlanChange"}
        assert all(isinstance(v, bool) for v in group["rules"].values())
        assert group["productIds"] == [plan]
        assert group["environment"] in {"test", "prod"}
        assert TIMESTAMP_RE.match(group["createdAt"]) and TIMESTAMP_RE.match(group["updatedAt"])

    assert answers["publish"]["group"]["environment"] == "prod"
    prod_copy = ProductGroup.objects.get(environment="prod")
    assert answers["publish"]["group"]["id"] == str(prod_copy.pk)
    assert answers["delete"]["group"]["name"] == "New"
    assert answers["delete"]["group"]["id"] == gid
