"""Token-bucket rate limits (pancake.api.ratelimit), in Redis through its Lua script and in the
per-process memory cache without Redis: a burst passes, the next request is refused with
Retry-After, tokens come back at the rate, a merchant's own limit applies, and support's unlock
refills a merchant's buckets. The admin's field and action are tested here too."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import override_settings
from django.urls import reverse

from pancake.api import rediscache
from pancake.api.actor import merchant_actor
from pancake.api.errors import RateLimited
from pancake.api.ratelimit import check, hit, merchant_limit, unlock_merchant
from stores.models import Merchant
from tests.api.helpers import assert_error, assert_ok
from tests.factories import MerchantFactory
from tests.workers import redis_base, redis_reachable

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _redis_cache() -> dict:
    url = os.environ.get("REDIS_URL") or f"{redis_base()}/0"
    if not redis_reachable(url):
        # Like the real-worker tests: CI (PANCAKE_REQUIRE_POSTGRES) runs Redis and must not skip.
        if os.environ.get("PANCAKE_REQUIRE_POSTGRES"):
            pytest.fail(f"The rate-limit tests need Redis at {url}")
        pytest.skip(f"needs Redis at {url}; CI runs it")
    # A prefix of this test's own: nothing it counts is seen by another test, or left behind
    # for one (buckets expire by themselves).
    prefix = f"rl-{uuid.uuid4().hex[:12]}"
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
    }


def _memory_cache() -> dict:
    return {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": f"rl-{uuid.uuid4().hex}",
    }


@pytest.fixture(params=["redis", "memory"])
def backend(request):
    """Each test runs against real Redis (the Lua script) and against the memory cache."""
    config = _redis_cache() if request.param == "redis" else _memory_cache()
    with override_settings(CACHES={"default": config}):
        assert (rediscache.client() is not None) == (request.param == "redis")
        yield request.param


@pytest.fixture
def clock():
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


def _actor(merchant, environment="test"):
    return merchant_actor(merchant, environment, via="signature")


def _passes(merchant, n: int, environment="test") -> None:
    for _ in range(n):
        check(None, _actor(merchant, environment))


def _refused(merchant, environment="test") -> RateLimited:
    with pytest.raises(RateLimited) as exc:
        check(None, _actor(merchant, environment))
    return exc.value


@override_settings(API_RATE_LIMIT=(1, 30, 3))  # a token every 30 s, bursts of 3
def test_a_burst_passes_then_429_with_retry_after_until_the_next_token(backend, clock):
    merchant = MerchantFactory()
    _passes(merchant, 3)
    refused = _refused(merchant)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "30"
    clock.shift(timedelta(seconds=20))
    assert _refused(merchant).headers["Retry-After"] == "10"
    # Another merchant, and the same merchant's other environment, have buckets of their own.
    _passes(MerchantFactory(), 3)
    _passes(merchant, 3, environment="prod")


@override_settings(API_RATE_LIMIT=(1, 30, 3))
def test_tokens_refill_at_the_rate_up_to_the_burst(backend, clock):
    merchant = MerchantFactory()
    _passes(merchant, 3)
    _refused(merchant)
    clock.shift(timedelta(seconds=30))  # one token back
    _passes(merchant, 1)
    _refused(merchant)
    clock.shift(timedelta(seconds=60))  # two tokens back
    _passes(merchant, 2)
    _refused(merchant)
    clock.shift(timedelta(hours=1))  # full again, and never more than the burst
    _passes(merchant, 3)
    _refused(merchant)


@override_settings(API_RATE_LIMIT=(2, 1, 4))  # 2 a second, bursts of 4
def test_a_merchants_own_limit_replaces_the_default_and_scales_the_burst(backend, clock):
    raised = MerchantFactory(api_rate_limit=10)
    assert merchant_limit(raised) == (10.0, 20)
    assert merchant_limit(MerchantFactory()) == (2.0, 4)
    _passes(raised, 20)
    assert _refused(raised).headers["Retry-After"] == "1"
    clock.shift(timedelta(seconds=0.5))  # 10 a second: five tokens in half a second
    _passes(raised, 5)
    _refused(raised)
    default = MerchantFactory()
    _passes(default, 4)
    _refused(default)


@override_settings(API_RATE_LIMIT=(1, 60, 2))
def test_raising_the_limit_applies_to_the_next_request(backend, clock):
    merchant = MerchantFactory()
    _passes(merchant, 2)
    _refused(merchant)
    Merchant.objects.filter(pk=merchant.pk).update(api_rate_limit=5)
    merchant.refresh_from_db()
    clock.shift(timedelta(seconds=1))  # 5 tokens at the new rate, the bucket now holds 300
    _passes(merchant, 5)
    _refused(merchant)


@override_settings(API_RATE_LIMIT=(1, 3600, 2))
def test_unlock_refills_both_environments_of_that_merchant_only(backend, clock):
    merchant, other = MerchantFactory(), MerchantFactory()
    for who in (merchant, other):
        for environment in ("test", "prod"):
            _passes(who, 2, environment)
            _refused(who, environment)
    unlock_merchant(merchant.pk)
    for environment in ("test", "prod"):
        _passes(merchant, 2, environment)
        _refused(merchant, environment)
        _refused(other, environment)


def test_a_bucket_key_is_its_own(backend, clock):
    hit("ip:10.1.2.3", 1.0, 2)
    hit("ip:10.1.2.3", 1.0, 2)
    with pytest.raises(RateLimited):
        hit("ip:10.1.2.3", 1.0, 2)
    hit("ip:10.1.2.4", 1.0, 2)


@override_settings(API_RATE_LIMIT=(1, 3600, 50))
def test_concurrent_requests_never_spend_the_same_token(backend):
    """Eight threads, 200 requests, a bucket of 50 (and a token an hour): exactly 50 pass. In
    Redis the Lua script makes each take atomic across processes; the memory cache locks."""
    merchant = MerchantFactory()
    passed, refused = [], []
    start = threading.Barrier(8)

    def worker():
        start.wait()
        for _ in range(25):
            try:
                check(None, _actor(merchant))
                passed.append(1)
            except RateLimited:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(passed), len(refused)) == (50, 150)


def test_the_default_is_about_a_hundred_a_second_with_bursts(settings):
    assert merchant_limit(MerchantFactory()) == (100.0, 200)
    assert settings.API_RATE_LIMIT == (100, 1, 200)


# --- through the API -----------------------------------------------------------------------------


@override_settings(API_RATE_LIMIT=(1, 10, 2))
def test_the_api_answers_429_in_the_envelope_and_a_raised_limit_lets_the_merchant_in(
    backend, api, clock
):
    assert_ok(api.post("store/create-store", {"name": "1"}))
    assert_ok(api.post("store/create-store", {"name": "2"}))
    response = api.post("store/create-store", {"name": "3"})
    assert_error(response, 429, "Too many requests, please retry later")
    assert response["Retry-After"] == "10"
    Merchant.objects.filter(pk=api.merchant.pk).update(api_rate_limit=50)
    clock.shift(timedelta(seconds=1))
    assert_ok(api.post("store/create-store", {"name": "4"}))


# --- the admin -----------------------------------------------------------------------------------


@pytest.fixture
def staff(client):
    user = Merchant.objects.create_superuser(email="support@example.com", password="pw-12345678")
    client.force_login(user)
    return client


def test_support_sets_a_merchants_limit_in_the_admin(staff):
    merchant = MerchantFactory()
    url = reverse("admin:stores_merchant_change", args=[merchant.pk])
    page = staff.get(url)
    assert page.status_code == 200
    assert b'name="api_rate_limit"' in page.content
    form = {
        "email": merchant.email,
        "name": merchant.name,
        "locale": merchant.locale,
        "is_active": "on",
        "api_rate_limit": "500",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = staff.post(url, form)
    assert response.status_code == 302, response.content
    merchant.refresh_from_db()
    assert merchant.api_rate_limit == 500
    assert merchant_limit(merchant)[0] == 500.0
    form["api_rate_limit"] = "0"
    refused = staff.post(url, form)
    assert refused.status_code == 200 and b"errornote" in refused.content
    form["api_rate_limit"] = ""
    assert staff.post(url, form).status_code == 302
    merchant.refresh_from_db()
    assert merchant.api_rate_limit is None


@override_settings(API_RATE_LIMIT=(1, 3600, 2))
def test_the_unlock_action_refills_the_selected_merchants(backend, staff, clock):
    locked, bystander = MerchantFactory(), MerchantFactory()
    for who in (locked, bystander):
        _passes(who, 2)
        _refused(who)
    response = staff.post(
        reverse("admin:stores_merchant_changelist"),
        {"action": "unlock_rate_limit", "_selected_action": [str(locked.pk)]},
    )
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Rate limit unlocked for 1 merchant."
    ]
    _passes(locked, 2)
    _refused(bystander)


@override_settings(API_RATE_LIMIT=(1, 1, 2))
def test_a_lowered_limit_applies_at_once(backend, clock):
    merchant = MerchantFactory(api_rate_limit=50)  # bursts of 100
    _passes(merchant, 10)
    merchant.api_rate_limit = None  # back to the default: the 90 left are capped at 2
    _passes(merchant, 2)
    _refused(merchant)
