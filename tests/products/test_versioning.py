"""Immutable product versions: create writes version 1, a changed field writes the next
one, a no-op writes none, and a version row is never edited."""

import pytest
from django.db.models import ProtectedError

from products.models import Product, ProductVersion
from tests.api.helpers import assert_ok
from tests.products.helpers import (
    FULL,
    ONETIME,
    SUBSCRIPTION,
    create_product,
    product_body,
    product_row,
    publish,
    set_status,
    update_product,
    version_numbers,
    version_snapshot,
)

BOTH = pytest.mark.parametrize("prefix", [ONETIME, SUBSCRIPTION])


def _create_full(api, prefix, store):
    return create_product(api, prefix, store, **FULL[prefix])


@BOTH
def test_create_writes_version_one_and_points_the_test_version_at_it(api, store, prefix):
    data = _create_full(api, prefix, store)

    assert data["version"]["versionNumber"] == 1
    assert data["testVersionId"] == data["version"]["id"]
    product = product_row(data)
    assert version_numbers(product) == [1]
    version = product.test_version
    assert str(version.pk) == data["testVersionId"]
    assert version.name == FULL[prefix]["name"]
    assert version.description == FULL[prefix]["description"]
    assert version.media == FULL[prefix]["media"]
    assert version.success_url == FULL[prefix]["successUrl"]
    assert version.metadata == FULL[prefix]["metadata"]
    if prefix == SUBSCRIPTION:
        assert version.billing_period == "monthly"
        assert version.prices == {
            "USD": {"amount": 999, "taxCategory": "saas", "taxIncluded": False, "trialAmount": 100}
        }
    else:
        assert version.billing_period is None
        assert version.prices == {
            "USD": {"amount": 2900, "taxCategory": "ebook", "taxIncluded": False},
            "JPY": {"amount": 4500, "taxCategory": "ebook", "taxIncluded": True},
        }


@BOTH
def test_update_repeating_every_current_value_writes_no_version(api, store, prefix):
    data = _create_full(api, prefix, store)
    before = product_row(data)

    again = update_product(api, prefix, data["id"], **FULL[prefix])

    assert again["version"]["versionNumber"] == 1
    assert again["testVersionId"] == data["testVersionId"]
    product = product_row(data)
    assert version_numbers(product) == [1]
    assert product.test_version_id == before.test_version_id
    assert product.updated_at == before.updated_at  # nothing was written at all


@BOTH
def test_update_with_only_the_id_writes_no_version(api, store, prefix):
    data = _create_full(api, prefix, store)

    again = update_product(api, prefix, data["id"])

    assert again["version"]["id"] == data["version"]["id"]
    assert version_numbers(product_row(data)) == [1]


def test_same_amounts_spelled_differently_are_not_a_change(api, store):
    data = _create_full(api, ONETIME, store)

    update_product(
        api,
        ONETIME,
        data["id"],
        prices={
            # a JSON number is minor units; "29" is the display amount 29.00
            "USD": {"amount": 2900, "taxCategory": "ebook", "taxIncluded": False},
            "JPY": {"taxIncluded": True, "taxCategory": "ebook", "amount": 4500},
        },
    )
    update_product(
        api,
        ONETIME,
        data["id"],
        prices={
            "JPY": {"amount": "4500", "taxCategory": "ebook", "taxIncluded": True},
            "USD": {"amount": "29", "taxCategory": "ebook"},
        },
    )

    assert version_numbers(product_row(data)) == [1]


def test_clearing_an_already_empty_field_is_not_a_change(api, store):
    data = create_product(api, ONETIME, store)  # no description, no successUrl, no metadata

    update_product(api, ONETIME, data["id"], description=None, successUrl=None, metadata=None)
    update_product(api, ONETIME, data["id"], media=[], metadata={})

    assert version_numbers(product_row(data)) == [1]


CHANGES = [
    (ONETIME, "name", "E-Book, second edition", "name", "E-Book, second edition"),
    (ONETIME, "description", "Now with *more*", "description", "Now with *more*"),
    (
        ONETIME,
        "prices",
        {"USD": {"amount": "39.00", "taxCategory": "ebook"}},
        "prices",
        {"USD": {"amount": 3900, "taxCategory": "ebook", "taxIncluded": False}},
    ),
    (
        ONETIME,
        "prices",
        {
            "USD": {"amount": "29.00", "taxCategory": "ebook"},
            "JPY": {"amount": "4500", "taxCategory": "ebook", "taxIncluded": False},
        },
        "prices",
        {
            "USD": {"amount": 2900, "taxCategory": "ebook", "taxIncluded": False},
            "JPY": {"amount": 4500, "taxCategory": "ebook", "taxIncluded": False},
        },
    ),
    (
        ONETIME,
        "media",
        [{"type": "image", "url": "https://example.com/new.jpg"}],
        "media",
        [{"type": "image", "url": "https://example.com/new.jpg"}],
    ),
    (
        ONETIME,
        "successUrl",
        "https://example.com/done",
        "success_url",
        "https://example.com/done",
    ),
    (ONETIME, "metadata", {"sku": "ebook-002"}, "metadata", {"sku": "ebook-002"}),
    (SUBSCRIPTION, "billingPeriod", "yearly", "billing_period", "yearly"),
    (SUBSCRIPTION, "name", "Pro Plan (annual)", "name", "Pro Plan (annual)"),
    (
        SUBSCRIPTION,
        "prices",
        {"USD": {"amount": "99.00", "taxCategory": "saas", "trialAmount": "1.00"}},
        "prices",
        {"USD": {"amount": 9900, "taxCategory": "saas", "taxIncluded": False, "trialAmount": 100}},
    ),
    (
        SUBSCRIPTION,
        "metadata",
        {"trialDays": 14, "tier": "pro"},
        "metadata",
        {"trialDays": 14, "tier": "pro"},
    ),
]


@pytest.mark.parametrize(("prefix", "field", "value", "column", "stored"), CHANGES)
def test_each_changed_field_writes_the_next_version_and_keeps_the_rest(
    api, store, prefix, field, value, column, stored
):
    data = _create_full(api, prefix, store)
    v1 = version_snapshot(data["testVersionId"])

    updated = update_product(api, prefix, data["id"], **{field: value})

    assert updated["version"]["versionNumber"] == 2
    assert updated["testVersionId"] == updated["version"]["id"] != data["testVersionId"]
    product = product_row(data)
    assert version_numbers(product) == [1, 2]
    v2 = version_snapshot(product.test_version_id)
    assert v2[column] == stored
    unchanged = {"name", "description", "prices", "media", "success_url", "metadata"}
    unchanged |= {"billing_period"}
    for other in unchanged - {column}:
        assert v2[other] == v1[other], other
    assert version_snapshot(data["testVersionId"]) == v1


def test_changing_a_value_back_writes_a_new_version_rather_than_reusing_an_old_one(api, store):
    data = create_product(api, ONETIME, store, name="A")
    update_product(api, ONETIME, data["id"], name="B")
    back = update_product(api, ONETIME, data["id"], name="A")

    assert back["version"]["versionNumber"] == 3
    assert back["testVersionId"] != data["testVersionId"]
    assert version_numbers(product_row(data)) == [1, 2, 3]


def test_versions_are_numbered_one_after_another(api, store):
    data = create_product(api, SUBSCRIPTION, store)
    numbers = [
        update_product(api, SUBSCRIPTION, data["id"], name=f"Plan {n}")["version"]["versionNumber"]
        for n in range(2, 7)
    ]
    update_product(api, SUBSCRIPTION, data["id"], name="Plan 6")  # no-op

    assert numbers == [2, 3, 4, 5, 6]
    product = product_row(data)
    assert version_numbers(product) == [1, 2, 3, 4, 5, 6]
    assert product.test_version.number == 6


@BOTH
def test_null_clears_description_and_success_url(api, store, prefix):
    data = _create_full(api, prefix, store)

    cleared = update_product(api, prefix, data["id"], description=None, successUrl=None)

    assert cleared["description"] is None and cleared["successUrl"] is None
    assert cleared["descriptionHtml"] == ""
    version = product_row(data).test_version
    assert version.number == 2
    assert version.description is None and version.success_url is None
    assert version.description_html == ""
    assert version.name == FULL[prefix]["name"]  # the rest is kept
    assert version.metadata == FULL[prefix]["metadata"]


@BOTH
def test_fields_left_out_of_an_update_keep_their_value(api, store, prefix):
    data = _create_full(api, prefix, store)

    updated = update_product(api, prefix, data["id"], name="Renamed")

    for field in ("description", "prices", "media", "successUrl", "metadata"):
        assert updated[field] == data[field], field
    if prefix == SUBSCRIPTION:
        assert updated["billingPeriod"] == "monthly"
    v1, v2 = product_row(data).versions.order_by("number")
    for column in ("description", "prices", "media", "success_url", "metadata", "billing_period"):
        assert getattr(v2, column) == getattr(v1, column), column
    assert (v1.name, v2.name) == (FULL[prefix]["name"], "Renamed")


def test_a_version_row_is_never_modified(api, prod_api, store):
    data = _create_full(api, SUBSCRIPTION, store)
    v1 = version_snapshot(data["testVersionId"])
    publish(api, SUBSCRIPTION, data["id"])
    v1_published = version_snapshot(data["testVersionId"])

    update_product(api, SUBSCRIPTION, data["id"], name="Pro Plan II")
    v2_id = product_row(data).test_version_id
    v2 = version_snapshot(v2_id)
    update_product(api, SUBSCRIPTION, data["id"], billingPeriod="yearly", description=None)
    update_product(
        api, SUBSCRIPTION, data["id"], prices={"EUR": {"amount": 900, "taxCategory": "saas"}}
    )
    set_status(api, SUBSCRIPTION, data["id"], "inactive")
    set_status(prod_api, SUBSCRIPTION, data["id"], "inactive")
    publish(api, SUBSCRIPTION, data["id"])

    assert v1_published == v1
    assert version_snapshot(data["testVersionId"]) == v1
    assert version_snapshot(v2_id) == v2
    assert version_numbers(product_row(data)) == [1, 2, 3, 4]


def test_a_sold_version_reference_keeps_what_was_sold(api, store):
    """There is no order model yet: hold the version an order or session would point at, change
    the product several times, and read the held version back unchanged."""
    data = _create_full(api, SUBSCRIPTION, store)
    sold_id = data["version"]["id"]
    sold = version_snapshot(sold_id)

    update_product(api, SUBSCRIPTION, data["id"], name="Pro Plan (new)")
    update_product(
        api,
        SUBSCRIPTION,
        data["id"],
        billingPeriod="yearly",
        prices={"USD": {"amount": "99.00", "taxCategory": "saas"}},
    )
    update_product(api, SUBSCRIPTION, data["id"], metadata={}, media=None, successUrl=None)

    held = ProductVersion.objects.get(pk=sold_id)
    assert version_snapshot(sold_id) == sold
    assert (held.name, held.billing_period, held.number) == ("Pro Plan", "monthly", 1)
    assert held.prices["USD"] == {
        "amount": 999,
        "taxCategory": "saas",
        "taxIncluded": False,
        "trialAmount": 100,
    }
    assert held.trial_days == 7
    product = product_row(data)
    assert product.test_version.number == 4
    assert product.test_version.billing_period == "yearly"


def test_a_version_a_product_points_at_cannot_be_deleted(api, store):
    data = create_product(api, ONETIME, store)
    publish(api, ONETIME, data["id"])
    update_product(api, ONETIME, data["id"], name="Second")
    product = product_row(data)
    prod_version, test_version = product.prod_version, product.test_version
    assert prod_version.number == 1 and test_version.number == 2

    with pytest.raises(ProtectedError):
        ProductVersion.objects.filter(pk=test_version.pk).delete()
    with pytest.raises(ProtectedError):
        ProductVersion.objects.filter(pk=prod_version.pk).delete()
    assert product.versions.count() == 2


def test_update_of_a_product_answers_its_current_test_version(api, store):
    data = create_product(api, ONETIME, store)
    body = product_body(ONETIME, store, name="Changed")
    body.pop("storeId")
    response = api.post(f"{ONETIME}/update-product", {"id": data["id"], **body})

    product = assert_ok(response)["data"]["product"]
    assert product["name"] == product["version"]["name"] == "Changed"
    assert product["version"]["id"] == str(product_row(data).test_version_id)


def test_a_create_replayed_with_its_idempotency_key_makes_one_product(api, store):
    body = product_body(ONETIME, store)
    headers = {"HTTP_X_IDEMPOTENCY_KEY": "create-ebook-1"}

    first = api.post(f"{ONETIME}/create-product", body, headers)
    again = api.post(f"{ONETIME}/create-product", body, headers)

    assert assert_ok(first)["data"] == assert_ok(again)["data"]
    assert again["Idempotent-Replayed"] == "true"
    assert Product.objects.filter(store=store).count() == 1
    assert ProductVersion.objects.filter(product__store=store).count() == 1


def test_an_update_replayed_with_its_idempotency_key_makes_one_version(api, store):
    data = create_product(api, ONETIME, store)
    headers = {"HTTP_X_IDEMPOTENCY_KEY": "rename-1"}
    body = {"id": data["id"], "name": "Renamed once"}

    first = assert_ok(api.post(f"{ONETIME}/update-product", body, headers))["data"]
    again = assert_ok(api.post(f"{ONETIME}/update-product", body, headers))["data"]

    assert first == again
    assert version_numbers(product_row(data)) == [1, 2]
