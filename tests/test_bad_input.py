"""Bad input on every action gets a 4xx in the envelope, never a 500 (SPEC 3, 15).

For each registered action, each field of its Input serializer gets a series of wrong values
(wrong types, nulls, NUL bytes, huge and nested values), signed by a real merchant key.
"""

import json

import pytest
from rest_framework import serializers

from pancake.api import ids
from pancake.api.registry import REGISTRY

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
