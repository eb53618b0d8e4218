"""The tax engine's and the checkout's refusals name the input they are about and a stable code,
which the hosted checkout's form reads to put its own message beside the right field."""

from __future__ import annotations

from datetime import date

import pytest

from checkout.forms import engine_error_field
from checkout.services import clean_billing_detail
from checkout.tax import calculate
from pancake.api.errors import Forbidden, InvalidInput


def tax(**kwargs):
    args = {
        "amount": 10000,
        "currency": "EUR",
        "tax_included": False,
        "tax_category": "saas",
        "on": date(2026, 11, 23),
    }
    return calculate(**{**args, **kwargs})


@pytest.mark.parametrize(
    "kwargs, error, field, code, form_field",
    [
        ({"country": "US"}, InvalidInput, "state", "required", "state"),
        ({"country": "US", "state": "ZZ"}, InvalidInput, "state", "invalid", "state"),
        ({"country": "XX"}, InvalidInput, "country", "invalid", None),
        ({"country": "IR"}, Forbidden, "country", "sanctioned", "country"),
        (
            {"country": "US", "state": "CA", "ip_country": "IR"},
            Forbidden,
            "ipCountry",
            "sanctioned",
            "country",
        ),
        (
            {"country": "DE", "is_business": True, "business_name": "Acme GmbH"},
            InvalidInput,
            "taxId",
            "required",
            "tax_id",
        ),
        (
            {"country": "DE", "is_business": True, "business_name": "Acme", "tax_id": "DE1"},
            InvalidInput,
            "taxId",
            "invalid",
            "tax_id",
        ),
        ({"country": "DE", "is_business": True}, InvalidInput, "businessName", "required", None),
        ({"country": "DE", "tax_category": "nope"}, InvalidInput, "taxCategory", "invalid", None),
    ],
)
def test_tax_refusals_name_their_field_and_code(kwargs, error, field, code, form_field):
    with pytest.raises(error) as caught:
        tax(**kwargs)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert engine_error_field(caught.value)[0] == form_field


def test_the_form_message_follows_the_code_not_the_text():
    required = InvalidInput("anything at all", field="taxId", code="required")
    invalid = InvalidInput("taxId is required", field="taxId", code="invalid")
    assert engine_error_field(required) == ("tax_id", "Enter your company's VAT number.")
    assert engine_error_field(invalid) == (
        "tax_id",
        "This tax ID is not valid for the selected country.",
    )
    blocked = Forbidden("State", field="state", code="sanctioned")
    assert engine_error_field(blocked)[0] == "country"


@pytest.mark.parametrize(
    "detail, field",
    [
        ("DE", "billingDetail"),
        ({"country": "de"}, "billingDetail.country"),
        ({"country": "DE", "isBusiness": "yes"}, "billingDetail.isBusiness"),
        ({"country": "DE", "postcode": 5}, "billingDetail.postcode"),
    ],
)
def test_a_malformed_billing_detail_names_the_key(detail, field):
    with pytest.raises(InvalidInput) as caught:
        clean_billing_detail(detail)
    assert caught.value.field == field


def test_a_business_name_with_control_characters_is_refused():
    with pytest.raises(InvalidInput) as caught:
        clean_billing_detail({"country": "DE", "isBusiness": True, "businessName": "Acme\nGmbH"})
    assert (caught.value.field, caught.value.code) == (
        "billingDetail.businessName",
        "control_characters",
    )
    assert clean_billing_detail({"country": "DE", "businessName": " Acme GmbH "}) == {
        "country": "DE",
        "isBusiness": False,
        "businessName": "Acme GmbH",
    }
