"""Fixtures: real RSA keys, merchants with API keys, and a client that signs like the SDK."""

import base64
import hashlib
import json
import os
import time

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.db import connection
from django.test import Client

from pancake.api import ids
from pancake.celery import app as celery_app
from tests.factories import MembershipFactory, MerchantFactory, make_api_key, private_pem, rsa_key

_POOL: list = []

# Tasks run in-process in tests unless a test starts a real worker (REDIS_URL only brings Redis
# in as the cache); such tests switch this off themselves.
celery_app.conf.task_always_eager = True
celery_app.conf.task_eager_propagates = True


@pytest.fixture(scope="session")
def key_pool():
    """A few real RSA-2048 keys, generated once per test session."""
    if not _POOL:
        _POOL.extend(rsa_key() for _ in range(4))
    return _POOL


@pytest.fixture
def rsa_private_key(key_pool):
    return key_pool[0]


def sign_headers(
    private_key, merchant_id: str, path: str, body: bytes, timestamp: int | None = None
) -> dict:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    canonical = f"POST\n{path}\n{ts}\n{digest}".encode()
    signature = base64.b64encode(
        private_key.sign(canonical, padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    return {
        "HTTP_X_MERCHANT_ID": merchant_id,
        "HTTP_X_TIMESTAMP": ts,
        "HTTP_X_SIGNATURE": signature,
    }


def mint_jwt(private_key, merchant_id: str, lifetime: int = 300, **extra) -> str:
    now = int(time.time())
    claims = {"sub": merchant_id, "iat": now, "exp": now + lifetime, **extra}
    return jwt.encode(claims, private_pem(private_key), algorithm="RS256")


class ApiClient:
    """Calls actions the way the SDK does: POST JSON, signed with the merchant's private key."""

    def __init__(self, merchant, private_key, client: Client | None = None):
        self.merchant = merchant
        self.private_key = private_key
        self.client = client or Client()
        self.merchant_id = ids.encode("MER", merchant.pk)

    def raw(
        self,
        path: str,
        body: bytes,
        headers: dict | None = None,
        sign_path: str | None = None,
        **kw,
    ):
        h = sign_headers(
            self.private_key, self.merchant_id, sign_path or path, body, kw.pop("timestamp", None)
        )
        h.update(headers or {})
        return self.client.post(path, data=body, content_type="application/json", **h)

    def post(self, action: str, payload: dict | None = None, headers: dict | None = None, **kw):
        body = json.dumps(payload or {}).encode()
        return self.raw(f"/v1/actions/{action}", body, headers, **kw)

    def call(
        self,
        action: str,
        payload: dict | None = None,
        headers: dict | None = None,
        expect: int = 200,
    ):
        response = self.post(action, payload, headers)
        assert response.status_code == expect, response.content
        return response.json()


@pytest.fixture
def merchant(db):
    return MerchantFactory(email="owner@example.com")


@pytest.fixture
def api(merchant, rsa_private_key):
    make_api_key(merchant, rsa_private_key)
    return ApiClient(merchant, rsa_private_key)


@pytest.fixture
def make_api(db, key_pool):
    """Build a signed client for another merchant: make_api(email, role=..., store=...)."""
    counter = {"n": 1}

    def build(email=None, environment="test", api_version="2026-09-23", key_index=None):
        merchant = MerchantFactory(email=email) if email else MerchantFactory()
        idx = key_index if key_index is not None else counter["n"] % len(key_pool)
        counter["n"] += 1
        key = key_pool[idx]
        make_api_key(merchant, key, environment=environment, api_version=api_version)
        return ApiClient(merchant, key)

    return build


@pytest.fixture
def store(api):
    data = api.call("store/create-store", {"name": "My Store"})["data"]["store"]
    from stores.models import Store

    return Store.objects.get(pk=ids.parse_id(data["id"], "STO"))


@pytest.fixture
def member_of():
    def add(store, merchant, role):
        return MembershipFactory(store=store, merchant=merchant, role=role)

    return add


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def require_postgres(db):
    if not is_postgres():
        if os.environ.get("PANCAKE_REQUIRE_POSTGRES"):
            pytest.fail("This test needs PostgreSQL and PANCAKE_REQUIRE_POSTGRES is set")
        pytest.skip("needs PostgreSQL (set DATABASE_URL); CI runs it")


@pytest.fixture(autouse=True)
def _fresh_webhook_keys():
    """Each test's database starts without webhook signing keys: forget the ones this process
    cached (a real server keeps its key for life)."""
    from billing.webhooks import keys

    keys.forget_cached_keys()
    yield
    keys.forget_cached_keys()
