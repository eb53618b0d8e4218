"""API versions: the key's version, overridable per request, decides ids and money."""

import uuid

import pytest
from django.test import Client

from pancake.api import fields, versions
from tests.api.helpers import assert_error, assert_ok, short

SDK = "2026-09-23"
DOCS = "2026-01-15"


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def test_new_keys_default_to_the_sdk_version(api):
    from stores.models import ApiKey

    assert ApiKey.objects.get(merchant=api.merchant).api_version == SDK == versions.LATEST


def test_sdk_version_key_gets_short_ids(api):
    response = api.post("store/create-store", {"name": "Shop"})
    store = assert_ok(response)["data"]["store"]
    assert store["id"].startswith("STO_")
    assert response["Pancake-Version"] == SDK


def test_docs_version_key_gets_uuids(make_api):
    client = make_api(api_version=DOCS)
    response = client.post("store/create-store", {"name": "Shop"})
    store = assert_ok(response)["data"]["store"]
    assert _is_uuid(store["id"])
    assert response["Pancake-Version"] == DOCS


def test_header_overrides_an_sdk_key_to_the_docs_format(api):
    response = api.post("store/create-store", {"name": "Shop"}, {"HTTP_PANCAKE_VERSION": DOCS})
    assert _is_uuid(assert_ok(response)["data"]["store"]["id"])
    assert response["Pancake-Version"] == DOCS


def test_header_overrides_a_docs_key_to_the_sdk_format(make_api):
    client = make_api(api_version=DOCS)
    response = client.post("store/create-store", {"name": "Shop"}, {"HTTP_PANCAKE_VERSION": SDK})
    assert assert_ok(response)["data"]["store"]["id"].startswith("STO_")
    assert response["Pancake-Version"] == SDK


def test_team_answers_follow_the_version(make_api):
    client = make_api(api_version=DOCS)
    store = assert_ok(client.post("store/create-store", {"name": "Shop"}))["data"]["store"]
    added = assert_ok(
        client.post(
            "store-merchant/add-merchant",
            {"storeId": store["id"], "email": "t@example.com", "role": "member"},
        )
    )["data"]
    assert _is_uuid(added["storeId"]) and _is_uuid(added["merchantId"])
    role = assert_ok(
        client.post(
            "store-merchant/update-role",
            {"storeId": store["id"], "merchantId": added["merchantId"], "role": "admin"},
            {"HTTP_PANCAKE_VERSION": SDK},
        )
    )["data"]
    assert role["storeId"] == short("STO", uuid.UUID(store["id"]))
    assert role["merchantId"] == short("MER", uuid.UUID(added["merchantId"]))


@pytest.mark.parametrize("value", ["2025-01-01", "latest", "2026-09-23x", ""])
def test_unknown_version_is_400(api, value):
    response = api.post("store/create-store", {"name": "Shop"}, {"HTTP_PANCAKE_VERSION": value})
    error = assert_error(response, 400)
    assert "Pancake-Version" in error["message"]
    from stores.models import Store

    assert not Store.objects.exists()


def test_version_header_is_trimmed(api):
    response = api.post("store/create-store", {"name": "S"}, {"HTTP_PANCAKE_VERSION": f" {DOCS} "})
    assert response["Pancake-Version"] == DOCS
    assert _is_uuid(assert_ok(response)["data"]["store"]["id"])


def test_errors_after_authentication_carry_the_keys_version(make_api):
    client = make_api(api_version=DOCS)
    response = client.post("store/create-store", {})
    assert_error(response, 400, "Missing required field: name")
    assert response["Pancake-Version"] == DOCS


def test_every_v1_response_carries_pancake_version(api, store):
    responses = {
        "ok": api.post("store/update-store", {"id": short("STO", store.pk), "name": "X"}),
        "401": Client().post("/v1/actions/store/create-store"),
        "404": Client().post("/v1/actions/nope/nope"),
        "405": Client().get("/v1/actions/store/create-store"),
        "501": api.post("verification/scan-prompt", {"prompt": "x"}),
        "options": Client().options("/v1/actions/store/create-store"),
        "replay-1": api.post("store/create-store", {"name": "R"}, {"HTTP_X_IDEMPOTENCY_KEY": "r"}),
        "replay-2": api.post("store/create-store", {"name": "R"}, {"HTTP_X_IDEMPOTENCY_KEY": "r"}),
    }
    for name, response in responses.items():
        assert response.get("Pancake-Version") in {SDK, DOCS}, name
    assert responses["replay-2"]["Idempotent-Replayed"] == "true"


def test_version_does_not_leak_into_the_next_request(make_api, api):
    docs = make_api(api_version=DOCS)
    assert_ok(docs.post("store/create-store", {"name": "D"}))
    response = api.post("store/create-store", {"name": "S"})
    assert assert_ok(response)["data"]["store"]["id"].startswith("STO_")
    assert versions.current() == versions.LATEST


# --- rendering helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "sdk", "docs"),
    [
        (2900, "USD", "29.00", 2900),
        (5, "USD", "0.05", 5),
        (0, "USD", "0.00", 0),
        (4500, "JPY", "4500", 4500),
        (1500, "BHD", "1.500", 1500),
        (1, "KWD", "0.001", 1),
    ],
)
def test_render_amount_follows_the_version(minor, currency, sdk, docs):
    assert fields.render_amount(minor, currency, SDK) == sdk
    assert fields.render_amount(minor, currency, DOCS) == docs
    assert fields.render_amount(None, currency, SDK) is None


def test_render_amount_uses_the_active_version_by_default():
    with versions.rendering(DOCS):
        assert fields.render_amount(2900, "USD") == 2900
    with versions.rendering(SDK):
        assert fields.render_amount(2900, "USD") == "29.00"


def test_render_id_follows_the_version():
    value = uuid.UUID("550e8400-e29b-41d4-a716-446655440000")
    assert fields.render_id(value, "STO", SDK) == "STO_2aUyqjCzEIiEcYMKj7TZtw"
    assert fields.render_id(value, "STO", DOCS) == str(value)
    # Plain-UUID types stay UUIDs in every version.
    assert fields.render_id(value, None, SDK) == str(value)
    assert fields.render_id(None, "STO", SDK) is None


def test_timestamps_are_utc_with_milliseconds():
    from datetime import UTC, datetime, timedelta, timezone

    value = datetime(2026, 1, 15, 11, 30, 0, 123999, tzinfo=timezone(timedelta(hours=1)))
    assert fields.format_timestamp(value) == "2026-01-15T10:30:00.123Z"
    assert fields.format_timestamp(datetime(2026, 1, 15, 10, 30, tzinfo=UTC)) == (
        "2026-01-15T10:30:00.000Z"
    )
    assert fields.format_timestamp(None) is None


def test_timestamps_render_as_strftime_renders_them():
    from datetime import UTC, datetime, timedelta, timezone

    start = datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5)))
    for step in range(0, 10**6, 9973):
        value = start + timedelta(seconds=step * 3.7, microseconds=step)
        utc = value.astimezone(UTC)
        expected = utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
        assert fields.format_timestamp(value) == expected
    assert fields.format_timestamp(datetime(999, 1, 2, tzinfo=UTC)).endswith("-01-02T00:00:00.000Z")
