"""Test and prod: new products live in test, publish copies the current test version
to prod (again on re-publish), update-status acts in the caller's environment, and the purchase
link only resolves a product active with a version in its environment."""

import pytest
from django.utils import timezone

from products.selectors import purchasable_product
from tests.api.helpers import assert_error, assert_ok
from tests.products.helpers import (
    ONETIME,
    SUBSCRIPTION,
    create_product,
    product_row,
    publish,
    set_status,
    update_product,
)

BOTH = pytest.mark.parametrize("prefix", [ONETIME, SUBSCRIPTION])
NOT_PUBLISHED = "Product has not been published to production: publish it first"


@BOTH
def test_a_new_product_is_active_in_test_and_inactive_in_prod_without_a_prod_version(
    api, store, prefix
):
    data = create_product(api, prefix, store)

    assert (data["testStatus"], data["prodStatus"], data["prodVersionId"]) == (
        "active",
        "inactive",
        None,
    )
    assert data["status"] == "active"  # a test key sees the test status
    product = product_row(data)
    assert (product.test_status, product.prod_status) == ("active", "inactive")
    assert product.prod_version_id is None
    assert product.test_version.number == 1


@BOTH
def test_prod_key_cannot_activate_a_product_before_it_is_published(api, prod_api, store, prefix):
    data = create_product(api, prefix, store)

    response = prod_api.post(f"{prefix}/update-status", {"id": data["id"], "status": "active"})

    assert_error(response, 400, NOT_PUBLISHED, layer="product")
    product = product_row(data)
    assert (product.prod_status, product.prod_version_id) == ("inactive", None)
    # Deactivating what is already inactive is harmless.
    assert set_status(prod_api, prefix, data["id"], "inactive")["status"] == "inactive"


@BOTH
def test_publish_copies_the_test_version_to_prod_and_activates_it_there(api, store, prefix):
    data = create_product(api, prefix, store)

    published = publish(api, prefix, data["id"])

    assert published["prodVersionId"] == published["testVersionId"] == data["testVersionId"]
    assert published["prodStatus"] == "active" and published["testStatus"] == "active"
    assert published["version"]["id"] == data["testVersionId"]
    product = product_row(data)
    assert product.prod_version_id == product.test_version_id
    assert product.prod_status == "active"
    assert product.versions.count() == 1  # publishing copies the pointer, not the content


@BOTH
def test_republish_after_updates_promotes_the_newer_test_version(api, store, prefix):
    data = create_product(api, prefix, store)
    first = publish(api, prefix, data["id"])
    update_product(api, prefix, data["id"], name="Second")
    v3 = update_product(api, prefix, data["id"], name="Third")

    product = product_row(data)
    assert str(product.prod_version_id) == first["prodVersionId"]  # prod waits for a publish
    assert product.prod_version.number == 1 and product.test_version.number == 3

    again = publish(api, prefix, data["id"])

    assert again["prodVersionId"] == v3["testVersionId"]
    assert again["name"] == again["version"]["name"] == "Third"
    product.refresh_from_db()
    assert product.prod_version_id == product.test_version_id
    assert product.prod_version.number == 3


def test_publishing_twice_without_changes_is_harmless(api, store):
    data = create_product(api, ONETIME, store)
    first = publish(api, ONETIME, data["id"])
    second = publish(api, ONETIME, data["id"])

    assert first["prodVersionId"] == second["prodVersionId"] == data["testVersionId"]
    assert product_row(data).versions.count() == 1


@BOTH
def test_a_prod_status_chosen_before_a_republish_is_kept(api, prod_api, store, prefix):
    data = create_product(api, prefix, store)
    publish(api, prefix, data["id"])
    assert set_status(prod_api, prefix, data["id"], "inactive")["status"] == "inactive"
    update_product(api, prefix, data["id"], name="Second")

    again = publish(api, prefix, data["id"])

    assert again["prodStatus"] == "inactive"
    product = product_row(data)
    assert product.prod_status == "inactive"
    assert product.prod_version.number == 2


@BOTH
def test_update_status_acts_only_in_the_callers_environment(api, prod_api, store, prefix):
    data = create_product(api, prefix, store)
    publish(api, prefix, data["id"])

    by_test = set_status(api, prefix, data["id"], "inactive")
    product = product_row(data)
    assert (product.test_status, product.prod_status) == ("inactive", "active")
    assert (by_test["status"], by_test["testStatus"], by_test["prodStatus"]) == (
        "inactive",
        "inactive",
        "active",
    )

    by_prod = set_status(prod_api, prefix, data["id"], "inactive")
    product.refresh_from_db()
    assert (product.test_status, product.prod_status) == ("inactive", "inactive")
    assert by_prod["status"] == "inactive"

    by_test = set_status(api, prefix, data["id"], "active")
    product.refresh_from_db()
    assert (product.test_status, product.prod_status) == ("active", "inactive")
    assert (by_test["status"], by_test["prodStatus"]) == ("active", "inactive")

    by_prod = set_status(prod_api, prefix, data["id"], "active")
    product.refresh_from_db()
    assert (product.test_status, product.prod_status) == ("active", "active")
    assert by_prod["status"] == "active"


def test_status_in_every_answer_is_the_callers_environment(api, prod_api, store):
    data = create_product(api, SUBSCRIPTION, store)
    publish(api, SUBSCRIPTION, data["id"])
    set_status(prod_api, SUBSCRIPTION, data["id"], "inactive")
    pid = data["id"]

    answers = {
        "test": [
            update_product(api, SUBSCRIPTION, pid, name="T"),
            publish(api, SUBSCRIPTION, pid),
            set_status(api, SUBSCRIPTION, pid, "active"),
        ],
        "prod": [
            update_product(prod_api, SUBSCRIPTION, pid, name="P"),
            publish(prod_api, SUBSCRIPTION, pid),
            set_status(prod_api, SUBSCRIPTION, pid, "inactive"),
        ],
    }

    for product in answers["test"]:
        assert product["status"] == product["testStatus"] == "active"
        assert product["prodStatus"] == "inactive"
    for product in answers["prod"]:
        assert product["status"] == product["prodStatus"] == "inactive"
        assert product["testStatus"] == "active"


def test_status_must_be_active_or_inactive(api, store):
    data = create_product(api, ONETIME, store)
    for status in ("archived", "ACTIVE", "", None):
        response = api.post(f"{ONETIME}/update-status", {"id": data["id"], "status": status})
        assert response.status_code == 400, status
    assert_error(
        api.post(f"{ONETIME}/update-status", {"id": data["id"]}),
        400,
        "Missing required field: status",
        layer="product",
    )
    assert product_row(data).test_status == "active"


# --- the permanent purchase link ---------------------------------------------------------------


def _resolve(store, data, environment):
    return purchasable_product(
        store_slug=store.slug, product_slug=data["slug"], environment=environment
    )


def test_a_test_only_product_is_invisible_to_prod(api, store):
    data = create_product(api, ONETIME, store)

    found = _resolve(store, data, "test")
    assert found is not None and found.pk == product_row(data).pk
    assert found.version_for("test").number == 1
    assert _resolve(store, data, "prod") is None


def test_a_published_product_resolves_in_prod_to_its_prod_version(api, store):
    data = create_product(api, SUBSCRIPTION, store)
    publish(api, SUBSCRIPTION, data["id"])
    update_product(api, SUBSCRIPTION, data["id"], name="Not yet in prod")

    in_prod = _resolve(store, data, "prod")
    in_test = _resolve(store, data, "test")

    assert in_prod.version_for("prod").number == 1
    assert in_prod.version_for("prod").name == "Pro Plan"
    assert in_test.version_for("test").number == 2


def test_an_inactive_product_is_hidden_in_that_environment_only(api, prod_api, store):
    data = create_product(api, ONETIME, store)
    publish(api, ONETIME, data["id"])

    set_status(api, ONETIME, data["id"], "inactive")
    assert _resolve(store, data, "test") is None
    assert _resolve(store, data, "prod") is not None

    set_status(prod_api, ONETIME, data["id"], "inactive")
    assert _resolve(store, data, "prod") is None

    set_status(api, ONETIME, data["id"], "active")
    assert _resolve(store, data, "test") is not None
    assert _resolve(store, data, "prod") is None


@pytest.mark.parametrize("store_change", ["deleted", "inactive", "suspended"])
def test_a_deleted_or_inactive_store_hides_its_products(api, store, store_change):
    data = create_product(api, ONETIME, store)
    publish(api, ONETIME, data["id"])
    assert _resolve(store, data, "test") and _resolve(store, data, "prod")

    if store_change == "deleted":
        store.deleted_at = timezone.now()
    else:
        store.status = store_change
    store.save()

    assert _resolve(store, data, "test") is None
    assert _resolve(store, data, "prod") is None


def test_the_purchase_link_needs_both_slugs_to_match(api, store, make_api):
    data = create_product(api, ONETIME, store)
    other = make_api()
    other_store = assert_ok(other.post("store/create-store", {"name": "Other"}))["data"]["store"]

    for store_slug, product_slug in (
        (other_store["slug"], data["slug"]),
        (store.slug, data["slug"] + "-x"),
        ("", data["slug"]),
        (store.slug, ""),
    ):
        assert (
            purchasable_product(
                store_slug=store_slug, product_slug=product_slug, environment="test"
            )
            is None
        )


def test_slug_comes_from_the_name_and_stays_unique_in_the_store(api, store):
    first = create_product(api, ONETIME, store, name="Great E-Book")
    second = create_product(api, ONETIME, store, name="Great E-Book")
    renamed = update_product(api, ONETIME, first["id"], name="Something else")

    assert first["slug"] == "great-e-book"
    assert second["slug"] != first["slug"] and second["slug"].startswith("great-e-book-")
    assert renamed["slug"] == "great-e-book"  # the link is permanent
    assert _resolve(store, second, "test").pk == product_row(second).pk
