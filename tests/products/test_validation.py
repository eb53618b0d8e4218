"""Catalog input checks: each failure is a 400 with layer ``product`` and an exact
message naming the field, and writes nothing."""

import pytest

from products.models import Product, ProductVersion
from tests.api.helpers import assert_error, short
from tests.products.cases import CASES, usd
from tests.products.helpers import (
    ONETIME,
    SUBSCRIPTION,
    create_product,
    product_body,
    product_row,
    version_numbers,
)


def _ids(cases):
    return [f"{i}-{kind.split('-')[0]}-{field}" for i, (kind, field, _, _) in enumerate(cases)]


@pytest.mark.parametrize(("prefix", "field", "overrides", "message"), CASES, ids=_ids(CASES))
def test_create_refuses_bad_input_with_a_message_naming_the_field(
    api, store, prefix, field, overrides, message
):
    body = product_body(prefix, store)
    body.update(overrides)
    body = {k: v for k, v in body.items() if v is not None}

    response = api.post(f"{prefix}/create-product", body)

    assert_error(response, 400, message, layer="product")
    assert field in message
    assert not Product.objects.exists()
    assert not ProductVersion.objects.exists()


UPDATE_CASES = [case for case in CASES if "Missing required field" not in case[3]]


@pytest.mark.parametrize(
    ("prefix", "field", "overrides", "message"), UPDATE_CASES, ids=_ids(UPDATE_CASES)
)
def test_update_refuses_the_same_input_and_writes_no_version(
    api, store, prefix, field, overrides, message
):
    data = create_product(api, prefix, store)

    response = api.post(f"{prefix}/update-product", {"id": data["id"], **overrides})

    assert_error(response, 400, message, layer="product")
    product = product_row(data)
    assert version_numbers(product) == [1]
    assert str(product.test_version_id) == data["testVersionId"]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("name", "Missing required field: name"),
        ("prices", "Missing required field: prices"),
        ("billingPeriod", "Missing required field: billingPeriod"),
    ],
)
def test_update_cannot_null_a_required_field(api, store, field, message):
    data = create_product(api, SUBSCRIPTION, store)

    response = api.post(f"{SUBSCRIPTION}/update-product", {"id": data["id"], field: None})

    assert_error(response, 400, message, layer="product")
    assert version_numbers(product_row(data)) == [1]


@pytest.mark.parametrize(
    ("prefix", "missing", "message"),
    [
        (ONETIME, "name", "Missing required field: name"),
        (ONETIME, "prices", "Missing required field: prices"),
        (ONETIME, "storeId", "Missing required field: storeId"),
        (SUBSCRIPTION, "name", "Missing required field: name"),
        (SUBSCRIPTION, "prices", "Missing required field: prices"),
        (SUBSCRIPTION, "billingPeriod", "Missing required field: billingPeriod"),
    ],
)
def test_create_names_a_missing_required_field(api, store, prefix, missing, message):
    body = product_body(prefix, store)
    del body[missing]

    assert_error(api.post(f"{prefix}/create-product", body), 400, message, layer="product")
    assert not Product.objects.exists()


def test_update_needs_an_id(api, store):
    for prefix in (ONETIME, SUBSCRIPTION):
        for action in ("update-product", "publish-product", "update-status"):
            response = api.post(f"{prefix}/{action}", {"name": "x", "status": "active"})
            assert_error(response, 400, "Missing required field: id", layer="product")


def test_a_name_of_exactly_64_characters_is_accepted(api, store):
    name = "n" * 64
    data = create_product(api, ONETIME, store, name=name)
    assert data["name"] == name
    assert product_row(data).test_version.name == name
    response = api.post(f"{ONETIME}/update-product", {"id": data["id"], "name": name + "!"})
    assert_error(response, 400, "name must not exceed 64 characters", layer="product")


def test_a_trial_amount_needs_trial_days_in_the_merged_content(api, store):
    """Removing metadata.trialDays from a product whose price has a paid trial is refused: the
    check runs on the version that would be written, not only on the fields sent."""
    data = create_product(
        api,
        SUBSCRIPTION,
        store,
        prices=usd(trialAmount="1.00"),
        metadata={"trialDays": 7},
    )

    response = api.post(f"{SUBSCRIPTION}/update-product", {"id": data["id"], "metadata": {}})
    assert_error(
        response,
        400,
        "Invalid prices.USD.trialAmount: a paid trial needs metadata.trialDays",
        layer="product",
    )
    response = api.post(
        f"{SUBSCRIPTION}/update-product",
        {"id": data["id"], "prices": usd(amount="0.50", trialAmount="1.00")},
    )
    assert_error(
        response, 400, "Invalid prices.USD.trialAmount: must be lower than amount", layer="product"
    )
    assert version_numbers(product_row(data)) == [1]


def test_a_free_trial_needs_no_trial_amount(api, store):
    data = create_product(api, SUBSCRIPTION, store, metadata={"trialDays": 14})
    version = product_row(data).test_version
    assert version.trial_days == 14
    assert "trialAmount" not in version.prices["USD"]
    assert "trialAmount" not in data["prices"]["USD"]


def test_unknown_fields_are_ignored(api, store):
    body = product_body(ONETIME, store, colour="blue", status="inactive", testVersionId="x")
    response = api.post(f"{ONETIME}/create-product", body)
    assert response.status_code == 200, response.content
    product = Product.objects.get()
    assert product.test_status == "active"


def test_a_one_time_product_ignores_billing_period(api, store):
    data = create_product(api, ONETIME, store, billingPeriod="monthly")
    assert "billingPeriod" not in data
    assert product_row(data).test_version.billing_period is None


def test_store_id_must_be_a_store(api, store):
    response = api.post(
        f"{ONETIME}/create-product",
        product_body(ONETIME, store, storeId=short("PROD", store.pk)),
    )
    assert_error(response, 400, "Invalid storeId: expected STO_ prefix, got PROD_", layer="product")
    assert not Product.objects.exists()
