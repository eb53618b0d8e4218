"""X-Idempotency-Key: durable, scoped, only 2xx answers are kept."""

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone

from pancake.models import IdempotencyKey
from stores import services
from stores.models import Store
from tests.api.helpers import assert_error, assert_ok, short
from tests.helpers import ApiClient

CREATE = "/v1/actions/store/create-store"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _key(value):
    return {"HTTP_X_IDEMPOTENCY_KEY": value}


def _create(api, name="Shop", key="key-1", **headers):
    return api.post("store/create-store", {"name": name}, headers={**_key(key), **headers})


def _stores(merchant=None):
    qs = Store.objects.all()
    return qs.filter(memberships__merchant=merchant).count() if merchant else qs.count()


def test_same_key_and_body_replays_the_first_answer_without_a_second_effect(api):
    first = _create(api)
    assert_ok(first)
    assert "Idempotent-Replayed" not in first
    second = _create(api)
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert second.content == first.content
    assert second["Pancake-Version"] == first["Pancake-Version"]
    assert _stores() == 1
    row = IdempotencyKey.objects.get()
    assert row.state == IdempotencyKey.State.DONE
    assert row.response_status == 200
    assert row.path == CREATE


def test_replay_keeps_the_version_it_was_rendered_with(api):
    first = _create(api)
    replay = _create(api, HTTP_PANCAKE_VERSION="2026-01-15")
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert replay["Pancake-Version"] == "2026-09-23"


def test_same_key_with_a_different_body_is_422(api):
    assert_ok(_create(api, name="First"))
    response = _create(api, name="Second")
    assert_error(
        response,
        422,
        "This idempotency key was already used with different request parameters",
        layer="gateway",
    )
    assert _stores() == 1


def test_body_comparison_is_on_the_exact_bytes(api):
    assert_ok(api.raw(CREATE, b'{"name":"Shop"}', _key("bytes")))
    # Same JSON value, different bytes: the signature and the key both cover the raw body.
    assert_error(api.raw(CREATE, b'{"name": "Shop"}', _key("bytes")), 422)


def test_request_failing_validation_leaves_the_key_free(api):
    assert_error(_create(api, name=""), 400)
    assert not IdempotencyKey.objects.exists()
    assert_ok(_create(api, name="Fixed"))
    assert _stores() == 1


def test_request_failing_in_the_service_leaves_the_key_free(api, store):
    bad = {
        "id": short("STO", store.pk),
        "checkoutSettings": {"light": {"checkoutColorPrimary": "red"}},
    }
    good = {
        "id": short("STO", store.pk),
        "checkoutSettings": {"light": {"checkoutColorPrimary": "#FF0000"}},
    }
    assert_error(api.post("store/update-store", bad, _key("fix-me")), 400)
    assert not IdempotencyKey.objects.filter(key="fix-me").exists()
    # The same failing body runs again (a failure is never replayed) ...
    again = api.post("store/update-store", bad, _key("fix-me"))
    assert_error(again, 400)
    assert "Idempotent-Replayed" not in again
    # ... and the corrected body is accepted with the same key.
    data = assert_ok(api.post("store/update-store", good, _key("fix-me")))["data"]
    assert data["store"]["checkoutSettings"]["light"]["checkoutColorPrimary"] == "#FF0000"


def test_forbidden_request_leaves_the_key_free(api, settings):
    settings.MAX_STORES_PER_MERCHANT = 0
    assert_error(_create(api, key="limit"), 403)
    settings.MAX_STORES_PER_MERCHANT = 20
    assert_ok(_create(api, key="limit"))


def test_server_error_leaves_the_key_free(api, monkeypatch):
    original = services.store_create

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "store_create", explode)
    assert_error(_create(api, key="retry"), 500)
    assert not IdempotencyKey.objects.exists()
    monkeypatch.setattr(services, "store_create", original)
    assert_ok(_create(api, key="retry"))


@pytest.mark.parametrize(
    "key",
    ["k" * 257, "has space", "slash/key", "dot.key", "ключ", "key\ttab"],
    ids=["257-chars", "space", "slash", "dot", "non-ascii", "tab"],
)
def test_malformed_key_is_400(api, key):
    response = api.post(
        "store/create-store", {"name": "X"}, headers={"HTTP_X_IDEMPOTENCY_KEY": key}
    )
    error = assert_error(response, 400)
    assert "X-Idempotency-Key" in error["message"]
    assert _stores() == 0


def test_key_of_256_letters_digits_dash_and_underscore_is_accepted(api):
    key = ("aZ0-_" * 52)[:256]
    assert len(key) == 256
    assert_ok(_create(api, key=key))
    assert _create(api, key=key)["Idempotent-Replayed"] == "true"


def test_keys_are_scoped_per_merchant(api, make_api):
    other = make_api()
    assert_ok(_create(api, key="shared"))
    response = _create(other, key="shared")
    assert_ok(response)
    assert "Idempotent-Replayed" not in response
    assert _stores(api.merchant) == 1
    assert _stores(other.merchant) == 1


def test_keys_are_scoped_per_environment(api, key_pool):
    from tests.factories import make_api_key

    make_api_key(api.merchant, key_pool[3], environment="prod", name="prod")
    prod = ApiClient(api.merchant, key_pool[3])
    assert_ok(_create(api, key="env"))
    response = _create(prod, key="env")
    assert_ok(response)
    assert "Idempotent-Replayed" not in response
    assert _stores(api.merchant) == 2


def test_keys_are_scoped_per_path(api, store):
    update = api.post(
        "store/update-store", {"id": short("STO", store.pk), "name": "Renamed"}, _key("path")
    )
    assert_ok(update)
    create = _create(api, key="path")
    assert_ok(create)
    assert "Idempotent-Replayed" not in create
    assert _stores(api.merchant) == 2


def test_key_older_than_24_hours_executes_again(api):
    with time_machine.travel(T0, tick=False) as clock:
        assert_ok(_create(api, key="daily"))
        clock.move_to(T0 + timedelta(hours=23, minutes=59))
        assert _create(api, key="daily")["Idempotent-Replayed"] == "true"
        clock.move_to(T0 + timedelta(hours=24, minutes=1))
        response = _create(api, key="daily")
        assert_ok(response)
        assert "Idempotent-Replayed" not in response
    assert _stores() == 2
    assert IdempotencyKey.objects.count() == 1


def test_expired_key_may_be_reused_with_a_different_body(api):
    with time_machine.travel(T0, tick=False) as clock:
        assert_ok(_create(api, name="Monday", key="weekly"))
        clock.move_to(T0 + timedelta(days=2))
        assert_ok(_create(api, name="Wednesday", key="weekly"))
    assert set(Store.objects.values_list("name", flat=True)) == {"Monday", "Wednesday"}


def _in_flight(api, key, body: bytes, created_at=None):
    return IdempotencyKey.objects.create(
        principal=f"mer:{api.merchant.pk}",
        environment="test",
        path=CREATE,
        key=key,
        request_hash=hashlib.sha256(body).hexdigest(),
        created_at=created_at or timezone.now(),
    )


def test_key_in_flight_is_409(api):
    body = json.dumps({"name": "Shop"}).encode()
    _in_flight(api, "busy", body)
    response = api.raw(CREATE, body, _key("busy"))
    assert_error(
        response,
        409,
        "Request with this idempotency key is already being processed",
        layer="gateway",
    )
    assert _stores() == 0
    # The in-flight row belongs to the first request: the 409 must not release it.
    assert IdempotencyKey.objects.filter(key="busy", state=IdempotencyKey.State.IN_FLIGHT).exists()


def test_key_in_flight_with_a_different_body_is_422(api):
    _in_flight(api, "busy", b'{"name":"Other"}')
    assert_error(api.raw(CREATE, b'{"name":"Shop"}', _key("busy")), 422)


def test_abandoned_in_flight_key_is_taken_over(api):
    body = json.dumps({"name": "Shop"}).encode()
    _in_flight(api, "crashed", body, created_at=timezone.now() - timedelta(minutes=11))
    assert_ok(api.raw(CREATE, body, _key("crashed")))
    assert IdempotencyKey.objects.get(key="crashed").state == IdempotencyKey.State.DONE


# --- races (PostgreSQL) -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_create_exactly_one_store(require_postgres, api):
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    results: list = []
    failures: list = []

    def worker():
        try:
            client = ApiClient(api.merchant, api.private_key, client=Client())
            barrier.wait(timeout=30)
            response = client.post("store/create-store", {"name": "Race"}, headers=_key("race"))
            results.append(
                (response.status_code, response.content, response.get("Idempotent-Replayed"))
            )
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not failures, failures
    assert len(results) == threads_n
    assert Store.objects.filter(name="Race").count() == 1
    statuses = [status for status, _, _ in results]
    assert set(statuses) <= {200, 409}, results
    ok_bodies = {content for status, content, _ in results if status == 200}
    assert len(ok_bodies) == 1, ok_bodies
    originals = [r for r in results if r[0] == 200 and r[2] is None]
    assert len(originals) == 1, results
    for status, content, _ in results:
        if status == 409:
            body = json.loads(content)
            assert (
                body["errors"][0]["message"]
                == "Request with this idempotency key is already being processed"
            )
