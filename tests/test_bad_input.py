"""Bad input on every action gets a 4xx in the envelope, never a 500.

For each registered action, each field of its Input serializer gets a series of wrong values
(wrong types, nulls, NUL bytes, huge and nested values), signed by a real merchant key.

Names (stores, products of both kinds, product groups, API keys) refuse control characters
(line breaks, tabs, C0/C1 controls, U+2028/U+2029, bidirectional overrides and isolates,
zero-width spaces): through the API and through the dashboard's forms, a 400 naming the field.
"""

import json
import re

import pytest
from django.urls import reverse
from rest_framework import serializers

from pancake.api import ids
from pancake.api.errors import InvalidInput
from pancake.api.registry import REGISTRY
from pancake.text import check_no_control
from products.models import Product, ProductGroup
from stores.models import ApiKey, Store
from tests.api.helpers import assert_error
from tests.factories import public_pem

GARBAGE = [
    None,
    True,
    0,
    -1,
    10**40,
    1.5,
    "",
    " ",
    "a\u0000b",
    "x" * 5000,
    "STO_zzzzzzzzzzzzzzzzzzzzzz",
    "PROD_0000000000000000000000",
    "00000000-0000-0000-0000-000000000000",
    [],
    [1, {"a": None}],
    {},
    {"nested": {"deeper": ["\u0000", 1e308]}},
]
BODIES = [
    b"",
    b"null",
    b"[]",
    b'"str"',
    b"{",
    b"\xff\xfe",
    b'{"a":' * 50 + b"1" + b"}" * 50,
    b"[" * 5000,
]


def _fields(action_cls):
    if action_cls.Input is None:
        return []
    return list(action_cls.Input().fields)


def _valid_base(action_cls, store_id: str, merchant_id: str) -> dict:
    """A body whose other fields are plausible, so each garbage value is tested on its own."""
    base = {}
    for name in _fields(action_cls):
        if name in ("id", "storeId"):
            base[name] = store_id
        elif name == "merchantId":
            base[name] = merchant_id
        elif name == "email":
            base[name] = "someone@example.com"
        elif name == "role":
            base[name] = "member"
        elif name == "name":
            base[name] = "Fine"
        elif name == "buyerIdentity":
            base[name] = "user-1"
    return base


def _assert_envelope_4xx(response, context):
    assert 400 <= response.status_code < 500 or response.status_code in (200, 501), (
        context,
        response.content,
    )
    body = response.json()
    if response.status_code >= 400:
        assert body["data"] is None and body["errors"][0]["message"], context
        assert body["errors"][0]["layer"] in {
            "gateway",
            "user",
            "store",
            "product",
            "order",
            "ticket",
            "graphql",
            "resource",
            "email",
        }


@pytest.mark.parametrize("path", sorted(REGISTRY))
def test_every_field_of_every_action_refuses_garbage_with_a_4xx_envelope(path, api, store):
    action_cls = REGISTRY[path]
    store_id = ids.encode("STO", store.pk)
    base = _valid_base(action_cls, store_id, api.merchant_id)
    for field in _fields(action_cls) or ["anything"]:
        for value in GARBAGE:
            body = {**base, field: value}
            response = api.post(path, body)
            _assert_envelope_4xx(response, (path, field, value))


@pytest.mark.parametrize("path", sorted(REGISTRY))
def test_every_action_refuses_malformed_bodies_with_a_4xx_envelope(path, api):
    for raw in BODIES:
        response = api.raw(f"/v1/actions/{path}", raw)
        _assert_envelope_4xx(response, (path, raw[:20]))


def test_field_serializers_have_messages_for_every_failure():
    """Every validation error an Input can raise carries a message (no empty 400s)."""
    for path, action_cls in REGISTRY.items():
        if action_cls.Input is None:
            continue
        serializer = action_cls.Input(data={})
        serializer.is_valid()
        for name, field in serializer.fields.items():
            assert isinstance(field, serializers.Field)
            for code, message in field.error_messages.items():
                assert message, (path, name, code)
        json.dumps(serializer.errors)


# --- control characters in names -----------------------------------------------------------------

CONTROL_NAMES = [
    "Acme\x16Shop",  # SYN: what fuzzing the OpenAPI document found
    "Acme\nShop",
    "Acme\r\nBcc: victim@example.com",
    "Acme\tShop",
    "Acme\x7fShop",  # DEL
    "Acme\x85Shop",  # NEL, a C1 line break
    "Acme\u2028Shop",  # line separator
    "Acme\u2029Shop",  # paragraph separator
    "Acme \u202eevil.exe",  # right-to-left override
    "Acme \u2067Shop",  # right-to-left isolate
    "Acme\u200bShop",  # zero-width space
    "\ufeffAcme",  # byte-order mark
]
TEXT_NAMES = [
    "Café Crème",
    "👩\u200d💻 Studio",  # zero-width joiner: one emoji
    "\u05e9\u05dc\u05d5\u05dd\u200f Shop",  # a right-to-left mark in a mixed name
    "می\u200cخواهم",  # zero-width non-joiner (Persian)
    "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f Tea",  # flag tags
    "Private \ue000 use",
]
CONTROL_MESSAGE = "Invalid name: control characters are not allowed"


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_the_shared_check_refuses_control_characters_naming_the_field(name):
    with pytest.raises(InvalidInput) as caught:
        check_no_control(name, layer="store")
    error = caught.value
    assert (error.status, error.field, error.code) == (400, "name", "control_characters")
    assert str(error) == CONTROL_MESSAGE


@pytest.mark.parametrize("name", TEXT_NAMES)
def test_the_shared_check_keeps_what_written_text_needs(name):
    assert check_no_control(name) == name


def _name_actions(store_id: str, product_ids: dict, group_id: str) -> list[tuple[str, dict, str]]:
    """(action, body without a name, layer) for every action that takes a name."""
    usd = {"USD": {"amount": "9.99", "taxCategory": "saas"}}
    return [
        ("store/create-store", {}, "store"),
        ("store/update-store", {"id": store_id}, "store"),
        ("onetime-product/create-product", {"storeId": store_id, "prices": usd}, "product"),
        ("onetime-product/update-product", {"id": product_ids["onetime"]}, "product"),
        (
            "subscription-product/create-product",
            {"storeId": store_id, "prices": usd, "billingPeriod": "monthly"},
            "product",
        ),
        ("subscription-product/update-product", {"id": product_ids["subscription"]}, "product"),
        ("subscription-product-group/create-group", {"storeId": store_id}, "product"),
        ("subscription-product-group/update-group", {"id": group_id}, "product"),
    ]


@pytest.fixture
def named(api, store):
    """A store with one product of each kind and a group, as the API made them."""
    store_id = ids.encode("STO", store.pk)
    usd = {"USD": {"amount": "9.99", "taxCategory": "saas"}}
    products = {
        "onetime": api.call(
            "onetime-product/create-product", {"storeId": store_id, "name": "Book", "prices": usd}
        )["data"]["id"],
        "subscription": api.call(
            "subscription-product/create-product",
            {"storeId": store_id, "name": "Plan", "prices": usd, "billingPeriod": "monthly"},
        )["data"]["id"],
    }
    group = api.call(
        "subscription-product-group/create-group", {"storeId": store_id, "name": "Plans"}
    )["data"]["group"]["id"]
    return _name_actions(store_id, products, group)


def _names() -> set[str]:
    return (
        set(Store.objects.values_list("name", flat=True))
        | {p.test_version.name for p in Product.objects.select_related("test_version")}
        | set(ProductGroup.objects.values_list("name", flat=True))
    )


@pytest.mark.parametrize("name", CONTROL_NAMES)
def test_every_action_taking_a_name_refuses_control_characters_with_a_400(api, named, name):
    before = _names()
    for path, body, layer in named:
        response = api.post(path, {**body, "name": name})
        assert_error(response, 400, CONTROL_MESSAGE, layer=layer)
    assert _names() == before
    assert Store.objects.count() == 1 and Product.objects.count() == 2


def test_names_with_the_characters_text_needs_are_accepted(api, named):
    for name in TEXT_NAMES:
        for path, body, _layer in named:
            response = api.post(path, {**body, "name": name})
            assert response.status_code == 200, (path, name, response.content)


def test_the_fuzzed_store_name_no_longer_breaks_the_invite(
    api, store, django_capture_on_commit_callbacks, mailoutbox
):
    """What fuzzing found: a name with a control character was stored, and inviting a member
    then failed building the email's subject (a 500 with in-process tasks)."""
    store_id = ids.encode("STO", store.pk)
    response = api.post("store/update-store", {"id": store_id, "name": "Shop\x16\n"})
    assert_error(response, 400, CONTROL_MESSAGE, layer="store")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "store-merchant/add-merchant",
            {"storeId": store_id, "email": "new@example.com", "role": "member"},
        )
    assert response.status_code == 200, response.content
    assert [m.subject for m in mailoutbox] == ["You're invited to My Store on Pancake"]


# --- the same names through the dashboard's forms ------------------------------------------------


@pytest.fixture
def owner_client(client, api, store):
    client.force_login(api.merchant)
    return client


def _error_beside(html: str, field_id: str) -> str:
    block = re.search(rf'<ul class="errorlist" id="{field_id}_error">.*?</ul>', html, re.S)
    return block.group(0) if block else ""


@pytest.mark.parametrize("name", ["Acme\x16Shop", "Acme\u2028Shop", "Acme \u202eevil"])
def test_the_product_forms_show_the_refusal_beside_the_name(owner_client, store, name):
    price = {
        "price-0-currency": "USD",
        "price-0-amount": "29.00",
        "price-0-tax_category": "saas",
        "price-0-tax_behaviour": "exclusive",
    }
    for kind in ("onetime", "subscription"):
        response = owner_client.post(
            reverse("products:new", args=[store.pk]),
            {"kind": kind, "name": name, "billing_period": "monthly", **price},
        )
        html = response.content.decode()
        assert response.status_code == 400
        assert CONTROL_MESSAGE in _error_beside(html, "id_name")
    assert not Product.objects.exists()


def test_the_group_form_shows_the_refusal_beside_the_name(owner_client, store):
    response = owner_client.post(
        reverse("products:group-new", args=[store.pk]), {"name": "Plans\x16"}
    )
    assert response.status_code == 400
    assert CONTROL_MESSAGE in _error_beside(response.content.decode(), "id_name")
    assert not ProductGroup.objects.exists()


def test_the_store_forms_refuse_a_name_with_control_characters(owner_client, store):
    response = owner_client.post(
        reverse("dashboard:onboarding"),
        {"name": "New\u2028Shop", "default_currency": "USD", "country": "US"},
    )
    assert response.status_code == 400
    assert CONTROL_MESSAGE in response.content.decode()
    response = owner_client.post(
        reverse("dashboard:settings-details", args=[store.pk]),
        {
            "name": "My\x16Store",
            "support_email": "",
            "website": "",
            "description": "",
            "default_currency": store.default_currency,
            "timezone": store.timezone,
            "logo": "",
            "status": store.status,
        },
    )
    assert response.status_code == 400
    assert CONTROL_MESSAGE in response.content.decode()
    assert list(Store.objects.values_list("name", flat=True)) == ["My Store"]


def test_the_api_key_form_refuses_a_name_with_control_characters(owner_client, store, key_pool):
    response = owner_client.post(
        reverse("dashboard:developers", args=[store.pk]),
        {
            "name": "Server\x16",
            "environment": "test",
            "api_version": "2026-09-23",
            "public_key": public_pem(key_pool[2]),
        },
    )
    assert response.status_code == 400
    assert CONTROL_MESSAGE in response.content.decode()
    assert not ApiKey.objects.filter(name__startswith="Server").exists()
