"""Catalog refusals say which API field they are about (``exc.field``) and how (``exc.code``);
the dashboard forms put them beside the matching input by that field alone, never by reading the
message (every message below is the same word, so only the field can place it)."""

from __future__ import annotations

import pytest

from pancake.api.errors import InvalidInput
from products import services
from products.api import CONTENT_FIELDS
from products.forms import GroupForm, ProductForm
from products.models import Product
from stores import services as store_services
from tests.factories import MerchantFactory
from tests.products.cases import CASES
from tests.products.helpers import SUBSCRIPTION, product_body

# The API field a refusal names, where it is not the one the message leads with.
FIELD_OF_MESSAGE = {
    "Invalid prices: 'XYZ' is not an ISO 4217 currency code": "prices.XYZ",
    "Invalid prices: 'usd' is not an ISO 4217 currency code": "prices.usd",
}
CODE_OF_MESSAGE = {
    "name must not exceed 64 characters": "too_long",
    "Invalid prices: 'XYZ' is not an ISO 4217 currency code": "unknown_currency",
    "Invalid prices: 'usd' is not an ISO 4217 currency code": "unknown_currency",
}


@pytest.fixture
def shop(db):
    return store_services.store_create(merchant=MerchantFactory(), name="Maple Shop")


# The API's own input checks answer a missing field before the service is called.
SERVICE_CASES = [case for case in CASES if None not in case[2].values()]


@pytest.mark.parametrize(("prefix", "field", "overrides", "message"), SERVICE_CASES)
def test_every_catalog_refusal_names_its_api_field_and_code(
    shop, prefix, field, overrides, message
):
    body = product_body(prefix, shop)
    body.update(overrides)
    content = {CONTENT_FIELDS[k]: v for k, v in body.items() if k in CONTENT_FIELDS}
    content.setdefault("name", None)
    content.setdefault("prices", None)

    with pytest.raises(InvalidInput) as caught:
        services.product_create(
            store=shop, kind="subscription" if prefix == SUBSCRIPTION else "onetime", **content
        )

    assert caught.value.message == message
    assert caught.value.field == FIELD_OF_MESSAGE.get(message, field)
    expected_code = "required" if message.startswith("Missing required field") else "invalid"
    assert caught.value.code == CODE_OF_MESSAGE.get(message, expected_code)
    assert not Product.objects.exists()


# --- the product form ----------------------------------------------------------------------------


def _row(index: int, currency: str, amount: str) -> dict:
    return {
        f"price-{index}-currency": currency,
        f"price-{index}-amount": amount,
        f"price-{index}-tax_category": "saas",
        f"price-{index}-tax_behaviour": "exclusive",
        f"price-{index}-trial_amount": "",
    }


def _product_form() -> ProductForm:
    data = {
        "kind": "subscription",
        "name": "Pro Plan",
        "billing_period": "monthly",
        **_row(0, "USD", "9.99"),
        **_row(1, "EUR", "8.99"),
    }
    form = ProductForm(data)
    assert form.is_valid(), form.errors
    return form


def _errors_by_place(form: ProductForm) -> dict[str, list[str]]:
    """Every error of the form and its price rows, by where the page shows it."""
    places = {
        (name if name != "__all__" else "top"): list(errors) for name, errors in form.errors.items()
    }
    for row in form.price_forms:
        for name, errors in row.errors.items():
            places[f"{row['currency'].value()}:{name}"] = list(errors)
    if form.price_errors:
        places["prices"] = list(form.price_errors)
    return places


REFUSED = "Refused"


@pytest.mark.parametrize(
    ("field", "place"),
    [
        ("prices.EUR.amount", "EUR:amount"),
        ("prices.USD.amount", "USD:amount"),
        ("prices.EUR.trialAmount", "EUR:trial_amount"),
        ("prices.EUR.taxCategory", "EUR:tax_category"),
        ("prices.EUR", "EUR:currency"),
        ("prices.GBP.amount", "prices"),  # no GBP row: above the rows
        ("prices", "prices"),
        ("metadata.trialDays", "trial_days"),
        ("metadata", "metadata"),
        ("metadata.plan", "metadata"),
        ("media[0].alt", "image_alt"),
        ("media[0].url", "image_url"),
        ("media", "image_url"),
        ("successUrl", "success_url"),
        ("billingPeriod", "billing_period"),
        ("description", "description"),
        ("name", "name"),
        ("storeId", "top"),
        (None, "top"),
    ],
)
def test_the_product_form_puts_a_refusal_beside_the_input_its_field_names(field, place):
    form = _product_form()

    form.add_service_error(InvalidInput(REFUSED, field=field))

    places = _errors_by_place(form)
    assert REFUSED in places.pop(place)
    if place.startswith(("USD:", "EUR:", "prices")):
        assert places.pop("top") == ["Check the prices below."]
    assert places == {}  # nowhere else


# --- the group form ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "place"),
    [
        ("productIds", "product_ids"),
        ("name", "name"),
        ("description", "description"),
        ("rules.sharedTrial", "__all__"),
        (None, "__all__"),
    ],
)
def test_the_group_form_puts_a_refusal_beside_the_input_its_field_names(field, place):
    form = GroupForm({"name": "Plans"}, products=[])
    assert form.is_valid(), form.errors

    form.add_service_error(InvalidInput(REFUSED, field=field))

    assert dict(form.errors) == {place: [REFUSED]}
