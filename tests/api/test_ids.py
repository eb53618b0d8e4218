"""Short ids (docs/api-versions.md): PREFIX_ + 128 bits in base62, both forms accepted."""

import json
import uuid

import pytest

from pancake.api import ids
from pancake.api.errors import InvalidInput
from stores.models import BuyerSession, StoreMembership
from tests.api.helpers import assert_error, assert_ok, id_forms, short
from tests.factories import MerchantFactory
from tests.helpers import sign_headers

# The SDK's published id pairs, every one.
PAIRS = [
    ("550e8400-e29b-41d4-a716-446655440000", "STO_2aUyqjCzEIiEcYMKj7TZtw"),
    ("0b7e6f2a-3c1d-4e5f-8a9b-0c1d2e3f4a5b", "MER_0LghADC2I5iDUl3lXqo2EV"),
    ("7c9e6679-7425-40de-944b-e07fc1f90ae7", "PROD_3n9R8RlRyqVJBUQUv6toL1"),
    ("f47ac10b-58cc-4372-a567-0e02b2c3d479", "PROD_7RKE2sawAICsEsyZKHWW6r"),
    ("9b2e1f4c-8d3a-4f6b-9c1e-2a3b4c5d6e7f", "ORD_4iot5pxGda3LVZWHYRIaeV"),
    ("3d6f0a2b-1c4e-4a5b-8d9c-7e6f5a4b3c2d", "PAY_1rvHBi6MTnfqp9avNWvcOj"),
    ("a1b2c3d4-e5f6-4789-8abc-def012345678", "TKT_4v7SY1Hl6OoZUURuMjfTiK"),
    ("00000000-0000-4000-8000-000000000001", "PROD_000000001VgEh72lXvTXkH"),
    ("00000000-0000-0000-0000-000000000000", "ORD_0000000000000000000000"),
    ("ffffffff-ffff-ffff-ffff-ffffffffffff", "PAY_7n42DGM5Tflk9n8mt7Fhc7"),
]


@pytest.mark.parametrize(("value", "short_id"), PAIRS)
def test_sdk_id_pairs_encode(value, short_id):
    prefix = short_id.split("_")[0]
    assert ids.encode(prefix, uuid.UUID(value)) == short_id
    assert ids.encode(prefix, value) == short_id


@pytest.mark.parametrize(("value", "short_id"), PAIRS)
def test_sdk_id_pairs_decode(value, short_id):
    prefix = short_id.split("_")[0]
    assert ids.decode_short(short_id, prefix) == uuid.UUID(value)
    assert ids.parse_id(short_id, prefix) == uuid.UUID(value)


def test_every_short_id_has_22_characters_after_the_prefix():
    for _value, short_id in PAIRS:
        assert len(short_id.split("_")[1]) == 22
    for _ in range(200):
        value = uuid.uuid4()
        encoded = ids.encode("STO", value)
        assert len(encoded) == 4 + 22
        assert ids.parse_id(encoded, "STO") == value


def test_small_values_are_left_padded_with_zeros():
    assert ids.encode("ORD", uuid.UUID(int=0)) == "ORD_" + "0" * 22
    assert ids.encode("ORD", uuid.UUID(int=61)) == "ORD_" + "0" * 21 + "z"
    assert ids.encode("ORD", uuid.UUID(int=62)) == "ORD_" + "0" * 20 + "10"


def test_largest_value_is_7n42DGM5Tflk9n8mt7Fhc7():
    assert ids.encode("PAY", uuid.UUID(int=2**128 - 1)) == "PAY_7n42DGM5Tflk9n8mt7Fhc7"
    assert ids.parse_id("PAY_7n42DGM5Tflk9n8mt7Fhc7", "PAY").int == 2**128 - 1


@pytest.mark.parametrize(
    "body",
    ["7n42DGM5Tflk9n8mt7Fhc8", "8000000000000000000000", "zzzzzzzzzzzzzzzzzzzzzz"],
)
def test_value_of_2_to_the_128_or_more_is_refused(body):
    with pytest.raises(InvalidInput, match="out of range"):
        ids.parse_id(f"PAY_{body}", "PAY")


def test_wrong_prefix_is_refused():
    with pytest.raises(InvalidInput, match="expected STO_ prefix, got PROD_"):
        ids.parse_id("PROD_3n9R8RlRyqVJBUQUv6toL1", "STO")


@pytest.mark.parametrize(
    "value",
    [
        "STO_2aUyqjCzEIiEcYMKj7TZt-",  # '-' is not base62
        "STO_2aUyqjCzEIiEcYMKj7TZt+",
        "STO_2aUyqjCzEIiEcYMKj7TZt_",
        "STO_2aUyqjCzEIiEcYMKj7TZtй",
        "STO_2aUyqjCzEIiEcYMKj7TZt",  # 21 characters
        "STO_2aUyqjCzEIiEcYMKj7TZtww",  # 23 characters
        "STO_",
        "sto_2aUyqjCzEIiEcYMKj7TZtw",
        "STO 2aUyqjCzEIiEcYMKj7TZtw",
        "",
        "   ",
        "550e8400-e29b-41d4-a716-44665544000",  # a UUID short of a digit
        "not-an-id",
    ],
)
def test_malformed_ids_are_refused(value):
    with pytest.raises(InvalidInput):
        ids.parse_id(value, "STO")


@pytest.mark.parametrize("value", [None, 42, 4.2, True, ["STO_2aUyqjCzEIiEcYMKj7TZtw"], {}])
def test_non_string_ids_are_refused(value):
    with pytest.raises(InvalidInput):
        ids.parse_id(value, "STO")


@pytest.mark.parametrize(
    "value",
    [
        "550e8400-e29b-41d4-a716-446655440000",
        "550E8400-E29B-41D4-A716-446655440000",
        "550e8400e29b41d4a716446655440000",
        "550E8400E29B41D4A716446655440000",
    ],
)
def test_uuid_input_with_or_without_dashes_in_any_case_is_accepted(value):
    assert ids.parse_id(value, "STO") == uuid.UUID("550e8400-e29b-41d4-a716-446655440000")


def test_plain_uuid_fields_refuse_short_ids():
    with pytest.raises(InvalidInput, match="expected a UUID"):
        ids.parse_id("STO_2aUyqjCzEIiEcYMKj7TZtw", None)


def test_error_names_the_field():
    with pytest.raises(InvalidInput, match="Invalid storeId"):
        ids.parse_id("PROD_3n9R8RlRyqVJBUQUv6toL1", "STO", field="storeId")


# --- through the API --------------------------------------------------------------------------


def test_wrong_prefix_on_update_store_is_400_naming_the_field(api, store):
    response = api.post("store/update-store", {"id": short("PROD", store.pk), "name": "X"})
    assert_error(response, 400, "Invalid id: expected STO_ prefix, got PROD_", layer="store")


@pytest.mark.parametrize(
    "bad",
    ["STO_zzzzzzzzzzzzzzzzzzzzzz", "STO_2aUyqjCzEIiEcYMKj7TZt", "STO_2aUyqjCzEIiEcYMKj7TZt!", 123],
)
def test_malformed_store_id_is_400_through_the_api(api, store, bad):
    error = assert_error(api.post("store/update-store", {"id": bad, "name": "X"}), 400)
    assert error["message"].startswith("Invalid id")
    store.refresh_from_db()
    assert store.name == "My Store"


def test_wrong_prefix_on_merchant_id_is_400(api, store, make_api, member_of):
    other = make_api()
    member_of(store, other.merchant, "member")
    payload = {"storeId": short("STO", store.pk), "merchantId": short("STO", other.merchant.pk)}
    error = assert_error(api.post("store-merchant/remove-merchant", payload), 400)
    assert error["message"] == "Invalid merchantId: expected MER_ prefix, got STO_"


FORMS = ["short", "uuid", "uuid-upper-nodash"]


@pytest.mark.parametrize("form", FORMS)
def test_update_and_delete_store_accept_every_id_form(api, store, form):
    store_id = id_forms("STO", store.pk)[form]
    assert_ok(api.post("store/update-store", {"id": store_id, "name": f"Via {form}"}))
    store.refresh_from_db()
    assert store.name == f"Via {form}"
    assert_ok(api.post("store/delete-store", {"id": store_id}))
    store.refresh_from_db()
    assert store.deleted_at is not None


@pytest.mark.parametrize("form", FORMS)
def test_team_actions_accept_every_id_form(api, store, form):
    store_id = id_forms("STO", store.pk)[form]
    added = assert_ok(
        api.post(
            "store-merchant/add-merchant",
            {"storeId": store_id, "email": "teammate@example.com", "role": "member"},
        )
    )["data"]
    teammate = StoreMembership.objects.get(store=store, role="member").merchant
    merchant_id = id_forms("MER", teammate.pk)[form]
    assert added["merchantId"] == short("MER", teammate.pk)
    assert_ok(
        api.post(
            "store-merchant/update-role",
            {"storeId": store_id, "merchantId": merchant_id, "role": "admin"},
        )
    )
    assert StoreMembership.objects.get(store=store, merchant=teammate).role == "admin"
    assert_ok(
        api.post("store-merchant/remove-merchant", {"storeId": store_id, "merchantId": merchant_id})
    )
    assert not StoreMembership.objects.filter(store=store, merchant=teammate).exists()


@pytest.mark.parametrize("form", FORMS)
def test_issue_session_token_accepts_every_id_form(api, store, form):
    from products.services import product_create

    product = product_create(
        store=store,
        kind="onetime",
        name="Book",
        prices={"USD": {"amount": 100, "taxCategory": "ebook"}},
    )
    payload = {"storeId": id_forms("STO", store.pk)[form], "buyerIdentity": "b@example.com"}
    assert_ok(api.post("auth/issue-session-token", payload))
    payload = {"productId": id_forms("PROD", product.pk)[form], "buyerIdentity": "b@example.com"}
    assert_ok(api.post("auth/issue-session-token", payload))
    assert BuyerSession.objects.filter(store=store).count() == 2


@pytest.mark.parametrize("form", FORMS)
def test_x_merchant_id_accepts_every_id_form(api, form):
    path = "/v1/actions/store/create-store"
    body = json.dumps({"name": "Header"}).encode()
    merchant_id = id_forms("MER", api.merchant.pk)[form]
    headers = sign_headers(api.private_key, merchant_id, path, body)
    assert_ok(api.client.post(path, data=body, content_type="application/json", **headers))


def test_ids_of_absent_objects_are_404_not_400(api):
    missing = short("STO", uuid.uuid4())
    assert_error(
        api.post("store/update-store", {"id": missing, "name": "X"}), 404, "Store not found"
    )
    ghost = MerchantFactory()
    payload = {"storeId": missing, "merchantId": short("MER", ghost.pk)}
    assert_error(api.post("store-merchant/remove-merchant", payload), 404)


def test_encoding_is_the_base62_of_the_128_bit_value():
    values = [0, 1, 61, 62, 3844**5 - 1, 3844**5, 2**64, 2**127, 2**128 - 1]
    values += [uuid.uuid4().int for _ in range(500)]
    for n in values:
        digits, rest = [], n
        for _ in range(ids.WIDTH):
            rest, r = divmod(rest, 62)
            digits.append(ids.ALPHABET[r])
        assert ids.encode("ORD", uuid.UUID(int=n)) == "ORD_" + "".join(reversed(digits))
        assert ids.decode_short(ids.encode("ORD", uuid.UUID(int=n)), "ORD").int == n
