"""Merchant Bearer JWTs for curl users: RS256 only, at most 15 minutes."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from pancake.api import buyer_tokens
from pancake.models import IdempotencyKey
from stores.models import ApiKey, Store
from tests.api.helpers import assert_error, assert_ok
from tests.factories import private_pem, public_pem
from tests.helpers import mint_jwt

CREATE = "/v1/actions/store/create-store"


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned_token(header: dict, claims: dict, secret: bytes | None = None) -> str:
    signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def _claims(api, lifetime=300, **extra):
    now = int(time.time())
    return {"sub": api.merchant_id, "iat": now, "exp": now + lifetime, **extra}


def _bearer(api, token, payload=None, **headers):
    return api.client.post(
        CREATE,
        data=json.dumps(payload or {"name": "Via JWT"}).encode(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        **headers,
    )


def test_rs256_jwt_signed_with_the_api_key_is_accepted(api):
    response = _bearer(api, mint_jwt(api.private_key, api.merchant_id))
    store = assert_ok(response)["data"]["store"]
    assert Store.objects.filter(name="Via JWT", memberships__merchant=api.merchant).count() == 1
    assert store["id"].startswith("STO_")


def test_jwt_sub_may_be_the_merchant_uuid(api):
    assert_ok(_bearer(api, mint_jwt(api.private_key, str(api.merchant.pk))))


def test_jwt_environment_comes_from_the_key(make_api):
    prod = make_api(environment="prod")
    response = _bearer(
        prod, mint_jwt(prod.private_key, prod.merchant_id), HTTP_X_IDEMPOTENCY_KEY="jwt-env"
    )
    assert_ok(response)
    assert IdempotencyKey.objects.get(key="jwt-env").environment == "prod"


def test_jwt_of_exactly_fifteen_minutes_is_accepted(api):
    assert_ok(_bearer(api, mint_jwt(api.private_key, api.merchant_id, lifetime=15 * 60)))


def test_jwt_living_longer_than_fifteen_minutes_is_refused(api):
    response = _bearer(api, mint_jwt(api.private_key, api.merchant_id, lifetime=15 * 60 + 1))
    assert_error(response, 401, "Invalid token: lifetime exceeds 15 minutes")
    assert not Store.objects.exists()


def test_expired_jwt_is_refused(api):
    now = int(time.time())
    claims = {"sub": api.merchant_id, "iat": now - 600, "exp": now - 120}
    token = jwt.encode(claims, private_pem(api.private_key), algorithm="RS256")
    assert_error(_bearer(api, token), 401, "Token has expired")


@pytest.mark.parametrize("missing", ["sub", "iat", "exp"])
def test_jwt_without_a_required_claim_is_refused(api, missing):
    claims = _claims(api)
    del claims[missing]
    token = jwt.encode(claims, private_pem(api.private_key), algorithm="RS256")
    assert_error(_bearer(api, token), 401)


def test_jwt_signed_by_another_key_is_refused(api, key_pool):
    token = mint_jwt(key_pool[2], api.merchant_id)
    assert_error(_bearer(api, token), 401, "Invalid API key")


def test_jwt_for_another_merchant_is_refused(api, make_api):
    other = make_api(key_index=1)
    # Signed with api's key but claiming to be the other merchant.
    token = mint_jwt(api.private_key, other.merchant_id)
    assert_error(_bearer(api, token), 401, "Invalid API key")


def test_jwt_of_a_deleted_key_is_refused(api):
    token = mint_jwt(api.private_key, api.merchant_id)
    ApiKey.objects.filter(merchant=api.merchant).delete()
    assert_error(_bearer(api, token), 401, "Invalid API key")


def test_alg_none_is_refused(api):
    token = _unsigned_token({"alg": "none", "typ": "JWT"}, _claims(api))
    assert_error(_bearer(api, token), 401, "Invalid token: only RS256 is accepted")
    assert not Store.objects.exists()


@pytest.mark.parametrize("pem_source", ["stored", "as-uploaded"])
def test_hs256_signed_with_the_public_key_as_secret_is_refused(api, pem_source):
    """The classic RS256 → HS256 key-confusion attack: the public key is not a secret."""
    if pem_source == "stored":
        secret = ApiKey.objects.get(merchant=api.merchant).public_key_pem.encode()
    else:
        secret = public_pem(api.private_key).encode()
    token = _unsigned_token({"alg": "HS256", "typ": "JWT"}, _claims(api), secret=secret)
    assert_error(_bearer(api, token), 401, "Invalid token: only RS256 is accepted")
    assert not Store.objects.exists()


def test_rs512_is_refused(api):
    token = jwt.encode(_claims(api), private_pem(api.private_key), algorithm="RS512")
    assert_error(_bearer(api, token), 401, "Invalid token: only RS256 is accepted")


def test_merchant_signed_token_claiming_to_be_a_buyer_token_is_not_a_merchant_credential(api):
    token = mint_jwt(api.private_key, api.merchant_id, typ=buyer_tokens.TOKEN_TYP)
    response = _bearer(api, token, HTTP_X_ENVIRONMENT="test")
    assert_error(response, 401, "Invalid session token")
    assert not Store.objects.exists()


@pytest.mark.parametrize("value", ["Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "Token abc"])
def test_malformed_authorization_header_answers_missing_authentication(api, value):
    response = api.client.post(
        CREATE, data=b"{}", content_type="application/json", HTTP_AUTHORIZATION=value
    )
    assert_error(response, 401, "Missing authentication")


def test_bearer_garbage_is_refused(api):
    assert_error(_bearer(api, "not.a.jwt"), 401, "Invalid token")
