"""API-key request signatures, exactly as @waffo/pancake-ts makes them (docs/api.md)."""

import base64
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client, RequestFactory

from pancake.api import auth, signatures
from pancake.api.errors import InvalidInput, Unauthenticated
from pancake.models import IdempotencyKey
from stores import services
from stores.models import ApiKey, Store
from tests.api.helpers import assert_error, assert_ok
from tests.factories import MerchantFactory, make_api_key, public_pem, rsa_key
from tests.helpers import ApiClient, sign_headers

CREATE = "/v1/actions/store/create-store"

# The SDK's own request and its key pair's public key, captured byte for byte.
SDK_MERCHANT_UUID = uuid.UUID("0b7e6f2a-3c1d-4e5f-8a9b-0c1d2e3f4a5b")
SDK_MERCHANT_ID = "MER_0LghADC2I5iDUl3lXqo2EV"
SDK_TIMESTAMP = 1767225600
SDK_BODY = b'{"name":"My Store"}'
SDK_BODY_HASH = "hdwD8gAaYdaLYqdMNnLbxLSIbCcpjVA5wvaR22mY0Uo="
SDK_SIGNATURE = (
    "h02j3WnjVGWjXrG/IrGQ+TliUbPAzc1YcwLEG39Mnd0ivjQ94cswWtCAxU76soa0Ga5MxPYnt116tlMmVlf6J0bvisNYVh39"
    "NkvBGLrBypJM0U+xvLayemQ9lj3k3VMSBVbiqwN0JtHhQQKWk9Mzt475KV9Ct/89eldOAiKmOInbq5POfsvbbUQ1AmhemAUx"
    "W1drYgNlNIcfGlDR/klxxnsdXtx0QeGu3uMTqIC9DRtQMzY+4lWf2APt5QQF0YX5Z/4YgBkDQU6QejKJ2HdeUWDKsMx8/5N6"
    "X0fx8oUZzphVk1IYcIbcfs0mxyCoyuER/ejOQenFF9hK1fT+HcaKyg=="
)
SDK_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAt8+glwIBhWE46E8tXoOU
tsohAN53jAuo56Jfemw77px7y1Kim0SFzn3Jw/oJIfEFeSvYwI9+GrXhaiR8QcEJ
vA80XdCimEp1jd8Uk0u1RllycUa6diJ62thnu8nF1KTrxqVUkdiITa+PBQpXI5uL
UO1DJYgbkb1KSo670ftRpHez8pgZ5B5XXk2PgRm0zAirzt/7Ex9YDcxkQ4a1SdsH
MSpMIp0IpLDQIBAOxl/k4QpVV4aNPTCqDUskQVyxc3tyKMrfbYfqFzv1qIYqH0xt
s/hHe2lt6Q6DU13VZJZuT5TvnAKn1kAJmihJLr5SwQOY4AWz5fMhdMSRgfJFUo5L
3wIDAQAB
-----END PUBLIC KEY-----
"""


def _stores_of(merchant):
    return Store.objects.filter(memberships__merchant=merchant).count()


# --- the canonical string ------------------------------------------------------------------------


def test_canonical_string_matches_the_sdk_worked_example():
    canonical = signatures.canonical_string("POST", CREATE, str(SDK_TIMESTAMP), SDK_BODY)
    assert canonical == f"POST\n{CREATE}\n{SDK_TIMESTAMP}\n{SDK_BODY_HASH}".encode()
    assert base64.b64encode(hashlib.sha256(SDK_BODY).digest()).decode() == SDK_BODY_HASH


def test_sdk_captured_signature_verifies_against_the_sdk_public_key():
    canonical = signatures.canonical_string("POST", CREATE, str(SDK_TIMESTAMP), SDK_BODY)
    assert signatures.verify(SDK_PUBLIC_KEY, SDK_SIGNATURE, canonical)
    tampered = signatures.canonical_string(
        "POST", CREATE, str(SDK_TIMESTAMP), b'{"name":"My Store!"}'
    )
    assert not signatures.verify(SDK_PUBLIC_KEY, SDK_SIGNATURE, tampered)


@time_machine.travel(datetime(2026, 1, 1, 0, 1, tzinfo=UTC), tick=False)
def test_the_exact_request_the_sdk_sent_creates_a_store(db):
    merchant = MerchantFactory(id=SDK_MERCHANT_UUID, email="sdk@example.com")
    services.api_key_create(
        merchant=merchant,
        name="sdk",
        environment="test",
        public_key_pem=SDK_PUBLIC_KEY,
        api_version="2026-09-23",
    )
    response = Client().post(
        CREATE,
        data=SDK_BODY,
        content_type="application/json",
        HTTP_X_MERCHANT_ID=SDK_MERCHANT_ID,
        HTTP_X_TIMESTAMP=str(SDK_TIMESTAMP),
        HTTP_X_SIGNATURE=SDK_SIGNATURE,
        HTTP_X_IDEMPOTENCY_KEY="MER_store-create-9f2c",
    )
    store = assert_ok(response)["data"]["store"]
    assert store["name"] == "My Store"
    assert store["id"].startswith("STO_")


# --- accepted and refused requests --------------------------------------------------------------


def test_valid_signature_is_accepted_and_records_key_use(api):
    assert_ok(api.post("store/create-store", {"name": "Signed"}))
    assert ApiKey.objects.get(merchant=api.merchant).last_used_at is not None


def test_raw_utf8_body_is_hashed_as_received(api):
    """The SDK sends JSON.stringify output: non-ASCII as raw UTF-8, not \\u escapes."""
    body = '{"name":"Café ☕ 店"}'.encode()
    store = assert_ok(api.raw(CREATE, body))["data"]["store"]
    assert store["name"] == "Café ☕ 店"


def test_query_string_is_not_part_of_the_signed_path(api):
    body = b'{"name":"Query"}'
    headers = sign_headers(api.private_key, api.merchant_id, CREATE, body)
    response = api.client.post(
        CREATE + "?utm=x", data=body, content_type="application/json", **headers
    )
    assert_ok(response)


def test_merchant_id_may_be_sent_as_a_uuid(api):
    body = json.dumps({"name": "By UUID"}).encode()
    headers = sign_headers(api.private_key, str(api.merchant.pk), CREATE, body)
    response = api.client.post(CREATE, data=body, content_type="application/json", **headers)
    assert_ok(response)


def test_signature_by_another_private_key_is_refused_with_401(api, key_pool):
    intruder = ApiClient(api.merchant, key_pool[1])
    assert_error(intruder.post("store/create-store", {"name": "X"}), 401, "Invalid API key")
    assert _stores_of(api.merchant) == 0


def test_signature_of_another_merchant_is_refused(api, make_api):
    other = make_api(key_index=1)
    # The other merchant signs correctly but claims to be `api.merchant`.
    forged = ApiClient(api.merchant, other.private_key)
    assert_error(forged.post("store/create-store", {"name": "X"}), 401, "Invalid API key")


def test_tampered_body_is_refused_with_401(api):
    signed = json.dumps({"name": "Original"}).encode()
    headers = sign_headers(api.private_key, api.merchant_id, CREATE, signed)
    response = api.client.post(
        CREATE, data=b'{"name": "Tampered"}', content_type="application/json", **headers
    )
    assert_error(response, 401, "Invalid API key")
    assert _stores_of(api.merchant) == 0


def test_signature_over_a_different_path_is_refused(api):
    response = api.post(
        "store/create-store", {"name": "X"}, sign_path="/v1/actions/store/update-store"
    )
    assert_error(response, 401, "Invalid API key")


def test_signature_over_a_path_with_trailing_slash_or_query_is_refused(api):
    assert_error(api.post("store/create-store", {"name": "X"}, sign_path=CREATE + "/"), 401)
    assert_error(api.post("store/create-store", {"name": "X"}, sign_path=CREATE + "?a=1"), 401)


def test_stale_timestamp_is_refused_with_401(api):
    now = int(time.time())
    response = api.post("store/create-store", {"name": "X"}, timestamp=now - 301)
    assert_error(response, 401, "Request timestamp expired", layer="user")
    assert_ok(api.post("store/create-store", {"name": "X"}, timestamp=now - 290))


def test_timestamp_more_than_a_minute_ahead_is_refused_with_401(api):
    now = int(time.time())
    response = api.post("store/create-store", {"name": "X"}, timestamp=now + 61 + 5)
    assert_error(response, 401, "Request timestamp is in the future")
    assert_ok(api.post("store/create-store", {"name": "X"}, timestamp=now + 50))


@pytest.mark.parametrize("timestamp", ["1767225600000", "abc", "-5", "1.5e9"])
def test_timestamp_that_is_not_unix_seconds_is_refused_with_401(api, timestamp):
    body = b"{}"
    headers = sign_headers(api.private_key, api.merchant_id, CREATE, body)
    headers["HTTP_X_TIMESTAMP"] = timestamp
    assert_error(
        api.client.post(CREATE, data=body, content_type="application/json", **headers), 401
    )


def test_garbage_signature_is_refused_with_401(api):
    body = b'{"name":"X"}'
    headers = sign_headers(api.private_key, api.merchant_id, CREATE, body)
    headers["HTTP_X_SIGNATURE"] = "not base64 at all!!"
    response = api.client.post(CREATE, data=body, content_type="application/json", **headers)
    assert_error(response, 401, "Invalid API key")


def test_deleted_key_fails_at_once_with_401(api):
    assert_ok(api.post("store/create-store", {"name": "Before"}))
    key = ApiKey.objects.get(merchant=api.merchant)
    services.api_key_delete(merchant=api.merchant, key_id=key.pk)
    assert_error(api.post("store/create-store", {"name": "After"}), 401, "Invalid API key")
    assert _stores_of(api.merchant) == 1


def test_deactivated_merchant_cannot_sign(api):
    type(api.merchant).objects.filter(pk=api.merchant.pk).update(is_active=False)
    assert_error(api.post("store/create-store", {"name": "X"}), 401, "Invalid API key")


@pytest.mark.parametrize(
    "drop", ["HTTP_X_MERCHANT_ID", "HTTP_X_TIMESTAMP", "HTTP_X_SIGNATURE", "all"]
)
def test_missing_signature_headers_answer_401_missing_authentication(api, drop):
    body = b'{"name":"X"}'
    headers = sign_headers(api.private_key, api.merchant_id, CREATE, body)
    if drop == "all":
        headers = {}
    else:
        del headers[drop]
    response = api.client.post(CREATE, data=body, content_type="application/json", **headers)
    assert_error(response, 401, "Missing authentication", layer="user")


@pytest.mark.parametrize("merchant_id", ["MER_short", "STO_0LghADC2I5iDUl3lXqo2EV", "not-an-id"])
def test_malformed_merchant_id_answers_invalid_api_key(api, merchant_id):
    body = b'{"name":"X"}'
    headers = sign_headers(api.private_key, merchant_id, CREATE, body)
    response = api.client.post(CREATE, data=body, content_type="application/json", **headers)
    assert_error(response, 401, "Invalid API key")


# --- a site mounted under a path prefix -----------------------------------------------------------


def test_mounted_site_verifies_the_path_below_the_mount_point(api):
    body = json.dumps({"name": "Mounted"}).encode()
    factory = RequestFactory()
    request = factory.post(
        CREATE,
        data=body,
        content_type="application/json",
        SCRIPT_NAME="/pancake",
        **sign_headers(api.private_key, api.merchant_id, CREATE, body),
    )
    assert request.path == "/pancake" + CREATE
    assert request.path_info == CREATE
    actor = auth.authenticate(request, body)
    assert actor.merchant == api.merchant

    wrong = factory.post(
        CREATE,
        data=body,
        content_type="application/json",
        SCRIPT_NAME="/pancake",
        **sign_headers(api.private_key, api.merchant_id, "/pancake" + CREATE, body),
    )
    with pytest.raises(Unauthenticated, match="Invalid API key"):
        auth.authenticate(wrong, body)


def test_mounted_site_end_to_end_accepts_sdk_path_and_refuses_full_path(api):
    mounted = {"SCRIPT_NAME": "/pancake"}
    assert_ok(api.post("store/create-store", {"name": "Mounted"}, headers=mounted))
    response = api.post(
        "store/create-store", {"name": "Mounted"}, headers=mounted, sign_path="/pancake" + CREATE
    )
    assert_error(response, 401, "Invalid API key")


# --- the key decides the environment ----------------------------------------------------------


def test_environment_comes_from_the_key_that_verifies(db, key_pool):
    merchant = MerchantFactory()
    make_api_key(merchant, key_pool[0], environment="test", name="test key")
    make_api_key(merchant, key_pool[1], environment="prod", name="prod key")
    for key, expected in ((key_pool[0], "test"), (key_pool[1], "prod")):
        client = ApiClient(merchant, key)
        response = client.post(
            "store/create-store",
            {"name": "Env"},
            headers={"HTTP_X_IDEMPOTENCY_KEY": f"env-{expected}"},
        )
        assert_ok(response)
        assert IdempotencyKey.objects.get(key=f"env-{expected}").environment == expected


def test_x_environment_header_does_not_change_the_key_environment(make_api):
    client = make_api(environment="prod")
    response = client.post(
        "store/create-store",
        {"name": "Env"},
        headers={"HTTP_X_ENVIRONMENT": "test", "HTTP_X_IDEMPOTENCY_KEY": "env-header"},
    )
    assert_ok(response)
    assert IdempotencyKey.objects.get(key="env-header").environment == "prod"


# --- key upload -------------------------------------------------------------------------------


def test_rsa_2048_public_key_is_accepted_and_fingerprinted(key_pool):
    pem, fingerprint = signatures.parse_public_key(public_pem(key_pool[0]))
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert len(fingerprint) == 64


def test_1024_bit_rsa_key_is_refused_at_upload():
    weak = rsa_key(bits=1024)
    with pytest.raises(InvalidInput, match="at least 2048 bits"):
        signatures.parse_public_key(public_pem(weak))


def test_ec_public_key_is_refused_at_upload():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(InvalidInput, match="only RSA keys"):
        signatures.parse_public_key(pem)


@pytest.mark.parametrize(
    "pem", ["", "hello", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"]
)
def test_garbage_public_key_is_refused_at_upload(pem):
    with pytest.raises(InvalidInput, match="Invalid public key"):
        signatures.parse_public_key(pem)


def test_a_private_key_is_never_accepted_as_public_key(key_pool):
    from tests.factories import private_pem

    with pytest.raises(InvalidInput):
        signatures.parse_public_key(private_pem(key_pool[0]))
