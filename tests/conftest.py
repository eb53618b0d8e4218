"""Fixtures shared by every folder: real RSA keys, merchants with API keys and a client that
signs like the SDK, a store and its products, a signed-in owner of a dashboard store, and a
webhook receiver. Helpers (no fixtures) are in tests/helpers.py and tests/factories.py."""

import atexit
import os
import shutil
import tempfile

import pytest
from django.conf import settings
from django.db import connection

from billing import providers
from billing.webhooks import keys
from pancake.api import ids
from pancake.celery import app as celery_app
from stores import services as store_services
from stores.models import Store
from tests.factories import (
    MembershipFactory,
    MerchantFactory,
    ProductFactory,
    make_api_key,
    rsa_key,
)
from tests.helpers import ApiClient, Receiver

# The real Celery worker fixtures (``redis_url``, ``workers``) for tests about tasks.
pytest_plugins = ["tests.workers"]

_POOL: list = []

# Each xdist worker keys the cache apart: with REDIS_URL the workers share one Redis database,
# and state a test keeps there (the test processor's injected faults, rate-limit counters) must
# not be seen, taken or cleared by a test running in the other worker.
settings.CACHES["default"]["KEY_PREFIX"] = os.environ.get("PYTEST_XDIST_WORKER", "")

# Stored files (invoice PDFs) go to a folder of this test run, never the project's media/.
settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="pancake-test-media-")
atexit.register(shutil.rmtree, settings.MEDIA_ROOT, ignore_errors=True)

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
    keys.forget_cached_keys()
    yield
    keys.forget_cached_keys()


@pytest.fixture
def book(store):
    """A one-time product of ``store``, priced in EUR (100.00) and USD (29.00)."""
    return ProductFactory(
        store=store,
        prices={
            "EUR": {"amount": 10000, "taxCategory": "saas"},
            "USD": {"amount": 2900, "taxCategory": "saas"},
        },
    )


@pytest.fixture
def owner(db):
    """A merchant signed in to the dashboard by ``owner_client``; owner of ``shop``."""
    return MerchantFactory(email="owner@example.com")


@pytest.fixture
def shop(owner):
    """The dashboard store of ``owner``, made as the onboarding page makes it."""
    return store_services.store_create(
        merchant=owner, name="Maple Shop", default_currency="EUR", country="DE"
    )


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def receiver():
    """A webhook receiver on 127.0.0.1 (``tests.helpers.Receiver``)."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def live_payments(settings, monkeypatch):
    """A deployment whose prod has a configured payment provider: live links and checkout pages
    open instead of saying that the store can't accept payments yet."""
    monkeypatch.setitem(
        providers.PROD_PROVIDERS, "configured-live", "tests.helpers.ConfiguredLiveProvider"
    )
    settings.PAYMENT_PROVIDER_PROD = "configured-live"
