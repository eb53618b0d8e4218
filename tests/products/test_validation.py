"""Catalog input checks: each failure is a 400 with layer ``product`` and an exact
message naming the field, and writes nothing."""

import pytest

from products.models import Product, ProductVersion
from tests.api.helpers import assert_error, short
from tests.products.helpers import (
    ONETIME,
    SUBSCRIPTION,
    create_product,
    product_body,
    product_row,
    version_numbers,
)

TAX = "digital_goods, saas, software, ebook, online_course, consulting, professional_service"
PERIODS = "Invalid billingPeriod: expected weekly, monthly, quarterly or yearly"
TRIAL_DAYS = "Invalid metadata.trialDays: expected a whole number of days from 1 to 730"
NOT_AN_AMOUNT = 'Invalid prices.USD.amount: {!r} is not an amount like "29.00"'


def usd(**price):
    return {"USD": {"amount": "9.99", "taxCategory": "saas", **price}}


# (kind, field named in the message, body overrides, message)
CASES = [
    (ONETIME, "name", {"name": "x" * 65}, "name must not exceed 64 characters"),
    (SUBSCRIPTION, "name", {"name": "é" * 65}, "name must not exceed 64 characters"),
    (ONETIME, "name", {"name": None}, "Missing required field: name"),
    (ONETIME, "name", {"name": "   "}, "Missing required field: name"),
    (SUBSCRIPTION, "name", {"name": ""}, "Missing required field: name"),
    # PostgreSQL text cannot hold NUL: refused up front instead of failing in the database.
    (ONETIME, "name", {"name": "E-\x00Book"}, "Invalid name: NUL characters are not allowed"),
    (
        SUBSCRIPTION,
        "description",
        {"description": "Fine\x00"},
        "Invalid description: NUL characters are not allowed",
    ),
    (ONETIME, "prices", {"prices": None}, "Missing required field: prices"),
    (SUBSCRIPTION, "prices", {"prices": None}, "Missing required field: prices"),
    (
        SUBSCRIPTION,
        "billingPeriod",
        {"billingPeriod": None},
        "Missing required field: billingPeriod",
    ),
    (SUBSCRIPTION, "billingPeriod", {"billingPeriod": "daily"}, PERIODS),
    (SUBSCRIPTION, "billingPeriod", {"billingPeriod": "Monthly"}, PERIODS),
    (SUBSCRIPTION, "billingPeriod", {"billingPeriod": 30}, PERIODS),
    (
        ONETIME,
        "prices",
        {"prices": {"XYZ": {"amount": "1.00", "taxCategory": "ebook"}}},
        "Invalid prices: 'XYZ' is not an ISO 4217 currency code",
    ),
    (
        ONETIME,
        "prices",
        {"prices": {"usd": {"amount": "1.00", "taxCategory": "ebook"}}},
        "Invalid prices: 'usd' is not an ISO 4217 currency code",
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": {"USD": {"amount": "29.999", "taxCategory": "ebook"}}},
        "Invalid prices.USD.amount: USD amounts have at most 2 decimal places",
    ),
    (
        ONETIME,
        "prices.JPY.amount",
        {"prices": {"JPY": {"amount": "1.5", "taxCategory": "ebook"}}},
        "Invalid prices.JPY.amount: JPY amounts have at most 0 decimal places",
    ),
    (
        SUBSCRIPTION,
        "prices.BHD.amount",
        {"prices": {"BHD": {"amount": "1.2345", "taxCategory": "saas"}}},
        "Invalid prices.BHD.amount: BHD amounts have at most 3 decimal places",
    ),
    (ONETIME, "prices.USD.amount", {"prices": usd(amount="-1")}, NOT_AN_AMOUNT.format("-1")),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount=-100)},
        "Invalid prices.USD.amount: amount must not be negative",
    ),
    (ONETIME, "prices.USD.amount", {"prices": usd(amount="1e3")}, NOT_AN_AMOUNT.format("1e3")),
    (ONETIME, "prices.USD.amount", {"prices": usd(amount="")}, NOT_AN_AMOUNT.format("")),
    (ONETIME, "prices.USD.amount", {"prices": usd(amount=".5")}, NOT_AN_AMOUNT.format(".5")),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount=" 29.00")},
        NOT_AN_AMOUNT.format(" 29.00"),
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount="1,000")},
        NOT_AN_AMOUNT.format("1,000"),
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount=29.5)},
        "Invalid prices.USD.amount: a numeric amount is in minor units and must be a whole number",
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": usd(amount=True)},
        "Invalid prices.USD.amount: expected an amount",
    ),
    (
        ONETIME,
        "prices.USD.amount",
        {"prices": {"USD": {"taxCategory": "ebook"}}},
        "Missing required field: prices.USD.amount",
    ),
    (
        ONETIME,
        "prices.USD.taxCategory",
        {"prices": usd(taxCategory="food")},
        f"Invalid prices.USD.taxCategory: expected one of {TAX}",
    ),
    (
        ONETIME,
        "prices.USD.taxCategory",
        {"prices": usd(taxCategory="SaaS")},
        f"Invalid prices.USD.taxCategory: expected one of {TAX}",
    ),
    (
        ONETIME,
        "prices.USD.taxCategory",
        {"prices": {"USD": {"amount": "1.00"}}},
        "Missing required field: prices.USD.taxCategory",
    ),
    (
        ONETIME,
        "prices.USD.taxIncluded",
        {"prices": usd(taxIncluded="false")},
        "Invalid prices.USD.taxIncluded: expected true or false",
    ),
    (
        ONETIME,
        "prices.USD.taxIncluded",
        {"prices": usd(taxIncluded=0)},
        "Invalid prices.USD.taxIncluded: expected true or false",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="1.00")},
        "Invalid prices.USD.trialAmount: a paid trial needs metadata.trialDays",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="9.99"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: must be lower than amount",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="10.00"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: must be lower than amount",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="1.005"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: USD amounts have at most 2 decimal places",
    ),
    (
        SUBSCRIPTION,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="-1"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: '-1' is not an amount like \"29.00\"",
    ),
    (
        ONETIME,
        "prices.USD.trialAmount",
        {"prices": usd(trialAmount="1.00"), "metadata": {"trialDays": 7}},
        "Invalid prices.USD.trialAmount: only subscription products have trials",
    ),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": 0}}, TRIAL_DAYS),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": "7"}}, TRIAL_DAYS),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": True}}, TRIAL_DAYS),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": 7.5}}, TRIAL_DAYS),
    (SUBSCRIPTION, "metadata.trialDays", {"metadata": {"trialDays": 731}}, TRIAL_DAYS),
    (
        ONETIME,
        "metadata",
        {"metadata": ["sku"]},
        "Invalid metadata: expected a JSON object",
    ),
    (
        ONETIME,
        "media[0].type",
        {"media": [{"type": "audio", "url": "https://example.com/a.mp3"}]},
        "Invalid media[0].type: expected image or video",
    ),
    (
        ONETIME,
        "media[1].url",
        {
            "media": [
                {"type": "image", "url": "https://example.com/a.png"},
                {"type": "image", "url": "javascript:alert(1)"},
            ]
        },
        "Invalid media[1].url: expected an http(s) URL",
    ),
    (
        ONETIME,
        "media[0].url",
        {"media": [{"type": "video", "url": "ftp://example.com/a.mp4"}]},
        "Invalid media[0].url: expected an http(s) URL",
    ),
    (
        ONETIME,
        "media[0].url",
        {"media": [{"type": "image"}]},
        "Missing required field: media[0].url",
    ),
    (
        ONETIME,
        "media[0].thumbnail",
        {"media": [{"type": "image", "url": "https://example.com/a.png", "thumbnail": "data:x"}]},
        "Invalid media[0].thumbnail: expected an http(s) URL",
    ),
    (
        ONETIME,
        "media",
        {"media": {"type": "image"}},
        "Invalid media: expected a list of {type, url, alt, thumbnail}",
    ),
    (
        ONETIME,
        "successUrl",
        {"successUrl": "ftp://example.com/thanks"},
        "Invalid successUrl: expected an http(s) URL",
    ),
    (
        SUBSCRIPTION,
        "successUrl",
        {"successUrl": "javascript:alert(1)"},
        "Invalid successUrl: expected an http(s) URL",
    ),
    (
        ONETIME,
        "successUrl",
        {"successUrl": "example.com/thanks"},
        "Invalid successUrl: expected an http(s) URL",
    ),
    (
        ONETIME,
        "prices",
        {"prices": {}},
        "Invalid prices: expected an object with at least one currency",
    ),
    (
        ONETIME,
        "prices",
        {"prices": "29.00"},
        "Invalid prices: expected an object with at least one currency",
    ),
    (
        SUBSCRIPTION,
        "prices",
        {"prices": [{"USD": {"amount": "1.00", "taxCategory": "saas"}}]},
        "Invalid prices: expected an object with at least one currency",
    ),
    (
        ONETIME,
        "prices.USD",
        {"prices": {"USD": "29.00"}},
        "Invalid prices.USD: expected an object with amount and taxCategory",
    ),
    (
        ONETIME,
        "description",
        {"description": ["not", "markdown"]},
        "Invalid description: expected a Markdown string or null",
    ),
]


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
